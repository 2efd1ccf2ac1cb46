"""Figures of the convolution-zoo chapter: where a deformable convolution samples, and
what each kind of convolution buys in accuracy for its parameters and MACs."""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

from cnnlib._checks import positive_int

__all__ = ["sampling_locations", "accuracy_vs_cost"]


def _image_2d(image: object) -> torch.Tensor:
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"sampling_locations: image must be a tensor, got {type(image).__name__}")
    if image.dim() == 3 and image.shape[0] == 1:
        image = image[0]
    if image.dim() != 2:
        raise ValueError(
            f"sampling_locations: image must be (H, W) or (1, H, W), got {tuple(image.shape)}"
        )
    return image.detach().float().cpu()


def _field_box(points: torch.Tensor) -> tuple[float, float, float, float]:
    """(left, bottom, width, height) of the pixels bilinear sampling at ``points`` reads."""
    low = points.floor().amin(dim=0)
    high = points.ceil().amax(dim=0)
    (row0, col0), (row1, col1) = low.tolist(), high.tolist()
    return col0 - 0.5, row0 - 0.5, col1 - col0 + 1, row1 - row0 + 1


def _check_centres(centres: object, panels: Mapping[str, torch.Tensor]) -> None:
    """Refuse ``centres`` unless it is a ``(units, 2)`` tensor matching every panel."""
    if not isinstance(centres, torch.Tensor):
        raise TypeError(
            f"sampling_locations: centres must be a tensor, got {type(centres).__name__}"
        )
    units = {len(points) for points in panels.values()}
    if centres.dim() != 2 or centres.shape[1] != 2 or units != {len(centres)}:
        raise ValueError(
            f"sampling_locations: centres must be (units, 2) with the panels' "
            f"{sorted(units)} units, got {tuple(centres.shape)}"
        )


def sampling_locations(
    image: torch.Tensor,
    panels: Mapping[str, torch.Tensor],
    *,
    centres: torch.Tensor | None = None,
    title: str | None = None,
) -> Figure:
    """One panel per entry of ``panels``: ``image`` with the points some output units sample.

    Each panel draws, for every output unit, its taps as dots of one colour and,
    as a rectangle of that colour, the pixels that bilinear sampling at those
    points reads (from the floor to the ceiling of the extreme coordinates):
    the unit's receptive field in its input. Rows and columns are pixel
    coordinates of ``image`` (row 0 at the top).

    Args:
        image: the input, ``(H, W)`` or ``(1, H, W)``.
        panels: title → ``(units, taps, 2)`` tensor of ``(row, column)``
            positions, e.g. a few units of
            :func:`cnnlib.layers.deformable_sampling_locations`.
        centres: optional ``(units, 2)`` tensor: where each unit itself sits,
            as ``(row, column)`` in ``image``'s pixels (for a stride-1
            convolution with 'same' padding, the unit's own indices). Drawn in
            every panel as a cross in the unit's colour.
        title: optional figure title.

    Raises:
        TypeError: ``image``, a panel or ``centres`` is not a tensor, or
            ``panels`` not a mapping.
        ValueError: ``image`` is not 2-D (or one-channel 3-D), ``panels`` is
            empty, a panel is not ``(units, taps, 2)``, or ``centres`` is not
            ``(units, 2)`` with as many units as every panel.
    """
    picture = _image_2d(image)
    if not isinstance(panels, Mapping):
        raise TypeError(
            f"sampling_locations: panels must be a mapping, got {type(panels).__name__}"
        )
    if not panels:
        raise ValueError("sampling_locations: panels is empty")
    for name, points in panels.items():
        if not isinstance(points, torch.Tensor):
            raise TypeError(f"sampling_locations: panel {name!r} must be a tensor")
        if points.dim() != 3 or points.shape[-1] != 2 or 0 in points.shape:
            raise ValueError(
                f"sampling_locations: panel {name!r} must be (units, taps, 2), "
                f"got {tuple(points.shape)}"
            )
    if centres is not None:
        _check_centres(centres, panels)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.0 * len(panels), 3.3), squeeze=False, constrained_layout=True
    )
    height, width = picture.shape
    for ax, (name, points) in zip(axes[0], panels.items(), strict=True):
        ax.imshow(picture.numpy(), cmap="gray_r", interpolation="nearest")
        for unit, taps in enumerate(points.detach().float().cpu()):
            colour = colours[unit % len(colours)]
            ax.scatter(taps[:, 1].numpy(), taps[:, 0].numpy(), s=14, color=colour, zorder=3)
            left, bottom, box_width, box_height = _field_box(taps)
            ax.add_patch(
                Rectangle((left, bottom), box_width, box_height, fill=False, color=colour, lw=1.2)
            )
            if centres is not None:
                row, column = centres[unit].tolist()
                ax.plot([column], [row], "x", color=colour, ms=9, mew=2.2, zorder=4)
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig


