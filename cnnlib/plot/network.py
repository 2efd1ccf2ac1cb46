"""A network's data flow drawn as stacks of feature maps, as the classic LeNet figure does."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from cnnlib.analysis import Summary

__all__ = ["data_flow", "sheets"]

_MAX_SHEETS = 16  # sheets drawn per stack at most; the label gives the true channel count
_STEP = 0.05  # offset between sheets
_GAP = 0.5  # between stacks
_INCHES_PER_UNIT = 0.72  # the largest map's side is 1.3 units
_MAX_WIDTH = 7.5  # inches: the book's column shows the figure unscaled
_FONT = 10  # points: captions; shape labels one point smaller


def sheets(channels: int) -> int:
    """How many sheets stand for ``channels`` maps: all of them up to 6, then
    ``1 + round(2 log2 C)`` (9 for 16, 15 for 120), at most 16.

    The depth of a stack grows with the logarithm of its channel count, so a
    network whose maps multiply from layer to layer still fits on a page.

    Raises:
        ValueError: ``channels`` is not a positive int.
    """
    if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
        raise ValueError(f"sheets: channels must be a positive int, got {channels!r}")
    return min(channels, 1 + round(2 * math.log2(channels)), _MAX_SHEETS)


def _shape_label(shape: Sequence[int]) -> str:
    if len(shape) == 3:
        channels, height, width = shape
        return f"{channels}@{height}x{width}"
    return str(shape[0])


def data_flow(
    table: Summary,
    layers: Sequence[str],
    *,
    names: Sequence[str] | None = None,
    title: str | None = None,
    input_shape: Sequence[int] | None = None,
) -> Figure:
    """The input and the outputs of ``layers`` as stacks of maps (or bars, for vectors).

    A ``(C, H, W)`` output is drawn as a stack of sheets whose side grows with
    ``H`` and whose depth grows with ``C`` (:func:`sheets`; the label gives
    ``C@HxW``), a ``(F,)`` output as a bar labelled ``F``; arrows join them in
    order. Shapes come from ``table`` (:func:`cnnlib.analysis.summary`), so the
    figure shows what the model computes. The figure is at most 7.5 inches
    wide, so that a book's column shows its text at full size.

    Args:
        table: the network's summary (batch of one).
        layers: names of rows of ``table`` to draw, in order.
        names: captions for the input and each layer (default: ``"input"`` and
            the layer names); a caption may span lines.
        title: optional figure title.
        input_shape: ``(C, H, W)`` to draw for the input instead of the
            summary's, for a network that pads or resizes its input before the
            first layer (LeNet-5 pads 28x28 images to 32x32).

    Raises:
        TypeError: ``table`` is not a :class:`~cnnlib.analysis.Summary`.
        ValueError: a name is not a row of ``table``, ``names`` has the wrong
            length, or ``input_shape`` is not three positive ints.
    """
    if not isinstance(table, Summary):
        raise TypeError(f"data_flow: table must be a Summary, got {type(table).__name__}")
    rows = {row.name: row for row in table.rows}
    missing = [name for name in layers if name not in rows]
    if missing:
        raise ValueError(f"data_flow: {missing} are not layers of the summary; it has {list(rows)}")
    first = tuple(table.input_size[1:])
    if input_shape is not None:
        first = tuple(input_shape)
        if len(first) != 3 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in first
        ):
            raise ValueError(
                f"data_flow: input_shape must be three positive ints (C, H, W), got {input_shape!r}"
            )
    shapes = [first] + [tuple(rows[name].output_shape[1:]) for name in layers]
    captions = list(names) if names is not None else ["input", *layers]
    if len(captions) != len(shapes):
        raise ValueError(
            f"data_flow: names must give {len(shapes)} captions (the input and each layer), "
            f"got {len(captions)}"
        )
    largest = max(shape[-1] for shape in shapes if len(shape) == 3)
    fig, ax = plt.subplots()
    x, highest, lines = 0.0, 0.0, max(str(c).count("\n") + 1 for c in captions)
    previous_right = None
    for shape, caption in zip(shapes, captions, strict=True):
        if len(shape) == 3:
            side = 0.3 + 1.0 * shape[-1] / largest
            depth = sheets(shape[0])
            for k in range(depth):
                ax.add_patch(Rectangle((x + k * _STEP, k * _STEP), side, side, facecolor="white",
                                       edgecolor="tab:blue", linewidth=1.0))  # fmt: skip
            right, top = x + side + (depth - 1) * _STEP, side + (depth - 1) * _STEP
        else:
            side = 0.25
            top = 0.3 + min(1.0, shape[0] / 200)
            ax.add_patch(Rectangle((x, 0), side, top, facecolor="white", edgecolor="tab:orange"))
            right = x + side
        ax.text((x + right) / 2, -0.12, caption, ha="center", va="top", fontsize=_FONT)
        ax.text((x + right) / 2, top + 0.08, _shape_label(shape), ha="center", fontsize=_FONT - 1)
        if previous_right is not None:
            ax.add_patch(FancyArrowPatch((previous_right + 0.05, 0.15), (x - 0.05, 0.15),
                                         arrowstyle="->", mutation_scale=10))  # fmt: skip
        previous_right = right
        highest = max(highest, top)
        x = right + _GAP
    width, low, high = x - _GAP + 0.2, -0.25 - 0.2 * lines, highest + 0.35
    ax.set_xlim(-0.1, width - 0.1)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    ax.axis("off")
    scale = min(_INCHES_PER_UNIT, _MAX_WIDTH / width)
    fig.set_size_inches(width * scale, (high - low) * scale + (0.3 if title else 0))
    if title:
        ax.set_title(title, fontsize=_FONT + 1)
    fig.tight_layout(pad=0.2)
    return fig
