"""PyramidNet for CIFAR (Han, Kim and Kim, 2017) with additive or multiplicative widening.

Han, Kim and Kim (2017), "Deep Pyramidal Residual Networks", widen a ResNet
gradually instead of doubling its width at each downsampling: with ``N``
residual blocks in all and widening factor ``α``, block ``k`` (1-based) has

    D_k = floor(16 + α·k / N)

output channels, so the width grows by ``α / N`` per block from 16 to
``16 + α`` (additive widening, the paper's equation (2), whose floor applies
to the running, unrounded sum). For PyramidNet-110 with ``α = 48`` this adds
``48/54 ≈ 0.89`` channels per block. (The authors' released Torch code
rounds to the nearest integer instead of flooring; that gives 1,772,706
parameters for PyramidNet-110, α = 48, instead of 1,739,730.)

The basic pyramidal block (the paper's Figure 6(d)) is
BN → conv3x3 → BN → ReLU → conv3x3 → BN, with no ReLU after the addition.
The shortcut is the identity, zero-padded with the channels the block adds
("zero-padded identity-mapping shortcut"); where the block
downsamples, the shortcut first takes a 2x2 average pooling with stride 2.

The network: a 3x3 convolution to 16 channels and BN, three stages of ``n``
blocks (strides 1, 2, 2), a final BN → ReLU, global average pooling and a
linear classifier; the depth is ``6n + 2`` (``n = 18`` for 110 layers).

Reported size (the paper's CIFAR results table): PyramidNet-110 with ``α = 48``
has 1.7 M parameters. This implementation has 1,739,730 (10 classes): 2.34 %
above 1.7 M, but the paper gives one decimal and 1.74 M rounds to its 1.7 M;
no exact count is published to compare with. The per-block widths follow the
paper's formula exactly, so the difference is the paper's rounding.
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._checks import (
    non_negative_number,
    one_of,
    positive_int,
    positive_number,
)
from cnnlib.layers import conv3x3
from cnnlib.models._common import ThreeStageNet
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "PyramidBlock", "PyramidNet", "VARIANTS", "matched_alpha", "pyramidal_widths",
    "pyramidnet_110_a48",
]  # fmt: skip

_STEM_WIDTH = 16


Widening = Literal["additive", "multiplicative"]


def pyramidal_widths(
    num_blocks: int,
    alpha: float,
    start: float = _STEM_WIDTH,
    widening: Widening = "additive",
) -> list[int]:
    """The output widths of the ``num_blocks`` blocks of a PyramidNet.

    Block ``k`` (1-based) gets ``floor(start + alpha·k / num_blocks)`` under
    additive widening (the paper's equation (2); the last block ends at
    ``floor(start + alpha)``) and ``floor(start · alpha**(k / num_blocks))``
    under multiplicative widening (equation (3); the last ends at
    ``floor(start · alpha)``). Both floor the running, unrounded value, at
    least 1: flooring every step of the product would stall whenever
    ``start · alpha**(1/N) < start + 1``.

    Raises:
        ValueError: ``num_blocks`` is not a positive int, ``alpha`` is out of
            range (additive: finite and ≥ 0; multiplicative: finite and ≥ 1),
            ``start`` is not a positive finite number, or ``widening`` is unknown.
    """
    positive_int("pyramidal_widths", "num_blocks", num_blocks)
    one_of("pyramidal_widths", "widening", widening, get_args(Widening))
    alpha = non_negative_number("pyramidal_widths", "alpha", alpha)
    start = positive_number("pyramidal_widths", "start", start)
    if widening == "multiplicative":
        if alpha < 1:
            raise ValueError(
                f"pyramidal_widths: alpha must be >= 1 for multiplicative widening, got {alpha!r}"
            )
        return [max(1, math.floor(start * alpha ** (k / num_blocks)))
                for k in range(1, num_blocks + 1)]  # fmt: skip
    return [max(1, math.floor(start + alpha * k / num_blocks)) for k in range(1, num_blocks + 1)]


class PyramidBlock(nn.Module):
    """Basic pyramidal block: BN-conv3x3-BN-ReLU-conv3x3-BN plus a zero-padded shortcut.

    The shortcut is ``x`` (after ``downsample``, a 2x2 average pooling with
    stride 2, when ``stride == 2``) followed by ``out_channels - in_channels``
    channels of zeros.

    Args:
        in_channels: input channels.
        out_channels: output channels (at least ``in_channels``).
        stride: 1, or 2 to halve the resolution.

    Raises:
        ValueError: ``out_channels < in_channels`` or ``stride`` not 1 or 2.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            positive_int("PyramidBlock", name, value)
        if out_channels < in_channels:
            raise ValueError(
                f"PyramidBlock: out_channels must be >= in_channels ({in_channels}), "
                f"got {out_channels!r}"
            )
        if stride not in (1, 2):
            raise ValueError(f"PyramidBlock: stride must be 1 or 2, got {stride!r}")
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = (
            nn.AvgPool2d(kernel_size=2, stride=2, ceil_mode=True) if stride == 2 else None
        )
        self.extra_channels = out_channels - in_channels
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.bn1(x))
        out = self.bn3(self.conv2(self.relu(self.bn2(out))))
        shortcut = x if self.downsample is None else self.downsample(x)
        if self.extra_channels:
            # Pad the channel dimension at its end with zeros.
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.extra_channels))
        return out + shortcut


