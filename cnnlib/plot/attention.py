"""Figures of the attention chapter (SE and CBAM).

* :func:`se_residual_block` — the SE-ResNet module of Hu et al. (2018),
  Figure 3: squeeze and excitation on the residual branch, before the sum;
* :func:`class_excitations` — per-class mean excitations of some blocks, one
  line per class over the channel index (Hu et al., 2018, Figure 6);
* :func:`spatial_attention` — images beside the spatial attention maps that
  CBAM blocks computed for them, upsampled and laid over the image.

Two helpers compute what the figures show: :func:`excitations_by_class`
(per-class means of a block's excitations and the share of their variance
that the class explains) and :func:`grey_photos` (scikit-image's photos as a
greyscale ``uint8`` batch, the format of Fashion-MNIST).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnlib._checks import positive_int
from cnnlib.plot._diagram import Diagram

__all__ = [
    "ClassExcitations",
    "class_excitations",
    "excitations_by_class",
    "grey_photos",
    "se_residual_block",
    "spatial_attention",
]


@dataclass(frozen=True)
class ClassExcitations:
    """Per-class statistics of one block's excitations over a set of images.

    Attributes:
        means: ``(K, C)``, row ``k`` the mean excitation of each channel over
            the images of class ``k``.
        class_share: the share of the excitations' variance that the class
            explains (the correlation ratio η², pooled over channels):
            ``Σ_k n_k ‖m_k − m‖² / Σ_i ‖w_i − m‖²``, with ``w_i`` an image's
            excitations, ``m_k`` its class mean and ``m`` the overall mean.
            0 when every class has the same mean excitations, 1 when the
            excitations depend on the class alone.
    """

    means: torch.Tensor
    class_share: float


def excitations_by_class(
    weights: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> ClassExcitations:
    """Per-class mean excitations and the share of their variance the class explains.

    Args:
        weights: ``(N, C)`` or ``(N, C, 1, 1)`` excitations (an SE or CBAM
            block's ``channel_weights``) of ``N`` images.
        labels: ``(N,)`` class indices in ``[0, num_classes)``; every class
            must occur.
        num_classes: ``K``.

    Raises:
        TypeError: ``weights`` or ``labels`` is not a tensor.
        ValueError: shapes do not match, a label is out of range, a class has
            no image, or the excitations do not vary at all.
    """
    positive_int("excitations_by_class", "num_classes", num_classes)
    if not isinstance(weights, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise TypeError("excitations_by_class: weights and labels must be tensors")
    w = weights.detach().double().cpu().reshape(len(weights), -1)
    if weights.ndim not in (2, 4) or labels.shape != (len(w),):
        raise ValueError(
            "excitations_by_class: weights must be (N, C) or (N, C, 1, 1) and labels "
            f"(N,), got {tuple(weights.shape)} and {tuple(labels.shape)}"
        )
    labels = labels.cpu()
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"excitations_by_class: labels must lie in [0, {num_classes})")
    counts = torch.bincount(labels, minlength=num_classes)
    if (counts == 0).any():
        raise ValueError("excitations_by_class: labels: every class needs an image")
    means = torch.stack([w[labels == k].mean(0) for k in range(num_classes)])
    overall = w.mean(0)
    total = ((w - overall) ** 2).sum()
    if total == 0:
        raise ValueError("excitations_by_class: weights do not vary")
    between = (counts.double()[:, None] * (means - overall) ** 2).sum()
    return ClassExcitations(means=means.float(), class_share=float(between / total))


def grey_photos(names: Sequence[str], size: int) -> torch.Tensor:
    """Photos of :mod:`skimage.data`, greyscale, centre-cropped square, resized.

    Args:
        names: functions of :mod:`skimage.data` (``"astronaut"``, ``"coffee"``,
            ``"chelsea"``, ...).
        size: the side in pixels of the square result.

    Returns:
        A ``uint8`` tensor ``(len(names), 1, size, size)``, Fashion-MNIST's format.

    Raises:
        ValueError: a name is not a photo of :mod:`skimage.data`, or ``size``
            is not a positive int.
    """
    import skimage.data

    positive_int("grey_photos", "size", size)
    batch = []
    for name in names:
        load = getattr(skimage.data, name, None)
        if not callable(load):
            raise ValueError(f"grey_photos: names: skimage.data has no photo {name!r}")
        image = torch.as_tensor(load()).float()
        grey = image.mean(-1) if image.ndim == 3 else image
        h, w = grey.shape
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = grey[top : top + side, left : left + side][None, None]
        resized = F.interpolate(square, size=(size, size), mode="area")
        batch.append(resized.round().clamp(0, 255).to(torch.uint8)[0])
    return torch.stack(batch)


def se_residual_block(channels: int, reduction: int, *, title: str | None = None) -> Figure:
    """Draw a residual unit with a squeeze-and-excitation module on its branch.

    Main row, left to right: the input ``x`` (``C x H x W``), the residual
    branch's convolutions, the rescaling node "×", the sum "+" with the
    identity shortcut (drawn above) and the output. Lower row, the SE module:
    global average pooling to ``1 x 1 x C``, a fully connected layer to
    ``C/r``, ReLU, a fully connected layer back to ``C``, sigmoid, into "×".

    Args:
        channels: ``C``, the channels the SE module sees.
        reduction: ``r``; the hidden width printed is ``max(1, C // r)``.
        title: optional figure title.

    Raises:
        ValueError: ``channels`` or ``reduction`` is not a positive int.
    """
    positive_int("se_residual_block", "channels", channels)
    positive_int("se_residual_block", "reduction", reduction)
    hidden = max(1, channels // reduction)
    fig, ax = plt.subplots(figsize=(8, 3.0))
    d = Diagram(ax, fontsize=8.5)
    grey, blue, orange = "0.92", "#cfe2f3", "#fde2c4"
    d.box(0.6, 0, 1.1, 0.7, f"x\n{channels}×H×W", grey)
    d.box(2.3, 0, 1.4, 0.7, "residual\nconvolutions", blue)
    d.node(4.6, 0, "×")
    d.node(6.2, 0, "+")
    d.box(7.6, 0, 1.1, 0.7, f"y\n{channels}×H×W", grey)
    d.arrow([(1.15, 0), (1.6, 0)])
    d.arrow([(3.0, 0), (4.4, 0)])
    d.arrow([(4.8, 0), (6.0, 0)])
    d.arrow([(6.4, 0), (7.05, 0)], "ReLU")
    d.arrow([(0.6, 0.35), (0.6, 1.0), (6.2, 1.0), (6.2, 0.2)])
    ax.text(3.4, 1.08, "identity shortcut", ha="center", va="bottom", fontsize=8.5)
    steps = [
        ("global avg\npool", f"1×1×{channels}"),
        ("FC\n+ ReLU", f"1×1×{hidden}"),
        ("FC", f"1×1×{channels}"),
        ("sigmoid", f"1×1×{channels}"),
    ]
    xs = [1.9, 3.5, 5.1, 6.7]
    y = -1.5
    d.arrow([(3.6, 0), (3.6, -0.6), (xs[0], -0.6), (xs[0], y + 0.35)])
    for i, ((text, shape), x) in enumerate(zip(steps, xs, strict=True)):
        d.box(x, y, 1.2, 0.7, text, orange)
        ax.text(x, y - 0.45, shape, ha="center", va="top", fontsize=8)
        if i:
            d.arrow([(xs[i - 1] + 0.6, y), (x - 0.6, y)])
    d.arrow([(xs[-1], y + 0.35), (xs[-1], -0.5), (4.6, -0.5), (4.6, -0.2)])
    ax.text(0.2, y, f"SE\nr = {reduction}", ha="left", va="center", fontsize=9)
    d.finish((0, 8.2), (-2.3, 1.5), title=title)
    fig.tight_layout()
    return fig


def class_excitations(
    per_class: Mapping[str, torch.Tensor],
    classes: Sequence[str],
    *,
    title: str | None = None,
) -> Figure:
    """One heat map per block: each class's mean excitation per channel.

    Rows are the classes, columns the block's channels, sorted by how much
    their class means vary (most class-specific first), so a block whose
    gates depend on the class shows contrast on the left and a class-agnostic
    block shows vertical stripes of one colour. All panels share the colour
    scale 0 to 1 and are stacked one above the other.

    Args:
        per_class: block name → a ``(K, C)`` tensor, row ``k`` the mean of the
            block's ``channel_weights`` over the images of class ``k``.
        classes: the ``K`` class names (the rows' labels).
        title: optional figure title.

    Raises:
        ValueError: ``per_class`` is empty, a tensor is not ``(K, C)`` with
            ``K = len(classes)``.
    """
    if not per_class:
        raise ValueError("class_excitations: per_class must not be empty")
    for name, means in per_class.items():
        if not isinstance(means, torch.Tensor) or means.ndim != 2 or len(means) != len(classes):
            raise ValueError(
                f"class_excitations: per_class[{name!r}] must be a ({len(classes)}, C) "
                f"tensor, got {getattr(means, 'shape', type(means).__name__)}"
            )
    n = len(per_class)
    fig, axes = plt.subplots(n, 1, figsize=(7.5, 0.4 + 0.14 * len(classes) * n + 0.45 * n),
                             squeeze=False, constrained_layout=True)  # fmt: skip
    image = None
    for ax, (name, means) in zip(axes[:, 0], per_class.items(), strict=True):
        values = means.detach().float().cpu().numpy()
        order = np.argsort(-values.var(axis=0), kind="stable")
        image = ax.imshow(values[:, order], aspect="auto", vmin=0.0, vmax=1.0,
                          cmap="magma", interpolation="nearest")  # fmt: skip
        ax.set_yticks(range(len(classes)), list(classes), fontsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name, fontsize=9)
    axes[-1, 0].set_xlabel("channel, sorted by the variance of its class means")
    fig.colorbar(image, ax=axes[:, 0].tolist(), label="mean excitation", shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _grey(images: torch.Tensor) -> np.ndarray:
    """``(N, H, W)`` floats in [0, 1] from uint8 or float images with 1 or 3 channels."""
    images = images.detach().float().cpu()
    if images.max() > 1:
        images = images / 255
    return images.mean(1).numpy()


def spatial_attention(
    images: torch.Tensor,
    maps: Mapping[str, torch.Tensor],
    *,
    titles: Sequence[str] | None = None,
    size: float = 1.3,
) -> Figure:
    """Images in the first row; below, one row per entry of ``maps``.

    Each map ``(N, 1, h, w)`` (values in [0, 1], as CBAM's
    ``spatial_weights``) is upsampled bilinearly to the image's size and laid
    over the image in grey, coloured with the same scale 0…1 in every panel,
    so a uniform map shows as a uniform tint.

    Args:
        images: ``(N, 1 or 3, H, W)``, uint8 or floats in [0, 1].
        maps: row label → ``(N, 1, h, w)`` attention maps for those images.
        titles: ``N`` column titles (e.g. class names), or None.
        size: inches per panel.

    Raises:
        ValueError: shapes do not match, ``titles`` has the wrong length or
            ``size`` is not positive.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError("spatial_attention: images must be (N, 1 or 3, H, W)")
    n, (h, w) = len(images), images.shape[-2:]
    for name, m in maps.items():
        if not isinstance(m, torch.Tensor) or m.ndim != 4 or m.shape[:2] != (n, 1):
            raise ValueError(f"spatial_attention: maps[{name!r}] must be ({n}, 1, h, w)")
    if titles is not None and len(titles) != n:
        raise ValueError(f"spatial_attention: titles must have {n} entries, got {len(titles)}")
    if not size > 0:
        raise ValueError(f"spatial_attention: size must be positive, got {size}")
    grey = _grey(images)
    rows = 1 + len(maps)
    fig, axes = plt.subplots(rows, n, figsize=(size * n + 0.8, size * rows), squeeze=False)
    for j in range(n):
        axes[0][j].imshow(grey[j], cmap="gray", vmin=0, vmax=1)
        if titles is not None:
            axes[0][j].set_title(titles[j], fontsize=8)
    image = None
    for i, (name, m) in enumerate(maps.items(), start=1):
        up = F.interpolate(m.detach().float().cpu(), size=(h, w), mode="bilinear").numpy()
        for j in range(n):
            axes[i][j].imshow(grey[j], cmap="gray", vmin=0, vmax=1)
            image = axes[i][j].imshow(up[j, 0], cmap="magma", vmin=0, vmax=1, alpha=0.6)
        axes[i][0].set_ylabel(name, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].set_ylabel("image", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes[1:, :].ravel().tolist(), fraction=0.03, pad=0.02)
    return fig
