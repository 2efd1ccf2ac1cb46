"""Learning curves and example images."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from cnnlib.train import History

__all__ = ["plot_history", "show_images"]


def plot_history(histories: History | Mapping[str, History], *, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, train (dashed) and test (solid), side by side.

    The figure is 7.5 inches wide with text of 9 points and more, so a book's
    column shows it unscaled; the legend sits under the accuracy panel.

    Args:
        histories: one :class:`~cnnlib.train.History`, or several keyed by the
            label to show in the legend (e.g. ``{"LeNet-5": h1, "modern": h2}``).
        title: optional figure title.

    Raises:
        TypeError: ``histories`` is neither a History nor a mapping of them.
        ValueError: a history is empty.
    """
    runs = {"": histories} if isinstance(histories, History) else histories
    if not isinstance(runs, Mapping) or not all(isinstance(h, History) for h in runs.values()):
        raise TypeError(
            "plot_history: histories must be a History or a mapping of label -> History, "
            f"got {type(histories).__name__}"
        )
    for label, history in runs.items():
        if len(history) == 0:
            raise ValueError(f"plot_history: history {label!r} has no epochs")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(7.5, 3.4), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, history) in enumerate(runs.items()):
        colour = colours[i % len(colours)]
        epochs = range(1, len(history) + 1)
        prefix = f"{label} " if label else ""
        ax_loss.plot(epochs, history.train_loss, "--o", color=colour, label=f"{prefix}train")
        ax_loss.plot(epochs, history.test_loss, "-o", color=colour, label=f"{prefix}test")
        ax_acc.plot(epochs, history.train_accuracy, "--o", color=colour, label=f"{prefix}train")
        ax_acc.plot(epochs, history.test_accuracy, "-o", color=colour, label=f"{prefix}test")
    for ax, quantity in ((ax_loss, "cross-entropy loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("epoch", fontsize=10)
        ax.set_ylabel(quantity, fontsize=10)
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax_acc.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    # Under the accuracy panel, one column per run: its train and test lines.
    columns = len(runs) if len(runs) <= 3 else -(-len(runs) // 2)
    ax_acc.legend(
        fontsize=9, ncols=columns, loc="upper center", bbox_to_anchor=(0.5, -0.2),
        frameon=False, handlelength=2.5, columnspacing=1.0,
    )  # fmt: skip
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def show_images(
    images: torch.Tensor,
    labels: torch.Tensor,
    classes: tuple[str, ...] | list[str],
    *,
    columns: int = 8,
    size: float = 0.9,
) -> Figure:
    """A grid of images titled with their class names (9-point titles).

    Args:
        images: ``(N, C, H, W)`` tensor, uint8 in [0, 255] or float in [0, 1];
            C is 1 (shown in grey) or 3.
        labels: ``(N,)`` integer class indices into ``classes``.
        classes: the class names.
        columns: images per row.
        size: inches per image (eight of 0.9 inches fill a book's column).

    Raises:
        ValueError: shapes do not match, a label has no class name, or
            ``columns`` or ``size`` is not positive.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            "show_images: images must be a tensor of shape (N, 1 or 3, H, W), got "
            f"{getattr(images, 'shape', type(images).__name__)}"
        )
    if not isinstance(labels, torch.Tensor) or labels.shape != images.shape[:1]:
        raise ValueError(
            f"show_images: labels must be a tensor of shape ({images.shape[0]},), got "
            f"{getattr(labels, 'shape', type(labels).__name__)}"
        )
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= len(classes)):
        raise ValueError(f"show_images: labels must index classes (0..{len(classes) - 1})")
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"show_images: columns must be a positive int, got {columns!r}")
    if not isinstance(size, (int, float)) or isinstance(size, bool) or not size > 0:
        raise ValueError(f"show_images: size must be a positive number, got {size!r}")
    n = len(images)
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(size * columns, (size + 0.25) * rows), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    # The grid can have more axes than images: the last ones stay empty.
    for ax, image, label in zip(axes.flat, images, labels, strict=False):
        picture = image.permute(1, 2, 0).squeeze(-1).cpu().numpy()
        ax.imshow(picture, cmap="gray" if image.shape[0] == 1 else None)
        ax.set_title(classes[int(label)], fontsize=9)
    fig.tight_layout()
    return fig
