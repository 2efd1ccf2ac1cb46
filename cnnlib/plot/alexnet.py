"""Figures of the AlexNet chapter: the two-GPU layout and the ReLU-against-tanh race."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import nn

from cnnlib._checks import positive_int
from cnnlib.plot._diagram import Diagram
from cnnlib.train import History

__all__ = ["two_towers", "crossing", "error_curves"]


def _layers(model: nn.Module) -> list[tuple[str, int, int]]:
    """``(label, output width, groups)`` of every convolution and linear layer, in order."""
    rows: list[tuple[str, int, int]] = []
    convs = linears = 0
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            convs += 1
            rows.append((f"conv{convs}", module.out_channels, module.groups))
        elif isinstance(module, nn.Linear):
            linears += 1
            rows.append((f"fc{convs + linears}", module.out_features, 1))
    return rows


def two_towers(model: nn.Module, *, title: str | None = None) -> Figure:
    """The layers of a network as towers, one per group, and which towers each layer reads.

    There are as many towers as the largest ``groups`` of the model's
    convolutions (two for the 2012 AlexNet, one GPU each; one for a one-tower
    network). Every convolution and linear layer is a column with one box per
    tower, labelled with the tower's share of its outputs. A layer whose
    ``groups`` equals the number of towers reads only its own tower (straight
    lines); any other layer reads every tower of the layer before it (lines
    cross between towers, which on two GPUs meant copying activations across).
    The input is one box that every tower of the first layer reads.

    Args:
        model: a network of ``nn.Conv2d`` and ``nn.Linear`` layers (AlexNet).
        title: optional figure title.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``model`` has no convolution or linear layer, or a
            layer's ``groups`` does not divide the number of towers.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"two_towers: model must be a torch.nn.Module, got {type(model).__name__}")
    layers = _layers(model)
    if not layers:
        raise ValueError("two_towers: the model has no nn.Conv2d or nn.Linear layer")
    towers = max(groups for _, _, groups in layers)
    if any(towers % groups for _, _, groups in layers):
        raise ValueError(f"two_towers: every layer's groups must divide {towers}")
    fig, ax = plt.subplots(figsize=(1.0 + 0.95 * (len(layers) + 1), 1.0 + 1.1 * towers))
    height, width, gap = 0.8, 0.6, 1.1

    d = Diagram(ax, linewidth=1.0)

    def box(x: float, y: float, text: str, colour: str, rows: int = 1) -> None:
        d.box(x, y, width, height + (rows - 1) * gap, text, colour, anchor="lower left",
              fontsize=7)  # fmt: skip

    def link(x0: float, y0: float, x1: float, y1: float, cross: bool) -> None:
        d.line([(x0, y0), (x1, y1)], colour="tab:red" if cross else "0.4")

    box(0.0, 0.0, "input", "0.9", rows=towers)
    sources = [(width, (height + (towers - 1) * gap) / 2)]  # right edge, centre
    for column, (label, outputs, groups) in enumerate(layers, start=1):
        x = column * (width + 0.35)
        colour = "tab:orange" if label.startswith("fc") else "tab:blue"
        targets = []
        for t in range(towers):
            y = (towers - 1 - t) * gap
            box(x, y, f"{outputs // towers}", colour)
            targets.append((x, y + height / 2))
        for t, (x1, y1) in enumerate(targets):
            own = groups == towers and len(sources) == towers
            for s, (x0, y0) in enumerate(sources):
                if own and s != t:
                    continue
                link(x0, y0, x1, y1, cross=len(sources) > 1 and s != t)
        ax.text(x + width / 2, -0.35, label, ha="center", va="top", fontsize=8)
        sources = [(x + width, y) for x, y in targets]
    ax.set_xlim(-0.2, len(layers) * (width + 0.35) + width + 0.2)
    ax.set_ylim(-0.8, (towers - 1) * gap + height + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def crossing(history: History, threshold: float) -> int | None:
    """The first epoch (1-based) whose training error ``1 − train_accuracy`` ≤ ``threshold``.

    ``None`` if no epoch of ``history`` reaches it.

    Raises:
        TypeError: ``history`` is not a :class:`~cnnlib.train.History`.
        ValueError: ``threshold`` is not a number in [0, 1].
    """
    if not isinstance(history, History):
        raise TypeError(f"crossing: history must be a History, got {type(history).__name__}")
    if (
        not isinstance(threshold, (int, float))
        or isinstance(threshold, bool)
        or not 0 <= threshold <= 1
    ):
        raise ValueError(f"crossing: threshold must be a number in [0, 1], got {threshold!r}")
    for epoch, accuracy in enumerate(history.train_accuracy, start=1):
        if 1 - accuracy <= threshold:
            return epoch
    return None


def error_curves(
    histories: Mapping[str, History],
    *,
    samples_per_epoch: int,
    threshold: float,
    title: str | None = None,
) -> Figure:
    """Training error against samples seen, a target error, and where each run meets it.

    The paper's Figure 1 plots this for a ReLU and a tanh network. Each
    epoch's training error (``1 − train_accuracy``, measured on the epoch's
    batches as they were trained) is drawn at the samples seen by the end of
    that epoch; a dotted line marks ``threshold`` and a dot the first epoch
    of each run at or below it (:func:`crossing`).

    Args:
        histories: runs by label, e.g. ``{"ReLU": h1, "tanh": h2}``.
        samples_per_epoch: training samples per epoch of every run.
        threshold: the target training error, in [0, 1].
        title: optional figure title.

    Raises:
        TypeError: ``histories`` is not a mapping of labels to History.
        ValueError: ``histories`` is empty or holds an empty history,
            ``samples_per_epoch`` is not a positive int or ``threshold`` not in [0, 1].
    """
    if not isinstance(histories, Mapping) or not all(
        isinstance(h, History) for h in histories.values()
    ):
        raise TypeError("error_curves: histories must be a mapping of label -> History")
    if not histories or any(len(h) == 0 for h in histories.values()):
        raise ValueError("error_curves: histories must hold at least one non-empty History")
    positive_int("error_curves", "samples_per_epoch", samples_per_epoch)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for label, history in histories.items():
        seen = [samples_per_epoch * e for e in range(1, len(history) + 1)]
        errors = [1 - a for a in history.train_accuracy]
        (line,) = ax.plot(seen, errors, label=label)
        epoch = crossing(history, threshold)
        if epoch is not None:
            ax.plot(seen[epoch - 1], errors[epoch - 1], "o", color=line.get_color())
    ax.axhline(threshold, color="0.3", linestyle=":", linewidth=1.0)
    ax.set(xlabel="training samples seen", ylabel="training error", ylim=(0, 1))
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
