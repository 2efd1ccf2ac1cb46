"""Ruff, configured in pyproject.toml (and chapters/ruff.toml for the book's 80-column
code), lints and formats the package, the tests, the benchmarks, the tools and the
chapters: the suite fails on any finding."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")
PATHS = ["cnnlib", "tests", "benchmarks", "tools", "book_ext", "chapters", "dev.py"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_finds_nothing(command):
    result = subprocess.run(
        [str(RUFF), *command, "--no-cache", *PATHS], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
