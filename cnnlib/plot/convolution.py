"""Convolution arithmetic as pictures: the stamps of a transposed convolution."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlib._checks import non_negative_int, positive_int
from cnnlib.analysis import conv_transpose_output_size

__all__ = ["stamp_counts", "transposed_stamps"]


def stamp_counts(size: int, kernel_size: int, stride: int, dilation: int = 1) -> torch.Tensor:
    """How many stamps of a transposed convolution land on each pixel of its uncropped output.

    Input pixel ``(a, b)`` of a ``size × size`` input spreads a ``kernel_size ×
    kernel_size`` stamp whose taps sit at ``(a·s + t·d, b·s + u·d)``; the
    uncropped output has ``(size − 1)·s + d·(kernel_size − 1) + 1`` pixels per
    side. The count at a pixel is the number of (input pixel, tap) pairs that
    write to it.

    Raises:
        ValueError: an argument is not a positive int.
    """
    for name, value in [("size", size), ("kernel_size", kernel_size), ("stride", stride),
                        ("dilation", dilation)]:  # fmt: skip
        positive_int("stamp_counts", name, value)
    side = (size - 1) * stride + dilation * (kernel_size - 1) + 1
    axis = torch.zeros(side, dtype=torch.int64)
    for a in range(size):
        for t in range(kernel_size):
            axis[a * stride + t * dilation] += 1
    return axis[:, None] * axis[None, :]


def transposed_stamps(
    size: int,
    kernel_size: int,
    stride: int,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
    *,
    title: str | None = None,
) -> Figure:
    """A transposed convolution as stamps: each input pixel writes a kernel onto the output.

    Left, the ``size × size`` input, one colour per pixel. Right, the uncropped
    output grid: each cell shows how many stamps land on it
    (:func:`stamp_counts`), each stamp's extent is outlined in its input
    pixel's colour, and a dashed square marks the output that remains after
    ``padding`` is cropped from every side and ``output_padding`` added at the
    bottom and right, of side
    ``(size − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1``.

    Raises:
        ValueError: an argument is out of range, or the arguments give no
            output (as :func:`~cnnlib.analysis.conv_transpose_output_size`).
    """
    for name, value in [("padding", padding), ("output_padding", output_padding)]:
        non_negative_int("transposed_stamps", name, value)
    counts = stamp_counts(size, kernel_size, stride, dilation)
    out = conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    side = max(len(counts), padding + out)  # output_padding may reach past the stamps
    grid = torch.zeros(side, side, dtype=torch.int64)
    grid[: len(counts), : len(counts)] = counts
    colours = plt.get_cmap("tab10").colors
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(2.4 + 0.5 * side, 0.5 * side + 0.9),
        gridspec_kw={"width_ratios": [size, side]},
    )  # fmt: skip
    for a in range(size):
        for b in range(size):
            colour = colours[(a * size + b) % len(colours)]
            left.add_patch(Rectangle((b - 0.5, a - 0.5), 1, 1, facecolor=colour, alpha=0.8))
    left.set(xlim=(-0.5, size - 0.5), ylim=(size - 0.5, -0.5))
    left.set_title(f"input {size}×{size}", fontsize=10)
    greys = ListedColormap(plt.get_cmap("Greys")(torch.linspace(0.0, 0.55, 256).numpy()))
    right.imshow(grid.numpy(), cmap=greys, vmin=0, vmax=max(1, int(grid.max())))
    for y in range(side):
        for x in range(side):
            right.text(x, y, str(int(grid[y, x])), ha="center", va="center", fontsize=8)
    extent = dilation * (kernel_size - 1) + 1
    inset = 0.12
    for a in range(size):
        for b in range(size):
            colour = colours[(a * size + b) % len(colours)]
            offset = inset * ((a + b) % 3) / 2  # overlapping outlines stay apart
            right.add_patch(Rectangle(
                (b * stride - 0.5 + offset, a * stride - 0.5 + offset),
                extent - 2 * offset, extent - 2 * offset,
                fill=False, edgecolor=colour, linewidth=2.0,
            ))  # fmt: skip
    right.add_patch(Rectangle((padding - 0.5, padding - 0.5), out, out, fill=False,
                              edgecolor="black", linestyle="--", linewidth=1.5))  # fmt: skip
    uncropped = len(counts)
    right.set_title(f"stamps per pixel of the uncropped {uncropped}×{uncropped};\n"
                    f"dashed: the {out}×{out} output", fontsize=10)  # fmt: skip
    for ax in (left, right):
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
