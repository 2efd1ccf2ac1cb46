"""What several model families share: channel scaling, initialisation, stages, the CIFAR layout.

Each helper has one home here so that a model file shows only what makes its
architecture different.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from cnnlib._checks import boolean, model_arguments, positive_int, probability
from cnnlib.layers import conv3x3

__all__ = [
    "ImageClassifier",
    "scale_channels",
    "require_small_input",
    "init_he",
    "make_stage",
    "fully_connected_head",
    "ThreeStageNet",
]

#: Makes one block: ``block(in_channels, width, stride)``; the block records ``out_channels``.
BlockFactory = Callable[[int, int, int], nn.Module]


def scale_channels(channels: int, width_multiplier: float, *, divisor: int = 1) -> int:
    """``channels * width_multiplier`` rounded to a multiple of ``divisor``.

    The nearest multiple, and at least ``divisor``. Unchanged at 1.0 when
    ``divisor`` divides ``channels``. Use ``divisor=g`` for the channels of a
    convolution in ``g`` groups, or 2 where a block splits its channels in
    halves.
    """
    return divisor * max(1, round(channels * width_multiplier / divisor))


def require_small_input(owner: str, small_input: object) -> None:
    """For networks designed for 28x28 / 32x32 images, which have no large-image stem.

    Raises:
        TypeError: ``small_input`` is not a bool.
        ValueError: ``small_input`` is False.
    """
    if not boolean(owner, "small_input", small_input):
        raise ValueError(
            f"{owner}: small_input must be True: this network is built for small "
            "(28x28 or 32x32) images and has no large-image stem"
        )


class ImageClassifier(nn.Module):
    """The base of every registered model: the shared keywords, checked once and kept.

    Subclasses call ``super().__init__(num_classes, in_channels, small_input,
    width_multiplier)`` after checking their own arguments; the values are then
    attributes (``model.in_channels`` …), which :func:`cnnlib.train.fit` and
    :mod:`cnnlib.analysis` read to say which keyword to change when a model and
    its data do not fit, and :meth:`scale` applies the width multiplier.

    Args:
        num_classes: outputs of the classifier.
        in_channels: channels of the input image.
        small_input: built for 28x28 / 32x32 images.
        width_multiplier: ``α``, the factor on every layer's channels.
        small_only: the network has no large-image stem, so ``small_input``
            must be True.

    Raises:
        ValueError: a shared keyword is out of range (the message names it).
        TypeError: ``small_input`` is not a bool.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        small_input: bool,
        width_multiplier: float,
        *,
        small_only: bool = False,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        self.width_multiplier = model_arguments(
            owner, num_classes=num_classes, in_channels=in_channels,
            small_input=small_input, width_multiplier=width_multiplier,
        )  # fmt: skip
        if small_only:
            require_small_input(owner, small_input)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.small_input = small_input

    def scale(self, channels: int, divisor: int = 1) -> int:
        """``channels`` scaled by the width multiplier (see :func:`scale_channels`)."""
        return scale_channels(channels, self.width_multiplier, divisor=divisor)


