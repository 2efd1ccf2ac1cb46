"""cnnlib.plot's shared figures draw exactly what they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from cnnlib import analysis, plot  # noqa: E402
from cnnlib.models import get_model  # noqa: E402


def test_show_filters_scales_each_kernel_to_its_own_range():
    weight = torch.stack([torch.full((1, 3, 3), 5.0), torch.arange(9.0).view(1, 3, 3)])
    weight[0, 0, 0, 0] = -1.0
    fig = plot.show_filters(weight, columns=4)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 2 and len(fig.axes) == 2
    for picture in images:
        assert picture.min() == 0.0 and picture.max() == 1.0
    assert images[1][2, 2] == 1.0 and images[1][0, 0] == 0.0  # arange: smallest top left
    plt.close(fig)
    fig = plot.show_filters(torch.randn(4, 3, 5, 5))  # colour kernels: RGB images
    assert all(ax.images[0].get_array().shape == (5, 5, 3) for ax in fig.axes if ax.images)
    plt.close(fig)
    with pytest.raises(ValueError, match="weight must be"):
        plot.show_filters(torch.zeros(3, 3))


def test_show_feature_maps_draws_every_channel():
    maps = torch.randn(6, 7, 7)
    fig = plot.show_feature_maps(maps, columns=4)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 6 and len(fig.axes) == 8
    assert all(torch.equal(torch.as_tensor(s.data), maps[i]) for i, s in enumerate(shown))
    plt.close(fig)


def test_layer_costs_bars_are_each_layers_share():
    table = analysis.summary(get_model("lenet5"), (1, 1, 28, 28))
    fig = plot.layer_costs(table)
    top, bottom = fig.axes
    weighted = [row for row in table.rows if row.params or row.macs]
    params = [bar.get_height() for bar in top.patches]
    macs = [bar.get_height() for bar in bottom.patches]
    # C1 156 of 61,706 parameters; C3 does 240,000 of 416,520 MACs (by hand).
    assert params[0] == pytest.approx(100 * 156 / 61_706)
    assert macs[1] == pytest.approx(100 * 10 * 10 * 25 * 6 * 16 / 416_520)
    assert len(params) == len(weighted) == 5 and sum(params) == pytest.approx(100)
    plt.close(fig)
    with pytest.raises(TypeError, match="Summary"):
        plot.layer_costs("lenet5")


def test_data_flow_draws_the_summarys_shapes():
    table = analysis.summary(get_model("lenet5"), (1, 1, 28, 28))
    layers = ["features.c1", "features.s2", "classifier.f6"]
    fig = plot.data_flow(table, layers, names=["input", "C1", "S2", "F6"])
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert {"1@28x28", "6@28x28", "6@14x14", "84"} <= set(texts)
    assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 3
    assert sum(isinstance(p, Rectangle) for p in ax.patches) == 1 + 6 + 6 + 1
    plt.close(fig)
    with pytest.raises(ValueError, match="not layers of the summary"):
        plot.data_flow(table, ["features.c9"])


def test_data_flow_draws_a_padded_input_and_deeper_stacks_for_more_maps():
    table = analysis.summary(get_model("lenet5"), (1, 1, 28, 28))
    layers = ["features.c1", "features.c3", "features.c5"]
    fig = plot.data_flow(table, layers, names=["input,\npadded", "C1", "C3", "C5"],
                         input_shape=(1, 32, 32))  # fmt: skip
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert "1@32x32" in texts and "1@28x28" not in texts
    assert {"16@10x10", "120@1x1", "input,\npadded"} <= set(texts)
    # Sheets: 1 for the input, 6 for C1's six maps, then 1 + round(2 log2 C):
    # 1 + round(8) = 9 for C3's 16 maps and 1 + round(13.81) = 15 for C5's 120.
    assert sum(isinstance(p, Rectangle) for p in ax.patches) == 1 + 6 + 9 + 15
    # Readable in a book's column: at most 7.5 inches wide, text of 9 points or more.
    assert fig.get_size_inches()[0] <= 7.5
    assert min(t.get_fontsize() for t in ax.texts) >= 9
    plt.close(fig)
    with pytest.raises(ValueError, match="input_shape"):
        plot.data_flow(table, layers, input_shape=(32, 32))


@pytest.mark.parametrize(
    "channels, expected", [(1, 1), (2, 2), (6, 6), (16, 9), (120, 15), (4096, 16)]
)
def test_stack_depth_grows_with_the_log_of_the_channels(channels, expected):
    from cnnlib.plot.network import sheets

    assert sheets(channels) == expected


def test_stack_depth_refuses_a_non_positive_count():
    from cnnlib.plot.network import sheets

    with pytest.raises(ValueError, match="channels"):
        sheets(0)
