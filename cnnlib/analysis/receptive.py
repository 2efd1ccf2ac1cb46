"""Receptive fields per layer, read from a trace (conventions in :mod:`cnnlib.analysis`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from cnnlib.analysis._text import pair_text, text_table
from cnnlib.analysis.tracer import LayerCall, Trace, _check_input_size, _trace

__all__ = ["receptive_field", "ReceptiveField", "ReceptiveFieldRow", "FeatureMap", "feature_maps"]

_FUNC = "receptive_field"


@dataclass(frozen=True)
class ReceptiveFieldRow:
    """The receptive field at the output of one layer (per axis: height, width)."""

    name: str
    type: str
    kernel: tuple[int, int] | None
    stride: tuple[int, int] | None
    padding: tuple[int, int] | None
    dilation: tuple[int, int] | None
    size: tuple[int, int] | None
    effective_stride: tuple[int, int] | None
    effective_padding: tuple[int, int] | None
    center: tuple[float, float] | None
    aligned: bool
    global_context: bool


@dataclass(frozen=True)
class FeatureMap:
    """A feature map of the receptive-field table: a leaf call's output, or its input.

    Attributes:
        call: the leaf-module call.
        entering: True for the tensor entering the call (where global pooling
            or flattening removes the spatial extent, the map before it has no
            row of its own), False for the call's output.
    """

    call: LayerCall
    entering: bool = False

    @property
    def name(self) -> str:
        """The layer's name, ``"<layer> (input)"`` for an entering map."""
        return f"{self.call.name} (input)" if self.entering else self.call.name

    @property
    def shape(self) -> tuple[int, ...]:
        """The feature map's full shape, batch dimension included."""
        return self.call.input_shape if self.entering else self.call.output_shape

    @property
    def row(self) -> ReceptiveFieldRow:
        """The map's row of :attr:`ReceptiveField.rows` (no window for an entering map)."""
        window = None if self.entering else self.call.window
        f = self.call.input_field if self.entering else self.call.output_field
        axes = f.axes if f is not None else None
        return ReceptiveFieldRow(
            name=self.name,
            type=type(self.call.module).__name__,
            kernel=window.kernel if window else None,
            stride=window.stride if window else None,
            padding=window.padding if window else None,
            dilation=window.dilation if window else None,
            size=(axes[0].size, axes[1].size) if axes else None,
            effective_stride=(axes[0].stride, axes[1].stride) if axes else None,
            effective_padding=(
                (axes[0].effective_padding, axes[1].effective_padding) if axes else None
            ),
            center=(axes[0].center, axes[1].center) if axes else None,
            aligned=f.aligned if f is not None else True,
            global_context=f.global_context if f is not None else False,
        )


def _check_arguments(input_size: Sequence[int], layer: object) -> None:
    if len(input_size) != 4:
        raise ValueError(f"{_FUNC}: input_size must be (N, C, H, W), got {input_size!r}")
    if layer is not None and not isinstance(layer, str):
        raise TypeError(f"{_FUNC}: layer must be a module name (str) or None, got {layer!r}")


def feature_maps(trace: Trace, layer: str | None = None) -> list[FeatureMap]:
    """The feature maps whose fields :func:`receptive_field` lists, in execution order.

    Every leaf call's output; with ``layer`` None, also the input of each call
    that removes the spatial extent (global pooling, flattening) just before
    that call. With ``layer``, the maps up to that layer's last call.

    Args:
        trace: a trace of an ``(N, C, H, W)`` input (see :func:`~cnnlib.analysis.trace`).
        layer: a leaf module's name, or None for every call.

    Raises:
        TypeError: ``layer`` is not a str or None.
        ValueError: the trace's input is not 4-D, ``layer`` is not a leaf
            module that ran, or a field up to it cannot be followed.
    """
    _check_arguments(trace.input_size, layer)
    calls = trace.calls
    if layer is not None:
        names = [c.name for c in calls]
        if layer not in names:
            raise ValueError(
                f"{_FUNC}: layer {layer!r} is not a leaf module that ran; leaf modules are {names}"
            )
        calls = calls[: max(i for i, name in enumerate(names) if name == layer) + 1]
    # Maps up to the selection; a problem after it does not matter.
    maps = []
    for call in calls:
        out, entering = call.output_field, call.input_field
        if out is not None and out.problem:
            raise ValueError(f"{_FUNC}: cannot follow the receptive field through {out.problem}")
        if (
            layer is None
            and entering is not None
            and entering.axes is not None
            and not entering.problem
            and out is not None
            and out.axes is None
        ):
            maps.append(FeatureMap(call, entering=True))
        maps.append(FeatureMap(call))
    return maps


