"""Closed forms: parameters and MACs of one convolution or linear layer, and of a module call.

The conventions (MACs exclude bias additions, counts are per sample unless a
module call says otherwise) are those of :mod:`cnnlib.analysis`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from cnnlib.analysis.arithmetic import IntOrPair, _is_int, _per_axis

__all__ = ["conv_params", "conv_macs", "linear_params", "linear_macs", "count_params"]


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
        raise TypeError(
            f"{func}: kernel_size must be an int or a sequence of ints, got {kernel_size!r}"
        )
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
    r"""MACs of a convolution for one sample.

    .. math:: H_{out} W_{out} k_h k_w \frac{C_{in}}{g} C_{out}

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
    r"""Parameters of a linear layer: :math:`n_{in} n_{out} + n_{out}` (bias).

    Raises:
        ValueError: a size is not a positive int.
        TypeError: ``bias`` is not a bool.
    """
    func = "linear_params"
    n_in = _positive(func, "in_features", in_features)
    n_out = _positive(func, "out_features", out_features)
    if not isinstance(bias, bool):
        raise TypeError(f"{func}: bias must be a bool, got {bias!r}")
    return n_in * n_out + (n_out if bias else 0)


def linear_macs(in_features: int, out_features: int) -> int:
    r"""MACs of a linear layer for one input vector: :math:`n_{in} n_{out}`.

    Raises:
        ValueError: a size is not a positive int.
    """
    func = "linear_macs"
    n_in = _positive(func, "in_features", in_features)
    return n_in * _positive(func, "out_features", out_features)


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


# Modules with parameters that do no multiply–accumulates by convention (their
# work is element-wise): they may appear in a model without making counts wrong.
_ELEMENTWISE_WITH_PARAMS = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.PReLU,
    nn.Embedding,
)


def _is_deform_conv(module: nn.Module) -> bool:
    try:
        from torchvision.ops import DeformConv2d
    except ImportError:  # torchvision is optional for the analysis
        return False
    return isinstance(module, DeformConv2d)


def _has_closed_form(module: nn.Module) -> bool:
    """Whether :func:`_module_macs` counts this module's MACs from its attributes."""
    return isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)) or _is_deform_conv(module)


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
    if (
        isinstance(module, _ELEMENTWISE_WITH_PARAMS)
        or next(module.parameters(recurse=False), None) is None
    ):
        return 0
    raise ValueError(
        f"count_macs: cannot count module {type(module).__name__}: it has parameters "
        "but no known MAC formula (supported: Conv*d, ConvTranspose*d, Linear, "
        "torchvision.ops.DeformConv2d)"
    )
