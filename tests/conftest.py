"""What every test shares: tools/ on sys.path, the markers by cost, one-thread runs.

Markers (registered in ``pyproject.toml``): ``book`` for the tests that need the
built book (added here to every test that uses the ``built_book`` fixture),
``browser`` for those that drive it in Chromium, ``slow`` for tests of more than
a few seconds. ``python3 dev.py test --fast`` leaves all three out.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.book)


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """One intra-op thread for the module: on a busy 2-core machine OpenMP's
    waiting threads slow small forward passes down more than they help."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
