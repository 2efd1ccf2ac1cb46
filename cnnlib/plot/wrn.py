"""Figures of the Wide ResNet chapter: a thin deep net against a wide shallow one."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnlib.train import History

__all__ = ["width_against_depth"]


def width_against_depth(
    runs: Mapping[str, History], macs: Mapping[str, int], *, title: str | None = None
) -> Figure:
    """Test accuracy per epoch, and training cost per image, of several networks.

    Left: one line per run, test accuracy after every epoch. Right: one bar
    per run, milliseconds of training per image (from the mean of
    ``History.samples_per_second``), labelled with the run's multiply–
    accumulates per image and the MACs per second achieved in training,
    counted as three times the forward MACs (the forward pass, and the
    backward pass for the inputs and for the weights).

    Args:
        runs: ``{label: History}``, at least one, each with at least one epoch.
        macs: ``{label: forward MACs per image}`` for every label of ``runs``.
        title: optional figure title.

    Raises:
        TypeError: a value of ``runs`` is not a :class:`~cnnlib.train.History`.
        ValueError: ``runs`` is empty, a run has no epochs, or ``macs`` lacks
            a label of ``runs`` or holds a count below 1.
    """
    if not runs:
        raise ValueError("width_against_depth: runs must not be empty")
    for label, history in runs.items():
        if not isinstance(history, History):
            raise TypeError(f"width_against_depth: runs[{label!r}] must be a History")
        if len(history) == 0 or not history.samples_per_second:
            raise ValueError(f"width_against_depth: runs[{label!r}] has no epochs")
        if not isinstance(macs.get(label), int) or macs[label] < 1:
            raise ValueError(f"width_against_depth: macs[{label!r}] must be a positive int")
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    for label, history in runs.items():
        epochs = range(1, len(history) + 1)
        left.plot(epochs, history.test_accuracy, marker="o", label=label)
    left.set(xlabel="epoch", ylabel="test accuracy", title="accuracy")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.legend(fontsize=8)
    labels = list(runs)
    rates = [sum(h.samples_per_second) / len(h.samples_per_second) for h in runs.values()]
    ms = [1000 / r for r in rates]
    bars = right.bar(range(len(labels)), ms, color="tab:gray")
    for bar, label, rate in zip(bars, labels, rates, strict=True):
        text = f"{macs[label] / 1e6:.1f} M MACs\n{3 * macs[label] * rate / 1e9:.2f} GMAC/s (3× fwd)"
        right.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text,
                   ha="center", va="bottom", fontsize=8)  # fmt: skip
    right.set_xticks(range(len(labels)), labels, fontsize=8)
    right.set(ylabel="ms per training image", title="time")
    right.set_ylim(0, max(ms) * 1.35)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
