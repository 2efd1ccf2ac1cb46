"""cnnlib.plot.xception draws what it is given: segments, modules and flows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from cnnlib.models import xception  # noqa: E402
from cnnlib.plot import xception as figures  # noqa: E402


def _count(ax, kind) -> int:
    return sum(isinstance(p, kind) for p in ax.patches)


def test_segment_modules_draws_one_box_per_segment():
    modules = [xception.SegmentedInception(16, 12, s) for s in (1, 3, 12)]
    fig = figures.segment_modules(modules, shown=6)
    one, three, twelve = fig.axes
    # input + 1x1 + segments; 12 segments: 4 boxes, an ellipsis, the last.
    assert [_count(ax, Rectangle) for ax in fig.axes] == [3, 5, 2 + 5]
    assert "…" in [t.get_text() for t in twelve.texts]
    assert "3x3\n4 ch" in [t.get_text() for t in three.texts]
    # 16·12 + 9·12·12/s weights.
    assert one.get_title() == "1 segment: 1,488 weights"
    assert twelve.get_title() == "12 segments: 300 weights"
    plt.close(fig)


def test_segment_modules_rejects_bad_input():
    with pytest.raises(ValueError, match="modules"):
        figures.segment_modules([])
    with pytest.raises(ValueError, match="shown"):
        figures.segment_modules([xception.SegmentedInception(2, 2, 1)], shown=1)
    with pytest.raises(TypeError, match="modules"):
        figures.segment_modules(["conv"])


@pytest.mark.parametrize("middle", [8, 2])
def test_flows_read_from_the_model(middle):
    model = xception.xception(middle_blocks=middle, width_multiplier=0.5).to("meta")
    fig = figures.flows(model)
    entry, mid, exit_ = fig.axes
    # Entry: input, two convs, three modules; middle: one module; exit: one
    # module, two separable convs, pooling, classifier.
    assert [_count(ax, Rectangle) for ax in fig.axes] == [6, 1, 5]
    assert [_count(ax, Circle) for ax in fig.axes] == [3, 1, 1]  # one "+" per module
    assert mid.get_title() == f"Middle flow (× {middle})"
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    # Channels are round(c / 2) at α = 0.5.
    assert "ReLU, SepConv 364\nReLU, SepConv 364\nReLU, SepConv 364" in texts
    assert "SepConv 1024, ReLU" in texts and "Linear 1024→1000" in texts
    assert "Conv 3x3, 16, /2\nReLU" in texts  # the stem (32 / 2), two lines
    assert "1x1 conv /2\n64 ch" in texts and "identity" in texts
    plt.close(fig)


def test_block_lines_and_bad_input():
    block = xception.XceptionBlock(8, [16, 32], stride=2, start_with_relu=False)
    assert figures.block_lines(block) == ["SepConv 16", "ReLU, SepConv 32", "MaxPool 3x3, /2"]
    with pytest.raises(TypeError, match="block"):
        figures.block_lines(None)
    with pytest.raises(TypeError, match="model"):
        figures.flows(None)


def test_seed_pairs_draws_one_line_per_seed():
    accuracies = {"nothing": [0.7, 0.8, 0.75], "ReLU": [0.6, 0.9, 0.7]}
    fig = figures.seed_pairs(accuracies, title="t")
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # one per seed
    for seed, line in enumerate(ax.lines):
        assert list(line.get_ydata()) == [0.7, 0.6, 0.8, 0.9, 0.75, 0.7][2 * seed : 2 * seed + 2]
        assert line.get_label() == f"seed {seed}"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["nothing", "ReLU"]
    plt.close(fig)


def test_seed_pairs_rejects_bad_input():
    with pytest.raises(TypeError, match="accuracies"):
        figures.seed_pairs([0.5])
    with pytest.raises(ValueError, match="empty"):
        figures.seed_pairs({})
    with pytest.raises(ValueError, match="seeds"):
        figures.seed_pairs({"a": [0.5], "b": [0.5, 0.6]})
    with pytest.raises(ValueError, match="seeds"):
        figures.seed_pairs({"a": []})
