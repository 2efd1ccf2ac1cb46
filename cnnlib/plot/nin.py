"""Network in Network's figure: the class maps that global average pooling turns into scores."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

__all__ = ["class_maps"]

#: Colour of the frame around a row's highest-scoring map: right or wrong prediction.
RIGHT, WRONG, UNKNOWN = "tab:green", "tab:red", "black"


def _check(images: object, maps: object, classes: object, labels: object) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        shape = getattr(images, "shape", type(images).__name__)
        raise ValueError(f"class_maps: images must be (N, 1 or 3, H, W), got {shape}")
    if not isinstance(maps, torch.Tensor) or maps.ndim != 4:
        shape = getattr(maps, "shape", type(maps).__name__)
        raise ValueError(f"class_maps: maps must be (N, classes, h, w), got {shape}")
    if maps.shape[0] != images.shape[0] or maps.shape[0] == 0:
        raise ValueError(
            f"class_maps: maps must have one entry per image ({images.shape[0]}), "
            f"got {maps.shape[0]}"
        )
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise TypeError(f"class_maps: classes must be a sequence of names, got {classes!r}")
    if len(classes) != maps.shape[1]:
        raise ValueError(
            f"class_maps: classes must name each of the {maps.shape[1]} maps, "
            f"got {len(classes)} names"
        )
    if labels is not None and (
        not isinstance(labels, torch.Tensor)
        or labels.shape != (images.shape[0],)
        or labels.is_floating_point()
        or not bool(((labels >= 0) & (labels < len(classes))).all())
    ):
        raise ValueError(
            f"class_maps: labels must be {images.shape[0]} class indices in "
            f"0..{len(classes) - 1}, got {labels!r}"
        )


def class_maps(
    images: torch.Tensor,
    maps: torch.Tensor,
    classes: Sequence[str],
    *,
    labels: torch.Tensor | None = None,
    title: str | None = None,
    size: float = 0.68,
) -> Figure:
    """Each image beside its class maps, one row per image, with each map's mean under it.

    Under global average pooling a class's score is the mean of its map, so
    the number under each map is that score. The maps of one row share one
    colour scale (from the row's lowest to its highest value), so the
    brightest map is the one with most evidence; the highest-scoring map is
    framed, in green when it is the true class (``labels``), red when not,
    black without labels. The top row names the classes (9 points, a word per line);
    the image column is labelled with the true class when ``labels`` is given.

    Args:
        images: ``(N, C, H, W)`` with C 1 (grey) or 3; uint8 or float, each
            image is scaled to its own range for display.
        maps: ``(N, K, h, w)``, the ``K`` class maps of each image
            (``NiN.class_maps``).
        classes: ``K`` class names.
        labels: optional ``(N,)`` true classes.
        title: optional figure title.
        size: inches per map; 11 columns of the default fit 7.5 inches.

    Raises:
        ValueError: a tensor has the wrong shape, ``classes`` does not name
            every map, or ``labels`` are not valid class indices.
        TypeError: ``classes`` is not a sequence of names.
    """
    _check(images, maps, classes, labels)
    values = maps.detach().float().cpu()
    scores = values.mean(dim=(2, 3))
    n, k = values.shape[:2]
    fig, axes = plt.subplots(
        n, k + 1, figsize=(size * (k + 1), (size + 0.2) * n + 1.0), squeeze=False
    )  # fmt: skip
    for ax in axes.flat:
        for spine in ax.spines.values():
            spine.set_visible(False)
    for i in range(n):
        picture = images[i].detach().float().cpu()
        picture = (picture - picture.min()) / (picture.max() - picture.min()).clamp_min(1e-12)
        ax = axes[i, 0]
        ax.imshow(picture.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray")
        if labels is not None:
            ax.set_ylabel(classes[int(labels[i])], fontsize=9)
        low, high = values[i].min().item(), values[i].max().item()
        best = int(scores[i].argmax())
        for j in range(k):
            ax = axes[i, j + 1]
            ax.imshow(values[i, j].numpy(), cmap="viridis", vmin=low, vmax=high)
            ax.set_xlabel(f"{scores[i, j].item():.2f}", fontsize=9, labelpad=1)
        frame = UNKNOWN if labels is None else RIGHT if best == int(labels[i]) else WRONG
        for spine in axes[i, best + 1].spines.values():
            spine.set(color=frame, linewidth=2.5, visible=True)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    heads = ["image", *classes]
    for ax, head in zip(axes[0], heads, strict=True):  # one word per line
        ax.set_title(head.replace("/", "/ ").replace(" ", "\n"), fontsize=9)
    top = 1.0
    if title:
        fig.suptitle(title, fontsize=11)
        top -= 0.3 / fig.get_size_inches()[1]  # room for the title above the names
    fig.tight_layout(pad=0.3, w_pad=0.2, h_pad=1.0, rect=(0.0, 0.0, 1.0, top))
    return fig
