"""Figures of the PyramidNet chapter: width schedules and the pyramidal unit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlib.plot._diagram import Diagram

__all__ = ["UNIT_LAYERS", "unit_diagrams", "width_schedules"]

#: The layers of each unit, from input to addition, as :func:`unit_diagrams`
#: draws them: He et al.'s pre-activation unit and Han et al.'s pyramidal unit.
UNIT_LAYERS: dict[str, tuple[str, ...]] = {
    "pre-activation ResNet unit": ("BN", "ReLU", "conv 3×3", "BN", "ReLU", "conv 3×3"),
    "pyramidal unit": ("BN", "conv 3×3", "BN", "ReLU", "conv 3×3", "BN"),
}
_SHORTCUTS = {
    "pre-activation ResNet unit": "identity\n(1×1 conv\nif shape\nchanges)",
    "pyramidal unit": "identity,\nzero-padded\n(2×2 avg pool\nif stride 2)",
}
_COLOURS = {"BN": "#fdd9b5", "ReLU": "#c7e9c0", "conv 3×3": "#c6dbef"}


def width_schedules(
    schedules: Mapping[str, Sequence[int]],
    *,
    stage_length: int | None = None,
    title: str | None = None,
) -> Figure:
    """The output width of every residual unit, one step line per network.

    Args:
        schedules: ``{label: widths}``, at least one, every ``widths`` a
            non-empty sequence of positive ints of the same length (block 1
            first).
        stage_length: blocks per stage; draws a dashed line at each stage
            boundary where given.
        title: optional figure title.

    Returns:
        The figure, one axis with one line per schedule.

    Raises:
        ValueError: ``schedules`` is empty, a schedule is empty, holds a width
            below 1 or differs in length from the first, or ``stage_length``
            is not a positive int.
    """
    if not schedules:
        raise ValueError("width_schedules: schedules must not be empty")
    lengths = {len(widths) for widths in schedules.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError("width_schedules: schedules must be non-empty and of one length")
    for label, widths in schedules.items():
        if any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"width_schedules: schedules[{label!r}] must hold positive ints")
    if stage_length is not None and (not isinstance(stage_length, int) or stage_length < 1):
        raise ValueError(
            f"width_schedules: stage_length must be a positive int, got {stage_length!r}"
        )
    (length,) = lengths
    fig, ax = plt.subplots(figsize=(7, 3.2))
    blocks = range(1, length + 1)
    for label, widths in schedules.items():
        ax.step(blocks, list(widths), where="mid", label=label)
    if stage_length is not None:
        for boundary in range(stage_length, length, stage_length):
            ax.axvline(boundary + 0.5, color="0.6", linestyle="--", linewidth=0.8)
    ax.set(xlabel="residual unit", ylabel="output channels", xlim=(0.5, length + 0.5))
    ax.legend(fontsize=8, loc="upper left")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def unit_diagrams(*, title: str | None = None) -> Figure:
    """The pre-activation ResNet unit beside the pyramidal unit, as block diagrams.

    Each panel stacks the layers of :data:`UNIT_LAYERS` from the input (at
    the bottom) to the addition, with the shortcut on the right; the
    pyramidal unit's shortcut is zero-padded and has no parameters.

    Args:
        title: optional figure title.

    Returns:
        The figure, one axis per unit.
    """
    fig, axes = plt.subplots(1, len(UNIT_LAYERS), figsize=(7, 4.6))
    for ax, (name, layers) in zip(axes, UNIT_LAYERS.items(), strict=True):
        d = Diagram(ax, fontsize=9)
        step = 0.8
        d.arrow([(0, -0.4), (0, step - 0.25)], label="x")
        for i, layer in enumerate(layers, start=1):
            d.box(0, i * step, 1.6, 0.5, layer, _COLOURS[layer])
            if i < len(layers):
                d.arrow([(0, i * step + 0.25), (0, (i + 1) * step - 0.25)])
        top = (len(layers) + 1) * step
        d.arrow([(0, len(layers) * step + 0.25), (0, top - 0.2)])
        d.node(0, top, "+")
        d.arrow([(0, 0), (1.5, 0), (1.5, top), (0.2, top)])
        ax.text(1.6, top / 2, _SHORTCUTS[name], ha="left", va="center", fontsize=8)
        d.arrow([(0, top + 0.2), (0, top + 0.8)], label="y")
        d.finish((-1.2, 3.1), (-0.6, top + 1.1), title=name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
