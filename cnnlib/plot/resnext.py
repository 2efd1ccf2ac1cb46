"""Figures of the ResNeXt chapter: the three equivalent forms of the block."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from cnnlib.models.resnext import ResNeXtBlock
from cnnlib.plot._diagram import Diagram

__all__ = ["block_forms", "conv_label"]

_TITLES = {
    "a": "(a) C paths, summed",
    "b": "(b) C paths, concatenated",
    "c": "(c) grouped convolution",
}
_COLOURS = {1: "#8fb8e0", 3: "#f6d776"}  # 1x1 and 3x3 convolutions
_BOX_H = 0.56
_STEP = 0.9  # vertical distance between stacked boxes


def conv_label(conv: nn.Conv2d) -> str:
    """``"3x3, g=32\n128→128"``: kernel, groups (when more than 1), channels.

    Raises:
        TypeError: ``conv`` is not an ``nn.Conv2d``.
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv_label: conv must be an nn.Conv2d, got {type(conv).__name__}")
    kh, kw = conv.kernel_size
    groups = f", g={conv.groups}" if conv.groups > 1 else ""
    return f"{kh}x{kw}{groups}\n{conv.in_channels}→{conv.out_channels}"


def _colour(conv: nn.Conv2d) -> str:
    return _COLOURS.get(conv.kernel_size[0], "w")


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    """The convolutions ``conv1``, ``conv2``, ``conv3`` that ``module`` has, in order."""
    found = [getattr(module, f"conv{i}", None) for i in (1, 2, 3)]
    return [conv for conv in found if isinstance(conv, nn.Conv2d)]


def _shown_paths(cardinality: int, shown: int) -> list[int | None]:
    """Path indices to draw, ``None`` where an ellipsis stands for the ones left out."""
    if cardinality <= shown:
        return list(range(cardinality))
    return [*range(shown - 1), None, cardinality - 1]


def _draw(ax: Axes, block: ResNeXtBlock, shown: int) -> None:
    p = Diagram(ax, fontsize=9, linewidth=0.7, line_colour="0.35", arrow_size=8)
    depth = block.depth
    top = depth + 1.5  # the input box's row (in units of _STEP)
    y = [top * _STEP - i * _STEP for i in range(depth + 5)]  # rows, top to bottom
    p.box(1.5, y[0], 1.2, _BOX_H, f"x: {block.in_channels} ch", "0.88")
    if block.form == "c":
        rows = [(1.5, c) for c in _convs(block)]
        for i, (x, conv) in enumerate(rows):
            p.arrow([(x, y[i] - _BOX_H / 2), (x, y[i + 1] + _BOX_H / 2)])
            p.box(x, y[i + 1], 1.3, _BOX_H, conv_label(conv), _colour(conv))
        merge = y[len(rows)]
    else:
        paths = _shown_paths(block.cardinality, shown)
        xs = [0.3 + 2.4 * i / max(1, len(paths) - 1) for i in range(len(paths))]
        if len(paths) == 1:
            xs = [1.5]
        width = min(0.95, 2.9 / len(paths) - 0.12)
        for x, g in zip(xs, paths, strict=True):
            if g is None:
                ax.text(x, y[2], "…", ha="center", va="center", fontsize=14)
                continue
            convs = _convs(block.paths[g])
            p.arrow([(1.5, y[0] - _BOX_H / 2), (x, y[1] + _BOX_H / 2)])
            for i, conv in enumerate(convs):
                if i:
                    p.arrow([(x, y[i] - _BOX_H / 2), (x, y[i + 1] + _BOX_H / 2)])
                p.box(x, y[i + 1], width, _BOX_H, conv_label(conv), _colour(conv))
            p.arrow([(x, y[len(convs)] - _BOX_H / 2), (1.5, y[len(convs) + 1] + 0.17)])
        ax.text(-0.15, y[0], f"C = {block.cardinality}\npaths", ha="left",
                va="center", fontsize=8)  # fmt: skip
        row = len(_convs(block.paths[0])) + 1
        if block.form == "a":
            p.node(1.5, y[row], "Σ", radius=0.17)
            merge = y[row] + 0.17 - _BOX_H / 2  # so the next arrow starts at the node
        else:
            p.node(1.5, y[row], "‖", radius=0.17)
            last = getattr(block, "conv3" if depth == 3 else "conv2")
            p.arrow([(1.5, y[row] - 0.17), (1.5, y[row + 1] + _BOX_H / 2)])
            p.box(1.5, y[row + 1], 1.3, _BOX_H, conv_label(last), _colour(last))
            merge = y[row + 1]
    out_y = merge - _STEP
    p.node(1.5, out_y, "+", radius=0.17)
    # Every form's residual branch ends in one BN (after (a)'s sum), then the shortcut is added.
    ax.text(1.25, out_y + 0.3, "BN", ha="right", va="center", fontsize=8, color="0.3")
    p.arrow([(1.5, merge - _BOX_H / 2), (1.5, out_y + 0.17)])
    # The shortcut: from the input down the right edge into the last sum.
    p.arrow([(2.1, y[0]), (3.25, y[0]), (3.25, out_y), (1.67, out_y)])
    p.box(1.5, out_y - _STEP * 0.8, 1.2, _BOX_H, f"y: {block.out_channels} ch", "0.88")
    p.arrow([(1.5, out_y - 0.17), (1.5, out_y - _STEP * 0.8 + _BOX_H / 2)])
    ax.set_title(_TITLES[block.form], fontsize=10)
    ax.set_xlim(-0.2, 3.45)
    # The same scale in every panel: room for form (b), the tallest.
    ax.set_ylim(y[0] - (depth + 2.8) * _STEP - 0.45, y[0] + 0.4)
    ax.axis("off")


