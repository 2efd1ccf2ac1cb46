"""PyramidNet for CIFAR (Han, Kim and Kim, 2017) with additive widening.

Han, Kim and Kim (2017), "Deep Pyramidal Residual Networks", widen a ResNet
gradually instead of doubling its width at each downsampling: with ``N``
residual blocks in all and widening factor ``α``, block ``k`` (1-based) has

    D_k = floor(16 + α·k / N)

output channels, so the width grows by ``α / N`` per block from 16 to
``16 + α`` (additive widening, the paper's equation (2), whose floor applies
to the running, unrounded sum). For PyramidNet-110 with ``α = 48`` this adds
``48/54 ≈ 0.89`` channels per block. (Some ports round to the nearest
integer instead of flooring; that gives 1,772,706 parameters for
PyramidNet-110, α = 48, instead of 1,739,730.)

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

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._checks import positive_int, positive_number
from cnnlib.layers import conv3x3
from cnnlib.models import register_model

__all__ = ["PyramidBlock", "PyramidNet", "pyramidal_widths", "pyramidnet_110_a48"]

_STEM_WIDTH = 16


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def pyramidal_widths(num_blocks: int, alpha: float, start: float = _STEM_WIDTH) -> list[int]:
    """The output widths of the ``num_blocks`` blocks under additive widening.

    Block ``k`` (1-based) gets ``floor(start + alpha·k / num_blocks)`` (at
    least 1); the last one ends at ``floor(start + alpha)``.

    Raises:
        ValueError: ``num_blocks`` is not a positive int, ``alpha`` is negative
            or not finite, or ``start`` is not a positive finite number.
    """
    positive_int("pyramidal_widths", "num_blocks", num_blocks)
    if not _is_finite_number(alpha) or alpha < 0:
        raise ValueError(f"pyramidal_widths: alpha must be a finite number >= 0, got {alpha!r}")
    if not _is_finite_number(start) or start <= 0:
        raise ValueError(f"pyramidal_widths: start must be a positive finite number, got {start!r}")
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.bn1(x))
        out = self.bn3(self.conv2(self.relu(self.bn2(out))))
        shortcut = x if self.downsample is None else self.downsample(x)
        if self.extra_channels:
            # Pad the channel dimension at its end with zeros.
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.extra_channels))
        return out + shortcut


class PyramidNet(nn.Module):
    """PyramidNet with additive widening and basic blocks, for CIFAR-sized images.

    ``conv1`` (3x3, 16 channels) → ``bn1`` → ``layer1`` … ``layer3``
    (:class:`PyramidBlock` x ``n``; the first block of ``layer2``/``layer3``
    has stride 2) → ``bn_final`` → ``relu`` → ``avgpool`` (global) → ``fc``.
    Widths follow :func:`pyramidal_widths` over all ``3n`` blocks.

    Args:
        depth: ``6n + 2`` with ``n >= 1`` (110 in the paper's basic-block models).
        alpha: the widening factor ``α`` (total channels added over the network).
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        width_multiplier: scales every channel count: the stem becomes
            ``max(1, floor(16·m))`` and the widths ``floor(16·m + α·m·k / N)``.
            At 1.0 nothing changes.

    Raises:
        ValueError: an argument is out of range (the message names it).
    """

    def __init__(
        self,
        depth: int = 110,
        alpha: float = 48,
        *,
        num_classes: int = 10,
        in_channels: int = 3,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("depth", depth), ("num_classes", num_classes), ("in_channels", in_channels)
        ):
            positive_int("PyramidNet", name, value)
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(
                f"PyramidNet: depth must be 6n + 2 with n >= 1 (8, 14, ..., 110), got {depth!r}"
            )
        if not _is_finite_number(alpha) or alpha < 0:
            raise ValueError(f"PyramidNet: alpha must be a finite number >= 0, got {alpha!r}")
        positive_number("PyramidNet", "width_multiplier", width_multiplier)
        blocks_per_stage = (depth - 2) // 6
        stem_width = max(1, math.floor(_STEM_WIDTH * width_multiplier))
        widths = pyramidal_widths(
            3 * blocks_per_stage, alpha * width_multiplier, start=_STEM_WIDTH * width_multiplier
        )
        self.conv1 = conv3x3(in_channels, stem_width)
        self.bn1 = nn.BatchNorm2d(stem_width)
        channels = stem_width
        for i in range(3):
            blocks = []
            for j in range(blocks_per_stage):
                width = widths[i * blocks_per_stage + j]
                blocks.append(PyramidBlock(channels, width, 2 if i > 0 and j == 0 else 1))
                channels = width
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.bn_final = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        self._initialise()

    def _initialise(self) -> None:
        """He et al. (2015) normal (fan-out) convolutions; BN as identity; zero ``fc`` bias."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The activated feature map after the last stage, before pooling."""
        x = self.bn1(self.conv1(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.relu(self.bn_final(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(x)), 1))


@register_model(input_size=(3, 32, 32))
def pyramidnet_110_a48(
    *, num_classes: int = 10, in_channels: int = 3, width_multiplier: float = 1.0
) -> PyramidNet:
    """PyramidNet-110 (basic blocks, α = 48, widths 16 → 64); the paper reports 1.7 M parameters.

    This implementation has 1,739,730 (10 classes); see :mod:`cnnlib.models.pyramidnet`.
    """
    return PyramidNet(
        110, 48, num_classes=num_classes, in_channels=in_channels, width_multiplier=width_multiplier
    )
