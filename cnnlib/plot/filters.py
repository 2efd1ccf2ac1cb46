"""Learned filters and feature maps as grids of small images."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

__all__ = ["show_filters", "show_feature_maps"]


def _grid(count: int, columns: int) -> tuple[int, int]:
    columns = max(1, min(columns, count))
    return math.ceil(count / columns), columns


def show_filters(
    weight: torch.Tensor,
    *,
    columns: int = 8,
    title: str | None = None,
    size: float = 0.9,
) -> Figure:
    """The kernels of a convolution as images, one per output channel.

    Each kernel is scaled to [0, 1] on its own (its contrast, not its
    magnitude, is what one sees): three input channels are shown in colour,
    one in grey, more as the mean over the input channels.

    Args:
        weight: a convolution's weight, ``(C_out, C_in, k_h, k_w)``.
        columns: kernels per row.
        title: optional figure title.
        size: inches per kernel.

    Raises:
        ValueError: ``weight`` is not 4-D or ``columns`` is not a positive int.
    """
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        shape = getattr(weight, "shape", type(weight).__name__)
        raise ValueError(f"show_filters: weight must be (C_out, C_in, k_h, k_w), got {shape}")
    if not isinstance(columns, int) or isinstance(columns, bool) or columns < 1:
        raise ValueError(f"show_filters: columns must be a positive int, got {columns!r}")
    kernels = weight.detach().float().cpu()
    if kernels.shape[1] not in (1, 3):
        kernels = kernels.mean(dim=1, keepdim=True)
    low = kernels.amin(dim=(1, 2, 3), keepdim=True)
    high = kernels.amax(dim=(1, 2, 3), keepdim=True)
    kernels = (kernels - low) / (high - low).clamp_min(1e-12)
    rows, cols = _grid(len(kernels), columns)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, kernel in zip(axes.flat, kernels, strict=False):  # the grid may have spare cells
        picture = kernel.permute(1, 2, 0).squeeze(-1).numpy()
        ax.imshow(picture, cmap="gray" if kernel.shape[0] == 1 else None, interpolation="nearest")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_feature_maps(
    maps: torch.Tensor,
    *,
    columns: int = 8,
    title: str | None = None,
    size: float = 1.1,
    cmap: str = "viridis",
) -> Figure:
    """The channels of one feature map ``(C, H, W)`` as images, each on its own scale.

    Args:
        maps: the activations of one image at one layer, ``(C, H, W)``.
        columns: channels per row.
        title: optional figure title.
        size: inches per channel.
        cmap: matplotlib colour map.

    Raises:
        ValueError: ``maps`` is not 3-D or ``columns`` is not a positive int.
    """
    if not isinstance(maps, torch.Tensor) or maps.ndim != 3:
        shape = getattr(maps, "shape", type(maps).__name__)
        raise ValueError(f"show_feature_maps: maps must be (C, H, W), got {shape}")
    if not isinstance(columns, int) or isinstance(columns, bool) or columns < 1:
        raise ValueError(f"show_feature_maps: columns must be a positive int, got {columns!r}")
    channels = maps.detach().float().cpu()
    rows, cols = _grid(len(channels), columns)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, channel in zip(axes.flat, channels, strict=False):  # the grid may have spare cells
        ax.imshow(channel.numpy(), cmap=cmap, interpolation="nearest")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
