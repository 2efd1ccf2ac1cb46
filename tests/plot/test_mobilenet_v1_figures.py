"""cnnlib.plot.mobilenet_v1 draws what it is given: one box per layer, one line per series."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib.layers import ConvBNAct, DepthwiseSeparableConv  # noqa: E402
from cnnlib.plot import mobilenet_v1 as figures  # noqa: E402


def test_block_pair_draws_one_box_per_layer():
    blocks = {"standard": ConvBNAct(32, 64, 3), "separable": DepthwiseSeparableConv(32, 64)}
    fig = figures.block_pair(blocks, notes={"separable": "few MACs"})
    standard, pair = fig.axes
    rects = [[p for p in ax.patches if isinstance(p, Rectangle)] for ax in fig.axes]
    # input + conv, BN, ReLU + output; input + two times (conv, BN, ReLU) + output
    assert [len(r) for r in rects] == [2 + 3, 2 + 6]
    texts = [t.get_text() for t in pair.texts]
    assert "3x3 depthwise\n32→32" in texts and "1x1 conv\n32→64" in texts
    assert texts.count("BN") == 2 and texts.count("ReLU") == 2
    assert "few MACs" in texts and "few MACs" not in [t.get_text() for t in standard.texts]
    assert "3x3 conv\n32→64" in [t.get_text() for t in standard.texts]
    assert [ax.get_title() for ax in fig.axes] == ["standard", "separable"]
    plt.close(fig)


def test_latency_vs_macs_draws_each_series_and_label():
    series = {
        "a": [(1e6, 0.001, "x"), (4e6, 0.002, "y"), (9e6, 0.004, "")],
        "b": [(2e6, 0.003, "z")],
    }
    fig = figures.latency_vs_macs(series, title="t")
    (ax,) = fig.axes
    # a: its points and its proportional line; b: one point, no line.
    assert len(ax.lines) == 3
    assert list(ax.lines[0].get_ydata()) == [1.0, 2.0, 4.0]  # milliseconds
    assert sorted(t.get_text() for t in ax.texts) == ["x", "y", "z"]
    assert ax.get_xscale() == "log" and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    plt.close(fig)


def test_layer_label_and_bad_input():
    assert figures.layer_label(nn.Conv2d(8, 16, 3, groups=4)) == "3x3 conv, g=4\n8→16"
    assert figures.layer_label(nn.ReLU6()) == "ReLU6"
    with pytest.raises(TypeError, match="module"):
        figures.layer_label("conv")
    with pytest.raises(ValueError, match="blocks"):
        figures.block_pair({})
    with pytest.raises(ValueError, match="notes"):
        figures.block_pair({"a": nn.Conv2d(1, 1, 1)}, notes={"b": "?"})
    with pytest.raises(ValueError, match="positive"):
        figures.latency_vs_macs({"a": [(0, 1.0, "")]})
    with pytest.raises(ValueError, match="series"):
        figures.latency_vs_macs({})
    plt.close("all")
