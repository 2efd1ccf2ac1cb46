"""LeNet-5's C3 table draws exactly the connections it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cnnlib.models import lenet  # noqa: E402
from cnnlib.plot import lenet as lenet_plot  # noqa: E402


def filled_cells(fig) -> set[tuple[int, int]]:
    (ax,) = fig.axes
    blue = to_rgba("tab:blue")
    return {
        (int(p.get_y()), int(p.get_x()))  # (input row, output column)
        for p in ax.patches
        if isinstance(p, Rectangle) and p.get_facecolor() == blue
    }


def test_the_papers_table_has_60_connections_in_a_6_by_16_grid():
    fig = lenet_plot.c3_connections(lenet.C3_CONNECTIONS)
    (ax,) = fig.axes
    assert sum(isinstance(p, Rectangle) for p in ax.patches) == 6 * 16
    filled = filled_cells(fig)
    # Table I of LeCun et al. (1998), written out: columns 0-5 read three
    # neighbouring maps, 6-14 four, 15 all six; 6*3 + 9*4 + 6 = 60 pairs.
    assert len(filled) == 60
    assert {i for i, j in filled if j == 0} == {0, 1, 2}
    assert {i for i, j in filled if j == 4} == {0, 4, 5}
    assert {i for i, j in filled if j == 12} == {0, 1, 3, 4}
    assert {i for i, j in filled if j == 15} == set(range(6))
    counts = [t.get_text() for t in ax.texts]
    assert counts == ["3"] * 6 + ["4"] * 9 + ["6"]
    assert ax.get_title() == "60 of 96 pairs connected"
    # Readable in a book's column: at most 7.5 inches wide, text of 9 points or more.
    assert fig.get_size_inches()[0] <= 7.5
    labels = ax.get_xticklabels() + ax.get_yticklabels()
    assert min(t.get_fontsize() for t in [*ax.texts, *labels]) >= 9
    plt.close(fig)


def test_any_table_is_drawn_as_given():
    fig = lenet_plot.c3_connections([(1,), (), (0, 2)], inputs=3, title="toy")
    (ax,) = fig.axes
    assert filled_cells(fig) == {(1, 0), (0, 2), (2, 2)}
    assert sum(isinstance(p, Rectangle) for p in ax.patches) == 9
    assert ax.get_title() == "toy"
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(connections=[(0, 6)]), ValueError, r"connections\[0\]"),
        (dict(connections=[(1, 1)]), ValueError, "distinct"),
        (dict(connections=[(0,)], inputs=0), ValueError, "inputs"),
        (dict(connections="012"), TypeError, "connections"),
        (dict(connections=[(0.5,)]), TypeError, r"connections\[0\]"),
    ],
)
def test_bad_tables_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        lenet_plot.c3_connections(**kwargs)
