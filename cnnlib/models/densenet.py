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
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from cnnlib._checks import boolean, positive_int, positive_ints
from cnnlib.models._common import ImageClassifier, init_he
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "DenseLayer", "DenseBlock", "Transition", "DenseNet", "VARIANTS", "densenet121",
    "densenet_bc_100_12", "densenet_bc", "layer_in_channels", "block_connections",
]  # fmt: skip


def layer_in_channels(in_channels: int, growth_rate: int, layer: int) -> int:
    """Channels that layer ``layer`` (from 1) of a dense block reads: ``k0 + k·(layer − 1)``.

    The block's input has ``k0 = in_channels`` channels and each earlier layer
    added ``k = growth_rate``.

    Args:
        in_channels: ``k0``, the channels entering the block.
        growth_rate: ``k``, the channels each layer adds.
        layer: ``ℓ``, the layer's position in the block, counted from 1.

    Raises:
        ValueError: an argument is not a positive int.
    """
    for name, value in (("in_channels", in_channels), ("growth_rate", growth_rate),
                        ("layer", layer)):  # fmt: skip
        positive_int("layer_in_channels", name, value)
    return in_channels + growth_rate * (layer - 1)


def block_connections(num_layers: int) -> int:
    """The paper's ``L(L+1)/2`` direct connections of an ``L``-layer dense block.

    Layer ``ℓ`` reads ``ℓ`` feature maps: the block's input and the outputs
    of layers ``1 … ℓ − 1``. Summed over the ``L`` layers, that is
    ``1 + 2 + … + L = L(L+1)/2`` connections, the one from the block's input
    to every layer included. The final concatenation that leaves the block
    (the input and all ``L`` outputs, read by the transition) is not counted.

    Raises:
        ValueError: ``num_layers`` is not a positive int.
    """
    positive_int("block_connections", "num_layers", num_layers)
    return num_layers * (num_layers + 1) // 2


