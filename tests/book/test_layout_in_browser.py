"""The built chapters in headless Chromium: no code or output block scrolls sideways.

The chapters keep code to 80 characters (ruff, tests/book/test_book.py); this
checks that the theme's column shows 80 at the window widths readers use,
including those where both sidebars take room (_static/cnnlib.css).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.book, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "browser" / "code_overflow.mjs"
WIDTHS = "1000,1200,1300,1600"


def test_no_code_block_scrolls_sideways(built_book):
    html, result = built_book
    assert result.returncode == 0, result.stdout[-3000:]
    pages = sorted((html / "chapters").glob("*.html"))
    assert pages
    run = subprocess.run(
        ["node", str(SCRIPT), WIDTHS, *(p.as_uri() for p in pages)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    clipped = [
        (Path(entry["url"]).name, entry["width"], entry["overflowing"][:2])
        for entry in json.loads(run.stdout)
        if entry["overflowing"]
    ]
    assert clipped == []
