"""Pareto plots of the closing chapter: every model as a point, the front marked.

A :class:`Panel` may also carry lines of constant ratio ``x / y`` (e.g. MACs
per millisecond: lines of constant throughput) and a group per point (e.g.
the model's family), drawn as colours with a legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["Panel", "pareto_panels"]


@dataclass(frozen=True)
class Panel:
    """One scatter plot: a point per model at ``(x[i], y[i])`` labelled ``labels[i]``.

    ``front`` holds the indices of the points on the Pareto front (see
    :func:`cnnlib.compare.pareto_front`); they are joined by a step line in the
    order of ``x`` and drawn filled, the others hollow; an empty ``front``
    draws no front. ``log`` sets which axes are logarithmic, ``(x, y)``.
    ``iso`` holds ``(rate, text)`` pairs, each drawn as the dashed line
    ``y = x / rate`` labelled ``text``. ``groups`` (one string per point)
    colours the points by group, with a legend. ``labelled`` lists the
    indices of the points to write a label beside (default: all).
    """

    x: Sequence[float]
    y: Sequence[float]
    labels: Sequence[str]
    front: Sequence[int]
    xlabel: str
    ylabel: str
    title: str = ""
    log: tuple[bool, bool] = (True, False)
    front_label: str = "Pareto front"
    iso: Sequence[tuple[float, str]] = ()
    groups: Sequence[str] | None = None
    labelled: Sequence[int] | None = None


def _check(panel: object, k: int) -> Panel:
    if not isinstance(panel, Panel):
        raise TypeError(f"pareto_panels: panels[{k}] must be a Panel, got {type(panel).__name__}")
    n = len(panel.labels)
    if len(panel.x) != n or len(panel.y) != n or n == 0:
        raise ValueError(
            f"pareto_panels: panels[{k}] needs as many x and y values as labels (at least one), "
            f"got {len(panel.x)}, {len(panel.y)} and {n}"
        )
    for axis, values, is_log in (("x", panel.x, panel.log[0]), ("y", panel.y, panel.log[1])):
        for v in values:
            if not math.isfinite(v) or (is_log and v <= 0):
                raise ValueError(
                    f"pareto_panels: panels[{k}].{axis} must hold finite"
                    f"{' positive' if is_log else ''} numbers, got {v!r}"
                )
    for field in ("front", "labelled"):
        indices = getattr(panel, field) or ()
        if any(not isinstance(i, int) or not 0 <= i < n for i in indices):
            raise ValueError(
                f"pareto_panels: panels[{k}].{field} must hold indices below {n}, got {indices!r}"
            )
    if panel.groups is not None and len(panel.groups) != n:
        raise ValueError(
            f"pareto_panels: panels[{k}].groups needs one group per label ({n}), "
            f"got {len(panel.groups)}"
        )
    for rate, _ in panel.iso:
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(
                f"pareto_panels: panels[{k}].iso rates must be finite and positive, got {rate!r}"
            )
    return panel


def _draw(ax: Axes, panel: Panel) -> None:
    on = set(panel.front)
    rest = [i for i in range(len(panel.labels)) if i not in on]
    if panel.groups is None:
        ax.scatter(
            [panel.x[i] for i in rest], [panel.y[i] for i in rest],
            facecolors="none", edgecolors="tab:blue", s=28, label="other models",
        )  # fmt: skip
    else:
        for j, group in enumerate(dict.fromkeys(panel.groups)):
            members = [i for i in range(len(panel.labels)) if panel.groups[i] == group]
            ax.scatter(
                [panel.x[i] for i in members], [panel.y[i] for i in members],
                color=plt.get_cmap("tab10")(j % 10), s=30, label=group,
            )  # fmt: skip
    lo, hi = min(panel.x), max(panel.x)
    for rate, text in panel.iso:
        ax.plot([lo, hi], [lo / rate, hi / rate], ls="--", color="grey", lw=0.8)
        ax.annotate(text, (hi, hi / rate), xytext=(2, 0), textcoords="offset points",
                    fontsize=8, color="grey", va="center")  # fmt: skip
    front = sorted(panel.front, key=lambda i: panel.x[i])
    # Filled red points without groups; black rings around the coloured ones with.
    ring = {"facecolors": "none", "edgecolors": "black", "s": 80, "linewidths": 1.2}
    style = {"color": "tab:red", "s": 28} if panel.groups is None else ring
    line = "tab:red" if panel.groups is None else "black"
    if front:
        ax.scatter(
            [panel.x[i] for i in front], [panel.y[i] for i in front],
            zorder=3, label=panel.front_label, **style,
        )  # fmt: skip
    if len(front) > 1:
        ax.step(
            [panel.x[i] for i in front], [panel.y[i] for i in front],
            where="post", color=line, lw=1, alpha=0.6,
        )  # fmt: skip
    labelled = range(len(panel.labels)) if panel.labelled is None else panel.labelled
    # Neighbours in x get labels on alternate sides, above and below their points.
    for rank, i in enumerate(sorted(labelled, key=lambda i: panel.x[i])):
        ax.annotate(
            panel.labels[i], (panel.x[i], panel.y[i]), xytext=(4, 3 if rank % 2 else -10),
            textcoords="offset points", fontsize=8,
        )  # fmt: skip
    if panel.log[0]:
        ax.set_xscale("log")
    if panel.log[1]:
        ax.set_yscale("log")
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    if panel.title:
        ax.set_title(panel.title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="best")


def pareto_panels(panels: Sequence[Panel], *, width: float = 10.0) -> Figure:
    """Draw the panels one above the other: points, the Pareto front filled and joined.

    Args:
        panels: one :class:`Panel` per plot.
        width: figure width in inches (each panel is 0.6 times as high).

    Returns:
        The figure, one axes per panel.

    Raises:
        TypeError: ``panels`` is not a sequence of :class:`Panel`.
        ValueError: ``panels`` is empty; a panel's ``x``, ``y`` and ``labels``
            differ in length, hold a non-finite value (or a non-positive one on
            a log axis), ``front`` or ``labelled`` holds an index out of
            range, ``groups`` has another length, or an ``iso`` rate is not
            finite and positive.
    """
    if isinstance(panels, Panel) or not isinstance(panels, Sequence):
        raise TypeError(f"pareto_panels: panels must be a sequence of Panel, got {panels!r}")
    if not panels:
        raise ValueError("pareto_panels: panels must not be empty")
    checked = [_check(p, k) for k, p in enumerate(panels)]
    size = (width, 0.6 * width * len(checked))
    fig, axes = plt.subplots(len(checked), 1, figsize=size, squeeze=False)
    for ax, panel in zip(axes[:, 0], checked, strict=True):
        _draw(ax, panel)
    fig.tight_layout()
    return fig
