"""cnnlib.plot.alexnet draws what it is given: towers from groups, curves from histories."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cnnlib.models import get_model  # noqa: E402
from cnnlib.plot import alexnet as figures  # noqa: E402
from cnnlib.train import History  # noqa: E402


def on_meta(name: str) -> torch.nn.Module:
    with torch.device("meta"):
        return get_model(name)


def test_two_towers_draws_a_box_per_tower_and_crosses_where_groups_is_1():
    fig = figures.two_towers(on_meta("alexnet_2012"))
    (ax,) = fig.axes
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(boxes) == 1 + 2 * 8  # the input, then two towers of 5 conv + 3 linear layers
    # Lines into each layer: 2 from the input (conv1); 2 into a grouped layer
    # (conv2, conv4, conv5); 4 into a layer that reads both towers (conv3, fc6-8).
    assert len(ax.lines) == 2 + 2 + 4 + 2 + 2 + 4 + 4 + 4
    crossing = [line for line in ax.lines if line.get_color() == "tab:red"]
    assert len(crossing) == 2 * 4  # conv3, fc6, fc7 and fc8 each cross twice
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("48") == 2 and texts.count("2048") == 4 and texts.count("500") == 2
    assert [t for t in texts if t.startswith(("conv", "fc"))] == [
        "conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8",
    ]  # fmt: skip
    plt.close(fig)


def test_one_tower_network_has_one_row_and_no_crossings():
    fig = figures.two_towers(on_meta("alexnet"))
    (ax,) = fig.axes
    assert sum(isinstance(p, Rectangle) for p in ax.patches) == 1 + 8
    assert len(ax.lines) == 8 and all(line.get_color() != "tab:red" for line in ax.lines)
    assert "64" in [t.get_text() for t in ax.texts]  # conv1's filters, undivided
    plt.close(fig)


def test_two_towers_rejects_a_model_without_layers():
    with pytest.raises(ValueError, match="no nn.Conv2d or nn.Linear"):
        figures.two_towers(torch.nn.Sequential(torch.nn.ReLU()))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        figures.two_towers("alexnet")


def history(errors: list[float]) -> History:
    return History(train_accuracy=[1 - e for e in errors], train_loss=[0.0] * len(errors))


def test_crossing_is_the_first_epoch_at_or_below_the_threshold():
    assert figures.crossing(history([0.9, 0.5, 0.3, 0.4, 0.2]), 0.35) == 3
    assert figures.crossing(history([0.9, 0.5]), 0.3) is None
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\]"):
        figures.crossing(history([0.5]), 1.5)
    with pytest.raises(TypeError, match="history must be a History"):
        figures.crossing([0.5], 0.3)


def test_error_curves_plot_each_run_against_samples_seen():
    runs = {"relu": history([0.9, 0.6, 0.3, 0.2]), "tanh": history([0.8, 0.7, 0.6])}
    fig = figures.error_curves(runs, samples_per_epoch=100, threshold=0.35)
    (ax,) = fig.axes
    curves = [line for line in ax.lines if line.get_label() in runs]
    assert [list(line.get_xdata()) for line in curves] == [[100, 200, 300, 400], [100, 200, 300]]
    assert list(curves[0].get_ydata()) == pytest.approx([0.9, 0.6, 0.3, 0.2])
    # One marker where relu first reaches 35 % (epoch 3, 300 samples); tanh never does.
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(dots) == 1 and list(dots[0].get_xdata()) == [300]
    # The threshold as a horizontal line.
    assert any(list(line.get_ydata()) == [0.35, 0.35] for line in ax.lines)
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one non-empty History"):
        figures.error_curves({"a": History()}, samples_per_epoch=1, threshold=0.3)
    with pytest.raises(ValueError, match="samples_per_epoch must be a positive int"):
        figures.error_curves(runs, samples_per_epoch=0, threshold=0.3)
