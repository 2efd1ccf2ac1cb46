"""Exact counts for convolutional networks: conv arithmetic, parameters, MACs.

Conventions, stated once and used everywhere in the book:

* **MACs** are multiply–accumulate operations of convolutions and linear
  layers, bias additions excluded. This is torchvision's ``_ops`` convention
  and equals half the total of :class:`torch.utils.flop_counter.FlopCounterMode`
  (which counts one multiply and one add per MAC). Element-wise work (batch
  norm, activations, pooling, residual additions) is not counted as MACs.
* ``input_size`` is the full input shape **including the batch dimension**
  (torchinfo's convention), so MACs are for the whole batch.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union, overload

import torch
from torch import nn

__all__ = [
    "conv_output_size",
    "conv_params",
    "conv_macs",
    "linear_params",
    "linear_macs",
    "count_params",
    "count_macs",
    "layer_table",
    "LayerRow",
    "LayerTable",
]

IntOrPair = Union[int, Sequence[int]]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _per_axis(func: str, arg: str, value: IntOrPair, axes: int) -> tuple[int, ...]:
    """Broadcast an int to ``axes`` axes, or check a sequence has that many ints."""
    if _is_int(value):
        return (int(value),) * axes  # type: ignore[arg-type]
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == axes and all(_is_int(v) for v in value):
            return tuple(int(v) for v in value)
    raise TypeError(
        f"{func}: {arg} must be an int or a sequence of {axes} ints, got {value!r}"
    )


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
    args = {
        "size": size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    lengths = {
        len(v) for v in args.values() if isinstance(v, Sequence) and not isinstance(v, str)
    }
    if len(lengths) > 1:
        raise TypeError(
            f"{func}: per-axis arguments must all have the same length, got "
            + ", ".join(f"{k}={v!r}" for k, v in args.items())
        )
    axes = lengths.pop() if lengths else 1
    if axes == 0:
        raise TypeError(f"{func}: per-axis arguments must not be empty, got {args!r}")
    per_axis = {k: _per_axis(func, k, v, axes) for k, v in args.items()}
    minimum = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    for name, low in minimum.items():
        for value in per_axis[name]:
            if value < low:
                raise ValueError(f"{func}: {name} must be >= {low}, got {args[name]!r}")
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
    all_ints = all(_is_int(v) for v in args.values())
    return result[0] if all_ints else tuple(result)


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
    for value in output:
        if value < 1:
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
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )


# Modules with parameters that do no multiply–accumulates by convention (their
# work is element-wise): they may appear in a model without making counts wrong.
_ELEMENTWISE_WITH_PARAMS = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.PReLU,
    nn.Embedding,
)


def _module_macs(module: nn.Module, inputs: tuple[object, ...], output: object) -> int:
    """MACs of one call of a leaf module; raises for unsupported modules with weights."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        x = inputs[0]
        assert isinstance(x, torch.Tensor)
        # Every input element is multiplied by a (C_out/groups) x k_h x k_w slice.
        per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
        return x.numel() * per_input
    if isinstance(module, nn.modules.conv._ConvNd):
        assert isinstance(output, torch.Tensor)
        # Every output element is a dot product over (C_in/groups) x k_h x k_w inputs.
        batch = output.numel() // (module.out_channels * math.prod(output.shape[2:]))
        return batch * conv_macs(
            module.in_channels,
            module.out_channels,
            tuple(module.kernel_size),
            tuple(output.shape[2:]),
            groups=module.groups,
        )
    if isinstance(module, nn.Linear):
        assert isinstance(output, torch.Tensor)
        vectors = output.numel() // module.out_features
        return vectors * linear_macs(module.in_features, module.out_features)
    if isinstance(module, _ELEMENTWISE_WITH_PARAMS) or not any(
        True for _ in module.parameters(recurse=False)
    ):
        return 0
    raise ValueError(
        f"count_macs: cannot count module {type(module).__name__}: it has parameters "
        "but no known MAC formula (supported: Conv*d, ConvTranspose*d, Linear)"
    )


