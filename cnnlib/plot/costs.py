"""Where a network's parameters and its multiply–accumulates sit, layer by layer."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlib.analysis import Summary

__all__ = ["layer_costs"]


def layer_costs(table: Summary, *, title: str | None = None, labels: bool = True) -> Figure:
    """Two bar charts: each weighted layer's share of the parameters and of the MACs.

    The layers are those rows of ``table`` (from :func:`cnnlib.analysis.summary`)
    with parameters or MACs; bars show percentages of the network's totals, so
    a layer heavy in one and light in the other stands out.

    Args:
        table: the network's summary.
        title: optional figure title.
        labels: write each layer's name under its bars.

    Raises:
        TypeError: ``table`` is not a :class:`~cnnlib.analysis.Summary`.
        ValueError: no row of ``table`` has parameters or MACs.
    """
    if not isinstance(table, Summary):
        raise TypeError(f"layer_costs: table must be a Summary, got {type(table).__name__}")
    rows = [row for row in table.rows if row.params or row.macs]
    if not rows:
        raise ValueError("layer_costs: no layer of the summary has parameters or MACs")
    params = sum(row.params for row in rows) or 1
    macs = sum(row.macs for row in rows) or 1
    positions = range(len(rows))
    width = max(5.0, 0.35 * len(rows) + 1.5)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(width, 4.2), sharex=True)
    top.bar(positions, [100 * row.params / params for row in rows], color="tab:blue")
    bottom.bar(positions, [100 * row.macs / macs for row in rows], color="tab:orange")
    top.set_ylabel("% of parameters")
    bottom.set_ylabel("% of MACs")
    for ax in (top, bottom):
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylim(0, 100)
    bottom.set_xticks(list(positions))
    names = [row.name for row in rows] if labels else [""] * len(rows)
    bottom.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
