"""Widgets: their JavaScript agrees with cnnlib.analysis, and in the built book they
render and respond in headless Chromium with the network cut off."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from cnnlib import analysis
from cnnlib.widgets import ConvArithmetic

ROOT = Path(__file__).resolve().parents[1]
WIDGETS = ROOT / "cnnlib" / "widgets"
DRIVER = ROOT / "tests" / "browser" / "drive_widgets.mjs"


def run_js(tmp_path: Path, module: str, body: str) -> object:
    """Import a widget's .js file as an ES module in node, run ``body``, return its printed JSON."""
    copy = tmp_path / f"{module}.mjs"
    shutil.copy(WIDGETS / f"{module}.js", copy)
    script = tmp_path / "run.mjs"
    script.write_text(f"import * as w from {json.dumps(copy.as_uri())};\n{body}\n")
    result = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def python_size(*args: int) -> int | None:
    try:
        return analysis.conv_output_size(*args)
    except ValueError:
        return None


def test_js_output_size_agrees_with_cnnlib(tmp_path):
    grid = list(itertools.product(range(1, 17), range(1, 8), range(1, 5), range(0, 5), range(1, 5)))
    sizes = run_js(
        tmp_path,
        "conv_arithmetic",
        f"console.log(JSON.stringify({json.dumps(grid)}.map(a => w.convOutputSize(...a))));",
    )
    expected = [python_size(*args) for args in grid]
    assert sizes == expected
    assert None in expected and len(grid) == 8960  # invalid combinations were exercised


def test_js_taps_are_the_pixels_torch_reads(tmp_path):
    cases = [(7, 3, 2, 1, 1, 1, 2), (9, 3, 1, 2, 2, 3, 0), (6, 2, 3, 0, 1, 1, 1), (8, 3, 2, 3, 3, 0, 1)]
    taps = run_js(
        tmp_path,
        "conv_arithmetic",
        f"console.log(JSON.stringify({json.dumps(cases)}.map(([i, k, s, p, d, r, c]) => w.taps(r, c, k, s, p, d))));",
    )
    for (i, k, s, p, d, r, c), js_taps in zip(cases, taps):
        x = torch.zeros(1, 1, i, i, requires_grad=True)
        conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        torch.nn.init.ones_(conv.weight)
        conv(x)[0, 0, r, c].backward()
        read = {tuple(pos) for pos in (x.grad[0, 0] != 0).nonzero().tolist()}
        inside = {(y, xx) for y, xx in js_taps if 0 <= y < i and 0 <= xx < i}
        assert inside == read
        assert len(js_taps) == k * k


def test_conv_arithmetic_python_side():
    w = ConvArithmetic(input_size=9, kernel_size=3, stride=2, padding=1, dilation=2)
    assert w.output_size == analysis.conv_output_size(9, 3, 2, 1, 2)
    w.input_size, w.dilation = 5, 4
    assert w.output_size is None  # the dilated kernel spans 4*(3-1)+1 = 9 > 5 + 2*1 pixels
    with pytest.raises(ValueError, match="dilation must be between 1 and 4, got 5"):
        ConvArithmetic(dilation=5)
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        ConvArithmetic(kernel_size=2.5)
    assert {"input_size", "kernel_size", "stride", "padding", "dilation", "selected"} <= set(w.keys)


# --- The built book, in headless Chromium, with the network cut off -----------------

# Console messages of the book theme that are not about widgets.
THEME_NOISE = ("THEBE_JS_URL", "invalid theme mode")


def drive(page: Path, plan: list[dict], tmp_path: Path, shots: Path | None = None) -> dict:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    args = ["node", str(DRIVER), page.as_uri(), str(plan_file)] + ([str(shots)] if shots else [])
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def conv_taps(row: int, col: int, k: int, s: int, p: int, d: int) -> set[tuple[int, int]]:
    """Input pixels (padding included) read by output (row, col), by the convolution's definition."""
    return {(row * s - p + a * d, col * s - p + b * d) for a in range(k) for b in range(k)}


@pytest.fixture(scope="module")
def conv_chapter(built_book, tmp_path_factory):
    html, result = built_book
    assert result.returncode == 0, result.stdout[-3000:]
    page = html / "chapters" / "01_conv_arithmetic.html"
    widget = "cnnlib-conv-arithmetic"
    plan = [
        {"widget": widget, "read": {"size": ".output-size"}, "count": {"outputs": ".output-cell"}},
        {"widget": widget, "set": {"dilation": 2}, "read": {"size": ".output-size"}, "count": {"outputs": ".output-cell"}},
        {
            "widget": widget,
            "hover": '.output-cell[data-row="1"][data-col="2"]',
            "attributes": {"rows": [".tap", "data-row"], "cols": [".tap", "data-col"], "selected": [".selected", "data-row"]},
        },
        {"widget": widget, "set": {"input_size": 2, "dilation": 4}, "read": {"invalid": ".invalid"}, "count": {"outputs": ".output-cell"}},
    ]
    shots = tmp_path_factory.mktemp("screenshots")
    return drive(page, plan, tmp_path_factory.mktemp("plan"), shots)


def test_widgets_render_offline_without_errors(conv_chapter):
    assert conv_chapter["blocked"] == [], "the page tried to reach the network"
    assert conv_chapter["missing"] == [], "the page refers to files the build did not produce"
    errors = [e for e in conv_chapter["errors"] if not any(noise in e for noise in THEME_NOISE)]
    assert errors == []
    assert conv_chapter["error_boxes"] == []
    assert conv_chapter["widgets"] == {"cnnlib-conv-arithmetic": 1}


def test_conv_arithmetic_responds_like_cnnlib(conv_chapter):
    start, dilated, hovered, invalid = conv_chapter["steps"]
    # The chapter creates ConvArithmetic(input_size=7, kernel_size=3, stride=2, padding=1).
    size = analysis.conv_output_size(7, 3, 2, 1, 1)
    assert start["read"]["size"] == [str(size)] and start["count"]["outputs"] == size * size
    size = analysis.conv_output_size(7, 3, 2, 1, 2)
    assert dilated["read"]["size"] == [str(size)] and dilated["count"]["outputs"] == size * size
    drawn = set(zip(map(int, hovered["attributes"]["rows"]), map(int, hovered["attributes"]["cols"])))
    assert hovered["attributes"]["selected"] == ["1"]
    assert drawn == conv_taps(1, 2, 3, 2, 1, 2)
    with pytest.raises(ValueError):
        analysis.conv_output_size(2, 3, 2, 1, 4)
    assert invalid["read"]["invalid"] and invalid["count"]["outputs"] == 0
