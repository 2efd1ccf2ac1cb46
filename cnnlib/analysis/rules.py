"""What the trace knows about each torch operation: its kind, and how it moves receptive fields.

:data:`FIELD_RULES` maps an operation's name (as torch reports it to a
:class:`~torch.overrides.TorchFunctionMode`) to a small rule that gives the
receptive field of the operation's output from those of its inputs; every
operation not in the table falls to :func:`keep_or_merge`. The operation
kinds below also decide what :mod:`cnnlib.analysis.tracer` counts as MACs,
element-wise work and memory traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from cnnlib.analysis.fields import TensorField, Window

__all__ = ["OpCall", "call_window", "propagate", "FIELD_RULES", "ELEMENTWISE_KINDS"]

# --- Operation kinds -------------------------------------------------------------------

NORMALIZATION = {"batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm"}
ACTIVATION = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "sigmoid", "sigmoid_", "tanh", "tanh_",
    "silu", "gelu", "hardswish", "hardsigmoid", "leaky_relu", "leaky_relu_", "elu", "elu_",
    "selu", "mish", "softmax", "log_softmax", "softplus", "threshold", "threshold_", "prelu",
}  # fmt: skip
ADDITION = {
    "add", "add_", "__add__", "__iadd__", "__radd__", "sub", "sub_", "__sub__", "__isub__",
    "__rsub__",
}  # fmt: skip
MULTIPLICATION = {
    "mul", "mul_", "__mul__", "__imul__", "__rmul__", "div", "div_", "__truediv__", "__itruediv__",
}  # fmt: skip
CONVOLUTIONS = {"conv1d", "conv2d", "conv3d"}
TRANSPOSED = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
WINDOW_POOLS = {"max_pool2d", "avg_pool2d", "max_pool2d_with_indices", "_max_pool2d", "lp_pool2d"}
ADAPTIVE_POOLS = {"adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices"}
SPATIAL_REDUCTIONS = {"mean", "amax", "amin", "sum", "max", "min", "std", "var"}
UPSAMPLING = {"interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle"}
CONCAT = {"cat", "concat", "concatenate", "stack"}
VIEW = {
    "view", "reshape", "transpose", "permute", "flatten", "unflatten", "chunk", "split",
    "narrow", "__getitem__", "squeeze", "unsqueeze", "expand", "expand_as", "view_as",
    "reshape_as", "detach", "dropout", "dropout2d", "alpha_dropout", "feature_alpha_dropout",
}  # fmt: skip
MATMUL = {"matmul", "mm", "bmm", "addmm", "baddbmm", "__matmul__", "linear", "einsum"}

#: Operations that do one element-wise operation per output element, by kind.
ELEMENTWISE_KINDS: dict[str, str] = {
    **dict.fromkeys(NORMALIZATION, "normalization"),
    **dict.fromkeys(ACTIVATION, "activation"),
    **dict.fromkeys(ADDITION, "addition"),
    **dict.fromkeys(MULTIPLICATION, "multiplication"),
}


@dataclass(frozen=True)
class OpCall:
    """One traced call of a torch operation: its name, arguments and (one) output.

    Attributes:
        name: the function's ``__name__`` (``"conv2d"``, ``"__getitem__"``, ...).
        args: positional arguments as the operation received them.
        kwargs: keyword arguments.
        inputs: every tensor among the arguments, in order.
        out: the output tensor this record is about.
    """

    name: str
    args: tuple[object, ...]
    kwargs: dict[str, object]
    inputs: list[torch.Tensor]
    out: torch.Tensor

    @property
    def spatial(self) -> tuple[int, int] | None:
        """The output's spatial size (its last two dimensions), None below three dimensions."""
        out = self.out
        return (int(out.shape[-2]), int(out.shape[-1])) if out.ndim >= 3 else None

    def arg(self, index: int, name: str, default: object = None) -> object:
        """Argument ``name``, given by keyword or at position ``index``, else ``default``."""
        if name in self.kwargs:
            return self.kwargs[name]
        return self.args[index] if len(self.args) > index else default


def call_window(op: OpCall) -> Window:
    """The window of a convolution or pooling call, read from its arguments as torch does."""
    if op.name in CONVOLUTIONS:  # conv2d(input, weight, bias, stride, padding, dilation, groups)
        weight = op.arg(1, "weight")
        assert isinstance(weight, torch.Tensor)
        return Window.of(
            weight.shape[-2:],
            stride=op.arg(3, "stride", 1),
            padding=op.arg(4, "padding", 0),
            dilation=op.arg(5, "dilation", 1),
        )
    if op.name == "lp_pool2d":  # lp_pool2d(input, norm_type, kernel_size, stride, ceil_mode)
        return Window.of(op.arg(2, "kernel_size"), op.arg(3, "stride"))
    # max_pool2d(input, kernel_size, stride, padding, dilation, ...); avg_pool2d has no dilation.
    kernel, stride, padding = op.arg(1, "kernel_size"), op.arg(2, "stride"), op.arg(3, "padding", 0)
    dilation = 1 if op.name == "avg_pool2d" else op.arg(4, "dilation", 1)
    return Window.of(kernel, stride, padding, dilation)