def _check(depth: object, alpha: object, widening: object) -> None:
    """PyramidNet's own argument checks, in one call."""
    positive_int("PyramidNet", "depth", depth)
    if depth < 8 or (depth - 2) % 6:  # type: ignore[operator]
        raise ValueError(
            f"PyramidNet: depth must be 6n + 2 with n >= 1 (8, 14, ..., 110), got {depth!r}"
        )
    non_negative_number("PyramidNet", "alpha", alpha)
    one_of("PyramidNet", "widening", widening, get_args(Widening))


#: Each variant's configuration.
VARIANTS: dict[str, dict[str, object]] = {"pyramidnet_110_a48": {"depth": 110, "alpha": 48}}


class PyramidNet(ThreeStageNet):
    """PyramidNet with basic pyramidal blocks, for CIFAR-sized images.

    ``conv1`` (3x3, 16 channels) → ``bn1`` → ``layer1`` … ``layer3``
    (:class:`PyramidBlock` x ``n``; the first block of ``layer2``/``layer3``
    has stride 2) → ``bn_final`` → ``relu`` → ``avgpool`` (global) → ``fc``.
    Widths follow :func:`pyramidal_widths` over all ``3n`` blocks: the width
    grows a little at every block, not only where the resolution halves.

    Args:
        depth: ``6n + 2`` with ``n >= 1`` (110 in the paper's basic-block models).
        alpha: the widening factor ``α``: channels added over the network
            (additive) or their ratio (multiplicative).
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: must be True (the network is built for small images).
        width_multiplier: scales every channel count: the stem becomes
            ``round(16·m)`` and the widths ``floor(16·m + α·m·k / N)``
            (additive) or ``floor(16·m · α**(k/N))`` (multiplicative). At 1.0
            nothing changes.
        widening: ``"additive"`` (the paper's main models) or ``"multiplicative"``.
    """

    def __init__(
        self,
        depth: int = 110,
        alpha: float = 48,
        *,
        widening: Widening = "additive",
        num_classes: int = 10,
        in_channels: int = 3,
        small_input: bool = True,
        width_multiplier: float = 1.0,
    ) -> None:
        _check(depth, alpha, widening)
        super().__init__(num_classes, in_channels, small_input, width_multiplier, small_only=True)
        m, n = self.width_multiplier, (depth - 2) // 6
        scaled_alpha = alpha * m if widening == "additive" else alpha
        widths = pyramidal_widths(3 * n, scaled_alpha, start=_STEM_WIDTH * m, widening=widening)
        self.build(
            PyramidBlock,
            [widths[i * n : (i + 1) * n] for i in range(3)],
            stem_width=self.scale(_STEM_WIDTH),
            stem_norm=True,
            final_norm=True,
        )


def matched_alpha(depth: int, alpha: float, **kwargs: Any) -> float:
    """The multiplicative ``α`` whose PyramidNet matches an additive one in parameters.

    The parameters of a multiplicative PyramidNet grow with its ``α``, in
    steps (the widths are floored), so a bisection over ``α`` finds the
    smallest value whose network has at least as many parameters as
    ``PyramidNet(depth, alpha, widening="additive", **kwargs)``; of it and
    the last value below, the one closer in parameters is returned. The
    networks are built on the meta device (no memory, no initialisation).

    Args:
        depth: ``6n + 2``, as for :class:`PyramidNet`.
        alpha: the additive widening factor to match.
        **kwargs: further :class:`PyramidNet` keywords (``width_multiplier``,
            ``in_channels``, ...), the same for both networks.

    Returns:
        The multiplicative widening factor, at least 1.

    Raises:
        ValueError: ``depth`` or ``alpha`` is invalid (see :class:`PyramidNet`),
            or ``kwargs`` holds ``widening``.
    """
    if "widening" in kwargs:
        raise ValueError("matched_alpha: widening must not be given (it compares both)")
    _check(depth, alpha, "additive")

    def params(a: float, widening: Widening) -> int:
        with torch.device("meta"):
            model = PyramidNet(depth, a, widening=widening, **kwargs)
        return sum(p.numel() for p in model.parameters())

    target = params(alpha, "additive")
    low, high = 1.0, 2.0
    while params(high, "multiplicative") < target:
        low, high = high, 2 * high
    for _ in range(20):
        middle = (low + high) / 2
        if params(middle, "multiplicative") < target:
            low = middle
        else:
            high = middle
    below, above = params(low, "multiplicative"), params(high, "multiplicative")
    return low if target - below < above - target else high


@register_model(image_shape=(3, 32, 32))
def pyramidnet_110_a48(**kwargs: Any) -> PyramidNet:
    """PyramidNet-110 (basic blocks, α = 48, widths 16 → 64); the paper reports 1.7 M parameters.

    This implementation has 1,739,730 (10 classes); see :mod:`cnnlib.models.pyramidnet`.
    """
    return build_variant(PyramidNet, VARIANTS, "pyramidnet_110_a48", kwargs)