def _spread_labels(xs: list[float], ys: list[float], *, gap: float) -> list[float]:
    """The heights of the labels of points at ``(xs, ys)``, at least ``gap`` apart.

    Points whose costs lie within a factor of 1.25 of each other form a group; a group's
    labels keep the order of their points' heights and are spread, centred on the points,
    until neighbours are ``gap`` apart. A point alone keeps its label at its own height.
    """
    heights = list(ys)
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    groups: list[list[int]] = []
    for i in order:
        if groups and xs[i] <= 1.25 * xs[groups[-1][-1]]:
            groups[-1].append(i)
        else:
            groups.append([i])
    for group in groups:
        members = sorted(group, key=lambda i: ys[i])
        placed = [ys[members[0]]]
        for i in members[1:]:
            placed.append(max(ys[i], placed[-1] + gap))
        shift = sum(ys[i] for i in members) / len(members) - sum(placed) / len(placed)
        for i, height in zip(members, placed, strict=True):
            heights[i] = height + shift
    return heights


def accuracy_vs_cost(
    accuracy: Mapping[str, float],
    costs: Mapping[str, Mapping[str, float]],
    *,
    test_images: int | None = None,
    title: str | None = None,
) -> Figure:
    """Test accuracy against each cost (log scale): a panel per cost, a labelled point per model.

    Args:
        accuracy: model name → test accuracy in [0, 1].
        costs: the cost's axis label (e.g. ``"parameters"``) → model name →
            value; every model of ``accuracy`` must have a positive value in
            every cost (models only in ``costs`` are not drawn).
        test_images: the number ``n`` of test images behind each accuracy;
            when given, each point gets an error bar of ±1 binomial standard
            error, ``100·√(p(1 − p)/n)`` points.
        title: optional figure title.

    Raises:
        TypeError: ``accuracy`` or ``costs`` is not a mapping.
        ValueError: ``accuracy`` or ``costs`` is empty, an accuracy lies outside
            [0, 1], a model lacks a positive finite value in some cost, or
            ``test_images`` is not a positive int.
    """
    if not isinstance(accuracy, Mapping) or not isinstance(costs, Mapping):
        raise TypeError("accuracy_vs_cost: accuracy and costs must be mappings")
    if not accuracy or not costs:
        raise ValueError("accuracy_vs_cost: accuracy and costs must not be empty")
    for name, value in accuracy.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"accuracy_vs_cost: accuracy of {name!r} must be in [0, 1], got {value}"
            )
    for label, values in costs.items():
        for name in accuracy:
            value = values.get(name) if isinstance(values, Mapping) else None
            if value is None or not math.isfinite(value) or value <= 0:
                raise ValueError(
                    f"accuracy_vs_cost: cost {label!r} needs a positive value for {name!r}, "
                    f"got {value!r}"
                )
    if test_images is not None:
        positive_int("accuracy_vs_cost", "test_images", test_images)
    fig, axes = plt.subplots(
        1, len(costs), figsize=(3.9 * len(costs), 3.3), squeeze=False, constrained_layout=True
    )
    names = list(accuracy)
    ys = [100 * accuracy[name] for name in names]
    for ax, (label, values) in zip(axes[0], costs.items(), strict=True):
        xs = [values[name] for name in names]
        ax.scatter(xs, ys, s=30, color="tab:blue", zorder=3)
        errors: list[float] = []
        if test_images is not None:
            errors = [100 * math.sqrt(a * (1 - a) / test_images) for a in accuracy.values()]
            ax.errorbar(xs, ys, yerr=errors, fmt="none", ecolor="tab:blue", capsize=3, lw=1)
        # Labels right of a point, or left of it in the right half (so none leaves the axes);
        # labels of points at about the same cost are spread apart vertically.
        low, high = math.log(min(xs)), math.log(max(xs))
        spread = max(ys) - min(ys) + 2 * max(errors, default=0.0)
        label_ys = _spread_labels(xs, ys, gap=max(spread, 1.0) * 0.1)
        for name, x, y, label_y in zip(names, xs, ys, label_ys, strict=True):
            right_half = high > low and (math.log(x) - low) / (high - low) > 0.5
            moved = abs(label_y - y) > 1e-9
            ax.annotate(
                name.replace("_", " "), (x, y), xytext=(-8 if right_half else 8, label_y),
                textcoords=("offset points", "data"), fontsize=9, va="center",
                ha="right" if right_half else "left",
                arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.5"} if moved else None,
            )  # fmt: skip
        lowest, highest = min(label_ys + ys), max(label_ys + ys)
        pad = 0.15 * max(highest - lowest, 1.0)
        ax.set_ylim(
            lowest - pad - max(errors, default=0.0), highest + pad + max(errors, default=0.0)
        )
        ax.set_xscale("log")
        # Label 1, 2 and 5 of every decade as 2k, 5k, 10k, ... (a range of a decade or two).
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label, fontsize=10)
        ax.set_ylabel("test accuracy (%)", fontsize=10)
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.margins(x=0.15)
    if title:
        fig.suptitle(title)
    return fig
