"""DenseNet (Huang, Liu, van der Maaten and Weinberger, 2017, "Densely Connected
Convolutional Networks").

Inside a dense block every layer reads the concatenation of the block's input
and of all earlier layers' outputs, and adds ``growth_rate`` new channels to it.
A transition layer between two blocks (BN → ReLU → 1x1 conv → 2x2 average
pool) halves the resolution and, with ``compression`` θ, the channels.

Module names follow torchvision (``features.conv0``/``norm0``/``relu0``/``pool0``,
``features.denseblock{i}.denselayer{j}.norm1``/``relu1``/``conv1``/``norm2``/
``relu2``/``conv2``, ``features.transition{i}.norm``/``relu``/``conv``/``pool``,
``features.norm5``, ``classifier``), so torchvision's ``densenet121`` state dict
loads with ``strict=True`` into :func:`densenet121`.

This is DenseNet-BC: every layer starts with a 1x1 "bottleneck" convolution to
``bn_size * growth_rate`` channels (B), and transitions keep half the channels
(C, θ = 0.5). The ImageNet configuration of the paper's Table 1 has a 7x7
stride-2 stem convolution with ``2 * growth_rate`` = 64 channels and a 3x3
stride-2 max-pool, as in torchvision.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib._checks import boolean, positive_int, positive_number
from cnnlib.models import register_model

__all__ = ["DenseLayer", "DenseBlock", "Transition", "DenseNet", "densenet121"]


class DenseLayer(nn.Module):
    """BN → ReLU → 1x1 conv (``bn_size * growth_rate``) → BN → ReLU → 3x3 conv (``growth_rate``).

    Reads ``in_channels`` (everything concatenated so far) and returns only the
    ``growth_rate`` new channels; :class:`DenseBlock` concatenates them.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("growth_rate", growth_rate),
                            ("bn_size", bn_size)):  # fmt: skip
            positive_int("DenseLayer", name, value)
        inner = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, inner, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(inner)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(inner, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlock(nn.Module):
    """``num_layers`` dense layers; the output has ``in_channels + num_layers * growth_rate`` channels.

    Layer ``j`` (``denselayer{j}``, from 1) reads ``in_channels + (j - 1) * growth_rate``
    channels: the block input and the outputs of layers ``1 … j - 1``.
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        positive_int("DenseBlock", "num_layers", num_layers)
        for j in range(num_layers):
            layer = DenseLayer(in_channels + j * growth_rate, growth_rate, bn_size)
            self.add_module(f"denselayer{j + 1}", layer)
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.children():
            x = torch.cat([x, layer(x)], dim=1)
        return x


class Transition(nn.Sequential):
    """BN → ReLU → 1x1 conv to ``out_channels`` → 2x2 average pool with stride 2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            OrderedDict(
                [
                    ("norm", nn.BatchNorm2d(in_channels)),
                    ("relu", nn.ReLU(inplace=True)),
                    ("conv", nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)),
                    ("pool", nn.AvgPool2d(kernel_size=2, stride=2)),
                ]
            )
        )


