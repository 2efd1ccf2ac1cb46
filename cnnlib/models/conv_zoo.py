"""A small CNN whose convolutions can be swapped, for the "convolution zoo" chapter.

:func:`conv_zoo_net` builds the same network around six kinds of convolution,
so their parameters, MACs and receptive fields can be compared with
everything else held fixed:

``"standard"``
    3x3 convolution: ``9·C_in·C_out`` weights.
``"depthwise_separable"``
    MobileNet's 3x3 depthwise then 1x1 pointwise convolution, each with BN and
    ReLU (:class:`~cnnlib.layers.DepthwiseSeparableConv`, Howard et al.,
    2017): ``9·C_in + C_in·C_out`` weights.
``"spatially_separable"``
    3x1 then 1x3 convolution, each with BN and ReLU
    (:class:`~cnnlib.layers.SpatiallySeparableConv`, Szegedy et al., 2016):
    ``3·C_in·C_out + 3·C_out²`` weights.
``"dilated"``
    3x3 convolution with dilation 2 (Yu and Koltun, 2016): the weights of a
    3x3, the receptive field of a 5x5.
``"grouped"``
    3x3 convolution in ``groups`` groups (AlexNet, ResNeXt):
    ``9·C_in·C_out / groups`` weights.
``"deformable"``
    3x3 deformable convolution (Dai et al., 2017;
    :class:`~cnnlib.layers.DeformableConvBlock`): ``9·C_in·C_out`` weights plus
    the offset predictor's ``9·C_in·18 + 18``.

Layout: ``stem`` (a standard 3x3 conv-BN-ReLU from ``in_channels`` to
``width``, the same for every kind, since a depthwise or grouped convolution
of a 1-channel image is degenerate) → ``conv1`` (the chosen kind, ``width`` →
``2·width``) → ``pool1`` (2x2 max) → ``conv2`` (chosen kind, ``2·width`` →
``2·width``) → ``pool2`` (2x2 max) → ``avgpool`` (global) → ``fc``. Every
convolution keeps the spatial size, so 28x28 inputs reach the global pooling
at 7x7 and 32x32 inputs at 8x8.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import torch
from torch import nn

from cnnlib._checks import one_of, positive_int
from cnnlib.layers import (
    ConvBNAct,
    DeformableConvBlock,
    DepthwiseSeparableConv,
    SpatiallySeparableConv,
)
from cnnlib.models._common import ImageClassifier
from cnnlib.models._registry import register_model

__all__ = ["ConvKind", "CONV_KINDS", "zoo_conv", "ConvZooNet", "conv_zoo_net"]

ConvKind = Literal[
    "standard", "depthwise_separable", "spatially_separable", "dilated", "grouped", "deformable"
]
#: The kinds of convolution :func:`conv_zoo_net` accepts, in the chapter's order.
CONV_KINDS: tuple[str, ...] = get_args(ConvKind)


def _check_zoo_conv(kind: object, in_channels: int, out_channels: int, groups: int) -> None:
    one_of("zoo_conv", "kind", kind, CONV_KINDS)
    positive_int("zoo_conv", "in_channels", in_channels)
    positive_int("zoo_conv", "out_channels", out_channels)
    positive_int("zoo_conv", "groups", groups)
    if kind == "grouped" and (in_channels % groups or out_channels % groups):
        raise ValueError(
            f"zoo_conv: groups ({groups}) must divide in_channels ({in_channels}) "
            f"and out_channels ({out_channels})"
        )


def zoo_conv(
    kind: ConvKind,
    in_channels: int,
    out_channels: int,
    *,
    groups: int = 4,
) -> nn.Module:
    """A 3x3 'same' convolution of the given kind, with batch norm and ReLU.

    Args:
        kind: one of :data:`CONV_KINDS` (see the module docstring).
        in_channels: input channels.
        out_channels: output channels.
        groups: the number of groups of ``kind="grouped"`` (ignored otherwise);
            it must divide both channel counts.

    Raises:
        ValueError: an unknown ``kind``, a channel count or ``groups`` that is
            not a positive int, or ``groups`` does not divide the channels of a
            grouped convolution.
    """
    _check_zoo_conv(kind, in_channels, out_channels, groups)
    c_in, c_out = in_channels, out_channels
    if kind == "standard":
        return ConvBNAct(c_in, c_out, 3)
    if kind == "depthwise_separable":
        return DepthwiseSeparableConv(c_in, c_out)
    if kind == "spatially_separable":
        return SpatiallySeparableConv(c_in, c_out, kernel_size=3)
    if kind == "dilated":
        return ConvBNAct(c_in, c_out, 3, dilation=2)
    if kind == "grouped":
        return ConvBNAct(c_in, c_out, 3, groups=groups)
    return DeformableConvBlock(c_in, c_out, kernel_size=3)


class ConvZooNet(ImageClassifier):
    """``stem`` → ``conv1`` → ``pool1`` → ``conv2`` → ``pool2`` → ``avgpool`` → ``fc``.

    See the module docstring for the layout and the kinds of convolution.

    Args:
        conv: the kind of ``conv1`` and ``conv2``.
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: must be True (the network is built for small images).
        width_multiplier: scales ``width``: ``round(width · α)``.
        width: channels of the stem; ``conv1`` and ``conv2`` have twice as many.
        groups: groups of the grouped convolutions (``conv="grouped"`` only);
            must divide the (scaled) width.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        conv: ConvKind = "standard",
        *,
        width: int = 32,
        groups: int = 4,
        num_classes: int = 10,
        in_channels: int = 1,
        small_input: bool = True,
        width_multiplier: float = 1.0,
    ) -> None:
        one_of("ConvZooNet", "conv", conv, CONV_KINDS)
        positive_int("ConvZooNet", "width", width)
        positive_int("ConvZooNet", "groups", groups)
        super().__init__(num_classes, in_channels, small_input, width_multiplier, small_only=True)
        width = self.scale(width)
        if conv == "grouped" and width % groups:
            raise ValueError(f"ConvZooNet: groups ({groups}) must divide width ({width})")
        self.conv = conv
        self.stem = ConvBNAct(in_channels, width, 3)
        self.conv1 = zoo_conv(conv, width, 2 * width, groups=groups)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = zoo_conv(conv, 2 * width, 2 * width, groups=groups)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.conv1(self.stem(x)))
        x = self.pool2(self.conv2(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@register_model(image_shape=(1, 28, 28))
def conv_zoo_net(**kwargs: Any) -> ConvZooNet:
    """The convolution-zoo CNN for 28x28x1 (or, with ``in_channels=3``, 32x32x3) images.

    ``conv`` picks the kind of its two middle convolutions (see
    :mod:`cnnlib.models.conv_zoo`); ``groups`` applies to ``conv="grouped"``.
    """
    return ConvZooNet(**kwargs)
