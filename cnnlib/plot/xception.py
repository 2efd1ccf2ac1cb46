"""Figures of the Xception chapter: channel segments, and the three flows.

* :func:`segment_modules` — the paper's Figures 2-4 as a progression: a 1x1
  convolution, then 3x3 convolutions on 1, a few, or one-per-channel segments
  (one panel per :class:`~cnnlib.models.xception.SegmentedInception`);
* :func:`flows` — the entry, middle and exit flows of a built
  :class:`~cnnlib.models.xception.Xception` (the paper's Figure 5), with every
  channel count read from the model's modules;
* :func:`seed_pairs` — a final accuracy per variant and seed, the runs of one
  seed joined by a line (a paired comparison across variants).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import nn

from cnnlib.layers import ConvBNAct, SeparableConv2d
from cnnlib.models.xception import SegmentedInception, Xception, XceptionBlock
from cnnlib.plot._diagram import Diagram

__all__ = ["block_lines", "flows", "seed_pairs", "segment_modules"]

_GREY = "0.88"
_POINTWISE = "#8fb8e0"
_SPATIAL = "#f6d776"
_BLOCK = "#cfe8c6"
_OTHER = "#e6d3ee"


def _weights(module: nn.Module) -> int:
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))


def segment_modules(modules: Sequence[SegmentedInception], *, shown: int = 6) -> Figure:
    """One panel per module: its 1x1 convolution, then its 3x3 on each segment.

    Each panel draws the input, the 1x1 convolution across all channels, and
    one box per segment of the grouped 3x3 (its channels written in the box);
    with more than ``shown`` segments, the first ``shown - 1``, an ellipsis
    and the last. The title gives the number of segments and the weights of
    the module's two convolutions, counted from their weight tensors.

    Args:
        modules: the modules to draw, left to right.
        shown: the most segment boxes drawn in one panel (at least 2).

    Returns:
        The figure.

    Raises:
        ValueError: ``modules`` is empty or ``shown`` is below 2.
        TypeError: an item is not a ``SegmentedInception``.
    """
    if not modules:
        raise ValueError("segment_modules: modules must not be empty")
    if not isinstance(shown, int) or shown < 2:
        raise ValueError(f"segment_modules: shown must be an int >= 2, got {shown!r}")
    for m in modules:
        if not isinstance(m, SegmentedInception):
            raise TypeError(
                f"segment_modules: modules must hold SegmentedInception, got {type(m).__name__}"
            )
    fig, axes = plt.subplots(1, len(modules), figsize=(2.6 * len(modules), 3.1), squeeze=False)
    for ax, module in zip(axes[0], modules, strict=True):
        d = Diagram(ax, fontsize=8, linewidth=0.7, arrow_size=7)
        c_in, c = module.pointwise.in_channels, module.pointwise.out_channels
        s = module.spatial.groups
        d.box(1.5, 3.2, 2.0, 0.45, f"input: {c_in} ch", _GREY)
        d.arrow([(1.5, 2.97), (1.5, 2.58)])
        d.box(1.5, 2.35, 3.0, 0.45, f"1x1 conv, {c_in}→{c}", _POINTWISE)
        segments = list(range(s)) if s <= shown else [*range(shown - 2), None, s - 1]
        n = len(segments)
        width = 3.0 / n
        for i, g in enumerate(segments):
            x = width * (i + 0.5)
            if g is None:
                ax.text(x, 1.1, "…", ha="center", va="center", fontsize=12)
                continue
            d.arrow([(x, 2.12), (x, 1.36)])
            label = f"3x3\n{c // s} ch" if n <= 4 else f"{c // s}"
            d.box(x, 1.1, width - 0.08, 0.5, label, _SPATIAL)
        ax.text(1.5, 0.6, f"3x3 conv, groups={s}", ha="center", va="center", fontsize=8)
        plural = "s" if s > 1 else ""
        d.finish(
            (-0.1, 3.1), (0.35, 3.5), title=f"{s} segment{plural}: {_weights(module):,} weights"
        )
    fig.tight_layout()
    return fig


def block_lines(block: XceptionBlock) -> list[str]:
    """The rows of an Xception module as the paper's Figure 5 writes them.

    One "SepConv <channels>" per separable convolution (preceded by "ReLU, "
    where a ReLU comes first) and "MaxPool 3x3, /2" where the module ends in
    a max-pool, read from ``block.rep``.

    Raises:
        TypeError: ``block`` is not an ``XceptionBlock``.
    """
    if not isinstance(block, XceptionBlock):
        raise TypeError(f"block_lines: block must be an XceptionBlock, got {type(block).__name__}")
    lines, relu = [], False
    for layer in block.rep:
        if isinstance(layer, nn.ReLU):
            relu = True
        elif isinstance(layer, SeparableConv2d):
            lines.append(("ReLU, " if relu else "") + f"SepConv {layer.pointwise.out_channels}")
            relu = False
        elif isinstance(layer, nn.MaxPool2d):
            lines.append(f"MaxPool 3x3, /{layer.stride}")
    return lines


def _shortcut_label(block: XceptionBlock) -> str:
    if isinstance(block.shortcut, nn.Identity):
        return "identity"
    conv = block.shortcut[0]
    return f"1x1 conv /{conv.stride[0]}\n{conv.out_channels} ch"


def flows(model: Xception) -> Figure:
    """Xception's entry, middle and exit flows, side by side (the paper's Figure 5).

    Every box is read from ``model``: the stem's convolutions, one box per
    :class:`~cnnlib.models.xception.XceptionBlock` (its rows from
    :func:`block_lines`) with its shortcut beside it ending in a "+", the
    middle flow's first module with "× n" for its ``n`` identical modules,
    the exit flow's separable convolutions, the pooling and the classifier.

    Raises:
        TypeError: ``model`` is not an ``Xception``.
    """
    if not isinstance(model, Xception):
        raise TypeError(f"flows: model must be an Xception, got {type(model).__name__}")
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 5.8))
    middle = list(model.middle_flow)
    columns: list[tuple[str, list[tuple[str, str, XceptionBlock | None]]]] = [
        ("Entry flow", [("input", _GREY, None)]),
        (f"Middle flow (× {len(middle)})", []),
        ("Exit flow", []),
    ]
    for layer in model.stem:
        conv = layer[0] if isinstance(layer, ConvBNAct) else layer
        k, stride = conv.kernel_size[0], conv.stride[0]
        text = f"Conv {k}x{k}, {conv.out_channels}" + (f", /{stride}" if stride > 1 else "")
        columns[0][1].append((text + "\nReLU", _OTHER, None))  # fits the box
    columns[0][1].extend(("\n".join(block_lines(b)), _BLOCK, b) for b in model.entry_flow)
    if middle:
        columns[1][1].append(("\n".join(block_lines(middle[0])), _BLOCK, middle[0]))
    else:
        columns[1][1].append(("no modules", _GREY, None))
    for layer in model.exit_flow:
        if isinstance(layer, XceptionBlock):
            columns[2][1].append(("\n".join(block_lines(layer)), _BLOCK, layer))
        elif isinstance(layer, SeparableConv2d):
            columns[2][1].append((f"SepConv {layer.pointwise.out_channels}, ReLU", _OTHER, None))
    columns[2][1].extend(
        [
            ("Global average pool", _GREY, None),
            (f"Linear {model.fc.in_features}→{model.fc.out_features}", _GREY, None),
        ]
    )
    for ax, (title, items) in zip(axes, columns, strict=True):
        d = Diagram(ax, fontsize=8, linewidth=0.7, arrow_size=7)
        y = 0.0
        for i, (text, colour, block) in enumerate(items):
            height = 0.45 + 0.3 * text.count("\n")
            if i:
                d.arrow([(1.0, y), (1.0, y - 0.3)])
                y -= 0.3
            d.box(1.0, y - height / 2, 2.0, height, text, colour)
            y -= height
            if block is not None:  # the shortcut, from the module's input to a "+"
                top = y + height + (0.15 if i else 0.0)
                d.line([(1.0, top), (2.45, top), (2.45, y - 0.35)])
                d.arrow([(2.45, y - 0.35), (1.2, y - 0.35)])
                ax.text(2.55, y + height / 2, _shortcut_label(block), ha="left",
                        va="center", fontsize=7)  # fmt: skip
                d.arrow([(1.0, y), (1.0, y - 0.15)])
                d.node(1.0, y - 0.35, "+")
                y -= 0.55
        d.finish((-0.1, 3.6), (min(y, -8.4) - 0.1, 0.2), title=title)
    fig.tight_layout()
    return fig


def seed_pairs(accuracies: Mapping[str, Sequence[float]], *, title: str | None = None) -> Figure:
    """Final accuracies, one column per variant, the runs of one seed joined by a line.

    Args:
        accuracies: for each variant (in the order given), one accuracy in
            [0, 1] per seed; seed ``i`` is the ``i``-th value of every variant.
        title: optional axes title.

    Returns:
        The figure: one line with one marker per variant for every seed.

    Raises:
        TypeError: ``accuracies`` is not a mapping.
        ValueError: ``accuracies`` is empty, or its variants have no seeds or
            different numbers of seeds.
    """
    if not isinstance(accuracies, Mapping):
        raise TypeError(
            f"seed_pairs: accuracies must be a mapping, got {type(accuracies).__name__}"
        )
    if not accuracies:
        raise ValueError("seed_pairs: accuracies must not be empty")
    counts = {len(v) for v in accuracies.values()}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"seed_pairs: accuracies need the same number (>0) of seeds, got {counts}")
    names = list(accuracies)
    fig, ax = plt.subplots(figsize=(4.8, 3.2), constrained_layout=True)
    for seed in range(counts.pop()):
        values = [accuracies[name][seed] for name in names]
        ax.plot(range(len(names)), values, "-o", label=f"seed {seed}")
    ax.set_xticks(range(len(names)), names, fontsize=10)
    ax.set_xlim(-0.4, len(names) - 0.6)
    ax.set_ylabel("final test accuracy", fontsize=10)
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0, decimals=1))
    ax.tick_params(labelsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