@dataclass(frozen=True)
class LayerRow:
    """One leaf-module call: its name, type, output shape, own parameters and MACs."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


@dataclass(frozen=True)
class LayerTable:
    """Per-layer analysis of a model for one input shape.

    Renders as an HTML table in notebooks and as aligned text elsewhere.
    ``total_params`` counts every parameter of the model once; ``total_macs``
    sums the rows.
    """

    input_size: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.rows)

    def _cells(self) -> tuple[list[str], list[list[str]], list[str]]:
        header = ["layer", "type", "output shape", "params", "MACs"]
        body = [
            [r.name, r.type, str(list(r.output_shape)), f"{r.params:,}", f"{r.macs:,}"]
            for r in self.rows
        ]
        footer = ["total", "", str(list(self.input_size)) + " in", f"{self.total_params:,}",
                  f"{self.total_macs:,}"]
        return header, body, footer

    def __str__(self) -> str:
        header, body, footer = self._cells()
        table = [header, *body, footer]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        right = {3, 4}

        def line(row: list[str]) -> str:
            return "  ".join(
                cell.rjust(w) if i in right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()

        rule = "-" * len(line(header))
        return "\n".join([line(header), rule, *map(line, body), rule, line(footer)])

    def _repr_html_(self) -> str:
        header, body, footer = self._cells()

        def row(cells: list[str], tag: str) -> str:
            out = []
            for i, cell in enumerate(cells):
                align = "text-align:right;" if i >= 3 else "text-align:left;"
                align = f' style="{align}padding:0.1em 0.75em"'
                out.append(f"<{tag}{align}>{html.escape(cell)}</{tag}>")
            return "<tr>" + "".join(out) + "</tr>"

        return (
            '<table class="cnnlib-layer-table">'
            f"<thead>{row(header, 'th')}</thead>"
            f"<tbody>{''.join(row(r, 'td') for r in body)}</tbody>"
            f"<tfoot>{row(footer, 'th')}</tfoot></table>"
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


def layer_table(model: nn.Module, input_size: Sequence[int]) -> LayerTable:
    """Run one forward pass on zeros of shape ``input_size`` and tabulate every leaf call.

    The model is run in eval mode under ``torch.no_grad`` (its mode is restored),
    on the device and dtype of its first parameter.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_size`` is not a shape with a batch dimension, or the
            model contains a module with parameters and no known MAC formula.
    """
    _check_module("layer_table", model)
    shape = _check_input_size("layer_table", input_size)
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    rows: list[LayerRow] = []
    names = {module: name for name, module in model.named_modules()}

    def hook(module: nn.Module, inputs: tuple[object, ...], output: object) -> None:
        out_shape = tuple(output.shape) if isinstance(output, torch.Tensor) else ()
        rows.append(
            LayerRow(
                name=names[module] or type(module).__name__,
                type=type(module).__name__,
                output_shape=out_shape,
                params=sum(p.numel() for p in module.parameters(recurse=False)),
                macs=_module_macs(module, inputs, output),
            )
        )

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(shape, device=device, dtype=dtype))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return LayerTable(input_size=shape, rows=rows, total_params=count_params(model))


def count_macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply–accumulates of one forward pass on an input of shape ``input_size``.

    Counts convolutions (any groups, stride, dilation, kernel shape), transposed
    convolutions and linear layers; bias additions and element-wise layers are
    not MACs. Equals ``FlopCounterMode`` total / 2 and torchvision's ``_ops``
    (in GMACs) for batch size 1.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_size`` is not a shape with a batch dimension, or the
            model contains a module with parameters and no known MAC formula.
    """
    _check_module("count_macs", model)
    _check_input_size("count_macs", input_size)
    return layer_table(model, input_size).total_macs