def _square(value: tuple[int, int]) -> int | tuple[int, int]:
    return value[0] if value[0] == value[1] else value


@dataclass(frozen=True)
class ReceptiveField:
    """Per-layer receptive fields of a model for one input size.

    ``size``, ``stride`` and ``padding`` describe the selected layer: the one
    given as ``layer=``, else the deepest layer whose output still has spatial
    extent. They are ints for square fields and ``(height, width)`` otherwise.
    """

    rows: list[ReceptiveFieldRow]
    layer: str

    @classmethod
    def from_trace(cls, trace: Trace, layer: str | None = None) -> ReceptiveField:
        """The fields of a traced forward pass; ``layer`` as in :func:`receptive_field`.

        Raises:
            TypeError: ``layer`` is not a str or None.
            ValueError: as :func:`receptive_field`.
        """
        rows = [feature.row for feature in feature_maps(trace, layer)]
        spatial = [row for row in rows if row.size is not None]
        if not spatial:
            raise ValueError(f"{_FUNC}: no layer of the model has an output with spatial extent")
        if layer is None:
            return cls(rows=rows, layer=spatial[-1].name)
        if rows[-1].size is None:
            raise ValueError(f"{_FUNC}: the output of layer {layer!r} has no spatial extent")
        return cls(rows=rows, layer=layer)

    def _selected(self) -> ReceptiveFieldRow:
        return next(row for row in reversed(self.rows) if row.name == self.layer)

    @property
    def size(self) -> int | tuple[int, int]:
        return _square(self._selected().size)  # type: ignore[arg-type]

    @property
    def stride(self) -> int | tuple[int, int]:
        return _square(self._selected().effective_stride)  # type: ignore[arg-type]

    @property
    def padding(self) -> int | tuple[int, int]:
        return _square(self._selected().effective_padding)  # type: ignore[arg-type]

    @property
    def aligned(self) -> bool:
        return self._selected().aligned

    def __str__(self) -> str:
        rows = [
            ("layer", "type", "kernel", "stride", "size", "eff. stride", "eff. padding", "note")
        ]
        for r in self.rows:
            if r.size is None:
                continue
            note = "" if r.aligned else "paths not aligned"
            rows.append((
                r.name, r.type, pair_text(r.kernel), pair_text(r.stride), pair_text(r.size),
                pair_text(r.effective_stride), pair_text(r.effective_padding), note,
            ))  # fmt: skip
        return text_table(rows, right={2, 3, 4, 5, 6})


def receptive_field(
    model: nn.Module, input_size: Sequence[int], layer: str | None = None
) -> ReceptiveField:
    """Theoretical receptive field at the output of every layer of ``model``.

    Follows every operation of one forward pass (functional ones too), so
    residual additions, concatenations (Inception, DenseNet), channel splits
    and shuffles and pooling are all accounted for. Where paths meet, the
    field is the union of theirs; ``aligned`` is False in a row where their
    centres differ. Global-context branches (a squeeze-and-excitation gate)
    scale a feature map without widening its field; such rows carry
    ``global_context=True``.

    Args:
        model: the network.
        input_size: ``(N, C, H, W)``.
        layer: a leaf module's name (as in ``model.named_modules()``) to select;
            default: the last feature map in execution order that still has
            spatial extent — a layer's output, or the input of a layer that
            removes the extent (global pooling, flattening), named ``"<layer> (input)"``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``, or ``layer`` is not a str.
        ValueError: ``input_size`` is not 4-D, the input does not fit the
            model, ``layer`` is not a leaf module that ran, it has no spatial
            extent, or the field cannot be followed (transposed convolutions,
            upsampling, adaptive pooling with unequal windows, paths of
            different effective strides meeting).
    """
    shape = _check_input_size(_FUNC, input_size)
    _check_arguments(input_size, layer)
    return ReceptiveField.from_trace(_trace(_FUNC, model, shape), layer)
