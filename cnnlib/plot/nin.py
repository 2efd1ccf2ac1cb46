"""Network in Network's figures: an mlpconv block beside a convolution, and the class maps.

* :func:`mlpconv_block` — what one output position of a convolution and of an
  mlpconv block computes from its input patch (after the paper's Figure 1);
* :func:`class_maps` — the class maps that global average pooling turns into
  scores.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle
from torch import nn

__all__ = ["mlpconv_block", "class_maps"]

#: Cells per side of the input and output maps in :func:`mlpconv_block`.
INPUT_CELLS, OUTPUT_CELLS = 7, 5

#: Colour of the frame around a row's highest-scoring map: right or wrong prediction.
RIGHT, WRONG, UNKNOWN = "tab:green", "tab:red", "black"


def _convolutions(block: object) -> list[nn.Conv2d]:
    if not isinstance(block, nn.Sequential):
        raise TypeError(
            f"mlpconv_block: block must be an nn.Sequential, got {type(block).__name__}"
        )
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("mlpconv_block: block must hold at least one nn.Conv2d")
    if any(c.kernel_size != (1, 1) for c in convs[1:]):
        raise ValueError("mlpconv_block: every convolution of block after the first must be 1x1")
    return convs


def _grid(ax: Axes, x: float, cells: int, cell: float, marked: int, colour: str) -> None:
    """A square map of ``cells`` x ``cells`` with a centred ``marked`` x ``marked`` window."""
    y = -cells * cell / 2
    for i in range(cells):
        for j in range(cells):
            ax.add_patch(
                Rectangle((x + i * cell, y + j * cell), cell, cell, fc="white", ec="0.6", lw=0.6)
            )
    start = (cells - marked) // 2
    window = Rectangle(
        (x + start * cell, y + start * cell), marked * cell, marked * cell,
        fc=colour, ec="black", alpha=0.6, lw=1.2,
    )  # fmt: skip
    ax.add_patch(window)


def _panel(ax: Axes, kernel: int, columns: list[tuple[str, int]], shown: int, title: str) -> None:
    """Input map and patch, one column of units per layer, and the output position."""
    cell_in, cell_out = 0.45, 0.4
    _grid(ax, 0.0, INPUT_CELLS, cell_in, min(kernel, INPUT_CELLS), "tab:orange")
    patch_edge = INPUT_CELLS * cell_in / 2 + min(kernel, INPUT_CELLS) * cell_in / 2
    out_x = 10.0
    _grid(ax, out_x, OUTPUT_CELLS, cell_out, 1, "tab:blue")
    out_edge = out_x + (OUTPUT_CELLS // 2) * cell_out
    xs = [4.5 + 3.5 * i / max(1, len(columns) - 1) for i in range(len(columns))]
    if len(columns) == 1:
        xs = [6.25]
    previous: list[tuple[float, float]] = [(patch_edge, 0.0)]
    for x, (name, width) in zip(xs, columns, strict=True):
        count = min(width, shown)
        ys = [(count - 1) / 2 * 0.7 - 0.7 * i for i in range(count)]
        for px, py in previous:
            for y in ys:
                ax.plot([px, x], [py, y], color="0.55", lw=0.5, zorder=1)
        for y in ys:
            ax.add_patch(Circle((x, y), 0.2, fc="tab:green", ec="black", lw=0.8, zorder=2))
        if width > count:
            ax.text(x, ys[-1] - 0.45, "⋮", ha="center", va="center", fontsize=11)
        ax.text(x, -2.2, f"{name}\n{width}", ha="center", va="top", fontsize=10)
        previous = [(x, y) for y in ys]
    for px, py in previous:
        ax.plot([px, out_edge], [py, 0.0], color="0.55", lw=0.5, zorder=1)
    ax.text(
        INPUT_CELLS * cell_in / 2,
        -2.2,
        f"input\n{kernel}x{kernel} patch",
        ha="center",
        va="top",
        fontsize=10,
    )
    ax.text(out_x + 1.0, -2.2, "output\none position", ha="center", va="top", fontsize=10)
    ax.set_title(title, fontsize=11)
    ax.set_xlim(-0.3, 12.3)
    ax.set_ylim(-3.3, 2.0)
    ax.set_aspect("equal")
    ax.axis("off")


def mlpconv_block(block: nn.Sequential, *, shown: int = 4) -> Figure:
    """One output position of a convolution (top) and of an mlpconv block (bottom).

    After the paper's Figure 1. Top: the block's first convolution alone, one
    linear layer (with a ReLU) from the ``k x k`` input patch to the channels
    of one output position. Bottom: the whole block, the patch passing through
    every convolution of ``block`` in turn, the later ones 1x1, so that the
    channels of one position go through a multilayer perceptron. Each column
    of circles is a layer's units at that one position, at most ``shown`` of
    them drawn (a ``⋮`` marks the rest); under it, the layer's name and width.
    Lines join every drawn unit to every drawn unit of the next layer.

    Args:
        block: an mlpconv block such as ``NiN.block(i)``: convolutions (every
            one after the first 1x1) and activations.
        shown: units drawn per layer at most.

    Returns:
        The figure: two axes, the convolution's and the block's.

    Raises:
        TypeError: ``block`` is not an ``nn.Sequential``.
        ValueError: ``block`` holds no convolution, a later convolution is
            not 1x1, or ``shown`` is not a positive int.
    """
    convs = _convolutions(block)
    if isinstance(shown, bool) or not isinstance(shown, int) or shown < 1:
        raise ValueError(f"mlpconv_block: shown must be a positive int, got {shown!r}")
    kernel = convs[0].kernel_size[0]
    names = [name for name, m in block.named_children() if isinstance(m, nn.Conv2d)]
    columns = [(name, conv.out_channels) for name, conv in zip(names, convs, strict=True)]
    fig, axes = plt.subplots(2, 1, figsize=(7.0, 4.6))
    _panel(axes[0], kernel, columns[:1], shown, "convolution: one linear layer per patch")
    _panel(axes[1], kernel, columns, shown, "mlpconv: a small perceptron per patch")
    fig.tight_layout(pad=0.3, h_pad=0.8)
    return fig


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
