"""Figures of the GoogLeNet and Inception chapter: an Inception block, branch by branch.

:func:`inception_block` draws a multi-branch block from the module itself
(its ``branch*`` children, in order), so the figure shows the kernel sizes and
channel counts the code builds: GoogLeNet's :class:`~cnnlib.models.googlenet.Inception`
(with or without its 1x1 reductions) and the Inception-ResNet block
:class:`~cnnlib.models.inception.InceptionResNetA`, whose concatenation is
followed by a linear 1x1 convolution and the residual sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import nn

from cnnlib.layers import ConvBNReLU
from cnnlib.plot._diagram import Diagram

__all__ = ["Box", "branch_layers", "inception_block"]

#: Face colours by kind of layer.
COLOURS = {
    "1x1": "#f6d776",
    "conv": "#8fb8e0",
    "pool": "#f0a89a",
    "linear": "#c9a6e4",
    "io": "0.88",
}


@dataclass(frozen=True)
class Box:
    """One layer of a branch as the figure draws it.

    Attributes:
        label: the text in the box, e.g. ``"3x3 conv\\n128"``.
        kind: a key of :data:`COLOURS`.
        out_channels: channels leaving the layer.
    """

    label: str
    kind: str
    out_channels: int


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    return int(value[0]), int(value[-1])


def _box(layer: nn.Module, channels: int) -> Box | None:
    """The box of one leaf layer reading ``channels`` channels (None: not drawn)."""
    conv = layer.conv if isinstance(layer, ConvBNReLU) else layer
    if isinstance(conv, nn.Conv2d):
        kh, kw = _pair(conv.kernel_size)
        stride = _pair(conv.stride)[0]
        name = f"{kh}x{kw} conv" + (f"/{stride}" if stride > 1 else "")
        kind = "1x1" if (kh, kw) == (1, 1) else "conv"
        return Box(f"{name}\n{conv.out_channels}", kind, conv.out_channels)
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        k = _pair(layer.kernel_size)[0]
        stride = _pair(layer.stride)[0]
        kind = "max" if isinstance(layer, nn.MaxPool2d) else "avg"
        name = f"{k}x{k} {kind}-pool" + (f"/{stride}" if stride > 1 else "")
        return Box(name, "pool", channels)
    return None


def branch_layers(branch: nn.Module, in_channels: int) -> list[Box]:
    """The boxes of one branch, in order, for a branch that reads ``in_channels``.

    A branch is a :class:`~cnnlib.layers.ConvBNReLU`, an ``nn.Conv2d``, a
    pooling layer, or an ``nn.Sequential`` of them (other children, such as
    activations, are not drawn).

    Raises:
        TypeError: ``branch`` is not an ``nn.Module``.
        ValueError: ``branch`` contains no convolution or pooling layer.
    """
    if not isinstance(branch, nn.Module):
        raise TypeError(f"branch_layers: branch must be an nn.Module, got {type(branch).__name__}")
    layers = list(branch) if isinstance(branch, nn.Sequential) else [branch]
    boxes: list[Box] = []
    channels = in_channels
    for layer in layers:
        box = _box(layer, channels)
        if box is not None:
            boxes.append(box)
            channels = box.out_channels
    if not boxes:
        raise ValueError("branch_layers: the branch has no convolution or pooling layer")
    return boxes


def _branches(block: nn.Module) -> list[nn.Module]:
    return [m for name, m in block.named_children() if name.startswith("branch")]


def inception_block(block: nn.Module, *, title: str | None = None) -> Figure:
    """Draw a multi-branch block: input, one column per branch, concatenation.

    Every branch (the block's children named ``branch…``, in order) is a
    column of boxes from the input down to the concatenation, one box per
    convolution (kernel, stride when not 1, output channels) or pooling layer;
    under each column its output channels, and in the concatenation box their
    sum. If the block also has a ``conv`` child that is an ``nn.Conv2d`` (the
    Inception-ResNet blocks), the figure goes on: that linear 1x1 convolution,
    then a ``+`` where the input, carried by a shortcut line on the left, is
    added, then the ReLU.

    Args:
        block: :class:`~cnnlib.models.googlenet.Inception`,
            :class:`~cnnlib.models.inception.InceptionResNetA` or any module
            whose ``branch…`` children follow :func:`branch_layers`.
        title: optional figure title.

    Raises:
        TypeError: ``block`` is not an ``nn.Module``.
        ValueError: ``block`` has no child named ``branch…``, or has no
            convolution to read its input channels from.
    """
    if not isinstance(block, nn.Module):
        raise TypeError(f"inception_block: block must be an nn.Module, got {type(block).__name__}")
    branches = _branches(block)
    if not branches:
        raise ValueError("inception_block: the block has no child named 'branch...'")
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("inception_block: the block has no convolution")
    in_channels = convs[0].in_channels
    columns = [branch_layers(branch, in_channels) for branch in branches]
    residual = getattr(block, "conv", None)
    residual = residual if isinstance(residual, nn.Conv2d) else None

    depth = max(len(c) for c in columns)
    width, height, gap_x, gap_y = 1.5, 0.7, 0.35, 0.45
    left = 1.0 if residual is not None else 0.0
    total_width = len(columns) * width + (len(columns) - 1) * gap_x
    tail = 3 if residual is not None else 0  # linear 1x1, "+", ReLU
    rows = depth + 2 + tail  # input, layers, concatenation, tail
    fig, ax = plt.subplots(figsize=(0.6 + 1.0 * (left + total_width), 0.5 + 0.8 * rows))

    d = Diagram(ax)

    def box(x: float, y: float, w: float, text: str, kind: str) -> None:
        d.box(x, y, w, height, text, COLOURS[kind], anchor="lower left")

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        d.arrow([(x0, y0), (x1, y1)])

    def row_y(row: int) -> float:  # row 0 is the input, at the top
        return -row * (height + gap_y)

    box(left, row_y(0), total_width, f"input: {in_channels} channels", "io")
    concat_row = depth + 1
    outputs = []
    for i, column in enumerate(columns):
        x = left + i * (width + gap_x)
        centre = x + width / 2
        previous = row_y(0)
        for j, layer in enumerate(column, start=1):
            arrow(centre, previous, centre, row_y(j) + height)
            box(x, row_y(j), width, layer.label, layer.kind)
            previous = row_y(j)
        outputs.append(column[-1].out_channels)
        arrow(centre, previous, centre, row_y(concat_row) + height)
        ax.text(centre + 0.06, row_y(concat_row) + height + gap_y / 2, str(outputs[-1]),
                ha="left", va="center", fontsize=10, color="0.25")  # fmt: skip
    total = sum(outputs)
    box(left, row_y(concat_row), total_width, f"concatenate: {total} channels", "io")

    if residual is not None:
        centre = left + total_width / 2
        r_row = concat_row + 1
        arrow(centre, row_y(concat_row), centre, row_y(r_row) + height)
        text = f"1x1 linear\n{residual.out_channels}"
        box(centre - width / 2, row_y(r_row), width, text, "linear")
        plus_y = row_y(r_row + 1) + height / 2
        arrow(centre, row_y(r_row), centre, plus_y + 0.22)
        ax.text(centre, plus_y, "+", ha="center", va="center", fontsize=13,
                fontweight="bold")  # fmt: skip
        shortcut_x = left / 2
        top = row_y(0) + height / 2
        d.line([(left, top), (shortcut_x, top), (shortcut_x, plus_y)])
        arrow(shortcut_x, plus_y, centre - 0.22, plus_y)
        ax.text(shortcut_x - 0.08, (top + plus_y) / 2, f"shortcut: {in_channels}",
                rotation=90, ha="right", va="center", fontsize=10)  # fmt: skip
        arrow(centre, plus_y - 0.22, centre, row_y(r_row + 2) + height)
        box(centre - width / 2, row_y(r_row + 2), width, "ReLU", "io")

    ax.set_xlim(-0.1, left + total_width + 0.1)
    ax.set_ylim(row_y(rows - 1) - 0.1, height + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=12)
    fig.tight_layout()
    return fig
