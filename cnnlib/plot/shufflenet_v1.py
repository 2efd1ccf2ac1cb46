"""Figures of the ShuffleNet V1 chapter: how channels of groups reach each other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from cnnlib._checks import positive_int

__all__ = ["information_flow", "reached_groups"]

_MIXED = "0.15"  # colour of a channel that reads several input groups


def _check(owner: str, matrices: Sequence[torch.Tensor]) -> None:
    """Refuse anything but a chain of 2-D boolean matrices whose sizes fit.

    Raises:
        TypeError: a matrix is not a 2-D boolean tensor.
        ValueError: there are none, or a matrix's columns differ from the
            rows of the one before.
    """
    if not matrices:
        raise ValueError(f"{owner}: each panel needs at least one matrix")
    for i, m in enumerate(matrices):
        if not isinstance(m, torch.Tensor) or m.dtype != torch.bool or m.dim() != 2:
            raise TypeError(f"{owner}: matrix {i} must be a 2-D bool tensor")
        if i and m.shape[1] != matrices[i - 1].shape[0]:
            raise ValueError(
                f"{owner}: matrix {i} reads {m.shape[1]} channels, "
                f"but matrix {i - 1} makes {matrices[i - 1].shape[0]}"
            )


def reached_groups(matrices: Sequence[torch.Tensor], groups: int) -> list[list[set[int]]]:
    """The input groups each channel of every row reads, row 0 being the input.

    Input channel ``i`` of ``C`` belongs to group ``i // (C / groups)``; a
    channel of a later row reads the union of the groups of the channels its
    matrix row marks.

    Args:
        matrices: boolean ``(out, in)`` matrices, one per layer, as made by
            :func:`cnnlib.models.shufflenet.channel_dependence`.
        groups: the number of groups of the input channels.

    Raises:
        TypeError, ValueError: the matrices do not chain, or ``groups`` is not
            a positive int dividing the input channels.
    """
    _check("reached_groups", matrices)
    positive_int("reached_groups", "groups", groups)
    channels = matrices[0].shape[1]
    if channels % groups:
        raise ValueError(f"reached_groups: groups ({groups}) must divide {channels}")
    rows = [[{i * groups // channels} for i in range(channels)]]
    for m in matrices:
        rows.append([set().union(*(rows[-1][i] for i in row.nonzero().flatten().tolist()))
                     for row in m])  # fmt: skip
    return rows


def information_flow(
    panels: Mapping[str, Sequence[torch.Tensor]],
    groups: int,
    *,
    row_labels: Sequence[str] | None = None,
) -> Figure:
    """Draw which channels feed which, layer by layer, one panel per stack.

    Each row of dots is a layer's channels (the input at the bottom); a line
    joins two channels wherever a matrix entry is True. Input channels are
    coloured by their group, a later channel by the one input group it reads,
    or dark grey when it reads several; a line takes its lower end's colour.

    Args:
        panels: title → boolean ``(out, in)`` matrices of consecutive layers
            (see :func:`reached_groups`); all panels have the same rows.
        groups: the number of groups of the input channels.
        row_labels: a name for each row of dots, bottom to top.

    Raises:
        TypeError, ValueError: a panel's matrices do not chain, ``groups`` does
            not divide the input channels, or ``row_labels`` has the wrong
            length.
    """
    if not panels:
        raise ValueError("information_flow: panels must not be empty")
    reached = {title: reached_groups(ms, groups) for title, ms in panels.items()}
    n_rows = len(next(iter(reached.values())))
    if any(len(r) != n_rows for r in reached.values()):
        raise ValueError("information_flow: every panel needs the same number of layers")
    if row_labels is not None and len(row_labels) != n_rows:
        raise ValueError(f"information_flow: row_labels needs {n_rows} names")
    palette = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 0.9 + 0.9 * n_rows),
                             squeeze=False)  # fmt: skip
    for ax, (title, matrices) in zip(axes[0], panels.items(), strict=True):
        rows = reached[title]
        xs = [torch.linspace(0, 1, len(row)).tolist() if len(row) > 1 else [0.5] for row in rows]
        colours = [[palette[next(iter(s)) % 10] if len(s) == 1 else _MIXED for s in row]
                   for row in rows]  # fmt: skip
        for r, m in enumerate(matrices):
            for o, i in m.nonzero().tolist():
                ax.plot([xs[r][i], xs[r + 1][o]], [r, r + 1], color=colours[r][i],
                        linewidth=0.6, alpha=0.7)  # fmt: skip
        for r, row in enumerate(rows):
            ax.scatter(xs[r], [r] * len(row), s=14, c=colours[r], zorder=3)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks(range(n_rows), row_labels if row_labels is not None else [""] * n_rows)
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.3, n_rows - 0.7)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig
