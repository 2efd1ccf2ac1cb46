"""A network's data flow drawn as stacks of feature maps, as the classic LeNet figure does."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from cnnlib.analysis import Summary

__all__ = ["data_flow"]

_MAX_SHEETS = 6  # sheets drawn per stack; the label gives the true channel count


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
) -> Figure:
    """The input and the outputs of ``layers`` as stacks of maps (or bars, for vectors).

    A ``(C, H, W)`` output is drawn as a stack of sheets whose side grows with
    ``H`` (at most six sheets; the label gives ``C@HxW``), a ``(F,)`` output as
    a bar labelled ``F``; arrows join them in order. Shapes come from
    ``table`` (:func:`cnnlib.analysis.summary`), so the figure shows what the
    model computes.

    Args:
        table: the network's summary (batch of one).
        layers: names of rows of ``table`` to draw, in order.
        names: captions for the input and each layer (default: ``"input"`` and
            the layer names).
        title: optional figure title.

    Raises:
        TypeError: ``table`` is not a :class:`~cnnlib.analysis.Summary`.
        ValueError: a name is not a row of ``table``, or ``names`` has the wrong length.
    """
    if not isinstance(table, Summary):
        raise TypeError(f"data_flow: table must be a Summary, got {type(table).__name__}")
    rows = {row.name: row for row in table.rows}
    missing = [name for name in layers if name not in rows]
    if missing:
        raise ValueError(f"data_flow: {missing} are not layers of the summary; it has {list(rows)}")
    shapes = [tuple(table.input_size[1:])] + [tuple(rows[name].output_shape[1:]) for name in layers]
    captions = list(names) if names is not None else ["input", *layers]
    if len(captions) != len(shapes):
        raise ValueError(
            f"data_flow: names must give {len(shapes)} captions (the input and each layer), "
            f"got {len(captions)}"
        )
    largest = max(shape[-1] for shape in shapes if len(shape) == 3)
    fig, ax = plt.subplots(figsize=(1.6 * len(shapes) + 0.5, 3.0))
    x = 0.0
    previous_right = None
    for shape, caption in zip(shapes, captions, strict=True):
        if len(shape) == 3:
            side = 0.3 + 1.0 * shape[-1] / largest
            sheets = min(shape[0], _MAX_SHEETS)
            step = 0.06
            for k in range(sheets):
                ax.add_patch(Rectangle((x + k * step, k * step), side, side, facecolor="white",
                                       edgecolor="tab:blue", linewidth=1.0))  # fmt: skip
            right, top = x + side + (sheets - 1) * step, side + (sheets - 1) * step
        else:
            side = 0.25
            top = 0.3 + min(1.0, shape[0] / 200)
            ax.add_patch(Rectangle((x, 0), side, top, facecolor="white", edgecolor="tab:orange"))
            right = x + side
        ax.text((x + right) / 2, -0.18, caption, ha="center", va="top", fontsize=9)
        ax.text((x + right) / 2, top + 0.08, _shape_label(shape), ha="center", fontsize=8)
        if previous_right is not None:
            ax.add_patch(FancyArrowPatch((previous_right + 0.05, 0.4), (x - 0.05, 0.4),
                                         arrowstyle="->", mutation_scale=10))  # fmt: skip
        previous_right = right
        x = right + 0.45
    ax.set_xlim(-0.1, x - 0.3)
    ax.set_ylim(-0.6, 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
