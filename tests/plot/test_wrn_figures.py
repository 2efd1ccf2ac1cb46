"""Figures of the Wide ResNet chapter."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cnnlib.plot import wrn as wrn_plot  # noqa: E402
from cnnlib.train import History  # noqa: E402


def _history(accuracies, rate):
    h = History()
    for a in accuracies:
        h.train_loss.append(1.0)
        h.train_accuracy.append(a)
        h.test_loss.append(1.0)
        h.test_accuracy.append(a)
        h.seconds.append(1.0)
        h.samples_per_second.append(rate)
    return h


def test_one_line_and_one_bar_per_run():
    runs = {"a": _history([0.5, 0.6, 0.7], 500.0), "b": _history([0.4, 0.7], 1000.0),
            "c": _history([0.3], 250.0)}  # fmt: skip
    fig = wrn_plot.width_against_depth(runs, {"a": 10**6, "b": 2 * 10**6, "c": 5 * 10**5})
    left, right = fig.axes
    assert [len(line.get_xdata()) for line in left.get_lines()] == [3, 2, 1]
    bars = [p for p in right.patches if isinstance(p, Rectangle)]
    assert [round(b.get_height(), 6) for b in bars] == [2.0, 1.0, 4.0]  # ms per image
    texts = [t.get_text() for t in right.texts]
    assert len(texts) == 3 and texts[1].startswith("2.0 M MACs")
    assert "6.00 GMAC/s" in texts[1]  # 3 x 2e6 MACs x 1000 images/s
    plt.close(fig)


@pytest.mark.parametrize(
    "runs, macs, error",
    [({}, {}, ValueError), ({"a": 1}, {"a": 1}, TypeError),
     ({"a": History()}, {"a": 1}, ValueError), ({"a": _history([0.5], 1.0)}, {}, ValueError)],
)  # fmt: skip
def test_bad_input(runs, macs, error):
    with pytest.raises(error, match="runs|macs"):
        wrn_plot.width_against_depth(runs, macs)
