"""cnnlib.plot.highway draws what it is given: one map per entry, one mean line each."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib.plot import highway as figures  # noqa: E402


def test_gate_maps_draws_each_map_and_its_layer_means():
    mean = torch.rand(7, 5)
    one = torch.zeros(7, 5)
    one[3, 2] = 1.0
    fig = figures.gate_maps({"mean": mean, "one sample": one}, reference=0.25)
    *maps, colorbar, curves = fig.axes  # maps and colour bar on top, then the means
    assert len(maps) == 2 and colorbar.get_ylabel() == "gate T(x)"
    for ax, values, label in zip(maps, (mean, one), ("mean", "one sample"), strict=True):
        (image,) = ax.images
        # Units down, layers across: the transpose of what it was given.
        np.testing.assert_allclose(image.get_array(), values.T.numpy())
        assert image.get_clim() == (0.0, 1.0)
        assert ax.get_title() == label
    # One line per entry (the per-layer mean over units) and the dashed reference.
    lines = curves.get_lines()
    assert len(lines) == 2 + 1
    np.testing.assert_allclose(lines[0].get_ydata(), mean.mean(1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(lines[1].get_ydata(), [0, 0, 0, 0.2, 0, 0, 0])
    assert list(lines[0].get_xdata()) == list(range(1, 8))
    assert lines[2].get_ydata()[0] == 0.25 and lines[2].get_linestyle() == "--"
    assert [t.get_text() for t in curves.get_legend().get_texts()] == [
        "mean", "one sample", "at init: σ(b_T)",
    ]  # fmt: skip
    # The y-range shows the data: up to a quarter above the largest mean or reference.
    highest = max(mean.mean(1).max().item(), 0.2, 0.25)
    assert curves.get_ylim() == pytest.approx((0.0, min(1.0, 1.25 * highest)))
    small = figures.gate_maps({"a": torch.full((4, 3), 0.04)}, reference=0.047)
    assert small.axes[-1].get_ylim() == pytest.approx((0.0, 1.25 * 0.047))
    plt.close(small)
    plt.close(fig)


def test_gate_maps_without_reference_draws_no_dashed_line():
    fig = figures.gate_maps({"a": torch.full((3, 4), 0.5)}, title="gates")
    assert len(fig.axes[-1].get_lines()) == 1
    assert fig._suptitle.get_text() == "gates"
    plt.close(fig)


@pytest.mark.parametrize(
    "gates, reference, error",
    [
        ({}, None, ValueError),
        ([torch.zeros(2, 2)], None, TypeError),
        ({"a": [[0.0]]}, None, TypeError),
        ({"a": torch.zeros(2)}, None, ValueError),
        ({"a": torch.full((2, 2), 1.5)}, None, ValueError),
        ({"a": torch.zeros(2, 2)}, 2.0, ValueError),
    ],
)
def test_gate_maps_refuses_bad_input(gates, reference, error):
    with pytest.raises(error):
        figures.gate_maps(gates, reference=reference)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def test_highway_block_draws_four_boxes_three_operations_and_the_layer_sizes():
    from matplotlib.patches import Circle, Rectangle

    from cnnlib.models.highway import HighwayLayer

    fig = figures.highway_block(HighwayLayer(50, gate_bias=-3.0), title="block")
    patches = fig.axes[0].patches
    # x, H, T, y; the two products and the sum.
    assert sum(isinstance(p, Rectangle) for p in patches) == 4
    assert sum(isinstance(p, Circle) for p in patches) == 3
    texts = _texts(fig)
    assert sorted(t for t in texts if t in "×+") == ["+", "×", "×"]
    assert texts.count("x\n50 units") == 1 and texts.count("y\n50 units") == 1
    assert any(t.endswith("b_T = -3") for t in texts)
    assert "carry: x" in texts and "1 − T" in texts
    assert fig.axes[0].get_title() == "block"
    plt.close(fig)


def test_highway_block_reads_a_convolutional_layer_and_refuses_a_plain_one():
    from cnnlib.models.highway import HighwayLayer

    fig = figures.highway_block(HighwayLayer(16, kind="conv", kernel_size=5))
    assert "x\n16 channels, 5x5" in _texts(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match="gate"):
        figures.highway_block(HighwayLayer(8, gated=False))
    with pytest.raises(TypeError, match="layer"):
        figures.highway_block("layer")
