"""Receptive-field records: one axis's field, a sliding window, and what a trace knows per tensor.

The recurrences are Araujo et al.'s (see :mod:`cnnlib.analysis`). A
:class:`Window` is the one place where PyTorch's window arguments (ints,
pairs, ``padding="same"``/``"valid"``) become numbers, for module attributes
and functional calls alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

__all__ = ["AxisField", "Window", "TensorField"]


@dataclass(frozen=True)
class AxisField:
    """The receptive field of a feature map along one spatial axis, in input pixels.

    Attributes:
        size: extent ``r`` of one unit's field.
        stride: effective stride ``j``: distance between the fields of neighbouring units.
        start: input coordinate of the first pixel of unit 0's field (≤ 0 when
            padding reaches outside the image); ``-start`` is the effective padding.
    """

    size: int
    stride: int
    start: int

    @property
    def effective_padding(self) -> int:
        return -self.start

    @property
    def center(self) -> float:
        """Input coordinate of the centre of unit 0's field."""
        return self.start + (self.size - 1) / 2

    def then(self, kernel: int, stride: int, padding: int, dilation: int = 1) -> AxisField:
        """The field after a sliding window (convolution or pooling) on this feature map."""
        k_eff = dilation * (kernel - 1) + 1
        return AxisField(
            size=self.size + (k_eff - 1) * self.stride,
            stride=self.stride * stride,
            start=self.start - padding * self.stride,
        )


def _pair(value: object) -> tuple[int, int]:
    """(height, width) from an int or a sequence (PyTorch repeats a single value)."""
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[-1])) if len(value) else (0, 0)
    return (int(value), int(value))  # type: ignore[call-overload]


class Window(NamedTuple):
    """A 2-D sliding window: ``(height, width)`` of its kernel, stride, padding and dilation.

    ``padding`` is the padding before the first row and column, the one that
    shifts the receptive field.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]

    @classmethod
    def of(
        cls, kernel_size: object, stride: object = None, padding: object = 0, dilation: object = 1
    ) -> Window:
        """A window from PyTorch's arguments, as a layer or a functional call receives them.

        ``stride`` None (or empty) means the kernel size, as for pooling;
        ``padding="valid"`` is 0 and ``padding="same"`` is ``d(k − 1)//2`` per
        axis, the padding PyTorch puts before the first row and column.
        """
        kernel = _pair(kernel_size)
        steps = kernel if stride is None or stride == [] or stride == () else _pair(stride)
        spread = _pair(dilation)
        if padding == "valid":
            pads = (0, 0)
        elif padding == "same":
            pads = (spread[0] * (kernel[0] - 1) // 2, spread[1] * (kernel[1] - 1) // 2)
        else:
            pads = _pair(padding)
        return cls(kernel=kernel, stride=steps, padding=pads, dilation=spread)


@dataclass(frozen=True)
class TensorField:
    """What a trace knows about a tensor's dependence on the input's pixels.

    Attributes:
        axes: the field per spatial axis (height, width); None for a tensor
            without spatial extent (after global pooling or flattening).
        shape: the tensor's spatial size (height, width), None if it has none.
        aligned: False where paths whose fields have different centres met.
        global_context: a path that saw the whole input (a squeeze-and-excitation
            gate) met this tensor's, without widening its field.
        problem: an operation the field cannot be followed through; raised
            only when someone asks for the field.
    """

    axes: tuple[AxisField, AxisField] | None
    shape: tuple[int, int] | None
    aligned: bool = True
    global_context: bool = False
    problem: str | None = None

    def at(self, shape: tuple[int, int] | None) -> TensorField:
        """The same field on a tensor of spatial size ``shape``."""
        return replace(self, shape=shape)

    def through(self, window: Window, shape: tuple[int, int] | None) -> TensorField:
        """The field after a sliding window whose output has spatial size ``shape``."""
        assert self.axes is not None
        kernel, stride, padding, dilation = window
        h, w = (self.axes[a].then(kernel[a], stride[a], padding[a], dilation[a]) for a in range(2))
        return replace(self, axes=(h, w), shape=shape)

    def shifted(self, top: int, left: int, shape: tuple[int, int] | None) -> TensorField:
        """The field after ``top`` rows and ``left`` columns of padding."""
        assert self.axes is not None
        h, w = self.axes
        axes = (
            AxisField(h.size, h.stride, h.start - top * h.stride),
            AxisField(w.size, w.stride, w.start - left * w.stride),
        )
        return replace(self, axes=axes, shape=shape)

    def crop(self, index: object, shape: tuple[int, int]) -> TensorField:
        """The field after indexing a (N, C, H, W) tensor with slices (a crop)."""
        items = list(index) if isinstance(index, tuple) else [index]
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items = items[:at] + [slice(None)] * (4 - len(items) + 1) + items[at + 1 :]
        items += [slice(None)] * (4 - len(items))
        assert self.axes is not None and self.shape is not None
        axes = []
        for axis, (item, size) in enumerate(zip(items[2:4], self.shape, strict=True)):
            if not isinstance(item, slice) or item.step not in (None, 1):
                return TensorField(None, shape, problem=f"indexing {index!r} on a spatial axis")
            begin = range(size)[item][0] if len(range(size)[item]) else 0
            f = self.axes[axis]
            axes.append(AxisField(f.size, f.stride, f.start + begin * f.stride))
        return replace(self, axes=(axes[0], axes[1]), shape=shape)

    @staticmethod
    def union(fields: list[TensorField], shape: tuple[int, int] | None, op: str) -> TensorField:
        """The field of the result of ``op`` on tensors with these fields (paths meeting)."""
        problems = [f.problem for f in fields if f.problem]
        if problems:
            return TensorField(None, shape, problem=problems[0])
        spatial = [f for f in fields if f.axes is not None]
        global_context = any(f.global_context for f in fields) or len(spatial) < len(fields)
        if not spatial:
            return TensorField(None, shape, global_context=True)
        axes = []
        aligned = all(f.aligned for f in spatial)
        for axis in range(2):
            parts = [f.axes[axis] for f in spatial]  # type: ignore[index]
            strides = {p.stride for p in parts}
            if len(strides) > 1:
                return TensorField(
                    None,
                    shape,
                    problem=f"{op} joins paths with different effective strides {sorted(strides)}",
                )
            start = min(p.start for p in parts)
            end = max(p.start + p.size for p in parts)
            aligned = aligned and len({p.center for p in parts}) == 1
            axes.append(AxisField(size=end - start, stride=parts[0].stride, start=start))
        return TensorField(
            (axes[0], axes[1]), shape, aligned=aligned, global_context=global_context
        )
