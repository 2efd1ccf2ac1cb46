"""The trace: one forward pass that records every operation and every leaf-module call.

:func:`trace` runs a model once on zeros and returns a :class:`Trace`; the
counts, the receptive fields and the summary of :mod:`cnnlib.analysis` are all
read from it. Operations are seen through a
:class:`~torch.overrides.TorchFunctionMode` (so functional code counts too),
module calls through forward hooks; :mod:`cnnlib.analysis.rules` says what
each operation does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnlib._inputs import forward_checked
from cnnlib.analysis.arithmetic import _is_int
from cnnlib.analysis.fields import AxisField, TensorField, Window
from cnnlib.analysis.formulas import _check_module, _has_closed_form, _is_deform_conv, _module_macs
from cnnlib.analysis.rules import (
    ADAPTIVE_POOLS,
    ELEMENTWISE_KINDS,
    MATMUL,
    SPATIAL_REDUCTIONS,
    VIEW,
    WINDOW_POOLS,
    OpCall,
    call_window,
    propagate,
)

__all__ = ["trace", "Trace", "LayerCall", "Operation"]

# Calls that only ask about a tensor: not operations.
_QUERIES = {"__get__", "dim", "size", "numel", "is_contiguous", "__len__"}


@dataclass(frozen=True)
class Operation:
    """One torch operation of the forward pass and what it cost.

    Attributes:
        name: the operation (``"conv2d"``, ``"add"``, ``"matmul"``, ...).
        module: the leaf module it ran in, None outside any.
        macs: MACs of a matrix product made outside the convolution and linear
            modules (those are counted per call, :attr:`LayerCall.macs`); else 0.
        elementwise_kind: ``"normalization"``, ``"activation"``, ``"addition"``,
            ``"multiplication"``, ``"pooling"`` or None.
        elementwise: element-wise operations of that kind.
        memory_read: tensor elements read (inputs and weights; 0 for a view).
        memory_written: tensor elements written (0 for a view).
    """

    name: str
    module: str | None
    macs: int
    elementwise_kind: str | None
    elementwise: int
    memory_read: int
    memory_written: int


@dataclass(frozen=True)
class LayerCall:
    """One call of a leaf module during the trace, in the order the calls finished.

    Attributes:
        name: the module's name in ``model.named_modules()`` (its class name
            for the model itself).
        module: the module.
        input_shape: shape of the tensor entering it (the first input that
            depends on the image, else the first tensor input); ``()`` if none.
        output_shape: shape of its (first) output tensor; ``()`` if none.
        params: parameter elements of the module itself.
        macs: MACs of the call by closed form (convolutions, linear layers),
            0 if the operations inside counted them.
        window: kernel, stride, padding and dilation of a 2-D convolution or
            pooling module, None for other modules.
        input_field: receptive field of the entering tensor, None if no input
            depends on the image.
        output_field: receptive field of the output, None without an output tensor.
        memory_access: elements read and written by the operations inside the call.
    """

    name: str
    module: nn.Module
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    window: Window | None
    input_field: TensorField | None
    output_field: TensorField | None
    memory_access: int


@dataclass(frozen=True)
class Trace:
    """What one forward pass of ``model`` on zeros of ``input_size`` recorded.

    Attributes:
        model: the traced model.
        input_size: the input shape, batch dimension included.
        calls: every leaf-module call, in the order the calls finished.
        operations: every torch operation, in execution order.
    """

    model: nn.Module
    input_size: tuple[int, ...]
    calls: tuple[LayerCall, ...]
    operations: tuple[Operation, ...]

    @property
    def macs(self) -> int:
        """Leaf modules by closed form, plus matrix products made outside them."""
        return sum(c.macs for c in self.calls) + sum(op.macs for op in self.operations)


def _tensors(value: object) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _matmul_macs(op: OpCall) -> int:
    """MACs of a matrix product from its operand shapes (bias excluded)."""
    if op.name == "linear":
        weight = op.arg(1, "weight")
        assert isinstance(weight, torch.Tensor)
        return op.out.numel() * weight.shape[1]
    if op.name == "einsum":
        raise ValueError("count_macs: torch.einsum outside a known module is not supported")
    a, b = op.args[1:3] if op.name in ("addmm", "baddbmm") else op.args[:2]
    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
    inner = a.shape[-1] if a.ndim else 1
    return op.out.numel() * inner


def _module_window(module: nn.Module) -> Window | None:
    """The window of a 2-D convolution or pooling module, from its attributes."""
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) or _is_deform_conv(module):
        return Window.of(
            module.kernel_size, module.stride, module.padding, getattr(module, "dilation", 1)
        )
    return None


class _Tracer(TorchFunctionMode):
    """Records, for every operation, its cost and the receptive field of its outputs."""

    def __init__(self, x: torch.Tensor, names: dict[nn.Module, str]) -> None:
        super().__init__()
        self.names = names
        if x.ndim == 4:
            axes = (AxisField(1, 1, 0), AxisField(1, 1, 0))
            start = TensorField(axes, (int(x.shape[-2]), int(x.shape[-1])))
        else:
            start = TensorField(None, None, problem="the input is not (N, C, H, W)")
        self.fields: dict[int, TensorField] = {id(x): start}
        self.keep: list[torch.Tensor] = [x]  # keeps ids unique while the trace runs
        self.ops: list[Operation] = []
        self.calls: list[LayerCall] = []
        # For each module being run: its name, whether a closed form counts its
        # MACs, and how many operations had been recorded when it started.
        self.stack: list[str] = []
        self.closed_form: list[bool] = []
        self.entries: list[int] = []

    def field_of(self, tensor: torch.Tensor) -> TensorField:
        # A tensor that did not come from the input (parameters, constants) has no field.
        return self.fields.get(id(tensor), TensorField(None, None))

    def _cost(self, op: OpCall) -> Operation:
        name, out, inputs = op.name, op.out, op.inputs
        macs = _matmul_macs(op) if name in MATMUL and not any(self.closed_form) else 0
        kind = ELEMENTWISE_KINDS.get(name)
        elements = out.numel() if kind else 0
        if name in WINDOW_POOLS:
            kind, elements = "pooling", out.numel() * math.prod(call_window(op).kernel)
        elif name in ADAPTIVE_POOLS or (name in SPATIAL_REDUCTIONS and inputs):
            kind, elements = "pooling", inputs[0].numel()
        moved = name not in VIEW  # views move no data
        read = sum(t.numel() for t in inputs) if moved else 0
        written = out.numel() if moved else 0
        module = self.stack[-1] if self.stack else None
        return Operation(name, module, macs, kind, elements, read, written)

    def __torch_function__(  # type: ignore[override]
        self, func: Callable, types: tuple, args: tuple = (), kwargs: dict | None = None
    ) -> object:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in _QUERIES:
            return func(*args, **kwargs)
        inputs = _tensors(args) + _tensors(kwargs)
        result = func(*args, **kwargs)
        outputs = _tensors(result)
        if not outputs or (name == "contiguous" and outputs[0] is inputs[0]):
            return result  # nothing computed (contiguous() on a contiguous tensor returns it)
        for out in outputs:
            data = [t for t in inputs if id(t) in self.fields]
            if data:  # else it does not depend on the image (weights, constants)
                fields = [self.fields[id(t)] for t in data]
                self.fields[id(out)] = propagate(OpCall(name, args, kwargs, inputs, out), fields)
                self.keep.append(out)
        self.ops.append(self._cost(OpCall(name, args, kwargs, inputs, outputs[0])))
        return result

    # -- forward hooks of the leaf modules --------------------------------------------
    def enter(self, module: nn.Module, inputs: tuple[object, ...]) -> None:
        self.stack.append(self.names[module] or type(module).__name__)
        self.closed_form.append(_has_closed_form(module))
        self.entries.append(len(self.ops))

    def leave(self, module: nn.Module, inputs: tuple[object, ...], output: object) -> None:
        name = self.stack.pop()
        self.closed_form.pop()
        ops = self.ops[self.entries.pop() :]
        tensors = _tensors(inputs)
        data = [t for t in tensors if id(t) in self.fields]
        entering = data[0] if data else next(iter(tensors), None)
        out = output if isinstance(output, torch.Tensor) else next(iter(_tensors(output)), None)
        traced_macs = any(op.macs for op in ops)
        self.calls.append(
            LayerCall(
                name=name,
                module=module,
                input_shape=tuple(entering.shape) if entering is not None else (),
                output_shape=tuple(out.shape) if out is not None else (),
                params=sum(p.numel() for p in module.parameters(recurse=False)),
                macs=0 if traced_macs else _module_macs(module, inputs, output),
                window=_module_window(module),
                input_field=self.fields[id(data[0])] if data else None,
                output_field=self.field_of(out) if out is not None else None,
                memory_access=sum(op.memory_read + op.memory_written for op in ops),
            )
        )


def _check_input_size(func: str, input_size: object) -> tuple[int, ...]:
    if (
        isinstance(input_size, Sequence)
        and not isinstance(input_size, str)
        and len(input_size) >= 2
        and all(_is_int(v) and v >= 1 for v in input_size)
    ):
        return tuple(int(v) for v in input_size)
    raise ValueError(
        f"{func}: input_size must be the full input shape including the batch "
        f"dimension, a sequence of at least two positive ints such as (1, 3, 224, 224); "
        f"got {input_size!r}"
    )


def _trace(func: str, model: nn.Module, input_size: Sequence[int]) -> Trace:
    """:func:`trace`, with errors that start with ``func`` (the public function called)."""
    _check_module(func, model)
    shape = _check_input_size(func, input_size)
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    x = torch.zeros(shape, device=device, dtype=dtype)
    tracer = _Tracer(x, {module: name for name, module in model.named_modules()})
    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    handles = [m.register_forward_pre_hook(tracer.enter) for m in leaves]
    handles += [m.register_forward_hook(tracer.leave) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), tracer:
            forward_checked(func, model, x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return Trace(model, shape, tuple(tracer.calls), tuple(tracer.ops))


def trace(model: nn.Module, input_size: Sequence[int]) -> Trace:
    """Run ``model`` once on zeros of ``input_size`` and record every operation and call.

    The one forward pass behind every analysis (see :mod:`cnnlib.analysis`):
    in eval mode, under ``torch.no_grad``, on the device and dtype of the
    model's parameters. Read the result with :meth:`Summary.from_trace
    <cnnlib.analysis.Summary.from_trace>`, :meth:`ReceptiveField.from_trace
    <cnnlib.analysis.ReceptiveField.from_trace>`, :attr:`Trace.macs` and the
    reports' ``from_trace``, instead of tracing again for each.

    Args:
        model: the network.
        input_size: the full input shape, batch dimension included.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_size`` is not a shape with a batch dimension, the
            input does not fit the model (the message names the builder
            argument to change, such as ``in_channels`` or ``small_input``), or
            the model contains a module with parameters and no known MAC formula.
    """
    return _trace("trace", model, input_size)
