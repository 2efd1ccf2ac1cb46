"""Exact counts for convolutional networks: conv arithmetic, parameters, MACs,
FLOPs, memory access cost and receptive fields.

Conventions, stated once and used everywhere in the book:

* **MACs** are multiply–accumulate operations of convolutions, linear layers
  and matrix products, bias additions excluded. This is torchvision's ``_ops``
  convention and equals half the total of
  :class:`torch.utils.flop_counter.FlopCounterMode`. **FLOPs** are ``2 × MACs``.
  Element-wise work (batch norm, activations, pooling, additions) is reported
  separately by :func:`count_flops`, never mixed into MACs.
* **Memory access cost** (:func:`memory_access_cost`) is ShuffleNetV2's "MAC":
  tensor elements read and written. It never shares the name MACs.
* ``input_size`` is the full input shape **including the batch dimension**
  (torchinfo's convention), so counts are for the whole batch.
* **Receptive fields** follow Araujo, Norris and Sim (Distill, 2019): per
  spatial axis, ``r ← r + (k_eff − 1)·j``, ``j ← j·s`` and the start of the
  first unit's field ``start ← start − p·j``, with ``k_eff = d(k − 1) + 1``.
  Where paths meet (additions, concatenations) the field is the union of the
  paths' fields, which is their maximum when the paths are aligned.

Every analysis runs one forward pass on zeros of ``input_size`` in eval mode
under ``torch.no_grad``, on the device and dtype of the model's parameters; a
model on the ``meta`` device is analysed without any arithmetic.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Union, overload

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "pool_output_size",
    "conv_params",
    "conv_macs",
    "linear_params",
    "linear_macs",
    "count_params",
    "count_macs",
    "count_flops",
    "FlopReport",
    "memory_access_cost",
    "MemoryAccessReport",
    "AxisField",
    "receptive_field",
    "ReceptiveField",
    "ReceptiveFieldRow",
    "summary",
    "Summary",
    "SummaryRow",
]

IntOrPair = Union[int, Sequence[int]]


# ---------------------------------------------------------------------------
# Convolution arithmetic
# ---------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _per_axis(func: str, arg: str, value: IntOrPair, axes: int) -> tuple[int, ...]:
    """Broadcast an int to ``axes`` axes, or check a sequence has that many ints."""
    if _is_int(value):
        return (int(value),) * axes  # type: ignore[arg-type]
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == axes and all(_is_int(v) for v in value):
            return tuple(int(v) for v in value)
    raise TypeError(f"{func}: {arg} must be an int or a sequence of {axes} ints, got {value!r}")


def _axes(func: str, args: dict[str, object], minimum: dict[str, int]) -> tuple[dict[str, tuple[int, ...]], bool]:
    """Validate per-axis arguments: same length, ints, at least their minimum.

    Returns the arguments broadcast per axis, and whether every argument was an int.
    """
    lengths = {len(v) for v in args.values() if isinstance(v, Sequence) and not isinstance(v, str)}
    if len(lengths) > 1:
        raise TypeError(
            f"{func}: per-axis arguments must all have the same length, got "
            + ", ".join(f"{k}={v!r}" for k, v in args.items())
        )
    axes = lengths.pop() if lengths else 1
    if axes == 0:
        raise TypeError(f"{func}: per-axis arguments must not be empty, got {args!r}")
    per_axis = {k: _per_axis(func, k, v, axes) for k, v in args.items()}  # type: ignore[arg-type]
    for name, low in minimum.items():
        if any(value < low for value in per_axis[name]):
            raise ValueError(f"{func}: {name} must be >= {low}, got {args[name]!r}")
    return per_axis, all(_is_int(v) for v in args.values())


@overload
def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int: ...
@overload
def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> int | tuple[int, ...]: ...
def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> int | tuple[int, ...]:
    r"""Spatial output size of a convolution, per axis.

    .. math:: o = \left\lfloor \frac{i + 2p - d(k-1) - 1}{s} \right\rfloor + 1

    Each argument is an int or a sequence with one int per spatial axis (ints
    are broadcast). Returns an int when every argument is an int, else a tuple.

    Raises:
        TypeError: an argument is not an int or a sequence of ints of matching length.
        ValueError: an argument is out of range (``size``, ``kernel_size``,
            ``stride`` and ``dilation`` must be ≥ 1, ``padding`` ≥ 0), or the
            dilated kernel ``d(k-1)+1`` is larger than the padded input
            ``i + 2p`` — the cases where :class:`torch.nn.Conv2d` raises.
    """
    func = "conv_output_size"
    args = {"size": size, "kernel_size": kernel_size, "stride": stride, "padding": padding, "dilation": dilation}
    per_axis, all_ints = _axes(
        func, args, {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    )
    result = []
    for i, k, s, p, d in zip(*per_axis.values()):
        extent = d * (k - 1) + 1
        if extent > i + 2 * p:
            raise ValueError(
                f"{func}: kernel_size {k} with dilation {d} spans {extent} pixels, more "
                f"than the padded input size {i} + 2*{p} = {i + 2 * p}; kernel_size must "
                f"satisfy dilation*(kernel_size-1)+1 <= size + 2*padding"
            )
        result.append((i + 2 * p - extent) // s + 1)
    return result[0] if all_ints else tuple(result)


def conv_transpose_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> int | tuple[int, ...]:
    r"""Spatial output size of a transposed convolution, per axis.

    .. math:: o = (i - 1)s - 2p + d(k - 1) + p_{out} + 1

    Raises:
        TypeError: an argument is not an int or a sequence of ints of matching length.
        ValueError: an argument is out of range, ``output_padding`` is not
            smaller than ``stride`` or ``dilation``, or the output would be
            empty. :class:`torch.nn.ConvTranspose2d` raises in the same cases,
            except that for an output of exactly 0 pixels some of its kernels
            return an empty tensor instead.
    """
    func = "conv_transpose_output_size"
    args = {
        "size": size, "kernel_size": kernel_size, "stride": stride, "padding": padding,
        "output_padding": output_padding, "dilation": dilation,
    }  # fmt: skip
    per_axis, all_ints = _axes(
        func,
        args,
        {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "output_padding": 0, "dilation": 1},
    )
    result = []
    for i, k, s, p, op, d in zip(*per_axis.values()):
        if op >= max(s, d):
            raise ValueError(
                f"{func}: output_padding must be smaller than stride or dilation, got "
                f"output_padding={op}, stride={s}, dilation={d}"
            )
        out = (i - 1) * s - 2 * p + d * (k - 1) + op + 1
        if out < 1:
            raise ValueError(
                f"{func}: padding {p} leaves no output ({out} pixels): padding must satisfy "
                f"2*padding <= (size-1)*stride + dilation*(kernel_size-1) + output_padding"
            )
        result.append(out)
    return result[0] if all_ints else tuple(result)


def pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> int | tuple[int, ...]:
    r"""Spatial output size of max or average pooling, per axis.

    .. math:: o = \left\lfloor \text{or} \left\lceil \frac{i + 2p - d(k-1) - 1}{s} \right\rceil \right. + 1

    ``stride`` defaults to ``kernel_size`` (as in PyTorch). With ``ceil_mode``
    the division rounds up, but a last window that would start in the right
    padding is dropped. Average pooling has no dilation (leave it at 1).

    Raises:
        TypeError: an argument is malformed, or ``ceil_mode`` is not a bool.
        ValueError: an argument is out of range, ``padding`` exceeds half the
            kernel size, or the output would be empty — the cases where
            :class:`torch.nn.MaxPool2d` raises.
    """
    func = "pool_output_size"
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{func}: ceil_mode must be a bool, got {ceil_mode!r}")
    args = {
        "size": size, "kernel_size": kernel_size, "stride": kernel_size if stride is None else stride,
        "padding": padding, "dilation": dilation,
    }  # fmt: skip
    per_axis, all_ints = _axes(
        func, args, {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    )
    result = []
    for i, k, s, p, d in zip(*per_axis.values()):
        if p > k // 2:
            raise ValueError(
                f"{func}: padding must be at most half the kernel size, got padding={p}, "
                f"kernel_size={k}"
            )
        span = i + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= i + p:
            out -= 1
        if out < 1:
            raise ValueError(
                f"{func}: kernel_size {k} with dilation {d} does not fit the padded input "
                f"{i} + 2*{p}: the output would be empty"
            )
        result.append(out)
    return result[0] if all_ints else tuple(result)


# ---------------------------------------------------------------------------
# Closed forms for one layer
# ---------------------------------------------------------------------------


def _positive(func: str, name: str, value: object) -> int:
    if not _is_int(value) or value < 1:  # type: ignore[operator]
        raise ValueError(f"{func}: {name} must be a positive int, got {value!r}")
    return int(value)  # type: ignore[arg-type]


def _check_groups(func: str, in_channels: int, out_channels: int, groups: object) -> int:
    groups = _positive(func, "groups", groups)
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{func}: groups must divide in_channels ({in_channels}) and out_channels "
            f"({out_channels}), got groups={groups}"
        )
    return groups


def _kernel(func: str, kernel_size: IntOrPair) -> tuple[int, ...]:
    if _is_int(kernel_size):
        kernel: tuple[int, ...] = (int(kernel_size),) * 2  # type: ignore[arg-type]
    elif isinstance(kernel_size, Sequence) and not isinstance(kernel_size, str) and kernel_size:
        kernel = _per_axis(func, "kernel_size", kernel_size, len(kernel_size))
    else:
        raise TypeError(f"{func}: kernel_size must be an int or a sequence of ints, got {kernel_size!r}")
    if min(kernel) < 1:
        raise ValueError(f"{func}: kernel_size must be positive, got {kernel_size!r}")
    return kernel


def conv_params(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrPair,
    *,
    groups: int = 1,
    bias: bool = True,
) -> int:
    r"""Parameters of a convolution: :math:`k_h k_w \frac{C_{in}}{g} C_{out} + C_{out}` (bias).

    ``kernel_size`` is an int (square) or one int per spatial axis.

    Raises:
        ValueError: a size is not a positive int, or ``groups`` does not divide
            both channel counts.
        TypeError: ``kernel_size`` is malformed or ``bias`` is not a bool.
    """
    func = "conv_params"
    c_in = _positive(func, "in_channels", in_channels)
    c_out = _positive(func, "out_channels", out_channels)
    g = _check_groups(func, c_in, c_out, groups)
    kernel = _kernel(func, kernel_size)
    if not isinstance(bias, bool):
        raise TypeError(f"{func}: bias must be a bool, got {bias!r}")
    return math.prod(kernel) * (c_in // g) * c_out + (c_out if bias else 0)


def conv_macs(
    in_channels: int,
    out_channels: int,
    kernel_size: IntOrPair,
    output_size: IntOrPair,
    *,
    groups: int = 1,
) -> int:
    r"""MACs of a convolution for one sample: :math:`H_{out} W_{out} k_h k_w \frac{C_{in}}{g} C_{out}`.

    ``output_size`` is the spatial size of the output (see :func:`conv_output_size`).

    Raises:
        ValueError: a size is not a positive int, or ``groups`` does not divide
            both channel counts.
        TypeError: ``kernel_size`` or ``output_size`` is malformed.
    """
    func = "conv_macs"
    c_in = _positive(func, "in_channels", in_channels)
    c_out = _positive(func, "out_channels", out_channels)
    g = _check_groups(func, c_in, c_out, groups)
    kernel = _kernel(func, kernel_size)
    if _is_int(output_size):
        output = (int(output_size),) * len(kernel)  # type: ignore[arg-type]
    else:
        output = _per_axis(func, "output_size", output_size, len(kernel))
    if min(output) < 1:
        raise ValueError(f"{func}: output_size must be positive, got {output_size!r}")
    return math.prod(output) * math.prod(kernel) * (c_in // g) * c_out


def linear_params(in_features: int, out_features: int, *, bias: bool = True) -> int:
    r"""Parameters of a linear layer: :math:`n_{in} n_{out} + n_{out}` (bias)."""
    func = "linear_params"
    n_in = _positive(func, "in_features", in_features)
    n_out = _positive(func, "out_features", out_features)
    if not isinstance(bias, bool):
        raise TypeError(f"{func}: bias must be a bool, got {bias!r}")
    return n_in * n_out + (n_out if bias else 0)


def linear_macs(in_features: int, out_features: int) -> int:
    r"""MACs of a linear layer for one input vector: :math:`n_{in} n_{out}`."""
    func = "linear_macs"
    return _positive(func, "in_features", in_features) * _positive(func, "out_features", out_features)


def _check_module(func: str, model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def count_params(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameter elements in ``model`` (shared parameters counted once).

    Args:
        model: any module.
        trainable_only: count only parameters with ``requires_grad``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
    """
    _check_module("count_params", model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# ---------------------------------------------------------------------------
# Receptive-field records carried by tensors during a trace
# ---------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Field:
    """What the trace knows about a tensor's dependence on the input's pixels.

    ``axes`` is None for a tensor without spatial extent (after global pooling
    or flattening). ``problem`` names an operation the receptive field cannot
    be followed through; it is raised only when someone asks for the field.
    """

    axes: tuple[AxisField, AxisField] | None
    shape: tuple[int, int] | None
    aligned: bool = True
    global_context: bool = False
    problem: str | None = None


def _merge(fields: list[_Field], shape: tuple[int, int] | None, op: str) -> _Field:
    """Union of the fields of tensors that meet in one element-wise operation."""
    problems = [f.problem for f in fields if f.problem]
    if problems:
        return _Field(None, shape, problem=problems[0])
    spatial = [f for f in fields if f.axes is not None]
    global_context = any(f.global_context for f in fields) or len(spatial) < len(fields)
    if not spatial:
        return _Field(None, shape, global_context=True)
    axes = []
    aligned = all(f.aligned for f in spatial)
    for axis in range(2):
        parts = [f.axes[axis] for f in spatial]  # type: ignore[index]
        strides = {p.stride for p in parts}
        if len(strides) > 1:
            return _Field(
                None, shape, problem=f"{op} joins paths with different effective strides {sorted(strides)}"
            )
        start = min(p.start for p in parts)
        end = max(p.start + p.size for p in parts)
        aligned = aligned and len({p.center for p in parts}) == 1
        axes.append(AxisField(size=end - start, stride=parts[0].stride, start=start))
    return _Field((axes[0], axes[1]), shape, aligned=aligned, global_context=global_context)


def _crop(field: _Field, index: object, shape: tuple[int, int]) -> _Field:
    """The field after indexing a (N, C, H, W) tensor with slices (a crop)."""
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + [slice(None)] * (4 - len(items) + 1) + items[at + 1 :]
    items += [slice(None)] * (4 - len(items))
    assert field.axes is not None and field.shape is not None
    axes = []
    for axis, (item, size) in enumerate(zip(items[2:4], field.shape)):
        if not isinstance(item, slice) or item.step not in (None, 1):
            return _Field(None, shape, problem=f"indexing {index!r} on a spatial axis")
        begin = range(size)[item][0] if len(range(size)[item]) else 0
        f = field.axes[axis]
        axes.append(AxisField(f.size, f.stride, f.start + begin * f.stride))
    return replace(field, axes=(axes[0], axes[1]), shape=shape)


# ---------------------------------------------------------------------------
# The trace: one forward pass that sees every operation
# ---------------------------------------------------------------------------

_NORMALIZATION = {"batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm"}
_ACTIVATION = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "sigmoid", "sigmoid_", "tanh", "tanh_",
    "silu", "gelu", "hardswish", "hardsigmoid", "leaky_relu", "leaky_relu_", "elu", "elu_",
    "selu", "mish", "softmax", "log_softmax", "softplus", "threshold", "threshold_", "prelu",
}  # fmt: skip
_ADDITION = {"add", "add_", "__add__", "__iadd__", "__radd__", "sub", "sub_", "__sub__", "__isub__", "__rsub__"}
_MULTIPLICATION = {
    "mul", "mul_", "__mul__", "__imul__", "__rmul__", "div", "div_", "__truediv__", "__itruediv__",
}  # fmt: skip
_WINDOW_POOLS = {"max_pool2d", "avg_pool2d", "max_pool2d_with_indices", "_max_pool2d", "lp_pool2d"}
_ADAPTIVE_POOLS = {"adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices"}
_SPATIAL_REDUCTIONS = {"mean", "amax", "amin", "sum", "max", "min", "std", "var"}
_CONCAT = {"cat", "concat", "concatenate", "stack"}
_VIEW = {
    "view", "reshape", "transpose", "permute", "flatten", "unflatten", "chunk", "split",
    "narrow", "__getitem__", "squeeze", "unsqueeze", "expand", "expand_as", "view_as",
    "reshape_as", "detach", "dropout", "dropout2d", "alpha_dropout", "feature_alpha_dropout",
}  # fmt: skip
_MATMUL = {"matmul", "mm", "bmm", "addmm", "baddbmm", "__matmul__", "linear", "einsum"}
_CONVOLUTIONS = {"conv1d", "conv2d", "conv3d"}
_TRANSPOSED = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: object = None) -> object:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _pair(value: object) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[-1])) if len(value) else (0, 0)
    return (int(value), int(value))  # type: ignore[arg-type]


