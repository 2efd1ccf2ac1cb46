"""The model tests run small forward passes: one thread each (see ``one_thread``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_thread_per_module(one_thread: None) -> None:
    """Every model test module runs with one intra-op thread."""
