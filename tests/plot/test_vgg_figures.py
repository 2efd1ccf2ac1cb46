"""cnnlib.plot.vgg draws what it is given: one row of units per layer, the field filled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cnnlib.plot import vgg as figures  # noqa: E402


def filled(ax: plt.Axes) -> int:
    blue = to_rgba("tab:blue")
    return sum(isinstance(p, Rectangle) and p.get_facecolor() == blue for p in ax.patches)


def test_three_3x3_against_one_7x7():
    fig = figures.stacked_fields([(3, 3), (7, 1)], title="t")
    stack, single = fig.axes
    # Rows of 9 units (the field of 7 and one unit either side); the top row
    # shows only the output unit.
    assert sum(isinstance(p, Rectangle) for p in stack.patches) == 3 * 9 + 1
    assert sum(isinstance(p, Rectangle) for p in single.patches) == 9 + 1
    # The field narrows by 2 per 3x3 layer going up: 7, 5, 3, 1; the 7x7: 7, 1.
    assert filled(stack) == 7 + 5 + 3 + 1 and filled(single) == 7 + 1
    # Every filled unit above the input reads 3 (or 7) units below it.
    assert len(stack.lines) == (5 + 3 + 1) * 3 and len(single.lines) == 7
    assert [t.get_text() for t in stack.texts] == [
        "input", "3x3 conv 1", "3x3 conv 2", "3x3 conv 3",
    ]  # fmt: skip
    assert "field 7" in stack.get_title() and "27C² weights" in stack.get_title()
    assert "49C² weights, 1 ReLU" in single.get_title()
    assert fig._suptitle.get_text() == "t"
    plt.close(fig)


def test_two_3x3_against_one_5x5():
    fig = figures.stacked_fields([(3, 2), (5, 1)])
    stack, single = fig.axes
    assert filled(stack) == 5 + 3 + 1 and filled(single) == 5 + 1
    assert "18C² weights, 2 ReLUs" in stack.get_title()
    assert "25C² weights" in single.get_title()
    plt.close(fig)


@pytest.mark.parametrize(
    ("stacks", "message"),
    [
        ([], "stacks must be a non-empty sequence"),
        ("3x3", "stacks must be a non-empty sequence"),
        ([(3, 2, 1)], r"every entry of stacks must be a \(kernel_size, depth\) pair"),
        ([(4, 2)], "kernel_size must be odd, got 4"),
        ([(3, 0)], "depth must be a positive int, got 0"),
    ],
)
def test_bad_stacks_are_named(stacks, message):
    with pytest.raises(ValueError, match=message):
        figures.stacked_fields(stacks)