def _tensors(value: object) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _matmul_macs(name: str, args: tuple, kwargs: dict, output: torch.Tensor) -> int:
    """MACs of a matrix product from its operand shapes (bias excluded)."""
    if name == "linear":
        weight = _arg(args, kwargs, 1, "weight")
        assert isinstance(weight, torch.Tensor)
        return output.numel() * weight.shape[1]
    if name == "einsum":
        raise ValueError("count_macs: torch.einsum outside a known module is not supported")
    if name in ("addmm", "baddbmm"):
        a, b = args[1], args[2]
    else:
        a, b = args[0], args[1]
    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
    inner = a.shape[-1] if a.ndim else 1
    return output.numel() * inner


def _window_args(name: str, args: tuple, kwargs: dict) -> tuple[tuple[int, int], ...]:
    """(kernel, stride, padding, dilation) per axis of a convolution or pooling call."""
    if name in _CONVOLUTIONS:
        weight = _arg(args, kwargs, 1, "weight")
        assert isinstance(weight, torch.Tensor)
        kernel = (int(weight.shape[-2]), int(weight.shape[-1]))
        stride = _pair(_arg(args, kwargs, 3, "stride", 1))
        padding_arg = _arg(args, kwargs, 4, "padding", 0)
        dilation = _pair(_arg(args, kwargs, 5, "dilation", 1))
        if padding_arg == "valid":
            padding = (0, 0)
        elif padding_arg == "same":
            padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))  # type: ignore[assignment]
        else:
            padding = _pair(padding_arg)
        return kernel, stride, padding, dilation
    kernel = _pair(_arg(args, kwargs, 1, "kernel_size"))
    stride_arg = _arg(args, kwargs, 2, "stride", None)
    stride = kernel if stride_arg is None or stride_arg == [] or stride_arg == () else _pair(stride_arg)
    padding = _pair(_arg(args, kwargs, 3, "padding", 0))
    dilation = (1, 1) if name == "avg_pool2d" else _pair(_arg(args, kwargs, 4, "dilation", 1))
    return kernel, stride, padding, dilation


