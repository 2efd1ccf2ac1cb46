"""Counts of one forward pass: MACs, FLOPs with element-wise work apart, memory access cost.

Each is read from a :class:`~cnnlib.analysis.tracer.Trace`; the functions
trace the model once and read it. The conventions are those of
:mod:`cnnlib.analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from cnnlib.analysis.tracer import Trace, _trace

__all__ = ["count_macs", "count_flops", "FlopReport", "memory_access_cost", "MemoryAccessReport"]

_KINDS = ("normalization", "activation", "addition", "multiplication", "pooling")


def count_macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply–accumulates of one forward pass on an input of shape ``input_size``.

    Counts convolutions (any groups, stride, dilation, kernel shape), transposed
    convolutions, linear layers and matrix products (``matmul``, ``mm``,
    ``bmm``, ``F.linear`` … called outside those modules); bias additions and
    element-wise layers are not MACs. Equals ``FlopCounterMode`` total / 2 and
    torchvision's ``_ops`` (in GMACs) for batch size 1.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_size`` is not a shape with a batch dimension, the
            input does not fit the model (see :func:`~cnnlib.analysis.trace`), or the
            model contains a module with parameters and no known MAC formula.
    """
    return _trace("count_macs", model, input_size).macs


@dataclass(frozen=True)
class FlopReport:
    """MACs, FLOPs and, apart from them, element-wise operations of one forward pass.

    ``flops`` is ``2 * macs``. ``elementwise`` counts, per kind, the element
    operations that MAC-based counts leave out: one per output element for
    ``normalization``, ``activation``, ``addition`` and ``multiplication``;
    one per element read for ``pooling`` (window size × outputs, or the whole
    input for global pooling). Tools that count some of these as FLOPs
    (fvcore, thop) therefore report more than ``flops``.
    """

    macs: int
    elementwise: dict[str, int]

    @classmethod
    def from_trace(cls, trace: Trace) -> FlopReport:
        """The report of a traced forward pass (see :func:`~cnnlib.analysis.trace`)."""
        elementwise = dict.fromkeys(_KINDS, 0)
        for op in trace.operations:
            if op.elementwise_kind:
                elementwise[op.elementwise_kind] += op.elementwise
        return cls(macs=trace.macs, elementwise=elementwise)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def elementwise_total(self) -> int:
        return sum(self.elementwise.values())

    def __str__(self) -> str:
        lines = [f"MACs: {self.macs:,}", f"FLOPs (2 x MACs): {self.flops:,}"]
        lines += ["element-wise operations:"]
        lines += [f"  {kind}: {count:,}" for kind, count in self.elementwise.items()]
        return "\n".join(lines)


def count_flops(model: nn.Module, input_size: Sequence[int]) -> FlopReport:
    """FLOPs (``2 × MACs``) with element-wise operations reported separately.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: as :func:`count_macs`.
    """
    return FlopReport.from_trace(_trace("count_flops", model, input_size))


@dataclass(frozen=True)
class MemoryAccessReport:
    """Memory access cost (ShuffleNetV2's "MAC"): tensor elements read and written.

    ``per_layer`` maps each leaf module (or, for operations outside modules,
    the operation's name) to the elements it read (inputs and weights) plus
    the elements it wrote (outputs). Views (reshape, transpose, chunk) move no
    data; a copy (``contiguous`` on a non-contiguous tensor, as in a channel
    shuffle) reads and writes every element.
    """

    per_layer: list[tuple[str, int]]

    @classmethod
    def from_trace(cls, trace: Trace) -> MemoryAccessReport:
        """The report of a traced forward pass (see :func:`~cnnlib.analysis.trace`)."""
        per_layer = [(call.name, call.memory_access) for call in trace.calls]
        per_layer += [
            (op.name, op.memory_read + op.memory_written)
            for op in trace.operations
            if op.module is None
        ]
        return cls(per_layer=[row for row in per_layer if row[1]])

    @property
    def total(self) -> int:
        return sum(cost for _, cost in self.per_layer)


def memory_access_cost(model: nn.Module, input_size: Sequence[int]) -> MemoryAccessReport:
    """Elements read and written by every operation of one forward pass.

    For a 1×1 convolution from ``c1`` to ``c2`` channels on an ``h × w`` map
    without bias this is ``hw(c1 + c2) + c1·c2``, equation (1) of Ma et al.,
    "ShuffleNet V2" (2018).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: as :func:`count_macs`.
    """
    return MemoryAccessReport.from_trace(_trace("memory_access_cost", model, input_size))
