"""Figures of the PyramidNet chapter."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from cnnlib.plot import pyramidnet as pyramid_plot  # noqa: E402


def test_one_step_line_per_schedule_and_a_line_per_stage_boundary():
    schedules = {"a": [1, 1, 2, 2, 3, 3], "b": [1, 2, 3, 4, 5, 6]}
    fig = pyramid_plot.width_schedules(schedules, stage_length=2)
    (ax,) = fig.axes
    lines = ax.get_lines()
    steps = [line for line in lines if line.get_linestyle() != "--"]
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    assert [list(line.get_ydata()) for line in steps] == [[1, 1, 2, 2, 3, 3], [1, 2, 3, 4, 5, 6]]
    assert sorted(line.get_xdata()[0] for line in dashed) == [2.5, 4.5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    plt.close(fig)


@pytest.mark.parametrize(
    "schedules, stage_length",
    [({}, None), ({"a": []}, None), ({"a": [1, 2], "b": [1]}, None), ({"a": [0]}, None),
     ({"a": [1]}, 0)],
)  # fmt: skip
def test_width_schedules_bad_input(schedules, stage_length):
    with pytest.raises(ValueError, match="schedules|stage_length"):
        pyramid_plot.width_schedules(schedules, stage_length=stage_length)


def test_unit_diagrams_draw_every_layer_and_one_addition_per_unit():
    fig = pyramid_plot.unit_diagrams()
    assert len(fig.axes) == 2
    for ax, (name, layers) in zip(fig.axes, pyramid_plot.UNIT_LAYERS.items(), strict=True):
        boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
        nodes = [p for p in ax.patches if isinstance(p, Circle)]
        assert len(boxes) == 6 and len(nodes) == 1
        texts = [t.get_text() for t in ax.texts]
        assert [t for t in texts if t in {"BN", "ReLU", "conv 3×3"}] == list(layers)
        assert ax.get_title() == name
    pre, pyramidal = pyramid_plot.UNIT_LAYERS.values()
    assert pre.count("ReLU") == 2 and pyramidal.count("ReLU") == 1
    assert pyramidal[-1] == "BN" and pyramidal[0] == "BN"
    plt.close(fig)
