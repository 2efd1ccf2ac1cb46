"""Figures of the highway-network chapter: where the transform gates open."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

__all__ = ["gate_maps"]


def gate_maps(
    gates: Mapping[str, torch.Tensor],
    *,
    reference: float | None = None,
    title: str | None = None,
) -> Figure:
    """Transform-gate values as maps (layer by unit), and their mean per layer.

    One heat map per entry of ``gates`` (depth from left to right, one row
    per unit, colour 0 = carry to 1 = transform, the same scale for all), then
    a last panel with one line per entry: the mean over the units of each
    layer. ``reference`` (e.g. ``sigmoid(gate_bias)``, where every gate
    starts) is drawn there as a dashed horizontal line.

    Args:
        gates: label → ``(layers, units)`` tensor of gate values in [0, 1],
            e.g. the mean over a batch of :func:`cnnlib.models.highway.gate_activity`,
            or one sample's gates.
        reference: an optional gate value to mark on the last panel.
        title: optional figure title.

    Raises:
        TypeError: ``gates`` is not a mapping of tensors.
        ValueError: ``gates`` is empty, a tensor is not 2-d, or a value or
            ``reference`` lies outside [0, 1].
    """
    if not isinstance(gates, Mapping):
        raise TypeError(f"gate_maps: gates must be a mapping, got {type(gates).__name__}")
    if not gates:
        raise ValueError("gate_maps: gates is empty")
    for label, values in gates.items():
        if not isinstance(values, torch.Tensor):
            raise TypeError(f"gate_maps: gates[{label!r}] must be a torch.Tensor")
        if values.dim() != 2:
            raise ValueError(
                f"gate_maps: gates[{label!r}] must be (layers, units), got {tuple(values.shape)}"
            )
        if values.numel() and not 0 <= float(values.min()) <= float(values.max()) <= 1:
            raise ValueError(f"gate_maps: gates[{label!r}] has values outside [0, 1]")
    if reference is not None and not (isinstance(reference, (int, float)) and 0 <= reference <= 1):
        raise ValueError(f"gate_maps: reference must be a number in [0, 1], got {reference!r}")

    count = len(gates)
    fig, axes = plt.subplots(
        1, count + 1, figsize=(3.2 * (count + 1), 3.0), constrained_layout=True
    )
    image = None
    for ax, (label, values) in zip(axes, gates.items(), strict=False):
        layers, units = values.shape
        image = ax.imshow(
            values.detach().float().cpu().T.numpy(), aspect="auto", cmap="viridis",
            vmin=0.0, vmax=1.0, interpolation="nearest",
            extent=(0.5, layers + 0.5, units - 0.5, -0.5),
        )  # fmt: skip
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("highway layer")
        ax.set_ylabel("unit")
    fig.colorbar(image, ax=list(axes[:count]), shrink=0.9, label="gate T(x)")
    curves = axes[-1]
    for label, values in gates.items():
        means = values.detach().float().cpu().mean(1)
        curves.plot(range(1, len(means) + 1), means.numpy(), marker=".", label=label)
    if reference is not None:
        curves.axhline(reference, color="grey", linestyle="--", linewidth=1, label="at init")
    curves.set_ylim(0, 1)
    curves.set_xlabel("highway layer")
    curves.set_title("mean over units", fontsize=10)
    curves.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
