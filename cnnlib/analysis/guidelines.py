"""The test networks of ShuffleNet V2's four guidelines, and their measurement.

Ma, Zhang, Zheng and Sun (2018), "ShuffleNet V2", Section 2, time small
networks that differ in one design choice at (nearly) equal FLOPs. The papers'
"FLOPs" are multiply-accumulates, what :mod:`cnnlib.analysis` calls MACs; their
"MAC" is memory access cost (:func:`cnnlib.analysis.memory_access_cost`).

* **G1** (Table 1): 10 blocks of two 1x1 convolutions, ``c1 → c2 → c1``, for
  ratios ``c1:c2`` of 1:1, 1:2, 1:6, 1:12 (:func:`g1_channels`,
  :func:`g1_network`);
* **G2** (Table 2): 10 1x1 convolutions with ``g`` groups, widened to keep the
  MACs (:func:`g2_channels`, :func:`g2_network`);
* **G3** (Table 3, appendix Figure 1): 10 blocks of 1, 2 or 4 1x1 "fragments",
  in series or in parallel (:func:`g3_channels`, :func:`g3_network`);
* **G4** (Table 4): 10 ResNet bottleneck units with or without their ReLUs and
  their shortcut (:class:`Bottleneck`, :func:`g4_network`).

Choices the paper does not fix, made here: the G1–G3 networks are bare
convolutions without bias, batch norm or activation, so that only the
convolutions are timed; parallel fragments read the same input and are summed;
the bottleneck of G4 has ResNet's inner width ``c / 4`` and keeps its batch
norms. Channel counts are rounded down, which reproduces the paper's pairs
(1:2 at 128 channels is 90:180, since 128/√2 = 90.5).

:func:`setups` builds a guideline's networks at a chosen width, map size and
batch; :func:`measure` counts and times them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cnnlib._checks import boolean, one_of, positive_int, positive_number
from cnnlib.analysis.counts import MemoryAccessReport
from cnnlib.analysis.tracer import trace
from cnnlib.timing import Latency, forward_latency

__all__ = [
    "G1_RATIOS",
    "G2_GROUPS",
    "G3_FRAGMENTS",
    "Bottleneck",
    "Fragments",
    "Measurement",
    "Setup",
    "g1_channels",
    "g1_network",
    "g2_channels",
    "g2_network",
    "g3_channels",
    "g3_network",
    "g4_network",
    "measure",
    "pointwise_memory_access",
    "pointwise_memory_bound",
    "setups",
]

#: The ``c2 / c1`` ratios of Table 1.
G1_RATIOS = (1, 2, 6, 12)
#: The group counts of Table 2.
G2_GROUPS = (1, 2, 4, 8)
#: The blocks of Table 3: (fragments, arrangement).
G3_FRAGMENTS = ((1, "series"), (2, "series"), (4, "series"), (2, "parallel"), (4, "parallel"))
_ARRANGEMENTS = ("series", "parallel")


def pointwise_memory_access(hw: int, c1: int, c2: int) -> int:
    """Memory access cost of a 1x1 convolution without bias: ``hw(c1 + c2) + c1·c2``.

    Equation (1) of the paper: the input map read, the output map written and
    the weights read, in elements.

    Raises:
        ValueError, TypeError: an argument is not a positive int.
    """
    for name, value in (("hw", hw), ("c1", c1), ("c2", c2)):
        positive_int("pointwise_memory_access", name, value)
    return hw * (c1 + c2) + c1 * c2


def pointwise_memory_bound(hw: int, macs: float) -> float:
    """The paper's lower bound on a 1x1 convolution's memory access cost.

    With ``B = hw·c1·c2`` MACs, ``hw(c1 + c2) ≥ 2hw√(c1·c2)`` (arithmetic
    against geometric mean) gives ``MAC ≥ 2√(hw·B) + B/hw``, with equality
    exactly when ``c1 == c2``.

    Raises:
        ValueError, TypeError: ``hw`` is not a positive int or ``macs`` not a
            positive number.
    """
    positive_int("pointwise_memory_bound", "hw", hw)
    positive_number("pointwise_memory_bound", "macs", macs)
    return 2 * math.sqrt(hw * macs) + macs / hw


def g1_channels(channels: int, ratio: int) -> tuple[int, int]:
    """``(c1, c2)`` with ``c2 = ratio·c1`` and ``c1·c2`` at most, and closest to, ``channels²``.

    ``c1 = ⌊channels / √ratio⌋``: Table 1's pairs, e.g. 128 channels at
    1:2, 1:6, 1:12 give (90, 180), (52, 312), (36, 432).

    Raises:
        ValueError, TypeError: an argument is not a positive int.
    """
    positive_int("g1_channels", "channels", channels)
    positive_int("g1_channels", "ratio", ratio)
    c1 = math.isqrt(channels * channels // ratio)
    if c1 < 1:
        raise ValueError(f"g1_channels: channels={channels} is too few for ratio={ratio}")
    return c1, ratio * c1


def g2_channels(channels: int, groups: int) -> int:
    """Channels ``c`` that keep ``c²/g`` at most, and closest to, ``channels²``.

    ``c`` is ``channels·√groups`` rounded down to a multiple of ``groups``:
    Table 2's widths, e.g. 128 channels give 180, 256, 360 for g = 2, 4, 8.

    Raises:
        ValueError, TypeError: an argument is not a positive int.
    """
    positive_int("g2_channels", "channels", channels)
    positive_int("g2_channels", "groups", groups)
    c = math.isqrt(channels * channels * groups)
    return max(groups, c - c % groups)


def g3_channels(channels: int, fragments: int) -> int:
    """Channels of each of ``fragments`` 1x1 fragments: ``⌊channels / √fragments⌋``.

    ``fragments`` convolutions of ``c'`` channels have about the MACs of one
    of ``channels``.

    Raises:
        ValueError, TypeError: an argument is not a positive int.
    """
    positive_int("g3_channels", "channels", channels)
    positive_int("g3_channels", "fragments", fragments)
    return max(1, math.isqrt(channels * channels // fragments))


def _pointwise(c_in: int, c_out: int, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=1, groups=groups, bias=False)


def g1_network(c1: int, c2: int, *, blocks: int = 10) -> nn.Sequential:
    """Table 1's network: ``blocks`` times a 1x1 conv ``c1 → c2`` and one ``c2 → c1``.

    Raises:
        ValueError, TypeError: an argument is not a positive int.
    """
    for name, value in (("c1", c1), ("c2", c2), ("blocks", blocks)):
        positive_int("g1_network", name, value)
    layers: list[nn.Module] = []
    for _ in range(blocks):
        layers += [_pointwise(c1, c2), _pointwise(c2, c1)]
    return nn.Sequential(*layers)


def g2_network(channels: int, groups: int, *, layers: int = 10) -> nn.Sequential:
    """Table 2's network: ``layers`` 1x1 convolutions of ``channels`` with ``groups`` groups.

    Raises:
        ValueError, TypeError: an argument is not a positive int, or
            ``groups`` does not divide ``channels``.
    """
    for name, value in (("channels", channels), ("groups", groups), ("layers", layers)):
        positive_int("g2_network", name, value)
    if channels % groups:
        raise ValueError(f"g2_network: groups={groups} must divide channels={channels}")
    return nn.Sequential(*[_pointwise(channels, channels, groups) for _ in range(layers)])


class Fragments(nn.Module):
    """One block of Table 3: ``fragments`` 1x1 convolutions of ``channels``.

    ``"series"`` applies them one after another; ``"parallel"`` applies each
    to the block's input and sums the results.

    Raises:
        ValueError, TypeError: ``channels`` or ``fragments`` is not a positive
            int, or ``arrangement`` is not "series" or "parallel".
    """

    def __init__(self, channels: int, fragments: int, arrangement: str = "series") -> None:
        super().__init__()
        positive_int("Fragments", "channels", channels)
        positive_int("Fragments", "fragments", fragments)
        one_of("Fragments", "arrangement", arrangement, _ARRANGEMENTS)
        self.arrangement = arrangement
        self.convs = nn.ModuleList(_pointwise(channels, channels) for _ in range(fragments))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.arrangement == "series":
            for conv in self.convs:
                x = conv(x)
            return x
        out = self.convs[0](x)
        for conv in self.convs[1:]:
            out = out + conv(x)
        return out


def g3_network(
    channels: int, fragments: int, arrangement: str = "series", *, blocks: int = 10
) -> nn.Sequential:
    """Table 3's network: ``blocks`` :class:`Fragments` of ``g3_channels(channels, fragments)``.

    Raises:
        ValueError, TypeError: as :class:`Fragments`, or ``blocks`` is not a
            positive int.
    """
    positive_int("g3_network", "blocks", blocks)
    width = g3_channels(channels, fragments)
    return nn.Sequential(*[Fragments(width, fragments, arrangement) for _ in range(blocks)])


class Bottleneck(nn.Module):
    """ResNet's bottleneck unit, with switches for its ReLUs and its shortcut (Table 4).

    1x1 conv-BN (``channels → channels // 4``) → ReLU → 3x3 conv-BN → ReLU →
    1x1 conv-BN (back to ``channels``) → + input → ReLU. ``relu=False``
    leaves out the three ReLUs, ``shortcut=False`` the addition.

    Raises:
        ValueError, TypeError: ``channels`` is not a positive int divisible
            by 4, or a switch is not a bool.
    """

    def __init__(self, channels: int, *, relu: bool = True, shortcut: bool = True) -> None:
        super().__init__()
        positive_int("Bottleneck", "channels", channels)
        if channels % 4:
            raise ValueError(f"Bottleneck: channels must be divisible by 4, got {channels}")
        self.relu = boolean("Bottleneck", "relu", relu)
        self.shortcut = boolean("Bottleneck", "shortcut", shortcut)
        inner = channels // 4
        self.conv1, self.bn1 = _pointwise(channels, inner), nn.BatchNorm2d(inner)
        self.conv2 = nn.Conv2d(inner, inner, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(inner)
        self.conv3, self.bn3 = _pointwise(inner, channels), nn.BatchNorm2d(channels)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) if self.relu else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._act(self.bn1(self.conv1(x)))
        out = self._act(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.shortcut:
            out = out + x
        return self._act(out)


def g4_network(
    channels: int, *, relu: bool = True, shortcut: bool = True, blocks: int = 10
) -> nn.Sequential:
    """Table 4's network: ``blocks`` :class:`Bottleneck` units of ``channels``.

    Raises:
        ValueError, TypeError: as :class:`Bottleneck`, or ``blocks`` is not a
            positive int.
    """
    positive_int("g4_network", "blocks", blocks)
    units = [Bottleneck(channels, relu=relu, shortcut=shortcut) for _ in range(blocks)]
    return nn.Sequential(*units)


@dataclass(frozen=True)
class Setup:
    """One network of a guideline's experiment and the input it is timed on."""

    #: ``"G1"`` … ``"G4"``.
    guideline: str
    #: The row's name, e.g. ``"1:6"``, ``"g=4"``, ``"2 series"``, ``"no ReLU"``.
    label: str
    #: The network (in eval mode).
    model: nn.Module
    #: ``(N, C, H, W)``.
    input_size: tuple[int, int, int, int]


def setups(guideline: str, *, channels: int, size: int = 56, batch: int = 1) -> list[Setup]:
    """The networks of one guideline's experiment, at ``channels`` (the paper's ``c``).

    ``channels`` is the width of the first row (1:1, g = 1, 1 fragment, the
    full unit); the other rows are widened or narrowed from it as in the
    paper. Each is timed on ``batch`` maps of ``size × size``.

    Raises:
        ValueError, TypeError: ``guideline`` is not one of "G1" … "G4", or
            ``channels``, ``size``, ``batch`` are not positive ints (for G4,
            ``channels`` must be divisible by 4).
    """
    one_of("setups", "guideline", guideline, ("G1", "G2", "G3", "G4"))
    for name, value in (("channels", channels), ("size", size), ("batch", batch)):
        positive_int("setups", name, value)

    def shape(c: int) -> tuple[int, int, int, int]:
        return (batch, c, size, size)

    rows: list[tuple[str, nn.Module, int]] = []
    if guideline == "G1":
        for r in G1_RATIOS:
            c1, c2 = g1_channels(channels, r)
            rows.append((f"1:{r}", g1_network(c1, c2), c1))
    elif guideline == "G2":
        for g in G2_GROUPS:
            c = g2_channels(channels, g)
            rows.append((f"g={g}", g2_network(c, g), c))
    elif guideline == "G3":
        for n, arrangement in G3_FRAGMENTS:
            label = "1 fragment" if n == 1 else f"{n} {arrangement}"
            rows.append((label, g3_network(channels, n, arrangement), g3_channels(channels, n)))
    else:
        for label, relu, shortcut in (("unit", True, True), ("no ReLU", False, True),
                                      ("no shortcut", True, False),
                                      ("neither", False, False)):  # fmt: skip
            rows.append((label, g4_network(channels, relu=relu, shortcut=shortcut), channels))
    return [Setup(guideline, label, net.eval(), shape(c)) for label, net, c in rows]


@dataclass(frozen=True)
class Measurement:
    """Counts and measured speed of one :class:`Setup` (counts for one image)."""

    label: str
    #: Multiply-accumulates of one image (the paper's "FLOPs").
    macs: int
    #: Memory access cost of one image in elements (the paper's "MAC").
    memory_access: int
    #: Forward latency of the whole batch.
    latency: Latency
    #: The batch size the latency was measured with.
    batch: int

    @property
    def images_per_second(self) -> float:
        """Throughput: images of the batch divided by the median latency."""
        return self.batch / self.latency.median


def measure(
    runs: Sequence[Setup],
    *,
    device: torch.device | str | None = None,
    min_run_time: float = 0.1,
) -> list[Measurement]:
    """Count (for one image) and time (for the setup's batch) every setup.

    **On the CPU** the clock is the CPU time of the timing thread
    (:func:`cnnlib.timing.forward_latency` with ``clock="thread_cpu"``,
    i.e. :func:`time.thread_time`) and torch runs on one thread, as the paper's
    ARM measurements did (the tracing and warm-up passes too; the thread count
    is restored afterwards). The time the operating system gives to other
    processes then does not count: on a shared machine, wall-clock time
    mostly measures the other processes (spreads of several hundred per cent
    between repeats), CPU time the forward pass (a few per cent). Waiting for
    memory does count, since the core stays busy. **On an accelerator** the
    clock is :func:`cnnlib.timing.forward_latency`'s (wall time, synchronised).

    Args:
        runs: from :func:`setups`.
        device: where to time; default the CPU. The models are moved there.
        min_run_time: seconds of measurements per setup (on the chosen clock).

    Raises:
        TypeError: ``runs`` is not a sequence of :class:`Setup`.
        ValueError: as :func:`cnnlib.timing.forward_latency`.
    """
    if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence):
        raise TypeError(f"measure: runs must be a sequence of Setup, got {type(runs).__name__}")
    for run in runs:
        if not isinstance(run, Setup):
            raise TypeError(f"measure: runs must hold Setup objects, got {type(run).__name__}")
    positive_number("measure", "min_run_time", min_run_time)
    dev = torch.device("cpu" if device is None else device)
    threads = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)  # for the tracing and warm-up passes too
    try:
        return [_measure_one(run, dev, min_run_time) for run in runs]
    finally:
        torch.set_num_threads(threads)


def _measure_one(run: Setup, dev: torch.device, min_run_time: float) -> Measurement:
    model = run.model.to(dev).eval()
    if dev.type == "cpu":
        latency = forward_latency(
            model, run.input_size, min_run_time=min_run_time, threads=1, clock="thread_cpu"
        )
    else:
        latency = forward_latency(model, run.input_size, min_run_time=min_run_time)
    traced = trace(model, (1, *run.input_size[1:]))
    return Measurement(
        label=run.label,
        macs=traced.macs,
        memory_access=MemoryAccessReport.from_trace(traced).total,
        latency=latency,
        batch=run.input_size[0],
    )
