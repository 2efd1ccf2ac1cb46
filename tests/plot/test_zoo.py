"""cnnlib.plot.zoo draws exactly the points, fields and accuracies it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

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
