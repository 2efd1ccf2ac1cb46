"""Figures of the MobileNetV2 chapter: the two bottleneck blocks and ReLU on a spiral."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlib.analysis import manifold
from cnnlib.models.mobilenet import InvertedResidual
from cnnlib.models.resnet import Bottleneck
from cnnlib.plot._diagram import Diagram

__all__ = ["block_steps", "block_comparison", "relu_round_trips"]

#: A block as a chain of tensors: (operation that made it, channels, activation).
Step = tuple[str, int, str]
_RELU, _LINEAR = "#f4a582", "#92c5de"  # tensors after a non-linearity / linear ones
_MAX_WIDTH, _GAP = 3.0, 1.3


def block_steps(block: nn.Module) -> tuple[list[Step], bool, str]:
    """The tensors of ``block`` in order, whether it adds its input, and what follows the sum.

    The first step is the input (``("input", in_channels, "")``); each
    following one names the convolution that makes the tensor, its channels
    and the activation applied to it (``""`` for none).

    Raises:
        TypeError: ``block`` is neither an :class:`InvertedResidual` nor a
            ResNet :class:`~cnnlib.models.resnet.Bottleneck`.
    """
    if isinstance(block, InvertedResidual):
        last = "" if block.linear_bottleneck else "ReLU6"
        hidden = block.hidden_channels
        steps: list[Step] = [("input", block.in_channels, "")]
        if block.expansion != 1:
            steps.append(("1x1 conv", hidden, "ReLU6"))
        steps += [("3x3 depthwise", hidden, "ReLU6"), ("1x1 conv", block.out_channels, last)]
        return steps, block.use_residual, ""
    if isinstance(block, Bottleneck):
        steps = [
            ("input", block.conv1.in_channels, ""),
            ("1x1 conv", block.conv1.out_channels, "ReLU"),
            ("3x3 conv", block.conv2.out_channels, "ReLU"),
            ("1x1 conv", block.conv3.out_channels, ""),
        ]
        return steps, True, "ReLU"
    raise TypeError(
        "block_steps: block must be an InvertedResidual or a ResNet Bottleneck, "
        f"got {type(block).__name__}"
    )


def block_comparison(blocks: Mapping[str, nn.Module]) -> Figure:
    """One panel per block: its tensors as bars whose widths are proportional to their channels.

    Bars after an activation are orange, linear ones blue (the input counts as
    the output of the previous block of its kind); an arrow between two
    bars names the convolution (and its activation), and a "+" node with a
    shortcut marks a residual block.

    Args:
        blocks: title → block (see :func:`block_steps` for the kinds drawn).

    Raises:
        ValueError: ``blocks`` is empty.
        TypeError: as :func:`block_steps`.
    """
    if not blocks:
        raise ValueError("block_comparison: blocks must not be empty")
    described = {title: block_steps(b) for title, b in blocks.items()}
    fig, axes = plt.subplots(1, len(blocks), figsize=(3.6 * len(blocks), 4.6))
    axes = [axes] if len(blocks) == 1 else list(axes)
    depth = max(len(s) for s, _, _ in described.values())
    for ax, (title, (steps, residual, after)) in zip(axes, described.items(), strict=True):
        d = Diagram(ax, fontsize=8.5)
        widest = max(c for _, c, _ in steps)
        ys = [-_GAP * i for i in range(len(steps))]
        widths = [max(0.3, _MAX_WIDTH * c / widest) for _, c, _ in steps]
        for i, ((op, channels, act), y) in enumerate(zip(steps, ys, strict=True)):
            width = widths[i]
            colour = _RELU if (act if i else after) else _LINEAR
            d.box(0, y, width, 0.42, f"{channels}", colour)
            if i:
                label = f"{op}" + (f", {act}" if act else ", linear")
                d.arrow([(0, ys[i - 1] - 0.21), (0, y + 0.21)])
                ax.text(0.12, y + _GAP / 2, label, fontsize=8, va="center")
        bottom = ys[-1] - 0.21
        if residual:
            node_y = bottom - 0.65
            d.arrow([(0, bottom), (0, node_y + 0.2)])
            side = -_MAX_WIDTH / 2 - 0.3
            d.arrow([(-widths[0] / 2, ys[0]), (side, ys[0]), (side, node_y),
                     (-0.2, node_y)])  # fmt: skip
            d.node(0, node_y, "+")
            d.arrow([(0, node_y - 0.2), (0, node_y - 0.75)])
            if after:
                ax.text(0.12, node_y - 0.47, after, fontsize=8, va="center")
        d.finish((-2.2, 2.4), (-_GAP * depth - 1.0, 0.5), title=title)
    fig.tight_layout()
    return fig


def relu_round_trips(
    points: torch.Tensor,
    dims: Sequence[int],
    seed: int = 0,
    average: Sequence[int] | None = None,
) -> Figure:
    """The input spiral and ``T⁺ · ReLU(T · x)`` for each embedding dimension in ``dims``.

    Points are coloured by their position along the spiral, so a reader sees
    which parts collapse. Titles give ``n`` and the share of the spiral that
    no affine map recovers (:func:`~cnnlib.analysis.manifold.reconstruction_error`),
    for the drawn seed or, when ``average`` is given, the mean over those
    seeds (then the title says "mean").

    Args:
        points: ``(N, 2)`` points, e.g. :func:`~cnnlib.analysis.manifold.spiral`.
        dims: embedding dimensions, each ≥ 2.
        seed: seeds the drawn embedding matrices.
        average: seeds whose mean error the titles give; default: ``[seed]``.

    Raises:
        ValueError: ``dims`` is empty, or as
            :func:`~cnnlib.analysis.manifold.relu_round_trip`.
    """
    if not dims:
        raise ValueError("relu_round_trips: dims must not be empty")
    fig, axes = plt.subplots(1, len(dims) + 1, figsize=(1.6 * (len(dims) + 1), 2.0))
    order = torch.arange(len(points))
    panels = [("input", points)]
    for n in dims:
        seeds = [seed] if average is None else list(average)
        error = manifold.reconstruction_error(points, n, seeds)
        back = manifold.relu_round_trip(points, n, seed)
        label = "lost" if average is None else "mean lost"
        panels.append((f"n = {n}\n{label} {error:.0%}", back))
    for ax, (title, xy) in zip(axes, panels, strict=True):
        ax.scatter(xy[:, 0], xy[:, 1], c=order, cmap="viridis", s=2)
        ax.set_title(title, fontsize=8)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
