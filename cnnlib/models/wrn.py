"""Wide Residual Networks for CIFAR (Zagoruyko and Komodakis, 2016).

Zagoruyko and Komodakis (2016), "Wide Residual Networks", build WRN-``d``-``k``
from pre-activation basic blocks (He et al., 2016, "Identity Mappings in Deep
Residual Networks"): BN → ReLU → 3x3 conv → BN → ReLU → (dropout) → 3x3 conv,
added to the shortcut. A 3x3 stem convolution with 16 channels is followed by
three groups of ``n = (d - 4) / 6`` blocks of widths ``16k``, ``32k`` and
``64k`` (strides 1, 2, 2), a final BN → ReLU, global average pooling and a
linear classifier. The depth ``d = 6n + 4`` follows the authors' convention
(their code asserts ``(d - 4) % 6 == 0``); the longest path has ``6n + 2``
weight layers (stem, ``6n`` block convolutions, classifier).

Reported sizes (the paper's CIFAR results): WRN-28-10 has 36.5 M
parameters and WRN-16-8 11.0 M (CIFAR-10, 10 classes).

The ImageNet Wide ResNet (``wide_resnet50_2``, a bottleneck ResNet) is in
:mod:`cnnlib.models.resnet`.
"""

from __future__ import annotations


import torch
from torch import nn

from cnnlib._checks import positive_int, positive_number, probability
from cnnlib.layers import conv1x1, conv3x3
from cnnlib.models import register_model

__all__ = ["WideBasicBlock", "WideResNet", "wrn_28_10", "wrn_16_8"]

_STEM_WIDTH = 16
_GROUP_WIDTHS = (16, 32, 64)  # multiplied by the widening factor k


class WideBasicBlock(nn.Module):
    """Pre-activation basic block: BN-ReLU-conv3x3-BN-ReLU-(dropout)-conv3x3 plus shortcut.

    When the shape changes (``stride != 1`` or a new width) the shortcut is a
    1x1 convolution (``shortcut``) that, like ``conv1``, reads the
    pre-activated input ``relu1(bn1(x))``; otherwise it is the identity on
    ``x`` itself. This is how the authors' code shares the first BN-ReLU.

    Args:
        in_channels: input channels.
        out_channels: channels of both convolutions and of the output.
        stride: stride of ``conv1`` and of the shortcut convolution.
        dropout_rate: dropout probability between the two convolutions (the
            paper uses 0.3 in its dropout experiments; 0 disables it).
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, dropout_rate: float = 0.0
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("stride", stride)):  # fmt: skip
            positive_int("WideBasicBlock", name, value)
        probability("WideBasicBlock", "dropout_rate", dropout_rate)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout_rate) if dropout_rate > 0 else nn.Identity()
        self.conv2 = conv3x3(out_channels, out_channels)
        self.shortcut = (
            conv1x1(in_channels, out_channels, stride)
            if stride != 1 or in_channels != out_channels
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.relu1(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(activated)
        out = self.conv1(activated)
        out = self.conv2(self.dropout(self.relu2(self.bn2(out))))
        return out + shortcut


class WideResNet(nn.Module):
    """WRN-``depth``-``widen_factor`` for small (CIFAR-sized) images.

    Layout: ``conv1`` (3x3, 16 channels) → ``layer1`` … ``layer3`` (``n``
    :class:`WideBasicBlock` each, widths ``16k``, ``32k``, ``64k``, the first
    block of ``layer2``/``layer3`` with stride 2) → ``bn`` → ``relu`` →
    ``avgpool`` (global) → ``fc``. At 32x32 the groups run at 32x32, 16x16
    and 8x8, and the global pooling is the paper's 8x8 average pooling; at
    28x28 they run at 28, 14 and 7.

    Args:
        depth: ``d = 6n + 4`` with ``n >= 1`` blocks per group (10, 16, 22, 28, 40, ...).
        widen_factor: the paper's ``k``.
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        dropout_rate: dropout between the convolutions of every block.
        width_multiplier: scales every channel count (stem and groups):
            ``max(1, round(c * width_multiplier))``; at 1.0 nothing changes.

    Raises:
        ValueError: an argument is out of range (the message names it).
    """

    def __init__(
        self,
        depth: int,
        widen_factor: int,
        *,
        num_classes: int = 10,
        in_channels: int = 3,
        dropout_rate: float = 0.0,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        for name, value in (("depth", depth), ("widen_factor", widen_factor),
                            ("num_classes", num_classes),
                            ("in_channels", in_channels)):  # fmt: skip
            positive_int("WideResNet", name, value)
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(
                f"WideResNet: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...), got {depth!r}"
            )
        multiplier = positive_number("WideResNet", "width_multiplier", width_multiplier)
        blocks_per_group = (depth - 4) // 6

        def scaled(channels: int) -> int:
            return max(1, round(channels * multiplier))

        stem_width = scaled(_STEM_WIDTH)
        self.conv1 = conv3x3(in_channels, stem_width)
        channels = stem_width
        for i, base in enumerate(_GROUP_WIDTHS):
            width = scaled(base * widen_factor)
            blocks = []
            for j in range(blocks_per_group):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(WideBasicBlock(channels, width, stride, dropout_rate))
                channels = width
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.bn = nn.BatchNorm2d(channels)
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
        """The activated feature map after the last group, before pooling."""
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        return self.relu(self.bn(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(x)), 1))


@register_model(input_size=(3, 32, 32))
def wrn_28_10(
    *, num_classes: int = 10, in_channels: int = 3, dropout_rate: float = 0.0,
    width_multiplier: float = 1.0,
) -> WideResNet:  # fmt: skip
    """WRN-28-10: 4 blocks per group, widths 160/320/640; the paper reports 36.5 M parameters."""
    return WideResNet(
        28, 10, num_classes=num_classes, in_channels=in_channels,
        dropout_rate=dropout_rate, width_multiplier=width_multiplier,
    )  # fmt: skip


@register_model(input_size=(3, 32, 32))
def wrn_16_8(
    *, num_classes: int = 10, in_channels: int = 3, dropout_rate: float = 0.0,
    width_multiplier: float = 1.0,
) -> WideResNet:  # fmt: skip
    """WRN-16-8: 2 blocks per group, widths 128/256/512; the paper reports 11.0 M parameters."""
    return WideResNet(
        16, 8, num_classes=num_classes, in_channels=in_channels,
        dropout_rate=dropout_rate, width_multiplier=width_multiplier,
    )  # fmt: skip
