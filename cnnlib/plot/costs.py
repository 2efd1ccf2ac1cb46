"""Where a network's parameters and its multiply–accumulates sit, layer by layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlib.analysis import Summary

__all__ = ["layer_costs"]


def layer_costs(
    table: Summary,
    *,
    title: str | None = None,
    labels: bool = True,
    names: Mapping[str, str] | Sequence[str] | None = None,
) -> Figure:
    """Two bar charts: each weighted layer's share of the parameters and of the MACs.

    The layers are those rows of ``table`` (from :func:`cnnlib.analysis.summary`)
    with parameters or MACs; bars show percentages of the network's totals, so
    a layer heavy in one and light in the other stands out.

    Args:
        table: the network's summary.
        title: optional figure title.
        labels: write each layer's name under its bars.
        names: readable labels instead of the module names: a mapping from
            module name (e.g. ``"features.0"``) to label, where modules it
            leaves out keep their name, or a sequence with one label per
            weighted layer, in order (e.g. ``["conv1", ..., "fc8"]``).

    Raises:
        TypeError: ``table`` is not a :class:`~cnnlib.analysis.Summary`, or
            ``names`` is neither a mapping nor a sequence of strings.
        ValueError: no row of ``table`` has parameters or MACs, or ``names``
            is a sequence whose length is not the number of weighted layers.
    """
    if not isinstance(table, Summary):
        raise TypeError(f"layer_costs: table must be a Summary, got {type(table).__name__}")
    rows = [row for row in table.rows if row.params or row.macs]
    if not rows:
        raise ValueError("layer_costs: no layer of the summary has parameters or MACs")
    label_of = _labels(rows, names)
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
    ticks = label_of if labels else [""] * len(rows)
    bottom.set_xticklabels(ticks, rotation=60, ha="right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _labels(rows: Sequence, names: Mapping[str, str] | Sequence[str] | None) -> list[str]:
    if names is None:
        return [row.name for row in rows]
    if isinstance(names, Mapping):
        return [str(names.get(row.name, row.name)) for row in rows]
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"layer_costs: names must be a mapping or a sequence of str, got {names!r}")
    if len(names) != len(rows):
        raise ValueError(
            f"layer_costs: names must hold one label per weighted layer ({len(rows)}), "
            f"got {len(names)}"
        )
    return [str(name) for name in names]