class DenseNet(nn.Module):
    """Stem, dense blocks separated by transitions, BN, ReLU, global average pool, linear.

    Args:
        growth_rate: ``k``, the channels each dense layer adds.
        block_config: dense layers per block, e.g. ``(6, 12, 24, 16)`` for DenseNet-121.
        num_init_features: channels of the stem convolution (the paper: ``2k``).
        bn_size: the bottleneck's 1x1 convolution has ``bn_size * growth_rate``
            channels (the paper: 4).
        compression: ``θ``; a transition keeps ``floor(θ · m)`` of its ``m``
            input channels (the paper's DenseNet-BC: 0.5).
        num_classes: outputs of ``classifier``.
        in_channels: channels of the input image.
        small_input: a stem for 28x28 / 32x32 images: ``conv0`` becomes a 3x3
            convolution with stride 1 and padding 1 (instead of 7x7, stride 2,
            padding 3) and ``pool0`` is left out; nothing else changes. The
            first block then runs at the input resolution and the last at 1/8
            of it (4x4 for 32x32 inputs).
        width_multiplier: ``α``; ``growth_rate`` and ``num_init_features`` become
            ``max(1, round(α · value))``, which scales every layer's channels
            (``bn_size`` and ``compression`` are ratios and stay). At 1.0
            nothing changes.

    Raises:
        ValueError: an argument is out of range (the message names it).
        TypeError: ``small_input`` is not a bool.
    """

    def __init__(
        self,
        *,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        compression: float = 0.5,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        for name, value in (("growth_rate", growth_rate), ("num_init_features", num_init_features),
                            ("bn_size", bn_size), ("num_classes", num_classes),
                            ("in_channels", in_channels)):  # fmt: skip
            positive_int("DenseNet", name, value)
        if (
            isinstance(block_config, (str, bytes))
            or not isinstance(block_config, Sequence)
            or len(block_config) == 0
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in block_config)
        ):
            raise ValueError(
                f"DenseNet: block_config must be a non-empty sequence of positive ints, "
                f"got {block_config!r}"
            )
        if (
            not isinstance(compression, (int, float))
            or isinstance(compression, bool)
            or not 0 < compression <= 1
        ):
            raise ValueError(f"DenseNet: compression must be in (0, 1], got {compression!r}")
        boolean("DenseNet", "small_input", small_input)
        positive_number("DenseNet", "width_multiplier", width_multiplier)
        growth_rate = max(1, round(growth_rate * width_multiplier))
        channels = max(1, round(num_init_features * width_multiplier))

        stem: list[tuple[str, nn.Module]]
        if small_input:
            stem = [("conv0", nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False))]
        else:
            stem = [("conv0", nn.Conv2d(in_channels, channels, kernel_size=7, stride=2, padding=3,
                                        bias=False))]  # fmt: skip
        stem += [("norm0", nn.BatchNorm2d(channels)), ("relu0", nn.ReLU(inplace=True))]
        if not small_input:
            stem.append(("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
        self.features = nn.Sequential(OrderedDict(stem))

        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, channels, growth_rate, bn_size)
            self.features.add_module(f"denseblock{i + 1}", block)
            channels = block.out_channels
            if i != len(block_config) - 1:
                reduced = max(1, math.floor(channels * compression))
                self.features.add_module(f"transition{i + 1}", Transition(channels, reduced))
                channels = reduced
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)
        self.growth_rate = growth_rate
        self._initialise()

    def _initialise(self) -> None:
        """He et al. (2015) normal init for convolutions; BN starts as identity; zero linear bias."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.features(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.classifier(x)


@register_model(input_size=(3, 224, 224))
def densenet121(
    *, num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
    width_multiplier: float = 1.0, **kwargs: object,
) -> DenseNet:  # fmt: skip
    """DenseNet-121 (DenseNet-BC, Huang et al., 2017, Table 1): torchvision's twin.

    ``growth_rate=32``, ``bn_size=4``, ``block_config=(6, 12, 24, 16)``,
    ``num_init_features=64``, ``compression=0.5``. The channels after the
    blocks are 64 + 6·32 = 256, 128 + 12·32 = 512, 256 + 24·32 = 1024 and
    512 + 16·32 = 1024: 7,978,856 parameters and 2.834 GMACs at 224x224.
    The paper gives no parameter count for its ImageNet models (only a plot);
    torchvision's numbers are the reference. Other keyword arguments
    (``compression``) go to :class:`DenseNet`.
    """
    fixed = sorted(set(kwargs) & {"growth_rate", "block_config", "num_init_features", "bn_size"})
    if fixed:
        raise TypeError(
            f"densenet121: {', '.join(fixed)} is fixed by this variant; build DenseNet(...) to change it"
        )
    return DenseNet(
        growth_rate=32,
        block_config=(6, 12, 24, 16),
        num_init_features=64,
        bn_size=4,
        num_classes=num_classes,
        in_channels=in_channels,
        small_input=small_input,
        width_multiplier=width_multiplier,
        **kwargs,  # type: ignore[arg-type]
    )
