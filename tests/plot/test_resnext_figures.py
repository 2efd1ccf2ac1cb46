"""cnnlib.plot.resnext draws the blocks it is given: one box per convolution."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib.models.resnext import ResNeXtBlock, convert  # noqa: E402
from cnnlib.plot import resnext as figures  # noqa: E402


def _count(ax, kind) -> int:
    return sum(isinstance(p, kind) for p in ax.patches)


def test_three_forms_draw_their_convolutions_paths_and_sums():
    block = ResNeXtBlock(256, 32, 4, "c")
    fig = figures.block_forms([convert(block, "a"), convert(block, "b"), block])
    a, b, c = fig.axes
    # Rectangles: input, output and the convolutions drawn. Three of the 32
    # paths are drawn (two, an ellipsis, the last).
    assert _count(a, Rectangle) == 2 + 3 * 3
    assert _count(b, Rectangle) == 2 + 3 * 2 + 1
    assert _count(c, Rectangle) == 2 + 3
    # Circles: (a) the aggregation and the shortcut's sum; (b) the
    # concatenation and the sum; (c) only the sum.
    assert [_count(ax, Circle) for ax in (a, b, c)] == [2, 2, 1]
    texts = [t.get_text() for t in c.texts]
    assert "3x3, g=32\n128→128" in texts and "1x1\n256→128" in texts
    assert "x: 256 ch" in texts and "y: 256 ch" in texts
    assert [t.get_text() for t in a.texts].count("3x3\n4→4") == 3
    assert "…" in [t.get_text() for t in a.texts]
    assert "C = 32\npaths" in [t.get_text() for t in b.texts]
    assert [ax.get_title()[:3] for ax in (a, b, c)] == ["(a)", "(b)", "(c)"]
    # (a) sums its paths at a "Σ"; each panel marks its one output BN.
    assert [t.get_text() for t in a.texts].count("Σ") == 1
    assert [[t.get_text() for t in ax.texts].count("BN") for ax in (a, b, c)] == [1, 1, 1]
    plt.close(fig)


def test_few_paths_are_all_drawn_and_depth_2_has_no_grouped_box():
    block = ResNeXtBlock(12, 2, 3, "c", out_channels=20, depth=2)
    fig = figures.block_forms([convert(block, "a"), block], shown=3)
    a, c = fig.axes
    assert _count(a, Rectangle) == 2 + 2 * 2  # both paths, two 3x3 each
    assert "…" not in [t.get_text() for t in a.texts]
    texts = [t.get_text() for t in c.texts]
    assert "3x3\n12→6" in texts and "3x3\n6→20" in texts
    assert not any("g=" in t for t in texts)
    plt.close(fig)


def test_conv_label_and_bad_input():
    assert figures.conv_label(nn.Conv2d(8, 16, 3, groups=4)) == "3x3, g=4\n8→16"
    with pytest.raises(TypeError, match="conv"):
        figures.conv_label(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="empty"):
        figures.block_forms([])
    with pytest.raises(TypeError, match="blocks"):
        figures.block_forms([nn.Conv2d(1, 1, 1)])
    with pytest.raises(ValueError, match="shown"):
        figures.block_forms([ResNeXtBlock(8, 2, 2, "a")], shown=1)
