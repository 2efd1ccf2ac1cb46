"""The Pareto figures of chapter 22 (the closing comparison)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from cnnlib.plot import comparison  # noqa: E402


def _panel(**changes):
    values = dict(
        x=[1.0, 10.0, 100.0, 5.0], y=[0.5, 0.8, 0.7, 0.4], labels=["a", "b", "c", "d"],
        front=[0, 1], xlabel="MACs", ylabel="accuracy",
    )  # fmt: skip
    values.update(changes)
    return comparison.Panel(**values)


def test_pareto_panels_draws_every_point_label_and_the_front():
    fig = comparison.pareto_panels([_panel(), _panel(log=(True, True), title="t")])
    assert len(fig.axes) == 2
    for ax in fig.axes:
        hollow, filled = ax.collections[:2]
        assert len(hollow.get_offsets()) == 2 and len(filled.get_offsets()) == 2
        assert sorted(map(tuple, filled.get_offsets().tolist())) == [(1.0, 0.5), (10.0, 0.8)]
        assert sorted(t.get_text() for t in ax.texts) == ["a", "b", "c", "d"]
        step = [line for line in ax.lines if line.get_xdata().size]
        assert len(step) == 1  # the front, joined in the order of x
        assert ax.get_xscale() == "log"
    assert fig.axes[1].get_yscale() == "log" and fig.axes[0].get_yscale() == "linear"
    assert fig.axes[1].get_title() == "t"
    plt.close(fig)


def test_a_single_point_front_draws_no_line():
    fig = comparison.pareto_panels([_panel(front=[2])])
    assert not [line for line in fig.axes[0].lines if line.get_xdata().size]
    plt.close(fig)


def test_pareto_panels_rejects_bad_input():
    with pytest.raises(ValueError, match="as many"):
        comparison.pareto_panels([_panel(x=[1.0])])
    with pytest.raises(ValueError, match="positive"):
        comparison.pareto_panels([_panel(x=[0.0, 1.0, 2.0, 3.0])])
    with pytest.raises(ValueError, match="front"):
        comparison.pareto_panels([_panel(front=[4])])
    with pytest.raises(ValueError, match="empty"):
        comparison.pareto_panels([])
    with pytest.raises(TypeError, match="Panel"):
        comparison.pareto_panels([object()])


def test_iso_lines_groups_and_selected_labels():
    panel = _panel(
        front=[], iso=[(2.0, "2 per unit"), (20.0, "20 per unit")],
        groups=["g1", "g2", "g1", "g3"], labelled=[2],
    )  # fmt: skip
    fig = comparison.pareto_panels([panel])
    ax = fig.axes[0]
    assert len(ax.collections) == 3  # one scatter per group, no front
    sizes = sorted(len(c.get_offsets()) for c in ax.collections)
    assert sizes == [1, 1, 2]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    # y = x / rate at both ends of the x range (1 to 100)
    assert list(dashed[0].get_ydata()) == [0.5, 50.0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["2 per unit", "20 per unit", "c"])
    assert fig.get_size_inches()[1] == pytest.approx(6.0)  # 0.6 x width 10
    plt.close(fig)


def test_panels_are_stacked_and_new_fields_are_checked():
    fig = comparison.pareto_panels([_panel(), _panel()], width=7)
    (top, bottom) = fig.axes
    assert top.get_position().y0 > bottom.get_position().y1
    plt.close(fig)
    with pytest.raises(ValueError, match="groups"):
        comparison.pareto_panels([_panel(groups=["g"])])
    with pytest.raises(ValueError, match="labelled"):
        comparison.pareto_panels([_panel(labelled=[9])])
    with pytest.raises(ValueError, match="iso"):
        comparison.pareto_panels([_panel(iso=[(0.0, "zero")])])
