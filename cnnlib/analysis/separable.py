"""The cost of depthwise separable convolutions (Howard et al., 2017, Section 3.1).

A standard convolution with ``D_K x D_K`` kernels from ``M`` to ``N`` channels,
whose output is ``D_F x D_F``, costs (equation 2 of the MobileNet paper)

.. math:: D_K \\cdot D_K \\cdot M \\cdot N \\cdot D_F \\cdot D_F

multiply-accumulates (MACs). A depthwise separable convolution replaces it by a
depthwise ``D_K x D_K`` convolution (one filter per input channel) and a
pointwise ``1 x 1`` convolution from ``M`` to ``N`` channels (equation 5):

.. math:: D_K \\cdot D_K \\cdot M \\cdot D_F \\cdot D_F + M \\cdot N \\cdot D_F \\cdot D_F.

Their ratio, ``1/N + 1/D_K²``, does not depend on ``M`` or ``D_F``. At
``feature_size=1`` each cost is the layer's number of weights (no biases).
:func:`costs_by_layer_type` groups a model's weights and MACs as the paper's
Table 2 does. MACs follow the conventions of :mod:`cnnlib.analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from cnnlib.analysis.summaries import summary

__all__ = [
    "LayerTypeCost",
    "standard_conv_cost",
    "separable_conv_cost",
    "separable_cost_ratio",
    "layer_type",
    "costs_by_layer_type",
]


def _positive_int(func: str, name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{func}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{func}: {name} must be a positive int, got {value!r}")
    return value


def standard_conv_cost(
    kernel_size: int, in_channels: int, out_channels: int, feature_size: int
) -> int:
    """MACs of a standard convolution: ``D_K² · M · N · D_F²`` (equation 2).

    Args:
        kernel_size: ``D_K``, the side of the square kernel.
        in_channels: ``M``.
        out_channels: ``N``.
        feature_size: ``D_F``, the side of the square output feature map
            (1 gives the number of weights).

    Returns:
        The multiply-accumulates for one image.

    Raises:
        TypeError: an argument is not an int.
        ValueError: an argument is not positive (the message names it).
    """
    func = "standard_conv_cost"
    k = _positive_int(func, "kernel_size", kernel_size)
    m = _positive_int(func, "in_channels", in_channels)
    n = _positive_int(func, "out_channels", out_channels)
    f = _positive_int(func, "feature_size", feature_size)
    return k * k * m * n * f * f


def separable_conv_cost(
    kernel_size: int, in_channels: int, out_channels: int, feature_size: int
) -> int:
    """MACs of a depthwise separable convolution: ``D_K² M D_F² + M N D_F²`` (equation 5).

    The first term is the depthwise convolution, the second the pointwise one.

    Args:
        kernel_size: ``D_K``, the side of the depthwise kernel.
        in_channels: ``M``.
        out_channels: ``N``, the pointwise convolution's outputs.
        feature_size: ``D_F``, the side of the square output feature map
            (1 gives the number of weights).

    Returns:
        The multiply-accumulates for one image.

    Raises:
        TypeError: an argument is not an int.
        ValueError: an argument is not positive (the message names it).
    """
    func = "separable_conv_cost"
    k = _positive_int(func, "kernel_size", kernel_size)
    m = _positive_int(func, "in_channels", in_channels)
    n = _positive_int(func, "out_channels", out_channels)
    f = _positive_int(func, "feature_size", feature_size)
    return k * k * m * f * f + m * n * f * f


def separable_cost_ratio(kernel_size: int, out_channels: int) -> float:
    """Separable over standard cost: ``1/N + 1/D_K²`` (Section 3.1).

    Args:
        kernel_size: ``D_K``.
        out_channels: ``N``.

    Returns:
        The ratio, between 0 and 2.

    Raises:
        TypeError: an argument is not an int.
        ValueError: an argument is not positive (the message names it).
    """
    func = "separable_cost_ratio"
    k = _positive_int(func, "kernel_size", kernel_size)
    n = _positive_int(func, "out_channels", out_channels)
    return 1 / n + 1 / (k * k)


@dataclass(frozen=True)
class LayerTypeCost:
    """Weights (biases and batch norm excluded) and MACs of one kind of layer."""

    weights: int
    macs: int


def layer_type(module: nn.Module) -> str | None:
    """The paper's Table 2 row of a layer, or ``None`` for layers without weights there.

    ``"conv 1x1"`` (pointwise, not grouped), ``"conv dw"`` (depthwise: one
    group per input channel), ``"conv full"`` (any other ungrouped
    convolution), ``"conv grouped"`` (other grouped ones), ``"fc"`` (linear).

    Raises:
        TypeError: ``module`` is not an ``nn.Module``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"layer_type: module must be an nn.Module, got {type(module).__name__}")
    if isinstance(module, nn.Conv2d):
        if module.groups > 1:
            depthwise = module.groups == module.in_channels
            return "conv dw" if depthwise else "conv grouped"
        return "conv 1x1" if module.kernel_size == (1, 1) else "conv full"
    if isinstance(module, nn.Linear):
        return "fc"
    return None


def costs_by_layer_type(model: nn.Module, input_size: Sequence[int]) -> dict[str, LayerTypeCost]:
    """Weights and MACs of ``model`` summed per :func:`layer_type` (Table 2's rows).

    Weights are the ``weight`` tensors of convolutions and linear layers:
    biases and batch norm parameters are left out, as in the paper's Table 2.

    Args:
        model: the network.
        input_size: ``(N, C, H, W)``, as for :func:`~cnnlib.analysis.count_macs`.

    Returns:
        ``{layer type: LayerTypeCost}`` for the types that occur, in order of
        first occurrence.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: ``input_size`` does not fit the model (see
            :func:`~cnnlib.analysis.summary`).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"costs_by_layer_type: model must be an nn.Module, got {type(model).__name__}"
        )
    totals: dict[str, tuple[int, int]] = {}
    for row in summary(model, input_size).rows:
        module = model.get_submodule(row.name)
        kind = layer_type(module)
        if kind is None:
            continue
        weights, macs = totals.get(kind, (0, 0))
        totals[kind] = (weights + module.weight.numel(), macs + row.macs)
    return {kind: LayerTypeCost(w, m) for kind, (w, m) in totals.items()}
