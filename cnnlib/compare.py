"""Every model of the book side by side: counts, latency, and Pareto fronts.

The closing chapter compares the registered ImageNet-size models under one
set of measurements. :func:`compare_models` builds each model once, on the
``meta`` device (no memory, no arithmetic), traces one forward pass for its
counts (parameters, MACs, FLOPs, memory access cost, theoretical receptive
field) and, when asked, materialises it on a real device to time it with
:func:`cnnlib.timing.forward_latency`. :func:`pareto_front` picks the points
no other point beats in every coordinate::

    rows = compare_models(["resnet18", "mobilenet_v2"], latency=False)
    front = pareto_front([(r.macs, -r.params) for r in rows])

Sizes follow :mod:`cnnlib`: ``input_size`` is ``(N, C, H, W)``, a registry
entry's ``image_shape`` is ``(C, H, W)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cnnlib._checks import positive_int, positive_number
from cnnlib.analysis import (
    FlopReport,
    MemoryAccessReport,
    ReceptiveField,
    trace,
)
from cnnlib.models import get_model, list_models, model_info
from cnnlib.timing import forward_latency

__all__ = [
    "ModelRow",
    "imagenet_models",
    "measure_model",
    "compare_models",
    "pareto_front",
    "torchvision_top1",
]

#: Image sides of the ImageNet-size models (224 for most, 299 for Inception-v3
#: and Xception).
IMAGENET_SIDES = (224, 299)


@dataclass(frozen=True)
class ModelRow:
    """One model's measurements, all for one image of ``image_shape``.

    Counts follow :mod:`cnnlib.analysis`: ``macs`` are multiply–accumulates,
    ``flops`` are ``2 * macs``, ``memory_access`` is ShuffleNetV2's memory
    access cost (tensor elements read and written), ``receptive_field`` the
    theoretical field (pixels, one side) of the last spatial feature map.
    ``latency`` is the median seconds per forward pass of a batch of one at
    ``latency_shape`` on ``device``, or ``None`` when not measured;
    ``latency_macs`` the MACs at ``latency_shape`` (so that time and work refer
    to the same image), ``latency_iqr`` the interquartile range of the timings
    (seconds), ``latency_measurements`` their number and ``clock`` what was
    timed (see :func:`cnnlib.timing.forward_latency`).
    """

    name: str
    image_shape: tuple[int, int, int]
    params: int
    macs: int
    flops: int
    memory_access: int
    receptive_field: int
    latency: float | None = None
    latency_shape: tuple[int, int, int] | None = None
    device: str | None = None
    latency_macs: int | None = None
    latency_iqr: float | None = None
    latency_measurements: int | None = None
    clock: str | None = None


def imagenet_models() -> list[str]:
    """The registered models whose default image is ImageNet-size (224 or 299 pixels), sorted."""
    return [n for n in list_models() if model_info(n).image_shape[1] in IMAGENET_SIDES]


def _check_shape(owner: str, name: str, shape: object) -> tuple[int, int, int]:
    if not isinstance(shape, Sequence) or isinstance(shape, (str, bytes)):
        raise TypeError(f"{owner}: {name} must be a (C, H, W) tuple of ints, got {shape!r}")
    if len(shape) != 3:
        raise ValueError(f"{owner}: {name} must have three entries (C, H, W), got {shape!r}")
    for value in shape:
        positive_int(owner, name, value)
    return tuple(shape)  # type: ignore[return-value]


def _side(field: int | tuple[int, int]) -> int:
    return field if isinstance(field, int) else max(field)


def measure_model(
    name: str,
    *,
    image_shape: Sequence[int] | None = None,
    latency_shape: Sequence[int] | None = None,
    device: torch.device | str | None = None,
    min_run_time: float = 0.2,
    threads: int | None = None,
    clock: str = "wall",
    **kwargs: object,
) -> ModelRow:
    """Count (and optionally time) one registered model, building it once.

    The model is built on the ``meta`` device and traced there for the counts.
    If ``latency_shape`` is given it is then materialised on ``device`` with
    :meth:`torch.nn.Module.to_empty` and every parameter and buffer set to
    zero (a dense forward pass takes as long whatever the values; zeros avoid
    the NaNs and denormals uninitialised memory could hold), timed on a batch
    of one, and freed.

    Args:
        name: a registered model (see :func:`cnnlib.models.list_models`).
        image_shape: ``(C, H, W)`` of the image to count for; default the
            registry's ``image_shape`` of the model.
        latency_shape: ``(C, H, W)`` of the image to time; ``None`` skips timing.
        device: where to time; default :func:`cnnlib.train.device`.
        min_run_time: seconds of measurements per model (see
            :func:`~cnnlib.timing.forward_latency`).
        threads: CPU threads while timing (default: torch's current number).
        clock: ``"wall"`` or ``"thread_cpu"`` (one CPU thread's CPU seconds;
            see :func:`~cnnlib.timing.forward_latency`).
        **kwargs: passed to the builder (``width_multiplier``, ``small_input`` ...).

    Returns:
        The model's :class:`ModelRow`.

    Raises:
        TypeError: ``name`` is not a string, or a shape is not a sequence of ints.
        ValueError: ``name`` is not registered, a shape is not three positive
            ints or does not fit the model, ``min_run_time`` or ``threads``
            is out of range, or ``clock`` is not ``"wall"`` or ``"thread_cpu"``.
    """
    checked = (image_shape, latency_shape, min_run_time, threads)
    shape, timed = _check_measure(name, *checked)
    if clock not in ("wall", "thread_cpu"):
        raise ValueError(f"measure_model: clock must be 'wall' or 'thread_cpu', got {clock!r}")
    with torch.device("meta"):  # shapes only: no memory, no arithmetic
        model = get_model(name, **kwargs)
    recorded = trace(model, (1, *shape))  # one forward pass for every count
    flops = FlopReport.from_trace(recorded)
    row = ModelRow(
        name, shape, sum(p.numel() for p in model.parameters()),
        flops.macs, flops.flops, MemoryAccessReport.from_trace(recorded).total,
        _side(ReceptiveField.from_trace(recorded).size),
    )  # fmt: skip
    if timed is None:
        return row
    macs = row.macs if timed == shape else FlopReport.from_trace(trace(model, (1, *timed))).macs
    dev = torch.device(device) if device is not None else _best_device()
    model = _materialise(model, dev)
    timing = {"min_run_time": min_run_time, "threads": threads, "clock": clock}
    latency = forward_latency(model, (1, *timed), **timing)
    found = {
        "latency": latency.median, "latency_shape": timed, "device": str(dev),
        "latency_macs": macs, "latency_iqr": latency.iqr,
        "latency_measurements": latency.measurements, "clock": latency.clock,
    }  # fmt: skip
    return dataclasses.replace(row, **found)


def _check_measure(
    name: str,
    image_shape: Sequence[int] | None,
    latency_shape: Sequence[int] | None,
    min_run_time: float,
    threads: int | None,
) -> tuple[tuple[int, int, int], tuple[int, int, int] | None]:
    """The checked shapes to count and to time (``None``: no timing)."""
    owner = "measure_model"
    info = model_info(name)
    shape = (
        info.image_shape if image_shape is None else _check_shape(owner, "image_shape", image_shape)
    )
    timed = None if latency_shape is None else _check_shape(owner, "latency_shape", latency_shape)
    positive_number(owner, "min_run_time", min_run_time)
    if threads is not None:
        positive_int(owner, "threads", threads)
    return shape, timed


def _best_device() -> torch.device:
    from cnnlib.train import device

    return device()


def _materialise(model: nn.Module, dev: torch.device) -> nn.Module:
    """``model`` (on ``meta``) allocated on ``dev`` with all parameters and buffers zero."""
    model = model.to_empty(device=dev)
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            tensor.zero_()
    return model


def compare_models(
    names: Sequence[str],
    *,
    image_shape: Sequence[int] | None = None,
    latency: bool = True,
    latency_shape: Sequence[int] | None = None,
    device: torch.device | str | None = None,
    min_run_time: float = 0.2,
    threads: int | None = None,
    **kwargs: object,
) -> list[ModelRow]:
    """:func:`measure_model` for every name, in order, each model built once and freed.

    Args:
        names: registered model names.
        image_shape: ``(C, H, W)`` to count every model at; default each
            model's own registry ``image_shape`` (224 or 299 pixels).
        latency: time the models.
        latency_shape: ``(C, H, W)`` to time at; default the counted shape.
        device, min_run_time, threads, kwargs: as in :func:`measure_model`.

    Returns:
        One :class:`ModelRow` per name.

    Raises:
        TypeError: ``names`` is not a sequence of strings, ``latency`` not a bool.
        ValueError: ``names`` is empty or repeats a name; or as :func:`measure_model`.
    """
    owner = "compare_models"
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"{owner}: names must be a sequence of model names, got {names!r}")
    if not names:
        raise ValueError(f"{owner}: names must not be empty")
    if len(set(names)) != len(names):
        raise ValueError(f"{owner}: names must not repeat a model, got {list(names)}")
    if not isinstance(latency, bool):
        raise TypeError(f"{owner}: latency must be a bool, got {latency!r}")
    rows = []
    for name in names:
        shape = model_info(name).image_shape if image_shape is None else image_shape
        timed = (latency_shape or shape) if latency else None
        rows.append(
            measure_model(
                name, image_shape=shape, latency_shape=timed, device=device,
                min_run_time=min_run_time, threads=threads, **kwargs,
            )
        )  # fmt: skip
    return rows


def pareto_front(
    points: Sequence[Sequence[float]], *, maximise: Sequence[bool] | None = None
) -> list[int]:
    """Indices (ascending) of the points that no other point dominates.

    A point dominates another when it is at least as good in every coordinate
    and strictly better in one; "good" is smaller, or larger where
    ``maximise`` says so. Equal points do not dominate each other, so all
    copies of a point on the front are kept.

    Args:
        points: a sequence of points, each a sequence of the same number of
            finite numbers (e.g. ``(macs, accuracy)``).
        maximise: one bool per coordinate; default: minimise every coordinate.

    Returns:
        The indices of the non-dominated points.

    Raises:
        TypeError: ``points`` or a point is not a sequence of real numbers, or
            ``maximise`` does not hold bools.
        ValueError: the points differ in length or hold a NaN or infinity, or
            ``maximise`` has another length than the points.
    """
    owner = "pareto_front"
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence):
        raise TypeError(f"{owner}: points must be a sequence of points, got {points!r}")
    rows: list[tuple[float, ...]] = []
    for point in points:
        if isinstance(point, (str, bytes)) or not isinstance(point, Sequence):
            raise TypeError(f"{owner}: points must hold sequences of numbers, got {point!r}")
        for value in point:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{owner}: points must hold real numbers, got {point!r}")
            if not math.isfinite(value):
                raise ValueError(f"{owner}: points must be finite, got {point!r}")
        rows.append(tuple(float(v) for v in point))
    if not rows:
        return []
    dims = len(rows[0])
    if any(len(row) != dims for row in rows):
        raise ValueError(f"{owner}: points must all have the same length, got {list(points)}")
    senses = [False] * dims if maximise is None else list(maximise)
    if not all(isinstance(s, bool) for s in senses):
        raise TypeError(f"{owner}: maximise must hold bools, got {maximise!r}")
    if len(senses) != dims:
        raise ValueError(
            f"{owner}: maximise must have one entry per coordinate ({dims}), got {maximise!r}"
        )
    costs = [tuple(-v if up else v for v, up in zip(row, senses, strict=True)) for row in rows]
    # Sorted by cost, a dominating point comes before the points it dominates.
    order = sorted(range(len(costs)), key=costs.__getitem__)
    front: list[int] = []
    for i in order:
        dominated = any(
            all(a <= b for a, b in zip(costs[j], costs[i], strict=True)) and costs[j] != costs[i]
            for j in front
        )
        if not dominated:
            front.append(i)
    return sorted(front)


def torchvision_top1(name: str, weights: str = "IMAGENET1K_V1") -> float | None:
    """ImageNet-1K top-1 accuracy (%) of torchvision's released weights for ``name``.

    Read from the metadata of torchvision's weight enums, which ships with
    torchvision: nothing is downloaded. These are the accuracies of
    torchvision's own trainings (``"IMAGENET1K_V1"``: its first, classic
    recipe), measured on the ImageNet-1K validation set with one centre crop,
    not the papers' numbers.

    Args:
        name: a model name as torchvision spells it (``"resnet50"``).
        weights: which release, e.g. ``"IMAGENET1K_V1"`` or ``"DEFAULT"``.

    Returns:
        The top-1 accuracy in percent, or ``None`` when torchvision has no
        such model or release (e.g. for ``"xception"``).

    Raises:
        TypeError: ``name`` or ``weights`` is not a string.
    """
    for label, value in (("name", name), ("weights", weights)):
        if not isinstance(value, str):
            raise TypeError(f"torchvision_top1: {label} must be a string, got {value!r}")
    import torchvision.models

    try:
        enum = torchvision.models.get_model_weights(name)
    except ValueError:
        return None
    release = enum.DEFAULT if weights == "DEFAULT" else enum.__members__.get(weights)
    if release is None:
        return None
    return float(release.meta["_metrics"]["ImageNet-1K"]["acc@1"])
