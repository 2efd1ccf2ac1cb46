"""LeNet-5's figures: the paper's C3 connection table."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["c3_connections"]


def c3_connections(
    connections: Sequence[Sequence[int]],
    *,
    inputs: int = 6,
    title: str | None = None,
) -> Figure:
    """Which input maps each output map reads, as a grid (the paper's Table I for C3).

    Rows are the input maps (S2's six), columns the output maps (C3's
    sixteen); a filled square marks a connection. Under each column stands its
    number of inputs; unless ``title`` is given, the title counts the connected
    pairs. Text is 9 points and more; sixteen columns make a 7.3-inch figure.

    Args:
        connections: for each output map, the indices of the input maps it
            reads (``cnnlib.models.lenet.C3_CONNECTIONS``).
        inputs: number of input maps.
        title: optional title.

    Raises:
        TypeError: ``connections`` is not a sequence of sequences of ints.
        ValueError: an index lies outside ``0 … inputs − 1`` or repeats in a
            column, or ``inputs`` is not a positive int.
    """
    if not isinstance(inputs, int) or isinstance(inputs, bool) or inputs < 1:
        raise ValueError(f"c3_connections: inputs must be a positive int, got {inputs!r}")
    if isinstance(connections, (str, bytes)) or not isinstance(connections, Sequence):
        raise TypeError(
            f"c3_connections: connections must be a sequence of index sequences, "
            f"got {connections!r}"
        )
    columns = []
    for j, column in enumerate(connections):
        if (
            isinstance(column, (str, bytes))
            or not isinstance(column, Sequence)
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in column)
        ):
            raise TypeError(f"c3_connections: connections[{j}] must be ints, got {column!r}")
        if len(set(column)) != len(column) or not all(0 <= i < inputs for i in column):
            raise ValueError(
                f"c3_connections: connections[{j}] must hold distinct indices in "
                f"0..{inputs - 1}, got {column!r}"
            )
        columns.append(tuple(column))
    outputs = len(columns)
    fig, ax = plt.subplots(figsize=(0.38 * outputs + 1.2, 0.38 * inputs + 1.1))
    for j, column in enumerate(columns):
        for i in range(inputs):
            filled = i in column
            ax.add_patch(Rectangle(
                (j, i), 1, 1, facecolor="tab:blue" if filled else "white",
                edgecolor="0.6", linewidth=0.8, label="connected" if filled else None,
            ))  # fmt: skip
        ax.text(j + 0.5, inputs + 0.55, str(len(column)), ha="center", va="center", fontsize=9)
    ax.set_xlim(0, outputs)
    ax.set_ylim(inputs + 1, 0)
    ax.set_aspect("equal")
    ax.set_xticks([j + 0.5 for j in range(outputs)], [str(j) for j in range(outputs)], fontsize=9)
    ax.set_yticks([i + 0.5 for i in range(inputs)], [str(i) for i in range(inputs)], fontsize=9)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_xlabel("output map (C3); below: inputs read", fontsize=10)
    ax.set_ylabel("input map (S2)", fontsize=10)
    for spine in ax.spines.values():
        spine.set_visible(False)
    pairs = sum(len(column) for column in columns)
    ax.set_title(title or f"{pairs} of {inputs * outputs} pairs connected", fontsize=11)
    fig.tight_layout()
    return fig