def block_forms(blocks: Sequence[ResNeXtBlock], *, shown: int = 3) -> Figure:
    """Draw ResNeXt blocks side by side, one panel each, from their own layers.

    Every box is a convolution of the block, labelled by :func:`conv_label`
    (kernel, channels, groups): form (a) and (b) draw their paths (at most
    ``shown``, the last one drawn after an ellipsis), (a) sums them at a
    ``Σ``, (b) concatenates them at a ``‖`` before its last convolution, and
    (c) is a single column. Each panel ends with the shortcut's ``+`` and the
    output; a "BN" label marks the one batch norm before that ``+`` (in form
    (a) after the sum of the paths, ``Σ``). The other batch norms and the
    ReLUs are left out of the drawing.

    Args:
        blocks: :class:`~cnnlib.models.resnext.ResNeXtBlock` objects, e.g. one
            block and its :func:`~cnnlib.models.resnext.convert`\\ ed twins.
        shown: paths drawn per panel of form (a) or (b), at least 2.

    Raises:
        TypeError: ``blocks`` is not a sequence of ``ResNeXtBlock``, or
            ``shown`` is not an int.
        ValueError: ``blocks`` is empty or ``shown`` is less than 2.
    """
    if not isinstance(blocks, Sequence) or not all(isinstance(b, ResNeXtBlock) for b in blocks):
        raise TypeError("block_forms: blocks must be a sequence of ResNeXtBlock")
    if not blocks:
        raise ValueError("block_forms: blocks is empty")
    if not isinstance(shown, int) or isinstance(shown, bool):
        raise TypeError(f"block_forms: shown must be an int, got {shown!r}")
    if shown < 2:
        raise ValueError(f"block_forms: shown must be at least 2, got {shown}")
    fig, axes = plt.subplots(1, len(blocks), figsize=(3.3 * len(blocks), 4.6), squeeze=False)
    for ax, block in zip(axes[0], blocks, strict=True):
        _draw(ax, block, shown)
    fig.tight_layout()
    return fig
