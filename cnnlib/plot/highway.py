"""Figures of the highway-network chapter: the highway layer, and where its gates open."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlib.plot._diagram import Diagram

__all__ = ["gate_maps", "highway_block"]


def highway_block(layer: nn.Module, *, title: str | None = None) -> Figure:
    """Draw a highway layer as a data-flow diagram, labelled from the layer itself.

    Boxes: the input ``x``, the transform ``H``, the gate ``T`` (with its
    initial bias ``b_T``, the gate's bias as the layer holds it when all its
    entries are equal) and the output ``y``; circles: the two products
    ``T·H`` and ``(1 − T)·x`` and their sum. The carry path runs along the
    bottom from ``x`` to its product. Widths (units, or channels with the
    kernel size for a convolutional layer) come from ``layer.transform``.

    Args:
        layer: a gated :class:`~cnnlib.models.highway.HighwayLayer` (anything
            with ``transform`` and ``gate`` as ``nn.Linear`` or ``nn.Conv2d``).
        title: optional figure title.

    Raises:
        TypeError: ``layer`` is not an ``nn.Module``, or its ``transform`` or
            ``gate`` is not an ``nn.Linear`` or ``nn.Conv2d``.
        ValueError: ``layer`` has no gate (a plain layer has no carry path).
    """
    if not isinstance(layer, nn.Module):
        raise TypeError(f"highway_block: layer must be an nn.Module, got {type(layer).__name__}")
    transform, gate = getattr(layer, "transform", None), getattr(layer, "gate", None)
    if gate is None:
        raise ValueError("highway_block: layer has no gate (gated=False draws no carry path)")
    for name, part in (("transform", transform), ("gate", gate)):
        if not isinstance(part, (nn.Linear, nn.Conv2d)):
            raise TypeError(f"highway_block: layer.{name} must be nn.Linear or nn.Conv2d")
    if isinstance(transform, nn.Linear):
        width = f"{transform.out_features} units"
    else:
        k = transform.kernel_size[0]
        width = f"{transform.out_channels} channels, {k}x{k}"
    bias = None if gate.bias is None else gate.bias.detach()
    b_text = ""
    if bias is not None and bool((bias == bias.flatten()[0]).all()):
        b_text = f"\nb_T = {float(bias.flatten()[0]):g}"

    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    d = Diagram(ax, line_colour="0.3", linewidth=0.9, arrow_size=10)

    def box(x: float, y: float, w: float, text: str, colour: str) -> None:
        d.box(x, y - 0.4, w, 0.8, text, colour, anchor="lower left")

    box(0.0, 1.0, 1.0, f"x\n{width}", "0.88")
    box(2.0, 2.0, 3.0, "H(x) = ReLU(W_H x + b_H)", "#8fb8e0")
    box(2.0, 1.0, 3.0, f"T(x) = σ(W_T x + b_T){b_text}", "#f6d776")
    d.node(6.0, 2.0, "×", radius=0.25)
    d.node(6.0, 0.0, "×", radius=0.25)
    d.node(7.2, 1.0, "+", radius=0.25)
    box(8.2, 1.0, 1.0, f"y\n{width}", "0.88")
    d.arrow([(1.0, 1.0), (1.5, 1.0), (1.5, 2.0), (2.0, 2.0)])
    d.arrow([(1.5, 1.0), (2.0, 1.0)])
    d.arrow([(0.5, 0.6), (0.5, 0.0), (5.75, 0.0)], "carry: x")
    d.arrow([(5.0, 2.0), (5.75, 2.0)], "H")
    d.arrow([(5.0, 1.0), (6.0, 1.0), (6.0, 1.75)])
    ax.text(6.08, 1.45, "T", ha="left", va="center", fontsize=10)
    d.arrow([(6.0, 1.0), (6.0, 0.25)])
    ax.text(6.08, 0.55, "1 − T", ha="left", va="center", fontsize=10)
    d.arrow([(6.25, 2.0), (7.2, 2.0), (7.2, 1.25)])
    d.arrow([(6.25, 0.0), (7.2, 0.0), (7.2, 0.75)])
    d.arrow([(7.45, 1.0), (8.2, 1.0)])
    d.finish((-0.1, 9.3), (-0.45, 2.55), title=title)
    return fig


def gate_maps(
    gates: Mapping[str, torch.Tensor],
    *,
    reference: float | None = None,
    title: str | None = None,
) -> Figure:
    """Transform-gate values as maps (layer by unit), and their mean per layer.

    One heat map per entry of ``gates`` (depth from left to right, one row
    per unit, colour 0 = carry to 1 = transform, the same scale for all), then
    a panel with one line per entry: the mean over the units of each
    layer. ``reference`` (e.g. ``sigmoid(gate_bias)``, where every gate
    starts) is drawn there as a dashed horizontal line. The maps share the
    top row, the means fill the bottom row on a y-range from 0 to a quarter
    above the largest mean or reference (at most 1); fonts are 9 pt or more.

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
    fig = plt.figure(figsize=(7.5, 6.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.1, 1.0))
    axes = list(top.subplots(1, count, squeeze=False)[0])
    image = None
    for ax, (label, values) in zip(axes, gates.items(), strict=True):
        layers, units = values.shape
        image = ax.imshow(
            values.detach().float().cpu().T.numpy(), aspect="auto", cmap="viridis",
            vmin=0.0, vmax=1.0, interpolation="nearest",
            extent=(0.5, layers + 0.5, units - 0.5, -0.5),
        )  # fmt: skip
        ax.set_title(label, fontsize=11)
        ax.set_xlabel("highway layer", fontsize=10)
        ax.set_ylabel("unit", fontsize=10)
        ax.tick_params(labelsize=9)
    colorbar = top.colorbar(image, ax=axes, shrink=0.9)
    colorbar.set_label("gate T(x)", fontsize=10)
    colorbar.ax.tick_params(labelsize=9)
    curves = bottom.subplots()
    highest = 0.0
    for label, values in gates.items():
        means = values.detach().float().cpu().mean(1)
        curves.plot(range(1, len(means) + 1), means.numpy(), marker=".", label=label)
        highest = max(highest, float(means.max()) if means.numel() else 0.0)
    if reference is not None:
        curves.axhline(
            reference, color="grey", linestyle="--", linewidth=1, label="at init: σ(b_T)"
        )
        highest = max(highest, reference)
    # A y-range that shows the data: the means rarely leave [0, 0.2].
    curves.set_ylim(0, min(1.0, max(0.05, 1.25 * highest)))
    curves.set_xlabel("highway layer", fontsize=10)
    curves.set_ylabel("mean gate", fontsize=10)
    curves.set_title("mean over the units of each layer", fontsize=11)
    curves.tick_params(labelsize=9)
    curves.legend(fontsize=9)
    if title:
        fig.suptitle(title)
    return fig
