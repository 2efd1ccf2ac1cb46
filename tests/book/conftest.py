"""The one book build of a test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 45 * 60


@pytest.fixture(scope="session")
def built_book(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess]:
    """Build the book once (quick budget, warnings as errors) into a temporary folder.

    Returns the HTML folder and the finished ``jupyter-book`` process.
    """
    out = tmp_path_factory.mktemp("book")
    env = {**os.environ, "CNNLIB_BUDGET": "quick"}
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return out / "_build" / "html", result
