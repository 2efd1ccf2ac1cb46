"""cnnlib.plot.mobilenet_v2 draws what it is given: one bar per tensor, one panel per n."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

import cnnlib  # noqa: E402
from cnnlib.analysis import manifold  # noqa: E402
from cnnlib.models.mobilenet import InvertedResidual  # noqa: E402
from cnnlib.plot import mobilenet_v2 as figures  # noqa: E402


def _count(ax, kind) -> int:
    return sum(isinstance(p, kind) for p in ax.patches)


def test_block_comparison_draws_one_bar_per_tensor_and_a_sum_for_residuals():
    resnet_block = cnnlib.get_model("resnet50").layer1[1]  # 256 → 64 → 64 → 256
    inverted = InvertedResidual(24, 24, 1, 6)  # 24 → 144 → 144 → 24, residual
    strided = InvertedResidual(16, 24, 2, 6)  # no residual
    fig = figures.block_comparison({"a": resnet_block, "b": inverted, "c": strided})
    a, b, c = fig.axes
    assert [_count(ax, Rectangle) for ax in (a, b, c)] == [4, 4, 4]
    assert [_count(ax, Circle) for ax in (a, b, c)] == [1, 1, 0]
    texts_b = [t.get_text() for t in b.texts]
    assert texts_b.count("144") == 2 and texts_b.count("24") == 2
    assert "1x1 conv, linear" in texts_b and "3x3 depthwise, ReLU6" in texts_b
    assert "ReLU" in [t.get_text() for t in a.texts]  # after ResNet's sum
    # Bar widths are proportional to the channels: 144 / 24 = 6.
    bars = [p for p in b.patches if isinstance(p, Rectangle)]
    assert bars[1].get_width() == pytest.approx(6 * bars[0].get_width())


def test_a_relu_bottleneck_is_drawn_with_its_activation():
    block = InvertedResidual(24, 24, 1, 6, linear_bottleneck=False)
    ax = figures.block_comparison({"relu": block}).axes[0]
    assert "1x1 conv, ReLU6" in [t.get_text() for t in ax.texts]


def test_expansion_one_has_no_expansion_bar():
    steps, residual, _ = figures.block_steps(InvertedResidual(32, 16, 1, 1))
    assert [c for _, c, _ in steps] == [32, 32, 16] and not residual


def test_relu_round_trips_draws_the_input_and_one_panel_per_dimension():
    x = torch.rand(37, 2)
    fig = figures.relu_round_trips(x, [2, 4, 9])
    assert len(fig.axes) == 4
    for ax in fig.axes:
        (scatter,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(scatter.get_offsets()) == 37
    assert fig.axes[2].get_title().startswith("n = 4")
    averaged = figures.relu_round_trips(x, [9], seed=1, average=[1, 2, 3])
    expected = manifold.reconstruction_error(x, 9, [1, 2, 3])
    assert averaged.axes[1].get_title() == f"n = 9\nmean lost {expected:.0%}"


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match="block"):
        figures.block_steps(torch.nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match="blocks"):
        figures.block_comparison({})
    with pytest.raises(ValueError, match="dims"):
        figures.relu_round_trips(torch.rand(5, 2), [])