def init_he(
    model: nn.Module,
    *,
    mode: str = "fan_out",
    linear_std: float | None = None,
    zero_linear_bias: bool = True,
) -> None:
    """He et al. (2015) normal initialisation for convolutions; batch norm as the identity.

    Convolution weights are drawn from ``N(0, 2 / fan)`` with ``fan`` the fan-out
    (``mode="fan_out"``, torchvision's ResNet) or fan-in, and their biases set
    to 0; batch norms start at scale 1 and shift 0. Linear layers keep PyTorch's
    default weights unless ``linear_std`` is given (then ``N(0, linear_std²)``),
    and their biases are zeroed when ``zero_linear_bias``.

    The fan-out of a grouped convolution is the number of outputs one input
    value reaches: ``out_channels / groups · kh · kw``. PyTorch's
    :func:`torch.nn.init.kaiming_normal_` (and so torchvision's models) counts
    ``out_channels · kh · kw``, ``groups`` times too many, which starts a
    depthwise 3x3 convolution with 960 channels at a standard deviation of
    0.015 instead of 0.47; its batch norm's running variance then needs many
    steps to come down to the real one. This function divides by ``groups``,
    as timm's EfficientNet/MobileNet initialisation does. (The fan-in,
    ``in_channels / groups · kh · kw``, PyTorch already counts right.)
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init_he: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            kernel = module.weight[0, 0].numel()
            if mode == "fan_out":
                fan = module.out_channels // module.groups * kernel
            else:
                fan = module.in_channels // module.groups * kernel
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan))
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            if linear_std is not None:
                nn.init.normal_(module.weight, 0.0, linear_std)
            if zero_linear_bias and module.bias is not None:
                nn.init.zeros_(module.bias)


def fully_connected_head(
    owner: str,
    in_features: int,
    hidden_features: int,
    num_classes: int,
    dropout: float,
    *,
    width_multiplier: float,
    dropout_first: bool,
) -> nn.Sequential:
    """Three linear layers with ReLUs and dropout, the classifier of AlexNet and VGG.

    ``dropout_first``: dropout before each hidden linear layer (AlexNet's order
    in torchvision), else after each hidden ReLU (VGG's). Either way the
    children are numbered as in torchvision, so its state dicts load. The
    hidden layers have ``hidden_features`` scaled by ``width_multiplier``.

    Raises:
        ValueError: ``hidden_features`` is not a positive int or ``dropout``
            not a probability (the message names ``owner``).
    """
    positive_int(owner, "hidden_features", hidden_features)
    probability(owner, "dropout", dropout)
    width = scale_channels(hidden_features, width_multiplier)
    hidden: list[nn.Module] = []
    for features in (in_features, width):
        layers: list[nn.Module] = [nn.Linear(features, width), nn.ReLU(inplace=True)]
        dropped = nn.Dropout(p=dropout)
        hidden += [dropped, *layers] if dropout_first else [*layers, dropped]
    return nn.Sequential(*hidden, nn.Linear(width, num_classes))


def make_stage(
    block: BlockFactory, in_channels: int, widths: Sequence[int], stride: int
) -> tuple[nn.Sequential, int]:
    """A stage: one block per width, the first with ``stride``; returns it and its output channels.

    ``block(in_channels, width, stride)`` builds a block and records its
    ``out_channels`` (e.g. ``4 * width`` for a bottleneck).
    """
    blocks = []
    channels = in_channels
    for j, width in enumerate(widths):
        blocks.append(block(channels, width, stride if j == 0 else 1))
        channels = blocks[-1].out_channels
    return nn.Sequential(*blocks), channels


class ThreeStageNet(ImageClassifier):
    """The CIFAR layout of He et al. (2016): a 3x3 stem, three stages, global pooling, linear.

    ``conv1`` (3x3, ``stem_width``) → ``bn1`` (if ``stem_norm``) → ``layer1``,
    ``layer2``, ``layer3`` (strides 1, 2, 2) → ``bn_final`` (if ``final_norm``)
    → ``relu`` → ``avgpool`` (global) → ``fc``. At 32x32 the stages run at
    32x32, 16x16 and 8x8. Wide ResNets, Shake-Shake and PyramidNet are built on
    it; they differ in their blocks, widths and the two norms.

    Subclasses call ``ImageClassifier.__init__`` (the shared keywords), then
    :meth:`build`.

    :meth:`build`'s arguments:
        block: builds one block, see :func:`make_stage`.
        stage_widths: the width of every block, stage by stage.
        stem_width: channels of ``conv1``.
        stem_norm: batch norm after ``conv1`` (pre-activation networks leave it
            to their first block).
        final_norm: batch norm before the final ReLU (pre-activation networks
            end with one).
    """

    def build(
        self,
        block: BlockFactory,
        stage_widths: Sequence[Sequence[int]],
        *,
        stem_width: int,
        stem_norm: bool,
        final_norm: bool,
    ) -> None:
        """Create the layers (after ``ImageClassifier.__init__``)."""
        self.conv1 = conv3x3(self.in_channels, stem_width)
        self.bn1 = nn.BatchNorm2d(stem_width) if stem_norm else None
        channels = stem_width
        for i, widths in enumerate(stage_widths):
            stage, channels = make_stage(block, channels, widths, stride=1 if i == 0 else 2)
            self.add_module(f"layer{i + 1}", stage)
        self.bn_final = nn.BatchNorm2d(channels) if final_norm else None
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, self.num_classes)
        self.num_stages = len(stage_widths)
        init_he(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The activated feature map after the last stage, before pooling."""
        x = self.conv1(x)
        if self.bn1 is not None:
            x = self.bn1(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        if self.bn_final is not None:
            x = self.bn_final(x)
        return self.relu(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(x)), 1))