@dataclass
class _OpRecord:
    """One traced operation: where it ran and what it cost."""

    name: str
    module: str | None
    macs: int
    elementwise_kind: str | None
    elementwise: int
    memory_read: int
    memory_written: int


@dataclass
class _ModuleCall:
    name: str
    module: nn.Module
    output_shape: tuple[int, ...]
    params: int
    macs: int
    field: _Field | None
    input_field: _Field | None
    window: tuple[tuple[int, int], ...] | None
    memory_access: int = 0


class _Trace(TorchFunctionMode):
    """Runs a model once and records, for every operation, its cost and receptive field."""

    def __init__(self, model: nn.Module, x: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.fields: dict[int, _Field] = {id(x): _Field(
            (AxisField(1, 1, 0), AxisField(1, 1, 0)), (int(x.shape[-2]), int(x.shape[-1]))
        )} if x.ndim == 4 else {id(x): _Field(None, None, problem="the input is not (N, C, H, W)")}
        self.keep: list[torch.Tensor] = [x]  # keeps ids unique while the trace runs
        self.ops: list[_OpRecord] = []
        self.calls: list[_ModuleCall] = []
        self.stack: list[str] = []
        # For each module being run: does a closed form count its MACs, and how
        # many operations had been recorded when it started?
        self.closed_form: list[bool] = []
        self.entries: list[int] = []

    # -- receptive fields --------------------------------------------------
    def field_of(self, tensor: torch.Tensor) -> _Field:
        found = self.fields.get(id(tensor))
        if found is not None:
            return found
        # A tensor that did not come from the input (parameters, constants).
        return _Field(None, None, global_context=False)

    def _set(self, tensor: torch.Tensor, value: _Field) -> None:
        self.fields[id(tensor)] = value
        self.keep.append(tensor)

    def _propagate(self, name: str, args: tuple, kwargs: dict, inputs: list[torch.Tensor], out: torch.Tensor) -> None:
        data_inputs = [t for t in inputs if id(t) in self.fields]
        if not data_inputs:
            return  # does not depend on the input image (weights, constants)
        spatial_out = (int(out.shape[-2]), int(out.shape[-1])) if out.ndim >= 3 else None
        first = self.field_of(data_inputs[0])
        if first.problem:
            self._set(out, replace(first, shape=spatial_out))
            return
        if name in _CONVOLUTIONS or name in _WINDOW_POOLS:
            if first.axes is None:  # e.g. a 1x1 convolution inside a squeeze-excitation gate
                self._set(out, _Field(None, spatial_out, global_context=True))
                return
            if out.ndim != 4:
                self._set(out, _Field(None, spatial_out, problem=f"{name} on a tensor that is not (N, C, H, W)"))
                return
            kernel, stride, padding, dilation = _window_args(name, args, kwargs)
            axes = tuple(
                first.axes[a].then(kernel[a], stride[a], padding[a], dilation[a]) for a in range(2)
            )
            self._set(out, replace(first, axes=axes, shape=spatial_out))  # type: ignore[arg-type]
            return
        if name in _ADAPTIVE_POOLS:
            in_shape = first.shape
            if first.axes is None or in_shape is None or spatial_out is None:
                self._set(out, _Field(None, spatial_out, global_context=True))
                return
            if spatial_out == (1, 1):
                self._set(out, _Field(None, None, global_context=True))
                return
            if all(i % o == 0 for i, o in zip(in_shape, spatial_out)):
                window = [i // o for i, o in zip(in_shape, spatial_out)]
                axes = tuple(first.axes[a].then(window[a], window[a], 0) for a in range(2))
                self._set(out, replace(first, axes=axes, shape=spatial_out))  # type: ignore[arg-type]
                return
            self._set(out, _Field(None, spatial_out, problem=(
                f"{name} from {in_shape} to {spatial_out} uses windows of unequal size"
            )))
            return
        if name in _TRANSPOSED:
            self._set(out, _Field(None, spatial_out, problem=f"{name} (a transposed convolution)"))
            return
        if name in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle"):
            self._set(out, _Field(None, spatial_out, problem=f"{name} (upsampling)"))
            return
        if name == "pad":
            pads = list(_arg(args, kwargs, 1, "pad", ()))  # type: ignore[arg-type]
            if first.axes is None or len(pads) < 2:
                self._set(out, replace(first, shape=spatial_out))
                return
            left_w = pads[0]
            top_h = pads[2] if len(pads) >= 4 else 0
            h, w = first.axes
            axes = (
                AxisField(h.size, h.stride, h.start - top_h * h.stride),
                AxisField(w.size, w.stride, w.start - left_w * w.stride),
            )
            self._set(out, replace(first, axes=axes, shape=spatial_out))
            return
        if name in _CONCAT:
            dim = _arg(args, kwargs, 1, "dim", 0)
            if out.ndim == 4 and int(dim) % out.ndim >= 2:  # type: ignore[call-overload]
                self._set(out, _Field(None, spatial_out, problem=f"{name} along a spatial axis"))
                return
            fields = [self.field_of(t) for t in data_inputs]
            self._set(out, _merge(fields, spatial_out, name))
            return
        if name == "__getitem__" and first.axes is not None and spatial_out is not None and out.ndim == 4:
            if first.shape != spatial_out:
                self._set(out, _crop(first, args[1], spatial_out))
                return
        same_spatial = spatial_out is not None and first.shape == spatial_out
        if not same_spatial:
            if (
                first.axes is not None
                and spatial_out is not None
                and out.ndim >= 3
                and name not in _VIEW
                and name not in _SPATIAL_REDUCTIONS
            ):
                self._set(out, _Field(None, spatial_out, problem=f"{name} changes the spatial size"))
            else:
                # Global reductions, flattening, linear layers: no spatial extent left.
                self._set(out, _Field(None, spatial_out, global_context=True))
            return
        fields = [self.field_of(t) for t in data_inputs]
        self._set(out, _merge(fields, spatial_out, name) if len(fields) > 1 else replace(first, shape=spatial_out))

    # -- costs ----------------------------------------------------------------
    def _cost(self, name: str, args: tuple, kwargs: dict, inputs: list[torch.Tensor], out: torch.Tensor) -> None:
        module = self.stack[-1] if self.stack else None
        macs = 0
        if name in _MATMUL and not any(self.closed_form):
            macs = _matmul_macs(name, args, kwargs, out)
        kind, elements = None, 0
        if name in _NORMALIZATION:
            kind, elements = "normalization", out.numel()
        elif name in _ACTIVATION:
            kind, elements = "activation", out.numel()
        elif name in _ADDITION:
            kind, elements = "addition", out.numel()
        elif name in _MULTIPLICATION:
            kind, elements = "multiplication", out.numel()
        elif name in _WINDOW_POOLS:
            kernel = _pair(_arg(args, kwargs, 1, "kernel_size"))
            kind, elements = "pooling", out.numel() * kernel[0] * kernel[1]
        elif name in _ADAPTIVE_POOLS or (name in _SPATIAL_REDUCTIONS and inputs):
            kind, elements = "pooling", inputs[0].numel()
        if name in _VIEW:
            read = written = 0  # views move no data
        else:
            read = sum(t.numel() for t in inputs)
            written = out.numel()
        self.ops.append(_OpRecord(name, module, macs, kind, elements, read, written))

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: dict | None = None):  # type: ignore[override]
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name == "__get__" or name in ("dim", "size", "numel", "is_contiguous", "__len__"):
            return func(*args, **kwargs)
        inputs = _tensors(args) + _tensors(kwargs)
        result = func(*args, **kwargs)
        outputs = _tensors(result)
        if not outputs or (name == "contiguous" and outputs[0] is inputs[0]):
            return result  # nothing computed (contiguous() on a contiguous tensor returns it)
        for out in outputs:
            self._propagate(name, args, kwargs, inputs, out)
        out = outputs[0]
        self._cost(name, args, kwargs, inputs, out)
        return result


def _module_macs(module: nn.Module, inputs: tuple[object, ...], output: object) -> int:
    """MACs of one call of a leaf module; raises for unsupported modules with weights."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        x = inputs[0]
        assert isinstance(x, torch.Tensor)
        # Every input element is multiplied by a (C_out/groups) x k_h x k_w slice.
        per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
        return x.numel() * per_input
    if isinstance(module, nn.modules.conv._ConvNd) or _is_deform_conv(module):
        assert isinstance(output, torch.Tensor)
        # Every output element is a dot product over (C_in/groups) x k_h x k_w inputs.
        spatial = tuple(output.shape[2:])
        batch = output.numel() // (module.out_channels * math.prod(spatial))
        return batch * conv_macs(
            module.in_channels,
            module.out_channels,
            tuple(module.kernel_size),
            spatial,
            groups=module.groups,
        )
    if isinstance(module, nn.Linear):
        assert isinstance(output, torch.Tensor)
        vectors = output.numel() // module.out_features
        return vectors * linear_macs(module.in_features, module.out_features)
    if isinstance(module, _ELEMENTWISE_WITH_PARAMS) or next(module.parameters(recurse=False), None) is None:
        return 0
    raise ValueError(
        f"count_macs: cannot count module {type(module).__name__}: it has parameters "
        "but no known MAC formula (supported: Conv*d, ConvTranspose*d, Linear, "
        "torchvision.ops.DeformConv2d)"
    )


def _has_closed_form(module: nn.Module) -> bool:
    return isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)) or _is_deform_conv(module)


def _is_deform_conv(module: nn.Module) -> bool:
    try:
        from torchvision.ops import DeformConv2d
    except ImportError:  # torchvision is optional for the analysis
        return False
    return isinstance(module, DeformConv2d)


# Modules with parameters that do no multiply–accumulates by convention (their
# work is element-wise): they may appear in a model without making counts wrong.
_ELEMENTWISE_WITH_PARAMS = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.PReLU,
    nn.Embedding,
)


def _window_of(module: nn.Module) -> tuple[tuple[int, int], ...] | None:
    """(kernel, stride, padding, dilation) per axis of a 2-D sliding-window module."""
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) or _is_deform_conv(module):
        kernel = _pair(module.kernel_size)
        stride = _pair(module.stride if module.stride is not None else module.kernel_size)
        padding = _pair(module.padding) if not isinstance(module.padding, str) else (-1, -1)
        dilation = _pair(getattr(module, "dilation", 1))
        return kernel, stride, padding, dilation
    return None


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


def _trace(func: str, model: nn.Module, input_size: Sequence[int]) -> _Trace:
    """Run ``model`` once on zeros of ``input_size`` and record everything."""
    _check_module(func, model)
    shape = _check_input_size(func, input_size)
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    x = torch.zeros(shape, device=device, dtype=dtype)
    trace = _Trace(model, x)
    names = {module: name for name, module in model.named_modules()}
    leaves = [m for m in model.modules() if next(m.children(), None) is None]

    def pre_hook(module: nn.Module, inputs: tuple[object, ...]) -> None:
        trace.stack.append(names[module] or type(module).__name__)
        trace.closed_form.append(_has_closed_form(module))
        trace.entries.append(len(trace.ops))

    def hook(module: nn.Module, inputs: tuple[object, ...], output: object) -> None:
        trace.stack.pop()
        trace.closed_form.pop()
        start = trace.entries.pop()
        traced_macs = any(op.macs for op in trace.ops[start:])
        out = output if isinstance(output, torch.Tensor) else next(iter(_tensors(output)), None)
        memory = sum(op.memory_read + op.memory_written for op in trace.ops[start:])
        trace.calls.append(
            _ModuleCall(
                name=names[module] or type(module).__name__,
                module=module,
                output_shape=tuple(out.shape) if out is not None else (),
                params=sum(p.numel() for p in module.parameters(recurse=False)),
                macs=0 if traced_macs else _module_macs(module, inputs, output),
                field=trace.field_of(out) if out is not None else None,
                input_field=next(
                    (trace.field_of(t) for t in _tensors(inputs) if id(t) in trace.fields), None
                ),
                window=_window_of(module),
                memory_access=memory,
            )
        )

    handles = [m.register_forward_pre_hook(pre_hook) for m in leaves]
    handles += [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), trace:
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return trace


# ---------------------------------------------------------------------------
# MACs and FLOPs
# ---------------------------------------------------------------------------


def _total_macs(trace: _Trace) -> int:
    """Leaf modules by closed form, plus matrix products made outside any leaf module."""
    return sum(c.macs for c in trace.calls) + sum(op.macs for op in trace.ops)


def count_macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply–accumulates of one forward pass on an input of shape ``input_size``.

    Counts convolutions (any groups, stride, dilation, kernel shape), transposed
    convolutions, linear layers and matrix products (``matmul``, ``mm``,
    ``bmm``, ``F.linear`` … called outside those modules); bias additions and
    element-wise layers are not MACs. Equals ``FlopCounterMode`` total / 2 and
    torchvision's ``_ops`` (in GMACs) for batch size 1.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_size`` is not a shape with a batch dimension, or the
            model contains a module with parameters and no known MAC formula.
    """
    return _total_macs(_trace("count_macs", model, input_size))


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

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def elementwise_total(self) -> int:
        return sum(self.elementwise.values())

    def __str__(self) -> str:
        lines = [f"MACs: {self.macs:,}", f"FLOPs (2 x MACs): {self.flops:,}", "element-wise operations:"]
        lines += [f"  {kind}: {count:,}" for kind, count in self.elementwise.items()]
        return "\n".join(lines)


def count_flops(model: nn.Module, input_size: Sequence[int]) -> FlopReport:
    """FLOPs (``2 × MACs``) with element-wise operations reported separately.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: as :func:`count_macs`.
    """
    trace = _trace("count_flops", model, input_size)
    kinds = ("normalization", "activation", "addition", "multiplication", "pooling")
    elementwise = {kind: 0 for kind in kinds}
    for op in trace.ops:
        if op.elementwise_kind:
            elementwise[op.elementwise_kind] += op.elementwise
    return FlopReport(macs=_total_macs(trace), elementwise=elementwise)


# ---------------------------------------------------------------------------
# Memory access cost
# ---------------------------------------------------------------------------


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
    trace = _trace("memory_access_cost", model, input_size)
    per_layer: list[tuple[str, int]] = [(call.name, call.memory_access) for call in trace.calls]
    per_layer += [(op.name, op.memory_read + op.memory_written) for op in trace.ops if op.module is None]
    return MemoryAccessReport(per_layer=[row for row in per_layer if row[1]])


# ---------------------------------------------------------------------------
# Receptive fields
# ---------------------------------------------------------------------------


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
        rows = [("layer", "type", "kernel", "stride", "size", "eff. stride", "eff. padding", "note")]
        for r in self.rows:
            if r.size is None:
                continue
            note = "" if r.aligned else "paths not aligned"
            rows.append((
                r.name, r.type, _fmt(r.kernel), _fmt(r.stride), _fmt(r.size),
                _fmt(r.effective_stride), _fmt(r.effective_padding), note,
            ))  # fmt: skip
        return _text_table(rows, right={2, 3, 4, 5, 6})


def _fmt(value: tuple[int, int] | None) -> str:
    if value is None:
        return ""
    return str(value[0]) if value[0] == value[1] else f"{value[0]}x{value[1]}"


def _field_row(call: _ModuleCall, of_input: bool = False) -> ReceptiveFieldRow:
    window = None if of_input else call.window
    f = call.input_field if of_input else call.field
    if f is not None and f.problem:
        raise ValueError(f"receptive_field: cannot follow the receptive field through {f.problem}")
    has = f is not None and f.axes is not None
    return ReceptiveFieldRow(
        name=f"{call.name} (input)" if of_input else call.name,
        type=type(call.module).__name__,
        kernel=window[0] if window else None,
        stride=window[1] if window else None,
        padding=window[2] if window else None,
        dilation=window[3] if window else None,
        size=(f.axes[0].size, f.axes[1].size) if has else None,  # type: ignore[union-attr,index]
        effective_stride=(f.axes[0].stride, f.axes[1].stride) if has else None,  # type: ignore[union-attr,index]
        effective_padding=(f.axes[0].effective_padding, f.axes[1].effective_padding) if has else None,  # type: ignore[union-attr,index]
        center=(f.axes[0].center, f.axes[1].center) if has else None,  # type: ignore[union-attr,index]
        aligned=f.aligned if f is not None else True,
        global_context=f.global_context if f is not None else False,
    )


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
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_size`` is not 4-D, ``layer`` is not a leaf module
            that ran, it has no spatial extent, or the field cannot be followed
            (transposed convolutions, upsampling, adaptive pooling with unequal
            windows, paths of different effective strides meeting).
    """
    func = "receptive_field"
    shape = _check_input_size(func, input_size)
    if len(shape) != 4:
        raise ValueError(f"{func}: input_size must be (N, C, H, W), got {input_size!r}")
    if layer is not None and not isinstance(layer, str):
        raise TypeError(f"{func}: layer must be a module name (str) or None, got {layer!r}")
    trace = _trace(func, model, shape)
    if layer is not None:
        names = [c.name for c in trace.calls]
        if layer not in names:
            raise ValueError(f"{func}: layer {layer!r} is not a leaf module that ran; leaf modules are {names}")
        index = max(i for i, c in enumerate(trace.calls) if c.name == layer)
        calls = trace.calls[: index + 1]
    else:
        calls = trace.calls
    # Rows up to the selection; a problem after it does not matter.
    rows = []
    for call in calls:
        if call.field is not None and call.field.problem:
            raise ValueError(f"{func}: cannot follow the receptive field through {call.field.problem}")
        entering = call.input_field
        if (
            layer is None
            and entering is not None
            and entering.axes is not None
            and not entering.problem
            and call.field is not None
            and call.field.axes is None
        ):
            # Global pooling or flattening: its input is a spatial map without a row of its own.
            rows.append(_field_row(call, of_input=True))
        rows.append(_field_row(call))
    spatial = [row for row in rows if row.size is not None]
    if not spatial:
        raise ValueError(f"{func}: no layer of the model has an output with spatial extent")
    if layer is not None:
        if rows[-1].size is None:
            raise ValueError(f"{func}: the output of layer {layer!r} has no spatial extent")
        selected = layer
    else:
        selected = spatial[-1].name
    return ReceptiveField(rows=rows, layer=selected)


# ---------------------------------------------------------------------------
# One view of everything
# ---------------------------------------------------------------------------


def _text_table(rows: list[tuple[str, ...]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()

    rule = "-" * len(line(rows[0]))
    return "\n".join([line(rows[0]), rule, *map(line, rows[1:])])


@dataclass(frozen=True)
class SummaryRow:
    """One leaf-module call: name, type, output shape, own parameters, MACs, receptive field."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    receptive_field: tuple[int, int] | None


@dataclass(frozen=True)
class Summary:
    """Per-layer analysis of a model for one input shape.

    Renders as an HTML table in notebooks and as aligned text elsewhere.
    ``total_params`` counts every parameter once (shared ones too);
    ``total_macs`` includes matrix products made outside leaf modules.
    """

    input_size: tuple[int, ...]
    rows: list[SummaryRow] = field(default_factory=list)
    total_params: int = 0
    total_macs: int = 0

    def _cells(self) -> tuple[list[str], list[list[str]], list[str]]:
        header = ["layer", "type", "output shape", "params", "MACs", "receptive field"]
        body = [
            [r.name, r.type, str(list(r.output_shape)), f"{r.params:,}", f"{r.macs:,}",
             _fmt(r.receptive_field)]
            for r in self.rows
        ]  # fmt: skip
        footer = ["total", "", str(list(self.input_size)) + " in", f"{self.total_params:,}", f"{self.total_macs:,}", ""]
        return header, body, footer

    def __str__(self) -> str:
        header, body, footer = self._cells()
        text = _text_table([tuple(header), *map(tuple, body), tuple(footer)], right={3, 4, 5})
        lines = text.splitlines()
        return "\n".join([*lines[:-1], "-" * len(lines[1]), lines[-1]])

    def _repr_html_(self) -> str:
        header, body, footer = self._cells()

        def row(cells: list[str], tag: str) -> str:
            out = []
            for i, cell in enumerate(cells):
                align = "text-align:right;" if i >= 3 else "text-align:left;"
                out.append(f'<{tag} style="{align}padding:0.1em 0.75em">{html.escape(cell)}</{tag}>')
            return "<tr>" + "".join(out) + "</tr>"

        return (
            '<table class="cnnlib-summary">'
            f"<thead>{row(header, 'th')}</thead>"
            f"<tbody>{''.join(row(r, 'td') for r in body)}</tbody>"
            f"<tfoot>{row(footer, 'th')}</tfoot></table>"
        )


def summary(model: nn.Module, input_size: Sequence[int]) -> Summary:
    """Every leaf layer's output shape, parameters, MACs and receptive field, with totals.

    The receptive-field column is empty for layers without spatial extent and
    for every layer when the field cannot be followed (see :func:`receptive_field`).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: as :func:`count_macs`.
    """
    trace = _trace("summary", model, input_size)
    rows = []
    for call in trace.calls:
        f = call.field
        rf = None
        if f is not None and f.axes is not None and not f.problem:
            rf = (f.axes[0].size, f.axes[1].size)
        rows.append(
            SummaryRow(
                name=call.name,
                type=type(call.module).__name__,
                output_shape=call.output_shape,
                params=call.params,
                macs=call.macs,
                receptive_field=rf,
            )
        )
    return Summary(
        input_size=tuple(input_size),
        rows=rows,
        total_params=count_params(model),
        total_macs=_total_macs(trace),
    )
