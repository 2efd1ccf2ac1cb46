"""The diagram helper places what it is asked to, where it is asked to."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

from cnnlib.plot._diagram import Diagram


@pytest.fixture
def diagram():
    fig, ax = plt.subplots()
    yield Diagram(ax)
    plt.close(fig)


def test_box_anchors(diagram):
    centred = diagram.box(2.0, 1.0, 1.0, 0.5, "conv", "white")
    corner = diagram.box(2.0, 1.0, 1.0, 0.5, "conv", "white", anchor="lower left")
    assert centred.get_xy() == (1.5, 0.75)
    assert corner.get_xy() == (2.0, 1.0)
    texts = [t.get_position() for t in diagram.ax.texts]
    assert texts == [(2.0, 1.0), (2.5, 1.25)]  # each label in its box's middle


def test_marks_are_added_to_the_axis(diagram):
    diagram.box(0, 0, 1, 1, "a", "white")
    diagram.node(0, 2, "+", radius=0.3)
    diagram.arrow([(0, 0), (0, 1), (1, 1), (1, 2)], "label")
    patches = diagram.ax.patches
    assert [type(p) for p in patches] == [Rectangle, Circle, FancyArrowPatch]
    assert patches[1].radius == 0.3
    # The first two segments are a plain polyline; the last carries the head.
    (line,) = diagram.ax.lines
    assert list(line.get_xdata()) == [0, 0, 1] and list(line.get_ydata()) == [0, 1, 1]
    assert [t.get_text() for t in diagram.ax.texts] == ["a", "+", "label"]


def test_finish_sets_limits_and_hides_axes(diagram):
    diagram.finish((-1, 3), (0, 2), title="block")
    assert diagram.ax.get_xlim() == (-1, 3) and diagram.ax.get_ylim() == (0, 2)
    assert not diagram.ax.axison
    assert diagram.ax.get_title() == "block"


def test_bad_input_is_named(diagram):
    with pytest.raises(ValueError, match="anchor must be 'centre' or 'lower left', got 'top'"):
        diagram.box(0, 0, 1, 1, "a", "white", anchor="top")
    with pytest.raises(ValueError, match="points needs at least 2 points, got 1"):
        diagram.arrow([(0, 0)])
