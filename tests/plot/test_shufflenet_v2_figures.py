"""cnnlib.plot.shufflenet_v2 draws what it is given: boxes per unit, bars per row."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from cnnlib.analysis.guidelines import Measurement  # noqa: E402
from cnnlib.models.shufflenet import ShuffleUnitV2  # noqa: E402
from cnnlib.plot import shufflenet_v2 as figures  # noqa: E402
from cnnlib.timing import Latency  # noqa: E402


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_shuffle_units_draws_both_units_with_their_channels():
    fig = figures.shuffle_units([ShuffleUnitV2(116, 116, 1), ShuffleUnitV2(116, 232, 2)])
    (ax,) = fig.axes
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    # Per unit: input, split or the left branch's two convs, three right convs,
    # concat, shuffle.  Stride 1: 1 + 1 + 3 + 2 = 7; stride 2: 1 + 2 + 3 + 2 = 8.
    assert len(boxes) == 7 + 8
    # Arrows: stride 1: into split, identity, 4 on the right, into shuffle;
    # stride 2: 3 on the left, 4 on the right, into shuffle.
    assert len(arrows) == 7 + 8
    texts = _texts(fig)
    assert "channel split" in texts and texts.count("concat: 116 ch") == 1
    assert "identity\n58 ch" in texts and "1x1 conv\n58 ch" in texts
    assert "dw 3x3, s2\n116 ch" in texts and "shuffle (g=2): 232 ch" in texts
    plt.close(fig)


def test_shuffle_units_rejects_other_things():
    with pytest.raises(ValueError, match="units"):
        figures.shuffle_units([])
    with pytest.raises(TypeError, match="units"):
        figures.shuffle_units([object()])


def _row(label, ips, macs, memory):
    latency = Latency(median=1 / ips, iqr=0.0, measurements=3, device="cpu", threads=1)
    return Measurement(label=label, macs=macs, memory_access=memory, latency=latency, batch=1)


def test_guideline_bars_draw_three_relative_bars_per_row():
    rows = [_row("a", 100.0, 1000, 50), _row("b", 50.0, 1000, 100), _row("c", 25.0, 900, 200)]
    fig = figures.guideline_bars({"G1": rows, "G2": rows[:2], "G3": rows})
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["G1", "G2", "G3"]
    first = panels[0]
    heights = [p.get_height() for p in first.patches]
    assert len(heights) == 3 * 3
    np.testing.assert_allclose(heights[:3], [1.0, 0.5, 0.25])  # images/s
    np.testing.assert_allclose(heights[3:6], [1.0, 1.0, 0.9])  # MACs
    np.testing.assert_allclose(heights[6:], [1.0, 2.0, 4.0])  # memory access
    assert len(panels[1].patches) == 3 * 2
    assert [t.get_text() for t in first.get_xticklabels()] == ["a", "b", "c"]
    plt.close(fig)


def test_guideline_bars_rejects_bad_input():
    with pytest.raises(ValueError, match="results"):
        figures.guideline_bars({})
    with pytest.raises(TypeError, match="results"):
        figures.guideline_bars({"G1": [1, 2]})


def test_memory_sweep_plots_every_point_and_the_bound():
    fig = figures.memory_sweep([4, 8, 16], [16, 8, 4], [3000.0, 2000.0, 3000.0], 2000.0)
    (ax,) = fig.axes
    points, bound = ax.lines
    np.testing.assert_allclose(points.get_xdata(), [2.0, 0.0, -2.0])
    np.testing.assert_allclose(points.get_ydata(), [3.0, 2.0, 3.0])
    np.testing.assert_allclose(bound.get_ydata(), [2.0, 2.0])
    plt.close(fig)
    with pytest.raises(ValueError, match="c1"):
        figures.memory_sweep([1], [1, 2], [1.0], 1.0)
