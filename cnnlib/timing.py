"""Forward latency: how long one forward pass of a model takes on the reader's device.

Chapters set latency beside the closed-form counts (MobileNet: milliseconds
against MACs). :func:`forward_latency` times a model on zeros of a given input
size with :class:`torch.utils.benchmark.Timer`, which warms up, picks how many
calls to time together so the timer's own cost vanishes, synchronises CUDA (and
other accelerators) around every measurement, and runs under a fixed number of
CPU threads. The result is a :class:`Latency`: median and interquartile range
of the measurements, in seconds, and what they were measured on::

    latency = forward_latency(get_model("mobilenet_v1"), (1, 3, 224, 224))
    print(latency)  # 12.345 ms median (IQR 0.210 ms) over 17 measurements on cpu, 2 threads
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import torch
from torch import nn

from cnnlib._checks import one_of, positive_int
from cnnlib._inputs import forward_checked

__all__ = ["Latency", "forward_latency"]


@dataclass(frozen=True)
class Latency:
    """Forward latency of a model: the median and spread of repeated measurements.

    Each measurement times a block of consecutive forward passes and divides by
    their number, so ``median`` and ``iqr`` are seconds per forward pass.
    """

    #: Median seconds per forward pass.
    median: float
    #: Interquartile range of the measurements (75th minus 25th percentile), in seconds.
    iqr: float
    #: How many measurements the statistics come from.
    measurements: int
    #: The device the model ran on, e.g. ``"cpu"`` or ``"cuda:0"``.
    device: str
    #: torch's CPU threads during the measurements.
    threads: int
    #: What was timed: ``"wall"`` (elapsed time) or ``"thread_cpu"`` (the CPU
    #: time of the one thread that ran the model).
    clock: str = "wall"

    def __str__(self) -> str:
        measurements = "measurement" if self.measurements == 1 else "measurements"
        threads = "thread" if self.threads == 1 else "threads"
        cpu = ", thread CPU time" if self.clock == "thread_cpu" else ""
        return (
            f"{self.median * 1e3:.3f} ms median (IQR {self.iqr * 1e3:.3f} ms) over "
            f"{self.measurements} {measurements} on {self.device}, {self.threads} {threads}{cpu}"
        )


def _model_device(model: nn.Module) -> torch.device:
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return torch.device("cpu") if first is None else first.device


def _benchmark() -> ModuleType:
    """``torch.utils.benchmark``, imported quietly.

    Importing it imports ``torch.utils.cpp_extension``, which logs a warning on
    machines with a CUDA toolkit but no GPU ("No CUDA runtime is found"): noise
    in a chapter's output that says nothing about the timing.
    """
    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from torch.utils import benchmark
    finally:
        logger.setLevel(level)
    return benchmark


def forward_latency(
    model: nn.Module,
    input_size: Sequence[int],
    *,
    device: torch.device | str | None = None,
    min_run_time: float = 0.2,
    threads: int | None = None,
    clock: str = "wall",
) -> Latency:
    """Time ``model`` on a batch of zeros with :class:`torch.utils.benchmark.Timer`.

    The model runs in eval mode under :func:`torch.no_grad` (its mode is
    restored afterwards) on ``torch.zeros(input_size)`` on its device. The
    timer's ``blocked_autorange`` warms up, then repeats blocks of forward
    passes until ``min_run_time`` seconds of measurements are collected.

    Args:
        model: the network.
        input_size: the input batch's shape ``(N, C, H, W)``.
        device: where to run; the model is moved there (in place). Default: where
            its parameters are (the CPU for a model without any).
        min_run_time: seconds of measurements to collect, at least (the warm-up
            comes on top).
        threads: torch's CPU threads during the measurements; default: the
            current :func:`torch.get_num_threads`. Restored afterwards.
        clock: ``"wall"`` times elapsed seconds, what a reader waits for.
            ``"thread_cpu"`` times the CPU seconds of the thread that runs the
            model (:func:`time.thread_time`), on the CPU with one thread only:
            on a machine that other processes keep busy, elapsed time includes
            the time the thread waited for a core, and CPU time does not (time
            spent waiting for memory still counts, as it should).

    Returns:
        The :class:`Latency`: median and interquartile range in seconds per forward pass.

    Raises:
        TypeError: ``model`` is not a module, ``input_size`` not a sequence of
            ints, or ``device`` not a device, a string or ``None``.
        ValueError: ``input_size`` is not four positive ints or does not fit the
            model (the message names the builder argument to change), ``device``
            names no device, ``min_run_time`` is not a positive finite number,
            or ``threads`` is not a positive int, or ``clock`` is not "wall" or
            "thread_cpu", or is "thread_cpu" with a device other than the CPU or
            more than one thread.
    """
    owner = "forward_latency"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence):
        raise TypeError(
            f"{owner}: input_size must be a sequence of ints (N, C, H, W), got {input_size!r}"
        )
    if len(input_size) != 4:
        raise ValueError(
            f"{owner}: input_size must have four entries (N, C, H, W), got {tuple(input_size)}"
        )
    for size in input_size:
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"{owner}: input_size must hold ints, got {tuple(input_size)}")
        if size < 1:
            raise ValueError(f"{owner}: input_size must be positive, got {tuple(input_size)}")
    if device is not None and not isinstance(device, (torch.device, str)):
        raise TypeError(f"{owner}: device must be a torch.device, a string or None, got {device!r}")
    if (
        not isinstance(min_run_time, (int, float))
        or isinstance(min_run_time, bool)
        or not math.isfinite(min_run_time)
        or min_run_time <= 0
    ):
        raise ValueError(
            f"{owner}: min_run_time must be a positive finite number of seconds, "
            f"got {min_run_time!r}"
        )
    if threads is not None:
        positive_int(owner, "threads", threads)
    one_of(owner, "clock", clock, ("wall", "thread_cpu"))

    if device is None:
        dev = _model_device(model)
    else:
        try:
            dev = torch.device(device)
        except RuntimeError as error:
            raise ValueError(f"{owner}: device {device!r} is not a device ({error})") from error
        model.to(dev)
    n_threads = torch.get_num_threads() if threads is None else threads
    if clock == "thread_cpu" and (dev.type != "cpu" or n_threads != 1):
        raise ValueError(
            f"{owner}: clock='thread_cpu' times one CPU thread: it needs the model on the "
            f"CPU and threads=1, got device {str(dev)!r} and {n_threads} threads"
        )
    x = torch.zeros(tuple(input_size), device=dev)
    extra = {"timer": time.thread_time} if clock == "thread_cpu" else {}
    timer = _benchmark().Timer(
        stmt="model(x)", globals={"model": model, "x": x}, num_threads=n_threads, **extra
    )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            # One checked call first: an input the model cannot take fails with a clear error.
            forward_checked(owner, model, x)
            measurement = timer.blocked_autorange(min_run_time=min_run_time)
    finally:
        model.train(was_training)
    return Latency(
        median=measurement.median,
        iqr=measurement.iqr,
        measurements=len(measurement.times),
        device=str(dev),
        threads=n_threads,
        clock=clock,
    )
