"""Every page of the built book in headless Chromium, with the network cut off.

What a reader would trip over on any page: a JavaScript error in the console,
a request that tries to leave the machine (CDN scripts, fonts), a local file
the page asks for that the build did not write, a link inside the book to a
page or anchor that does not exist, and an embedded widget that does not draw.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.book, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "browser" / "whole_book.mjs"


@pytest.fixture(scope="module")
def pages(built_book) -> list[dict]:
    html, result = built_book
    assert result.returncode == 0, result.stdout[-3000:]
    files = sorted(html.glob("*.html")) + sorted((html / "chapters").glob("*.html"))
    run = subprocess.run(
        ["node", str(SCRIPT), *(f.as_uri() for f in files)],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert len(report) == len(files)
    return report


def _problems(pages: list[dict], field: str) -> dict[str, list]:
    return {Path(p["url"]).name: p[field][:3] for p in pages if p[field]}


def test_every_chapter_and_the_landing_pages_were_opened(pages):
    names = {Path(p["url"]).name for p in pages}
    chapters = {p.stem + ".html" for p in (ROOT / "chapters").glob("*.ipynb")}
    assert chapters | {"index.html", "intro.html"} <= names


@pytest.mark.parametrize("field", ["errors", "blocked", "missing", "broken", "widget_errors"])
def test_no_page_has(pages, field):
    assert _problems(pages, field) == {}


def test_every_embedded_widget_draws(pages):
    undrawn = {Path(p["url"]).name: (p["widgets"], p["views"]) for p in pages
               if p["widgets"] < p["views"]}  # fmt: skip
    assert undrawn == {}
    assert sum(p["views"] for p in pages) > 0  # the book has widgets at all
