"""cnnlib.plot.layer_costs labels the layers with the names it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib import analysis, plot  # noqa: E402
from cnnlib.models import get_model  # noqa: E402

PAPER_NAMES = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]


@pytest.fixture(scope="module")
def table() -> analysis.Summary:
    with torch.device("meta"):
        model = get_model("alexnet_2012")
    return analysis.summary(model, (1, 3, 224, 224))


def tick_labels(fig) -> list[str]:
    return [tick.get_text() for tick in fig.axes[1].get_xticklabels()]


def test_default_labels_are_the_module_names(table):
    fig = plot.layer_costs(table)
    # AlexNet's weighted modules: convolutions at 0, 4, 8, 10, 12 of features
    # (conv, ReLU, LRN, pool before conv2 and conv3), linear layers at 1, 4, 6.
    expected = [f"features.{i}" for i in (0, 4, 8, 10, 12)]
    expected += [f"classifier.{i}" for i in (0, 3, 6)]
    assert tick_labels(fig) == expected
    assert len(fig.axes[0].patches) == len(fig.axes[1].patches) == 8
    plt.close(fig)


def test_a_sequence_of_names_labels_the_bars_in_order(table):
    fig = plot.layer_costs(table, names=PAPER_NAMES)
    assert tick_labels(fig) == PAPER_NAMES
    assert len(fig.axes[1].patches) == len(PAPER_NAMES)
    plt.close(fig)


def test_a_mapping_renames_only_the_modules_it_names(table):
    fig = plot.layer_costs(table, names={"features.0": "conv1", "classifier.6": "fc8"})
    labels = tick_labels(fig)
    assert (labels[0], labels[-1]) == ("conv1", "fc8")
    assert labels[1] == "features.4"
    plt.close(fig)


def test_labels_false_still_hides_the_names(table):
    fig = plot.layer_costs(table, names=PAPER_NAMES, labels=False)
    assert set(tick_labels(fig)) == {""}
    plt.close(fig)


@pytest.mark.parametrize(
    ("names", "error", "message"),
    [
        (PAPER_NAMES[:-1], ValueError, r"one label per weighted layer \(8\), got 7"),
        ("conv1", TypeError, "names must be a mapping or a sequence"),
        (3, TypeError, "names must be a mapping or a sequence"),
    ],
)
def test_bad_names_are_refused(table, names, error, message):
    with pytest.raises(error, match=message):
        plot.layer_costs(table, names=names)
