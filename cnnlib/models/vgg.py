"""VGG (Simonyan and Zisserman, 2015): stages of 3x3 convolutions, then three linear layers.

Simonyan and Zisserman (2015), "Very Deep Convolutional Networks for
Large-Scale Image Recognition". One class, :class:`VGG`, builds every
configuration from its list of stages (:data:`STAGES`); the paper's Table 1
names them A (11 weight layers), B (13), D (16) and E (19). Table 2 gives
133, 133, 138 and 144 million parameters for A, B, D and E.

Module names follow torchvision (``features``, ``avgpool``, ``classifier``, with
positional children), so torchvision's ``vgg11`` … ``vgg19_bn`` state dicts load
with ``strict=True``. The ``_bn`` variants put batch normalization (Ioffe and
Szegedy, 2015) between every convolution and its ReLU, as torchvision does;
the paper predates it. Their convolutions keep their biases (torchvision's
layout), which the batch norm makes redundant.

Not built here: the paper's A-LRN (A with local response normalization) and C
(D with three 1x1 convolutions in place of 3x3 ones in stages 3-5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from cnnlib._checks import boolean, positive_ints
from cnnlib.models._common import ImageClassifier, fully_connected_head, init_he
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "VGG",
    "STAGES",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
    "vgg11_bn",
    "vgg13_bn",
    "vgg16_bn",
    "vgg19_bn",
    "VARIANTS",
]

#: Output channels of every 3x3 convolution, stage by stage (the paper's Table 1).
#: Each stage ends with a 2x2 stride-2 max-pool.
STAGES: dict[str, tuple[tuple[int, ...], ...]] = {
    "vgg11": ((64,), (128,), (256, 256), (512, 512), (512, 512)),  # A
    "vgg13": ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),  # B
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),  # D
    "vgg19": (
        (64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512),
    ),  # E
}  # fmt: skip


class VGG(ImageClassifier):
    """Stages of 3x3 convolutions (stride 1, padding 1) and ReLUs, each ending in a max-pool.

    ``features`` holds, for every stage, its convolutions (each followed by a
    batch norm if ``batch_norm``, then a ReLU) and a 2x2 stride-2 max-pool.
    ``avgpool`` is an adaptive average pool to 7x7 (torchvision's addition:
    the identity at 224x224, where five pools leave 7x7). ``classifier`` is
    linear, ReLU, dropout, linear, ReLU, dropout, linear (the paper's FC-4096,
    FC-4096, FC-1000).

    Weights are initialized as in torchvision: He et al. (2015) normal (fan-out)
    for convolutions, N(0, 0.01²) for linear layers, zero biases; the paper
    used N(0, 0.01²) throughout (after initializing deeper nets from net A).

    Args:
        stages: output channels of the convolutions, stage by stage
            (e.g. ``STAGES["vgg16"]``).
        num_classes: outputs of the last linear layer.
        in_channels: channels of the input image.
        batch_norm: batch normalization after every convolution.
        hidden_features: width of the two hidden linear layers (4096).
        dropout: dropout probability after the two hidden linear layers.
        small_input: a version for 28x28 / 32x32 images. Two things change: the
            max-pools round their output size up (``ceil_mode``), so five of
            them take 32 → 16 → 8 → 4 → 2 → 1 and 28 → 14 → 7 → 4 → 2 → 1
            (rounding down, a 28x28 input would shrink to 0x0 at the fifth);
            and ``avgpool`` outputs 1x1 instead of 7x7, so the first linear
            layer reads the 512 channels instead of 7·7·512 = 25,088 features.
            The convolutions and classifier widths are unchanged.
        width_multiplier: ``α``; every convolution's channels and the hidden
            linear widths become ``max(1, round(c·α))``. At 1.0 nothing changes.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        stages: Sequence[Sequence[int]],
        *,
        batch_norm: bool = False,
        hidden_features: int = 4096,
        dropout: float = 0.5,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence) or not stages:
            raise ValueError(f"VGG: stages must be a non-empty sequence of stages, got {stages!r}")
        for stage in stages:
            positive_ints("VGG", "every stage of stages", stage)
        boolean("VGG", "batch_norm", batch_norm)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        features: list[nn.Module] = []
        channels = in_channels
        for stage in stages:
            for width in stage:
                out_channels = self.scale(width)
                features.append(nn.Conv2d(channels, out_channels, kernel_size=3, padding=1))
                if batch_norm:
                    features.append(nn.BatchNorm2d(out_channels))
                features.append(nn.ReLU(inplace=True))
                channels = out_channels
            features.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=small_input))
        self.features = nn.Sequential(*features)
        side = 1 if small_input else 7
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = fully_connected_head(
            "VGG", channels * side * side, hidden_features, num_classes, dropout,
            width_multiplier=self.width_multiplier, dropout_first=False,
        )  # fmt: skip
        init_he(self, linear_std=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


#: Each variant's configuration: the paper's configurations, with and without batch norm.
VARIANTS: dict[str, dict[str, object]] = {
    **{name: {"stages": stages, "batch_norm": False} for name, stages in STAGES.items()},
    **{f"{name}_bn": {"stages": stages, "batch_norm": True} for name, stages in STAGES.items()},
}


def _build(name: str, arguments: dict[str, Any]) -> VGG:
    return build_variant(VGG, VARIANTS, name, arguments)


@register_model
def vgg11(**kwargs: Any) -> VGG:
    """VGG-11, the paper's configuration A: 132,863,336 parameters (Table 2: 133 M).

    7.609 GMACs at 224x224.
    """
    return _build("vgg11", kwargs)


@register_model
def vgg13(**kwargs: Any) -> VGG:
    """VGG-13, the paper's configuration B: 133,047,848 parameters (Table 2: 133 M).

    11.308 GMACs at 224x224.
    """
    return _build("vgg13", kwargs)


@register_model
def vgg16(**kwargs: Any) -> VGG:
    """VGG-16, the paper's configuration D: 138,357,544 parameters (Table 2: 138 M).

    15.470 GMACs at 224x224.
    """
    return _build("vgg16", kwargs)


@register_model
def vgg19(**kwargs: Any) -> VGG:
    """VGG-19, the paper's configuration E: 143,667,240 parameters (Table 2: 144 M).

    19.632 GMACs at 224x224.
    """
    return _build("vgg19", kwargs)


@register_model
def vgg11_bn(**kwargs: Any) -> VGG:
    """VGG-11 with batch norm: 132,868,840 parameters (5,504 more than VGG-11), 7.609 GMACs."""
    return _build("vgg11_bn", kwargs)


@register_model
def vgg13_bn(**kwargs: Any) -> VGG:
    """VGG-13 with batch norm: 133,053,736 parameters (5,888 more than VGG-13), 11.308 GMACs."""
    return _build("vgg13_bn", kwargs)


@register_model
def vgg16_bn(**kwargs: Any) -> VGG:
    """VGG-16 with batch norm: 138,365,992 parameters (8,448 more than VGG-16), 15.470 GMACs."""
    return _build("vgg16_bn", kwargs)


@register_model
def vgg19_bn(**kwargs: Any) -> VGG:
    """VGG-19 with batch norm: 143,678,248 parameters (11,008 more than VGG-19), 19.632 GMACs."""
    return _build("vgg19_bn", kwargs)
