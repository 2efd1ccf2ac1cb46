"""MobileNet V1 and V2: networks built from depthwise separable convolutions.

Papers:

* Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto and Adam (2017),
  "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
  Applications" (:class:`MobileNetV1`).
* Sandler, Howard, Zhu, Zhmoginov and Chen (2018), "MobileNetV2: Inverted
  Residuals and Linear Bottlenecks" (:class:`MobileNetV2`).

Both have a width multiplier ``α`` (``width_multiplier``) that thins every
layer; V1 also has a resolution multiplier ``ρ`` (``resolution_multiplier``).
MACs are multiply-accumulates (the papers' "mult-adds"), see :mod:`cnnlib.analysis`.

:class:`MobileNetV2` uses torchvision's module names (``features.{i}``, each
inverted residual's ``conv`` sequence, ``classifier.1``), so torchvision's
``mobilenet_v2`` state dict loads with ``strict=True`` into :func:`mobilenet_v2`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnlib._checks import boolean, positive_int, positive_number, probability
from cnnlib.layers import ConvBNAct, DepthwiseSeparableConv, make_divisible
from cnnlib.models._common import ImageClassifier, init_he
from cnnlib.models._registry import register_model

__all__ = [
    "MobileNetV1",
    "InvertedResidual",
    "MobileNetV2",
    "mobilenet_v1",
    "mobilenet_v2",
]

#: MobileNet V1 (Howard et al., 2017, Table 1) after the stem: (output channels,
#: stride) of the 13 depthwise separable layers. Table 1 gives the last one
#: stride 2, but its input and output are both 7x7: the stride is 1 (as in the
#: authors' TensorFlow code).
V1_LAYERS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)  # fmt: skip
V1_STEM_CHANNELS = 32
PAPER_RESOLUTION = 224

#: MobileNetV2 (Sandler et al., 2018, Table 2): per stage the expansion t,
#: output channels c, number of blocks n and stride s of the first block.
V2_STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)  # fmt: skip
V2_STEM_CHANNELS = 32
V2_LAST_CHANNELS = 1280


class MobileNetV1(ImageClassifier):
    """MobileNet (Howard et al., 2017): a 3x3 stem and 13 depthwise separable convolutions.

    ``features.0`` is a 3x3 stride-2 conv-BN-ReLU with 32 channels; ``features.1``
    … ``features.13`` are :class:`~cnnlib.layers.DepthwiseSeparableConv` blocks
    (3x3 depthwise conv-BN-ReLU, then 1x1 pointwise conv-BN-ReLU) with the
    channels and strides of :data:`V1_LAYERS`; then global average pooling and
    a linear ``classifier``.

    The paper (Table 1, Table 6) reports for α = 1 at 224x224: 4.2 M parameters
    and 569 M mult-adds; this model has 4,231,976 parameters (21,888 of them
    batch norm scales and shifts) and 568,740,352 MACs (the classifier
    included).

    **Resolution multiplier.** ``ρ`` does not change the network: its layers
    and parameters are the same for every input size (global average pooling
    makes the classifier size-independent). It only sets the input resolution
    the model is meant for, ``input_resolution = round(224·ρ)`` (stored on the
    model; 192, 160 and 128 for the paper's ρ = 6/7, 5/7, 4/7), and so the
    MACs, which grow with ``ρ²``: count them at ``(1, C, input_resolution,
    input_resolution)``. The registry's default input is 224x224.

    Args:
        num_classes: outputs of ``classifier``.
        in_channels: channels of the input image.
        small_input: a stem for 28x28 / 32x32 images: its convolution has
            stride 1 instead of 2; nothing else changes. A 32x32 input then
            reaches the last layers at 2x2 (instead of 1x1). ``input_resolution``
            becomes ``round(32·ρ)``.
        width_multiplier: ``α``; every layer's channels become
            ``max(1, round(α · c))`` (for the paper's α = 0.75, 0.5, 0.25 all
            channel counts are exact). At 1.0 nothing changes.
        resolution_multiplier: ``ρ``, see above.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        resolution_multiplier: float = 1.0,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        rho = positive_number("MobileNetV1", "resolution_multiplier", resolution_multiplier)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        base_resolution = 32 if small_input else PAPER_RESOLUTION
        resolution = round(base_resolution * rho)
        if resolution < 1:
            raise ValueError(
                f"MobileNetV1: resolution_multiplier={resolution_multiplier!r} gives an input "
                f"resolution of round({base_resolution}·ρ) = {resolution}; it must be at least 1"
            )
        width = self.scale
        channels = width(V1_STEM_CHANNELS)
        layers: list[nn.Module] = [
            ConvBNAct(in_channels, channels, 3, stride=1 if small_input else 2)
        ]
        for out_channels, stride in V1_LAYERS:
            layers.append(DepthwiseSeparableConv(channels, width(out_channels), stride=stride))
            channels = width(out_channels)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)
        self.input_resolution = resolution
        init_he(self, linear_std=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expand (ReLU6) → 3x3 depthwise (ReLU6) → 1x1 linear project.

    The expansion layer widens ``in_channels`` to ``round(expansion · in_channels)``
    (it is left out when ``expansion == 1``); the projection has no activation
    (the "linear bottleneck"). The input is added to the output when
    ``stride == 1`` and the channel counts match. Children: ``conv`` (a
    sequence of :class:`~cnnlib.layers.ConvBNAct` blocks, then the projection
    convolution and its batch norm, then a ReLU6 only when
    ``linear_bottleneck`` is False), as in torchvision.

    Args:
        in_channels: channels of the input (the bottleneck ``d'``).
        out_channels: channels of the output (``d''``).
        stride: stride of the depthwise convolution, 1 or 2.
        expansion: the expansion factor ``t``.
        linear_bottleneck: no activation after the projection (the paper's
            block); False puts a ReLU6 after its batch norm (the paper's
            Figure 6a ablation). It adds no parameters.

    Attributes:
        in_channels, out_channels, stride, expansion, linear_bottleneck: the
            arguments; ``hidden_channels``: the expanded width.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong
            type (the message names it).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        expansion: int,
        *,
        linear_bottleneck: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("expansion", expansion)):  # fmt: skip
            positive_int("InvertedResidual", name, value)
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride!r}")
        boolean("InvertedResidual", "linear_bottleneck", linear_bottleneck)
        hidden = round(in_channels * expansion)
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(ConvBNAct(in_channels, hidden, 1, activation=nn.ReLU6))
        layers += [
            ConvBNAct(hidden, hidden, 3, stride=stride, groups=hidden, activation=nn.ReLU6),
            nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        if not linear_bottleneck:
            layers.append(nn.ReLU6())
        self.conv = nn.Sequential(*layers)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.expansion, self.hidden_channels = stride, expansion, hidden
        self.linear_bottleneck = linear_bottleneck
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.use_residual else out


class MobileNetV2(ImageClassifier):
    """MobileNetV2 (Sandler et al., 2018, Table 2).

    A stem, 17 inverted residuals, a 1x1 conv and a classifier:
    ``features.0`` is a 3x3 stride-2 conv-BN-ReLU6 with 32 channels,
    ``features.1`` … ``features.17`` the :class:`InvertedResidual` blocks of
    :data:`V2_STAGES`, ``features.18`` a 1x1 conv-BN-ReLU6 to 1280 channels;
    then global average pooling and ``classifier`` (dropout 0.2, linear).

    The paper reports 3.4 M parameters and 300 M mult-adds at 224x224 (Tables 3
    and 4). This model (like torchvision's) has 300,774,272 MACs (0.26 % more)
    and 3,504,872 parameters, 3.08 % more than 3.4 M. Of these, 34,112 are
    batch norm scales and shifts; the convolution and linear weights alone are
    3,469,760 (the classifier's 1,000 biases left out): close to the 3.47 M
    that the authors' TensorFlow checkpoint list (``tensorflow/models``,
    ``research/slim/nets/mobilenet/README.md``) gives for this network, and
    2.05 % more than 3.4 M, which is probably 3.47 M truncated (the paper does
    not say how it counted).

    Args:
        num_classes: outputs of the classifier.
        in_channels: channels of the input image.
        small_input: for 28x28 / 32x32 images: the stem convolution and the
            first block of the 24-channel stage get stride 1 instead of 2
            (the usual CIFAR adaptation); nothing else changes. The network
            then downsamples by 8, so a 32x32 input ends at 4x4.
        width_multiplier: ``α``; every block's channels and the stem's become
            ``make_divisible(α · c, 8)`` (the rounding of the authors' code:
            nearest multiple of 8, never below 90 % of ``α · c``); the last 1x1
            convolution keeps 1280 channels for ``α < 1`` and becomes
            ``make_divisible(1280 · α, 8)`` for ``α > 1``. At 1.0 nothing changes.
        dropout: dropout probability before the linear classifier.
        linear_bottleneck: the paper's linear projection in every block; False
            puts a ReLU6 after each block's projection (see
            :class:`InvertedResidual`).
        stages: how many of the seven rows of :data:`V2_STAGES` to build, a
            prefix of the paper's Table 2 (default: all 7, 17 blocks). Fewer
            stages make a shallower network for small images, e.g. 4 stages
            (10 blocks, last block 64·α channels).
        last_channels: channels of the last 1x1 convolution; default
            (``None``) the paper's 1280 rule above. It is used as given (not
            scaled by ``α``).

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        dropout: float = 0.2,
        linear_bottleneck: bool = True,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
        stages: int = len(V2_STAGES),
        last_channels: int | None = None,
    ) -> None:
        probability("MobileNetV2", "dropout", dropout)
        boolean("MobileNetV2", "linear_bottleneck", linear_bottleneck)
        positive_int("MobileNetV2", "stages", stages)
        if stages > len(V2_STAGES):
            raise ValueError(f"MobileNetV2: stages must be at most {len(V2_STAGES)}, got {stages}")
        if last_channels is not None:
            positive_int("MobileNetV2", "last_channels", last_channels)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        alpha = self.width_multiplier

        channels = make_divisible(V2_STEM_CHANNELS * alpha, 8)
        layers: list[nn.Module] = [
            ConvBNAct(in_channels, channels, 3, stride=1 if small_input else 2, activation=nn.ReLU6)
        ]
        rows = V2_STAGES[:stages]
        for stage, (expansion, stage_channels, blocks, first_stride) in enumerate(rows):
            out_channels = make_divisible(stage_channels * alpha, 8)
            if small_input and stage == 1:
                first_stride = 1
            for j in range(blocks):
                stride = first_stride if j == 0 else 1
                block = InvertedResidual(
                    channels, out_channels, stride, expansion, linear_bottleneck=linear_bottleneck
                )
                layers.append(block)
                channels = out_channels
        if last_channels is None:
            last_channels = make_divisible(V2_LAST_CHANNELS * max(1.0, alpha), 8)
        layers.append(ConvBNAct(channels, last_channels, 1, activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(last_channels, num_classes)
        )
        init_he(self, linear_std=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1)
        return self.classifier(x)


@register_model
def mobilenet_v1(**kwargs: Any) -> MobileNetV1:
    """MobileNet (Howard et al., 2017) with width multiplier ``α`` and resolution multiplier ``ρ``.

    At α = 1: 4.23 M parameters, 569 M MACs at 224x224 (paper: 4.2 M, 569 M).
    ``resolution_multiplier`` changes the MACs (at ``model.input_resolution``),
    never the parameters; see :class:`MobileNetV1`.
    """
    return MobileNetV1(**kwargs)


@register_model
def mobilenet_v2(**kwargs: Any) -> MobileNetV2:
    """MobileNetV2 (Sandler et al., 2018): torchvision's twin, 3,504,872 parameters, 0.301 GMACs.

    See :class:`MobileNetV2` for the paper's numbers and ``width_multiplier``.
    """
    return MobileNetV2(**kwargs)