# --- Field rules: the field of an operation's output from its inputs' fields -----------
# Each rule gets the call and the fields of the inputs that depend on the image
# (at least one, none with a problem); ``fields[0]`` is the first such input's.

Rule = Callable[[OpCall, list[TensorField]], TensorField]


def _global(shape: tuple[int, int] | None) -> TensorField:
    return TensorField(None, shape, global_context=True)


def _problem(shape: tuple[int, int] | None, problem: str) -> TensorField:
    return TensorField(None, shape, problem=problem)


def sliding_window(op: OpCall, fields: list[TensorField]) -> TensorField:
    """Convolution or pooling: the Distill recurrence per axis."""
    if fields[0].axes is None:  # e.g. a 1x1 convolution inside a squeeze-excitation gate
        return _global(op.spatial)
    if op.out.ndim != 4:
        return _problem(op.spatial, f"{op.name} on a tensor that is not (N, C, H, W)")
    return fields[0].through(call_window(op), op.spatial)


def adaptive_pool(op: OpCall, fields: list[TensorField]) -> TensorField:
    """Adaptive pooling: global context at 1x1, a window where sizes divide evenly."""
    first, out = fields[0], op.spatial
    if first.axes is None or first.shape is None or out is None:
        return _global(out)
    if out == (1, 1):
        return _global(None)
    if all(i % o == 0 for i, o in zip(first.shape, out, strict=True)):
        h, w = (i // o for i, o in zip(first.shape, out, strict=True))
        return first.through(Window((h, w), (h, w), (0, 0), (1, 1)), out)
    return _problem(out, f"{op.name} from {first.shape} to {out} uses windows of unequal size")


def transposed(op: OpCall, fields: list[TensorField]) -> TensorField:
    """Transposed convolution: not followed."""
    return _problem(op.spatial, f"{op.name} (a transposed convolution)")


def upsampling(op: OpCall, fields: list[TensorField]) -> TensorField:
    """Upsampling: not followed."""
    return _problem(op.spatial, f"{op.name} (upsampling)")


def pad(op: OpCall, fields: list[TensorField]) -> TensorField:
    """``F.pad``: shifts the start of the field by the left and top padding."""
    pads = list(op.arg(1, "pad", ()))  # type: ignore[call-overload]
    if fields[0].axes is None or len(pads) < 2:
        return fields[0].at(op.spatial)
    return fields[0].shifted(top=pads[2] if len(pads) >= 4 else 0, left=pads[0], shape=op.spatial)


def concat(op: OpCall, fields: list[TensorField]) -> TensorField:
    """Concatenation along channels: the union of the paths' fields."""
    dim = op.arg(1, "dim", 0)
    if op.out.ndim == 4 and int(dim) % op.out.ndim >= 2:  # type: ignore[call-overload]
        return _problem(op.spatial, f"{op.name} along a spatial axis")
    return TensorField.union(fields, op.spatial, op.name)


def index(op: OpCall, fields: list[TensorField]) -> TensorField:
    """``x[...]``: a crop where it shrinks the spatial size, else as any other operation."""
    first, out = fields[0], op.spatial
    if first.axes is not None and out is not None and op.out.ndim == 4 and first.shape != out:
        return first.crop(op.args[1], out)
    return keep_or_merge(op, fields)


def keep_or_merge(op: OpCall, fields: list[TensorField]) -> TensorField:
    """The fallback rule, for every operation without a rule of its own.

    Same spatial size as the first input: its field (the union where several
    inputs meet). A view or reduction that removes the spatial extent: global
    context. Any other change of spatial size: a problem.
    """
    first, out = fields[0], op.spatial
    if out is None or first.shape != out:
        name = op.name
        if (
            first.axes is not None
            and out is not None
            and op.out.ndim >= 3
            and name not in VIEW
            and name not in SPATIAL_REDUCTIONS
        ):
            return _problem(out, f"{name} changes the spatial size")
        return _global(out)  # global reductions, flattening, linear layers
    return TensorField.union(fields, out, op.name) if len(fields) > 1 else first.at(out)


#: The field rule of each operation that has one; all others use :func:`keep_or_merge`.
FIELD_RULES: dict[str, Rule] = {
    **dict.fromkeys(CONVOLUTIONS | WINDOW_POOLS, sliding_window),
    **dict.fromkeys(ADAPTIVE_POOLS, adaptive_pool),
    **dict.fromkeys(TRANSPOSED, transposed),
    **dict.fromkeys(UPSAMPLING, upsampling),
    "pad": pad,
    **dict.fromkeys(CONCAT, concat),
    "__getitem__": index,
}


def propagate(op: OpCall, fields: list[TensorField]) -> TensorField:
    """The field of ``op.out``, given the fields of the inputs that depend on the image.

    A problem on the first such input carries over; otherwise the operation's
    rule in :data:`FIELD_RULES` decides, or :func:`keep_or_merge`.
    """
    if fields[0].problem:
        return fields[0].at(op.spatial)
    return FIELD_RULES.get(op.name, keep_or_merge)(op, fields)