class DenseLayer(nn.Module):
    """BN → ReLU → 1x1 conv (``bn_size * growth_rate``) → BN → ReLU → 3x3 conv (``growth_rate``).

    Reads the concatenation of everything so far (``in_channels``, given as a
    list of the block's feature maps) and returns only the ``growth_rate`` new
    channels; :class:`DenseBlock` collects them. With ``memory_efficient``
    the concatenation and the bottleneck are recomputed in the backward pass
    instead of stored (:func:`torch.utils.checkpoint.checkpoint`, as in
    torchvision and Pleiss et al., 2017): training memory then grows linearly
    with the layers of a block instead of quadratically, for about one more
    forward pass of compute.
    """

    def __init__(
        self, in_channels: int, growth_rate: int, bn_size: int, memory_efficient: bool = False
    ) -> None:
        super().__init__()
        inner = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, inner, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(inner)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(inner, growth_rate, kernel_size=3, padding=1, bias=False)
        self.memory_efficient = memory_efficient

    def bottleneck(self, *features: torch.Tensor) -> torch.Tensor:
        """The 1x1 convolution on the concatenated features (the part worth recomputing)."""
        return self.conv1(self.relu1(self.norm1(torch.cat(features, dim=1))))

    def forward(self, features: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        inputs = [features] if isinstance(features, torch.Tensor) else features
        if self.memory_efficient and torch.is_grad_enabled():
            x = checkpoint(self.bottleneck, *inputs, use_reentrant=False)
        else:
            x = self.bottleneck(*inputs)
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlock(nn.Module):
    """``num_layers`` dense layers, whose outputs are concatenated to the input.

    The output has ``in_channels + num_layers * growth_rate`` channels.
    Layer ``j`` (``denselayer{j}``, from 1) reads ``in_channels + (j - 1) * growth_rate``
    channels: the block input and the outputs of layers ``1 … j - 1``.
    """

    def __init__(
        self,
        num_layers: int,
        in_channels: int,
        growth_rate: int,
        bn_size: int,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        for j in range(num_layers):
            layer = DenseLayer(
                in_channels + j * growth_rate, growth_rate, bn_size, memory_efficient
            )
            self.add_module(f"denselayer{j + 1}", layer)
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.children():
            features.append(layer(features))
        return torch.cat(features, dim=1)


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


class DenseNet(ImageClassifier):
    """Stem, dense blocks separated by transitions, BN, ReLU, global average pool, linear.

    Args:
        num_classes: outputs of ``classifier``.
        in_channels: channels of the input image.
        small_input: a stem for 28x28 / 32x32 images: ``conv0`` becomes a 3x3
            convolution with stride 1 and padding 1 (instead of 7x7, stride 2,
            padding 3) and ``pool0`` is left out; nothing else changes. This is
            the CIFAR stem of the paper. The first block then runs at the input
            resolution.
        width_multiplier: ``α``; ``growth_rate`` and ``num_init_features`` become
            ``max(1, round(α · value))``, which scales every layer's channels
            (``bn_size`` and ``compression`` are ratios and stay). At 1.0
            nothing changes.
        growth_rate: ``k``, the channels each dense layer adds.
        block_config: dense layers per block, e.g. ``(6, 12, 24, 16)`` for DenseNet-121.
        num_init_features: channels of the stem convolution (the paper: ``2k``).
        bn_size: the bottleneck's 1x1 convolution has ``bn_size * growth_rate``
            channels (the paper: 4).
        compression: ``θ``; a transition keeps ``floor(θ · m)`` of its ``m``
            input channels (the paper's DenseNet-BC: 0.5).
        memory_efficient: recompute each layer's concatenation and bottleneck
            in the backward pass (see :class:`DenseLayer`); same outputs and
            gradients, less memory.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        compression: float = 0.5,
        memory_efficient: bool = False,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        for name, value in (("growth_rate", growth_rate), ("bn_size", bn_size),
                            ("num_init_features", num_init_features)):  # fmt: skip
            positive_int("DenseNet", name, value)
        positive_ints("DenseNet", "block_config", block_config)
        if not isinstance(compression, (int, float)) or not 0 < compression <= 1:
            raise ValueError(f"DenseNet: compression must be in (0, 1], got {compression!r}")
        boolean("DenseNet", "memory_efficient", memory_efficient)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        growth_rate = self.scale(growth_rate)
        channels = self.scale(num_init_features)
        kernel, stride, padding = (3, 1, 1) if small_input else (7, 2, 3)
        stem = [
            ("conv0", nn.Conv2d(in_channels, channels, kernel, stride, padding, bias=False)),
            ("norm0", nn.BatchNorm2d(channels)),
            ("relu0", nn.ReLU(inplace=True)),
        ]
        if not small_input:
            stem.append(("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
        self.features = nn.Sequential(OrderedDict(stem))
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, channels, growth_rate, bn_size, memory_efficient)
            self.features.add_module(f"denseblock{i + 1}", block)
            channels = block.out_channels
            if i != len(block_config) - 1:
                reduced = max(1, math.floor(channels * compression))
                self.features.add_module(f"transition{i + 1}", Transition(channels, reduced))
                channels = reduced
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)
        self.growth_rate = growth_rate
        init_he(self, mode="fan_in")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.features(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.classifier(x)


#: Each variant's configuration.
VARIANTS: dict[str, dict[str, object]] = {
    "densenet121": {
        "growth_rate": 32, "block_config": (6, 12, 24, 16), "num_init_features": 64, "bn_size": 4,
    },
    # The paper's CIFAR DenseNet-BC (L = 100, k = 12): three blocks of (100 - 4) / 6 = 16
    # bottleneck layers, a 2k-channel stem.
    "densenet_bc_100_12": {
        "growth_rate": 12, "block_config": (16, 16, 16), "num_init_features": 24, "bn_size": 4,
    },
}  # fmt: skip


def _build(name: str, arguments: dict[str, Any]) -> DenseNet:
    return build_variant(DenseNet, VARIANTS, name, arguments)


@register_model
def densenet121(**kwargs: Any) -> DenseNet:
    """DenseNet-121 (DenseNet-BC, Huang et al., 2017, Table 1): torchvision's twin.

    ``growth_rate=32``, ``bn_size=4``, ``block_config=(6, 12, 24, 16)``,
    ``num_init_features=64``, ``compression=0.5``. The channels after the
    blocks are 64 + 6·32 = 256, 128 + 12·32 = 512, 256 + 24·32 = 1024 and
    512 + 16·32 = 1024: 7,978,856 parameters and 2.834 GMACs at 224x224.
    The paper gives no parameter count for its ImageNet models (only a plot);
    torchvision's numbers are the reference.
    """
    return _build("densenet121", kwargs)


@register_model(image_shape=(3, 32, 32))
def densenet_bc_100_12(**kwargs: Any) -> DenseNet:
    """DenseNet-BC (L = 100, k = 12) for CIFAR (Huang et al., 2017, Table 2: 0.8 M parameters).

    A 3x3 stem with 24 channels, three dense blocks of 16 bottleneck layers
    (32x32, 16x16, 8x8) and transitions with compression 0.5. Built with
    ``small_input=True`` by default, the CIFAR stem.
    """
    return _build("densenet_bc_100_12", {"small_input": True, "num_classes": 10, **kwargs})


def densenet_bc(depth: int, *, growth_rate: int = 12, **kwargs: Any) -> DenseNet:
    """The paper's CIFAR DenseNet-BC at ``depth = 6n + 4``: three blocks of ``n`` layers.

    Each bottleneck layer holds two convolutions, so the three blocks hold
    ``6n``; the stem convolution, the two transitions and the classifier make
    ``6n + 4`` weighted layers (``depth=100`` is :func:`densenet_bc_100_12`'s
    ``n = 16``, ``depth=40`` gives ``n = 6``). The stem has ``2k`` channels and
    is the 3x3 CIFAR stem (``small_input=True``), compression is 0.5. Not
    registered: a chapter's tool for small, fast DenseNets.

    Args:
        depth: weighted layers, ``6n + 4`` with ``n ≥ 1`` (10, 16, 22, 28, 40, 100, ...).
        growth_rate: ``k``.
        **kwargs: further :class:`DenseNet` arguments (``num_classes``,
            ``in_channels``, ``width_multiplier``, ``memory_efficient``, ...);
            ``block_config`` and ``num_init_features`` follow from ``depth``
            and ``growth_rate``.

    Raises:
        ValueError: ``depth`` is not ``6n + 4`` with ``n ≥ 1``, or a
            :class:`DenseNet` argument is out of range.
        TypeError: ``kwargs`` sets ``block_config`` or ``num_init_features``.
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 10 or (depth - 4) % 6:
        raise ValueError(
            f"densenet_bc: depth must be 6n + 4 with n >= 1 (10, 16, ...), got {depth!r}"
        )
    positive_int("densenet_bc", "growth_rate", growth_rate)
    fixed = sorted({"block_config", "num_init_features"} & set(kwargs))
    if fixed:
        raise TypeError(f"densenet_bc: {', '.join(fixed)} follows from depth and growth_rate")
    n = (depth - 4) // 6
    arguments: dict[str, Any] = {"small_input": True, "num_classes": 10, **kwargs}
    return DenseNet(growth_rate=growth_rate, block_config=(n, n, n),
                    num_init_features=2 * growth_rate, **arguments)  # fmt: skip
