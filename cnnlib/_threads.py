"""How many CPU threads torch uses while :func:`cnnlib.train.fit` trains on a shared machine.

Torch starts one intra-op thread per physical core, and its OpenMP runtime
(libgomp) lets a thread that waits for work spin for a while before it sleeps.
That is the fastest choice for a process that has the machine to itself, and a
bad one when several processes share the cores: a reader with two notebooks
open, a test run beside a book build. The spinning threads hold the cores that
the other processes' threads wait for. On 2 cores, three processes training
with torch's 2 threads each took 16 to 19 times as long as one alone, 5 to 6
times a fair share (``benchmarks/cpu_threads.py``).

libgomp reads its waiting policy (``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT``) once,
when torch loads it; the spin count is internal to the library and no call
changes it later. ``OMP_WAIT_POLICY=PASSIVE``, set before torch is imported,
helps the crowd (three at once: 7.5 to 9.2 s each, about a fair share) but slows
a process alone by half (4.1 s instead of 2.8 s). The number of threads, though,
can change at any time: :func:`torch.set_num_threads` takes 0.1 us and the next
parallel region uses the new count (alternating 1 and 2 threads at every step
cost about 0.5 ms per change). So :class:`CpuThreads` measures how many cores
other processes keep busy (``/proc/stat`` minus this process's own CPU time)
while training starts, and again about every second, and sets torch's threads
with :func:`choose_threads`: all of torch's default when the cores are free,
fewer when they are not, never more than a ``torchrun`` process's share. It
restores the previous count when training ends. In the same benchmark one
process alone kept its speed (0.95 to 0.98 times the time with torch's
defaults), and two or three at once took 0.8 to 0.92 times a fair share: one
thread each, and one thread does more per core than two.

It leaves the count alone when the user chose it: ``OMP_NUM_THREADS`` or
``MKL_NUM_THREADS`` set, or :func:`torch.set_num_threads` called with a count
other than torch's default (a call that sets the default count itself cannot be
told apart from no call). ``torchrun`` sets ``OMP_NUM_THREADS=1`` for its
processes when it is unset, and that too is kept; the share applies to
processes started otherwise (with ``WORLD_SIZE`` and ``LOCAL_WORLD_SIZE`` but
no ``OMP_NUM_THREADS``). Runs with the same seed give bit-identical results
only with the same number of threads (the threads split the sums), so pin the
count that way where bit-identical reruns matter on a busy machine. Where there
is no ``/proc/stat`` (macOS, Windows) the other processes are not measured, and
only the ``torchrun`` share applies. The kernels that :func:`torch.compile`
generates keep the thread count they were compiled with.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import torch

from cnnlib._checks import positive_int

__all__ = ["choose_threads", "busy_cpu_seconds", "user_threads", "CpuThreads"]

_STAT = Path("/proc/stat")
# Environment variables with which a user fixes the thread count (torch reads both).
_USER_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
# The count CpuThreads set last: seeing it again is not a user's choice.
_last_set: int | None = None


def choose_threads(
    *, cores: int, busy: float, default: int, local_world_size: int = 1, user: int | None = None
) -> int:
    """The number of intra-op threads a training process should use.

    The user's choice wins. Otherwise the process takes the cores that other
    work leaves free (rounded to the nearest whole core), at most its share of
    the cores when ``torchrun`` starts ``local_world_size`` processes on this
    machine, at most torch's ``default``, and at least one.

    Args:
        cores: CPUs this process may run on (its affinity mask).
        busy: cores kept busy by other processes, on average over the last
            measurement (0 when not measured).
        default: the count torch chose by itself (one per physical core).
        local_world_size: training processes ``torchrun`` started on this machine.
        user: the count the user set, or ``None``.

    Returns:
        The thread count, at least 1.

    Raises:
        ValueError: a count is not a positive int, or ``busy`` is negative or not finite.
    """
    owner = "choose_threads"
    for name, value in (("cores", cores), ("default", default)):
        positive_int(owner, name, value)
    positive_int(owner, "local_world_size", local_world_size)
    if user is not None:
        return positive_int(owner, "user", user)
    if (
        not isinstance(busy, (int, float))
        or isinstance(busy, bool)
        or not math.isfinite(busy)
        or busy < 0
    ):
        raise ValueError(f"{owner}: busy must be a finite number >= 0, got {busy!r}")
    free = math.floor(cores - busy + 0.5)
    share = cores // local_world_size
    return max(1, min(default, share, free))


def busy_cpu_seconds(stat: str, cpus: Iterable[int], ticks_per_second: int) -> float:
    """Seconds the ``cpus`` have been busy since boot, from the text of ``/proc/stat``.

    Busy is everything but ``idle`` and ``iowait`` (user, nice, system, irq,
    softirq and steal: a hypervisor's steal is capacity the process lacks too).

    Raises:
        ValueError: none of ``cpus`` has a line in ``stat``.
    """
    wanted = {f"cpu{cpu}" for cpu in cpus}
    ticks, found = 0, 0
    for line in stat.splitlines():
        name, *fields = line.split()
        if name in wanted:
            user, nice, system, idle, iowait, irq, softirq, steal = (
                int(field) for field in (fields + ["0"] * 8)[:8]
            )
            ticks += user + nice + system + irq + softirq + steal
            found += 1
    if not found:
        raise ValueError(f"busy_cpu_seconds: no line for the CPUs {sorted(wanted)} in /proc/stat")
    return ticks / ticks_per_second


def user_threads() -> int | None:
    """The thread count the user chose, or ``None`` when torch runs with its default.

    ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` in the environment, or a count
    that is neither torch's default nor the one :class:`CpuThreads` set last,
    is the user's choice.
    """
    current = torch.get_num_threads()
    if any(os.environ.get(name) for name in _USER_VARIABLES):
        return current
    # Torch's default intra-op count is TaskThreadPoolBase::defaultNumThreads(), one
    # thread per physical core; its inter-op default is the same call, and users
    # rarely change that one, so it tells the default without asking cpuinfo.
    if current in (torch.get_num_interop_threads(), _last_set):
        return None
    return current


def _cpus() -> frozenset[int]:
    if hasattr(os, "sched_getaffinity"):
        return frozenset(os.sched_getaffinity(0))
    return frozenset(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class _Sample:
    """Wall clock, busy seconds of the CPUs (all processes) and this process's CPU seconds."""

    wall: float
    busy: float
    own: float


class CpuThreads:
    """Keeps torch's CPU threads fitted to what other processes leave free, while a run lasts.

    Use it as a context around training and call :meth:`update` before the
    first step and after every step. Entering records the thread count and
    starts measuring; the first decision comes at the first update once
    ``first_window`` seconds have passed (a long set-up is measurement enough,
    else the first steps run with the count found), each later one
    ``interval`` seconds after the last; leaving restores the count found on
    entering. Nothing waits: a decision costs two reads of a clock and one of
    ``/proc/stat``. When ``enabled`` is false (training on a GPU) or the user
    chose the count, nothing changes.

    Args:
        enabled: manage the threads at all (``fit`` passes ``device.type == "cpu"``).
        local_world_size: training processes ``torchrun`` started on this machine.
        interval: seconds between two decisions during training.
        first_window: seconds of measurement before the first decision.

    Raises:
        ValueError: ``local_world_size`` is not a positive int, or a time is not positive.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        local_world_size: int = 1,
        interval: float = 1.0,
        first_window: float = 0.2,
    ) -> None:
        positive_int("CpuThreads", "local_world_size", local_world_size)
        for name, value in (("interval", interval), ("first_window", first_window)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"CpuThreads: {name} must be a positive number, got {value!r}")
        self.enabled = enabled
        self.local_world_size = local_world_size
        self.interval = float(interval)
        self.first_window = float(first_window)
        self._cpus = _cpus()
        self._ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        # Set on entering: the count to restore, torch's default, the user's choice.
        self._original = self._default = torch.get_num_threads()
        self._user: int | None = None
        self._last: _Sample | None = None
        self._decided = False

    def __enter__(self) -> CpuThreads:
        self._original = torch.get_num_threads()
        self._default = torch.get_num_interop_threads()
        self._user = user_threads()
        self._last = self._sample()
        self._decided = False
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        global _last_set
        if self._managed and torch.get_num_threads() != self._original:
            torch.set_num_threads(self._original)
        _last_set = None

    @property
    def _managed(self) -> bool:
        return self.enabled and self._user is None

    def _sample(self) -> _Sample:
        try:
            busy = busy_cpu_seconds(_STAT.read_text(), self._cpus, self._ticks)
        except (OSError, ValueError):
            busy = math.nan
        return _Sample(wall=time.perf_counter(), busy=busy, own=time.process_time())

    def _decide(self) -> None:
        global _last_set
        now = self._sample()
        last, self._last = self._last, now
        others = 0.0
        if last is not None and now.wall > last.wall and math.isfinite(now.busy - last.busy):
            # The CPUs' busy seconds minus our own: cores that other processes kept busy.
            elsewhere = (now.busy - last.busy) - (now.own - last.own)
            others = max(0.0, elsewhere) / (now.wall - last.wall)
        threads = choose_threads(
            cores=len(self._cpus),
            busy=others,
            default=self._default,
            local_world_size=self.local_world_size,
        )
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        _last_set = threads
        self._decided = True

    def update(self) -> None:
        """Set the thread count if the measurement since the last decision is long enough."""
        if self._managed and self._last is not None:
            due = self.interval if self._decided else self.first_window
            if time.perf_counter() - self._last.wall >= due:
                self._decide()
