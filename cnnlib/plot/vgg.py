"""Figures of the VGG chapter: what a stack of small convolutions sees."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from cnnlib._checks import positive_int

__all__ = ["stacked_fields"]

#: Fill of the units in the receptive field, and of the others.
FIELD_COLOR, OTHER_COLOR = "tab:blue", "white"


def _check_stacks(stacks: object) -> list[tuple[int, int]]:
    if isinstance(stacks, (str, bytes)) or not isinstance(stacks, Sequence) or not stacks:
        raise ValueError(
            f"stacked_fields: stacks must be a non-empty sequence of (kernel_size, depth) "
            f"pairs, got {stacks!r}"
        )
    checked = []
    for pair in stacks:
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(
                f"stacked_fields: every entry of stacks must be a (kernel_size, depth) pair, "
                f"got {pair!r}"
            )
        kernel_size = positive_int("stacked_fields", "kernel_size", pair[0])
        depth = positive_int("stacked_fields", "depth", pair[1])
        if kernel_size % 2 == 0:
            raise ValueError(f"stacked_fields: kernel_size must be odd, got {kernel_size}")
        checked.append((kernel_size, depth))
    return checked


def stacked_fields(stacks: Sequence[tuple[int, int]], *, title: str | None = None) -> Figure:
    """One panel per stack of stride-1 convolutions: the input units one output unit reads.

    A panel draws one row of units per layer, the input at the bottom and one
    unit of the last layer at the top. Filled units are those the top unit
    depends on; lines join every filled unit to the ``kernel_size`` units
    below it that it reads. The panel's title gives the receptive field
    ``1 + depth·(kernel_size − 1)``, the weights ``depth·kernel_size²·C²`` of a
    stack from C to C channels, and the number of ReLUs.

    Args:
        stacks: ``(kernel_size, depth)`` of every panel, e.g. ``[(3, 3), (7, 1)]``:
            three 3x3 layers against one 7x7.
        title: optional figure title.

    Raises:
        ValueError: ``stacks`` is empty or not a sequence of pairs, or a kernel
            size or depth is not a positive int, or a kernel size is even.
    """
    checked = _check_stacks(stacks)
    fields = [1 + depth * (k - 1) for k, depth in checked]
    units = max(fields) + 2  # a unit outside the widest field on each side
    levels = max(depth for _, depth in checked) + 1
    fig, axes = plt.subplots(
        1, len(checked), figsize=(3.9 * len(checked), 0.5 * levels + 1.0), squeeze=False
    )
    centre = units // 2
    for ax, (k, depth), field in zip(axes[0], checked, fields, strict=True):
        for level in range(depth + 1):
            reach = (depth - level) * (k // 2) if level < depth else 0
            lit = [x for x in range(units) if abs(x - centre) <= reach]
            shown = lit if level == depth else range(units)  # one unit at the top
            for x in shown:
                face = FIELD_COLOR if x in lit else OTHER_COLOR
                edge = FIELD_COLOR if x in lit else "0.75"
                ax.add_patch(
                    Rectangle((x - 0.4, level - 0.25), 0.8, 0.5, facecolor=face, edgecolor=edge)
                )
            if level:
                for x in lit:
                    for tap in range(-(k // 2), k // 2 + 1):
                        ax.add_line(
                            Line2D([x, x + tap], [level - 0.25, level - 0.75], color="0.45", lw=0.7)
                        )
            name = "input" if level == 0 else f"{k}x{k} conv {level}"
            ax.text(-0.7, level, name, ha="right", va="center", fontsize=11)
        relus = "ReLU" if depth == 1 else "ReLUs"
        ax.set_title(
            f"{depth} x {k}x{k}: field {field}\n{depth * k * k}C² weights, {depth} {relus}",
            fontsize=12,
        )
        ax.set_xlim(-4.6, units - 0.4)
        ax.set_ylim(-0.6, levels - 0.4)
        ax.set_aspect("equal")
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
