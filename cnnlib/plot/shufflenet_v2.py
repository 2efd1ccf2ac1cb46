"""Figures of the ShuffleNet V2 chapter: the two units, the guidelines' measurements,
and the memory access cost of a 1x1 convolution against its lower bound."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from cnnlib.analysis.guidelines import Measurement
from cnnlib.models.shufflenet import ShuffleUnitV2
from cnnlib.plot._diagram import Diagram

__all__ = ["guideline_bars", "memory_sweep", "shuffle_units"]

_CONV, _DW, _OP = "#8fb8e0", "#f6d776", "0.88"


def _unit(d: Diagram, x0: float, unit: ShuffleUnitV2) -> None:
    """One unit drawn with its left edge at ``x0`` (5 units wide)."""
    branch2 = unit.branch2
    c_in = branch2[0].in_channels * (1 if unit.branch1 is not None else 2)
    half = branch2[-3].out_channels
    s = unit.stride
    d.box(x0 + 2.5, 7.4, 3.2, 0.6, f"input: {c_in} ch", _OP)
    if unit.branch1 is None:
        d.box(x0 + 2.5, 6.4, 3.2, 0.6, "channel split", _OP)
        d.arrow([(x0 + 2.5, 7.1), (x0 + 2.5, 6.7)])
        d.arrow([(x0 + 1.2, 6.1), (x0 + 1.2, 1.9)], f"identity\n{c_in // 2} ch")
        top = 6.1
    else:
        top = 7.1
        left = [(5.2, f"dw 3x3, s{s}\n{c_in} ch", _DW), (4.2, f"1x1 conv\n{half} ch", _CONV)]
        for y, text, colour in left:
            d.box(x0 + 1.2, y, 2.3, 0.7, text, colour)
        d.arrow([(x0 + 1.2, top), (x0 + 1.2, 5.55)])
        d.arrow([(x0 + 1.2, 4.85), (x0 + 1.2, 4.55)])
        d.arrow([(x0 + 1.2, 3.85), (x0 + 1.2, 1.9)])
    right = [(5.2, f"1x1 conv\n{half} ch", _CONV), (4.2, f"dw 3x3, s{s}\n{half} ch", _DW),
             (3.2, f"1x1 conv\n{half} ch", _CONV)]  # fmt: skip
    for y, text, colour in right:
        d.box(x0 + 3.8, y, 2.3, 0.7, text, colour)
    d.arrow([(x0 + 3.8, top), (x0 + 3.8, 5.55)])
    d.arrow([(x0 + 3.8, 4.85), (x0 + 3.8, 4.55)])
    d.arrow([(x0 + 3.8, 3.85), (x0 + 3.8, 3.55)])
    d.arrow([(x0 + 3.8, 2.85), (x0 + 3.8, 1.9)])
    d.box(x0 + 2.5, 1.6, 4.4, 0.6, f"concat: {2 * half} ch", _OP)
    d.box(x0 + 2.5, 0.6, 4.4, 0.6, f"shuffle (g=2): {2 * half} ch", _OP)
    d.arrow([(x0 + 2.5, 1.3), (x0 + 2.5, 0.9)])
    title = "basic unit (stride 1)" if s == 1 else "down-sampling unit (stride 2)"
    d.ax.text(x0 + 2.5, 8.1, title, ha="center", va="bottom", fontsize=10)


def shuffle_units(units: Sequence[ShuffleUnitV2]) -> Figure:
    """Draw ShuffleNet V2 units side by side, channels read from each unit.

    A stride-1 unit: channel split, the left half passed on untouched, the
    right half through 1x1 conv → 3x3 depthwise conv → 1x1 conv; a stride-2
    unit: no split, a depthwise-then-1x1 branch on the left. Both end in a
    concatenation and a channel shuffle. Boxes: 1x1 convolutions blue,
    depthwise convolutions yellow, data operations grey.

    Raises:
        TypeError: ``units`` is not a sequence of ``ShuffleUnitV2``.
        ValueError: ``units`` is empty.
    """
    if isinstance(units, (str, bytes)) or not isinstance(units, Sequence):
        raise TypeError(f"shuffle_units: units must be a sequence, got {type(units).__name__}")
    if not units:
        raise ValueError("shuffle_units: units is empty")
    for unit in units:
        if not isinstance(unit, ShuffleUnitV2):
            raise TypeError(
                f"shuffle_units: units must hold ShuffleUnitV2, got {type(unit).__name__}"
            )
    fig, ax = plt.subplots(figsize=(3.9 * len(units), 4.4))
    d = Diagram(ax, fontsize=9)
    for i, unit in enumerate(units):
        _unit(d, 5.6 * i, unit)
    d.finish((-0.1, 5.6 * len(units) - 0.5), (0.1, 8.6))
    return fig


def guideline_bars(results: Mapping[str, Sequence[Measurement]]) -> Figure:
    """One panel per guideline: throughput, MACs and memory access per row.

    Each panel shows, for every row of the experiment, three bars relative
    to its first row: measured images per second, MACs and memory access
    cost. A row that is faster at equal MACs has a high first bar beside two
    bars near 1.

    Args:
        results: a panel title (e.g. ``"G1: c1:c2"``) → the rows of
            :func:`cnnlib.analysis.guidelines.measure`.

    Raises:
        TypeError: ``results`` is not a mapping of sequences of Measurement.
        ValueError: ``results`` or one of its sequences is empty.
    """
    if not isinstance(results, Mapping):
        raise TypeError(f"guideline_bars: results must be a mapping, got {type(results).__name__}")
    if not results:
        raise ValueError("guideline_bars: results is empty")
    for title, rows in results.items():
        if not isinstance(rows, Sequence) or not all(isinstance(r, Measurement) for r in rows):
            raise TypeError(f"guideline_bars: results[{title!r}] must be a sequence of Measurement")
        if not rows:
            raise ValueError(f"guideline_bars: results[{title!r}] is empty")
    n = len(results)
    cols = min(n, 2)
    fig, axes = plt.subplots(-(-n // cols), cols, figsize=(7.5, 2.9 * -(-n // cols)),
                             squeeze=False)  # fmt: skip
    kinds = (("speed", "tab:green"), ("MACs", "tab:blue"), ("memory access", "tab:orange"))
    for ax, (title, rows) in zip(axes.flat, results.items(), strict=False):
        first = rows[0]
        values = [
            [r.images_per_second / first.images_per_second for r in rows],
            [r.macs / first.macs for r in rows],
            [r.memory_access / first.memory_access for r in rows],
        ]
        x = np.arange(len(rows))
        for k, ((name, colour), ys) in enumerate(zip(kinds, values, strict=True)):
            ax.bar(x + (k - 1) * 0.27, ys, width=0.27, color=colour, label=name)
        ax.axhline(1.0, color="0.3", linewidth=0.8, linestyle=":")
        ax.set_xticks(x, [r.label.replace(" ", "\n") for r in rows], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("relative to first row", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def memory_sweep(
    c1: Sequence[int], c2: Sequence[int], costs: Sequence[float], bound: float
) -> Figure:
    """Memory access cost of 1x1 convolutions at equal MACs, against the bound.

    One marker per convolution at ``log2(c2 / c1)``, and the bound as a
    dashed horizontal line; the markers touch it only where ``c1 == c2``.

    Args:
        c1, c2: input and output channels of each convolution.
        costs: their memory access costs (elements).
        bound: :func:`cnnlib.analysis.guidelines.pointwise_memory_bound`.

    Raises:
        ValueError: the sequences are empty or of different lengths, or a
            channel count is not positive.
    """
    if not (len(c1) == len(c2) == len(costs)) or not c1:
        raise ValueError("memory_sweep: c1, c2 and costs must be non-empty and of one length")
    if min(c1) < 1 or min(c2) < 1:
        raise ValueError("memory_sweep: channel counts must be positive")
    x = np.log2(np.asarray(c2, dtype=float) / np.asarray(c1, dtype=float))
    fig, ax = plt.subplots(figsize=(6.0, 2.8))
    ax.plot(x, np.asarray(costs) / 1e3, "o-", color="tab:orange", label="memory access cost")
    ax.axhline(bound / 1e3, color="0.3", linestyle="--", label="lower bound")
    ax.set_xlabel("log2(c2 / c1) at equal MACs", fontsize=9)
    ax.set_ylabel("thousand elements", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
