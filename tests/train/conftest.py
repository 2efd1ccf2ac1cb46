"""Fixtures of the training tests: a small slice of the real Fashion-MNIST, fixed threads."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from cnnlib import data

# The torchrun worker (run as a script) and these tests share its dataset and settings.
sys.path.insert(0, str(Path(__file__).parent / "workers"))
import ddp_fit  # noqa: E402


@pytest.fixture(scope="session")
def small() -> data.ImageDataset:
    """2,000 training and 500 test images of Fashion-MNIST (the DDP worker's slice)."""
    return ddp_fit.small_fashion_mnist()


@pytest.fixture
def fixed_threads() -> Iterator[None]:
    """One CPU thread, chosen explicitly, so that fit's thread policy leaves it alone.

    Runs with the same seed are bit-identical only with the same number of
    threads (the threads split the sums); on a busy machine the policy in
    cnnlib._threads could give two runs different counts.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
