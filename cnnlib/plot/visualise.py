"""Figures of the ZFNet chapter: what units respond to, where gradients point, which ReLUs fire."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from cnnlib.activations import ReluActivity, TopPatches

__all__ = ["show_patches", "show_gradient_maps", "active_units"]


def show_patches(top: TopPatches, *, title: str | None = None, size: float = 0.75) -> Figure:
    """One row per channel: the receptive-field patches of its strongest units, best first.

    All patches share one grey scale (the range of all of them together), so
    brightness compares across rows; a single-channel patch is grey, three
    channels are averaged.

    Args:
        top: the result of :func:`cnnlib.activations.top_patches`.
        title: optional figure title.
        size: inches per patch.

    Raises:
        TypeError: ``top`` is not a :class:`~cnnlib.activations.TopPatches`.
    """
    if not isinstance(top, TopPatches):
        raise TypeError(f"show_patches: top must be a TopPatches, got {type(top).__name__}")
    patches = top.patches.detach().float().mean(dim=2).cpu()  # (channels, k, r, r)
    rows, columns = patches.shape[:2]
    low, high = float(patches.min()), float(patches.max())
    fig, axes = plt.subplots(
        rows, columns, figsize=(size * columns + 0.8, size * rows), squeeze=False
    )
    for i, row in enumerate(axes):
        for j, ax in enumerate(row):
            ax.imshow(patches[i, j].numpy(), cmap="gray", vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"{top.channels[i]}", rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_gradient_maps(
    images: torch.Tensor,
    maps: torch.Tensor,
    *,
    titles: Sequence[str] | None = None,
    size: float = 1.5,
    clip: float = 0.99,
) -> Figure:
    """Each image above its gradient map (bright: pixels the class score is most sensitive to).

    Args:
        images: ``(N, C, H, W)``, C 1 (grey) or 3 (colour), any range (each
            image is scaled to [0, 1] on its own).
        maps: ``(N, H, W)`` from :func:`cnnlib.activations.gradient_maps`,
            each shown on its own scale, from 0 to its ``clip`` quantile (so
            that a few extreme pixels do not leave the rest black).
        titles: one title per image.
        size: inches per image.
        clip: the quantile of each map shown as the brightest colour, in (0, 1].

    Raises:
        ValueError: the shapes do not match, there are not ``N`` titles, or
            ``clip`` is not in (0, 1].
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        shape = getattr(images, "shape", type(images).__name__)
        raise ValueError(f"show_gradient_maps: images must be (N, 1 or 3, H, W), got {shape}")
    if not isinstance(maps, torch.Tensor) or maps.shape != (len(images), *images.shape[2:]):
        shape = getattr(maps, "shape", type(maps).__name__)
        raise ValueError(
            f"show_gradient_maps: maps must be {(len(images), *images.shape[2:])}, got {shape}"
        )
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"show_gradient_maps: need {len(images)} titles, got {len(titles)}")
    if not isinstance(clip, (int, float)) or isinstance(clip, bool) or not 0 < clip <= 1:
        raise ValueError(f"show_gradient_maps: clip must be a number in (0, 1], got {clip!r}")
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(size * n, 2 * size + 0.3), squeeze=False)
    for i in range(n):
        image = images[i].detach().float().cpu()
        image = (image - image.min()) / (image.max() - image.min()).clamp_min(1e-12)
        picture = image.permute(1, 2, 0).squeeze(-1).numpy()
        axes[0, i].imshow(picture, cmap="gray" if image.shape[0] == 1 else None)
        heat = maps[i].detach().float().cpu()
        top = max(float(torch.quantile(heat.flatten(), clip)), 1e-12)
        axes[1, i].imshow(heat.numpy(), cmap="hot", vmin=0.0, vmax=top)
        if titles is not None:
            axes[0, i].set_title(titles[i], fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig


def active_units(
    runs: Mapping[str, Sequence[ReluActivity]],
    *,
    names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The fraction of active ReLU outputs per layer, one bar per network.

    Args:
        runs: for each label, the result of :func:`cnnlib.activations.relu_activity`;
            every network must have its ReLUs in the same places.
        names: a caption per ReLU (default: the module names).
        title: optional figure title.

    Raises:
        TypeError: ``runs`` is not a mapping of labels to ReluActivity lists.
        ValueError: ``runs`` is empty, its networks name different ReLUs, or
            ``names`` does not give one caption per ReLU.
    """
    if not isinstance(runs, Mapping) or not all(
        isinstance(rows, Sequence) and all(isinstance(r, ReluActivity) for r in rows)
        for rows in runs.values()
    ):
        raise TypeError("active_units: runs must map labels to lists of ReluActivity")
    if not runs:
        raise ValueError("active_units: runs is empty")
    relus = [[r.name for r in rows] for rows in runs.values()]
    if any(n != relus[0] for n in relus):
        raise ValueError(f"active_units: the networks' ReLUs differ: {relus}")
    layers = relus[0]
    if names is not None and len(names) != len(layers):
        raise ValueError(f"active_units: names must give {len(layers)} captions, got {len(names)}")
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(layers) + 1.5), 3.0))
    for i, (label, rows) in enumerate(runs.items()):
        positions = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(layers))]
        ax.bar(positions, [r.active for r in rows], width, label=label)
    ax.set_xticks(range(len(layers)))
    if names is not None:
        ax.set_xticklabels(list(names), fontsize=8)
    else:
        ax.set_xticklabels(layers, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("active ReLU outputs")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
