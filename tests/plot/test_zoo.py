"""cnnlib.plot.zoo draws exactly the points, fields and accuracies it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from cnnlib.plot import zoo  # noqa: E402


def grid(row: float, column: float, spacing: float = 1.0) -> torch.Tensor:
    """The 9 taps of a 3x3 kernel centred at (row, column), ``spacing`` apart."""
    steps = torch.tensor([-1.0, 0.0, 1.0]) * spacing
    rows, columns = torch.meshgrid(row + steps, column + steps, indexing="ij")
    return torch.stack([rows.flatten(), columns.flatten()], dim=1)


def test_sampling_locations_draws_every_tap_and_field():
    image = torch.rand(12, 10)
    panels = {
        "plain": torch.stack([grid(3, 3), grid(8, 6)]),
        "spread": torch.stack([grid(5, 5, spacing=2.0), grid(6, 4, spacing=1.5)]),
    }
    fig = zoo.sampling_locations(image, panels, title="taps")
    assert len(fig.axes) == 2 and fig._suptitle.get_text() == "taps"
    for ax, (name, points) in zip(fig.axes, panels.items(), strict=True):
        assert ax.get_title() == name
        (shown,) = ax.images
        assert np.array_equal(shown.get_array(), image.numpy())
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(dots) == 2  # one collection per unit
        for collection, taps in zip(dots, points, strict=True):
            # matplotlib's offsets are (x, y) = (column, row).
            assert np.allclose(collection.get_offsets(), taps.flip(1).numpy())
        boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(boxes) == 2
    # Fields by hand: a plain 3x3 grid centred at (3, 3) reads rows and columns 2..4;
    # spacing 1.5 around (6, 4) reaches 4.5..7.5 rows, so pixels 4..8 (5 of them),
    # and columns 2.5..5.5, so pixels 2..6.
    plain_first = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)][0]
    assert (plain_first.get_x(), plain_first.get_y()) == (1.5, 1.5)
    assert (plain_first.get_width(), plain_first.get_height()) == (3, 3)
    spread_second = [p for p in fig.axes[1].patches if isinstance(p, Rectangle)][1]
    assert (spread_second.get_x(), spread_second.get_y()) == (1.5, 3.5)
    assert (spread_second.get_width(), spread_second.get_height()) == (5, 5)
    plt.close(fig)


def test_sampling_locations_accepts_a_one_channel_image():
    fig = zoo.sampling_locations(torch.rand(1, 7, 7), {"a": grid(3, 3).unsqueeze(0)})
    assert fig.axes[0].images[0].get_array().shape == (7, 7)
    plt.close(fig)


@pytest.mark.parametrize(
    "image, panels, error, match",
    [
        ([[0.0]], {"a": grid(1, 1)[None]}, TypeError, "image"),
        (torch.rand(3, 7, 7), {"a": grid(1, 1)[None]}, ValueError, "image"),
        (torch.rand(7, 7), {}, ValueError, "empty"),
        (torch.rand(7, 7), [grid(1, 1)[None]], TypeError, "mapping"),
        (torch.rand(7, 7), {"a": grid(1, 1)}, ValueError, "units, taps, 2"),
        (torch.rand(7, 7), {"a": [[1.0, 2.0]]}, TypeError, "tensor"),
    ],
)
def test_sampling_locations_rejects_bad_input(image, panels, error, match):
    with pytest.raises(error, match=match):
        zoo.sampling_locations(image, panels)


def test_accuracy_vs_cost_places_one_labelled_point_per_model():
    accuracy = {"standard": 0.8, "grouped": 0.7, "separable": 0.65}
    params = {"standard": 14_000, "grouped": 4_000, "separable": 2_700, "deformable": 22_000}
    macs = {"standard": 5.5e6, "grouped": 1.5e6, "separable": 0.9e6}
    fig = zoo.accuracy_vs_cost(accuracy, {"parameters": params, "MACs": macs})
    assert len(fig.axes) == 2
    for ax, (label, values) in zip(fig.axes, [("parameters", params), ("MACs", macs)], strict=True):
        assert ax.get_xlabel() == label and ax.get_xscale() == "log"
        (points,) = ax.collections
        expected = [(values[name], 100 * acc) for name, acc in accuracy.items()]
        assert np.allclose(points.get_offsets(), expected)
        # The deformable network has a cost but no accuracy: it is not drawn.
        assert [t.get_text() for t in ax.texts] == list(accuracy)
    plt.close(fig)


@pytest.mark.parametrize(
    "accuracy, costs, error, match",
    [
        ({"a": 0.5}, {"params": {"b": 1}}, ValueError, "'a'"),
        ({"a": 1.5}, {"params": {"a": 1}}, ValueError, r"\[0, 1\]"),
        ({"a": 0.5}, {"params": {"a": 0}}, ValueError, "positive"),
        ({}, {"params": {}}, ValueError, "empty"),
        ([0.5], {"params": {"a": 1}}, TypeError, "mappings"),
    ],
)
def test_accuracy_vs_cost_rejects_bad_input(accuracy, costs, error, match):
    with pytest.raises(error, match=match):
        zoo.accuracy_vs_cost(accuracy, costs)


def test_sampling_locations_marks_where_each_unit_sits():
    panels = {
        "a": torch.stack([grid(3, 3), grid(8, 6)]),
        "b": torch.stack([grid(2, 2), grid(5, 5)]),
    }
    centres = torch.tensor([[3.0, 3.0], [8.0, 6.0]])
    fig = zoo.sampling_locations(torch.rand(12, 10), panels, centres=centres)
    for ax in fig.axes:
        crosses = [line for line in ax.lines if line.get_marker() == "x"]
        assert len(crosses) == 2  # one per unit, in every panel
        # (x, y) = (column, row); each cross in its unit's colour, like its taps.
        assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in crosses] == [(3, 3), (6, 8)]
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        for line, collection in zip(crosses, dots, strict=True):
            assert np.allclose(to_rgba(line.get_color()), collection.get_facecolor()[0])
    plt.close(fig)


@pytest.mark.parametrize(
    "centres, error",
    [
        ([[3.0, 3.0]], TypeError),
        (torch.zeros(3, 2), ValueError),  # three centres for two units
        (torch.zeros(2, 3), ValueError),
    ],
)
def test_sampling_locations_rejects_bad_centres(centres, error):
    panels = {"a": torch.stack([grid(3, 3), grid(8, 6)])}
    with pytest.raises(error, match="centres"):
        zoo.sampling_locations(torch.rand(12, 10), panels, centres=centres)


def test_accuracy_vs_cost_error_bars_are_one_binomial_standard_error():
    accuracy = {"a": 0.8, "b": 0.5, "c": 0.9}
    params = {"a": 1_000, "b": 3_000, "c": 10_000}
    fig = zoo.accuracy_vs_cost(accuracy, {"parameters": params}, test_images=400)
    (ax,) = fig.axes
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    # By hand: 100·sqrt(p(1-p)/400) = 2.0, 2.5 and 1.5 points.
    for segment, (name, half) in zip(
        bars.get_segments(), [("a", 2.0), ("b", 2.5), ("c", 1.5)], strict=True
    ):
        (x0, y0), (x1, y1) = segment
        assert x0 == x1 == params[name]
        assert np.allclose(
            sorted([y0, y1]), [100 * accuracy[name] - half, 100 * accuracy[name] + half]
        )
    plt.close(fig)
    fig = zoo.accuracy_vs_cost(accuracy, {"parameters": params})
    assert not [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    plt.close(fig)
    with pytest.raises(ValueError, match="test_images"):
        zoo.accuracy_vs_cost(accuracy, {"parameters": params}, test_images=0)


def test_accuracy_vs_cost_keeps_long_labels_inside_the_axes():
    names = ["standard", "depthwise_separable", "spatially_separable", "grouped"]
    accuracy = dict(zip(names, [0.8, 0.7, 0.75, 0.72], strict=True))
    params = dict(zip(names, [30_000, 5_000, 60_000, 9_000], strict=True))
    fig = zoo.accuracy_vs_cost(accuracy, {"parameters": params, "MACs": params})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        frame = ax.get_window_extent(renderer)
        assert [t.get_text() for t in ax.texts] == [n.replace("_", " ") for n in names]
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
    plt.close(fig)


def test_accuracy_vs_cost_spreads_the_labels_of_points_at_the_same_cost():
    # Three networks at one cost (as the dilated and standard variants are), two elsewhere.
    accuracy = {"standard": 0.71, "dilated": 0.70, "seed 1": 0.715, "grouped": 0.6, "dw": 0.5}
    params = {"standard": 9_000, "dilated": 9_000, "seed 1": 9_000, "grouped": 3_000, "dw": 900}
    fig = zoo.accuracy_vs_cost(accuracy, {"parameters": params}, test_images=2_000)
    fig.canvas.draw()
    (ax,) = fig.axes
    renderer = fig.canvas.get_renderer()
    # The text alone (an Annotation's own extent includes its connecting line).
    boxes = [Text.get_window_extent(text, renderer) for text in ax.texts]
    assert len(boxes) == len(accuracy)
    for i, first in enumerate(boxes):
        for second in boxes[i + 1 :]:
            assert not first.overlaps(second)
    # The three labels keep the order of their points, top to bottom.
    heights = {t.get_text(): box.y0 for t, box in zip(ax.texts, boxes, strict=True)}
    assert heights["seed 1"] > heights["standard"] > heights["dilated"]
    # Every label stays inside the axes.
    frame = ax.get_window_extent(renderer)
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1
    plt.close(fig)
