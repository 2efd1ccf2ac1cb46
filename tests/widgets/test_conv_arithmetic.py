"""ConvArithmetic: its JavaScript and its Python side agree with cnnlib.analysis."""

from __future__ import annotations

import itertools
import json

import pytest
import torch

from cnnlib import analysis
from cnnlib.widgets import ConvArithmetic


def python_size(*args: int) -> int | None:
    try:
        return analysis.conv_output_size(*args)
    except ValueError:
        return None


def test_js_output_size_agrees_with_cnnlib(run_js):
    grid = list(itertools.product(range(1, 17), range(1, 8), range(1, 5), range(0, 5), range(1, 5)))
    sizes = run_js(
        "conv_arithmetic",
        f"console.log(JSON.stringify({json.dumps(grid)}.map(a => w.convOutputSize(...a))));",
    )
    expected = [python_size(*args) for args in grid]
    assert sizes == expected
    assert None in expected and len(grid) == 8960  # invalid combinations were exercised


def test_js_taps_are_the_pixels_torch_reads(run_js):
    cases = [
        (7, 3, 2, 1, 1, 1, 2),
        (9, 3, 1, 2, 2, 3, 0),
        (6, 2, 3, 0, 1, 1, 1),
        (8, 3, 2, 3, 3, 0, 1),
    ]
    taps = run_js(
        "conv_arithmetic",
        f"console.log(JSON.stringify({json.dumps(cases)}"
        ".map(([i, k, s, p, d, r, c]) => w.taps(r, c, k, s, p, d))));",
    )
    for (i, k, s, p, d, r, c), js_taps in zip(cases, taps, strict=True):
        x = torch.zeros(1, 1, i, i, requires_grad=True)
        conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        torch.nn.init.ones_(conv.weight)
        conv(x)[0, 0, r, c].backward()
        read = {tuple(pos) for pos in (x.grad[0, 0] != 0).nonzero().tolist()}
        inside = {(y, xx) for y, xx in js_taps if 0 <= y < i and 0 <= xx < i}
        assert inside == read
        assert len(js_taps) == k * k


def test_conv_arithmetic_python_side():
    w = ConvArithmetic(size=9, kernel_size=3, stride=2, padding=1, dilation=2)
    assert w.output_size == analysis.conv_output_size(9, 3, 2, 1, 2)
    w.size, w.dilation = 5, 4
    assert w.output_size is None  # the dilated kernel spans 4*(3-1)+1 = 9 > 5 + 2*1 pixels
    with pytest.raises(ValueError, match="dilation must be between 1 and 4, got 5"):
        ConvArithmetic(dilation=5)
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        ConvArithmetic(kernel_size=2.5)
    assert {"size", "kernel_size", "stride", "padding", "dilation", "selected"} <= set(w.keys)
