"""Figures of the DenseNet chapter."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from cnnlib.plot import densenet as densenet_plot  # noqa: E402


@pytest.mark.parametrize("layers", [1, 4, 6])
def test_one_arrow_per_connection_and_one_segment_per_source(layers):
    k0, k = 16, 8
    fig = densenet_plot.dense_block([k0 + k * j for j in range(layers)], k)
    left, right = fig.axes
    arrows = [p for p in left.patches if isinstance(p, FancyArrowPatch)]
    # into layer j: j arrows (1 + 2 + ... + L); into the output: L + 1
    assert len(arrows) == sum(range(1, layers + 1)) + layers + 1
    boxes = [p for p in left.patches if isinstance(p, Rectangle)]
    assert len(boxes) == layers + 2  # x0, H1 ... HL, concat
    bars = [p for p in right.patches if isinstance(p, Rectangle)]
    assert len(bars) == layers * (layers + 1) // 2
    tops = sorted({round(b.get_y() + b.get_height(), 6) for b in bars})
    assert tops[-1] == k0 + k * (layers - 1)
    texts = [t.get_text() for t in left.texts]
    assert f"concat\n{k0 + k * layers} ch" in texts
    plt.close(fig)


@pytest.mark.parametrize(
    "inputs, k, match",
    [([], 4, "layer_inputs"), ([8, 12], 0, "growth_rate"), ([8, 13], 4, "layer_inputs"),
     ([8, 0], 4, "layer_inputs")],
)  # fmt: skip
def test_bad_input(inputs, k, match):
    with pytest.raises(ValueError, match=match):
        densenet_plot.dense_block(inputs, k)
