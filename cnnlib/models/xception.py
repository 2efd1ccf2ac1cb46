"""Xception: Chollet (2017), "Xception: Deep Learning with Depthwise Separable Convolutions".

"Extreme Inception": an Inception module maps cross-channel correlations (1x1
convolutions) and spatial correlations (3x3 convolutions on groups of
channels) separately; taken to the limit of one channel per group it becomes a
depthwise separable convolution (:class:`cnnlib.layers.SeparableConv2d`:
a depthwise 3x3 then a pointwise 1x1, with nothing in between, as in the
paper, which found that an activation between them hurts). Xception is 36
such convolutional layers in 14 modules, all but the first and last with a
residual connection, in three flows (Figure 5 of the paper):

* **entry flow**: two 3x3 convolutions (32, 64 channels; the first with stride
  2), then three modules of two separable convolutions and a 3x3 stride-2
  max-pool (128, 256, 728 channels), each with a 1x1 stride-2 projection
  shortcut;
* **middle flow**: eight modules of three separable convolutions (728
  channels) with identity shortcuts;
* **exit flow**: a module of separable convolutions to 728 and 1024 channels
  and a max-pool (with a projection shortcut), separable convolutions to 1536
  and 2048 channels, global average pooling, dropout and a linear classifier.

Every convolution is followed by batch normalisation. The paper (Table 3)
reports 22,855,952 parameters for Xception on ImageNet; :func:`xception`
builds exactly that many: convolutions without bias, two parameters (scale and
shift) per batch-norm channel (the running statistics are buffers, not
parameters), and the 2048·1000 + 1000 of the classifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from cnnlib._checks import non_negative_int, positive_int, positive_ints, probability
from cnnlib.analysis import summary
from cnnlib.layers import TF_BN_EPS, ActivationFactory, ConvBNAct, SeparableConv2d
from cnnlib.models._common import ImageClassifier, init_he
from cnnlib.models._registry import register_model

__all__ = [
    "CONV_KINDS",
    "SegmentedInception",
    "Xception",
    "XceptionBlock",
    "conv_kind",
    "cost_by_kind",
    "xception",
]

#: Batch-norm epsilon of the reference (Keras) implementation.
BN_EPS = TF_BN_EPS


class XceptionBlock(nn.Module):
    """A module of Xception: separable convolutions with a residual connection.

    ``rep`` holds, for every width in ``widths``, a ReLU, a 3x3
    :class:`~cnnlib.layers.SeparableConv2d` and a batch norm (the first ReLU
    is left out with ``start_with_relu=False``: the entry flow's first module
    follows a convolution that already ends in one). With ``stride=2`` a 3x3
    stride-2 max-pool (padding 1) ends ``rep``. The shortcut is the identity
    when the shape is kept, otherwise a 1x1 convolution (with the stride) and
    batch norm.

    Args:
        in_channels: channels of the input.
        widths: output channels of each separable convolution, in order.
        stride: 1 or 2.
        start_with_relu: begin with a ReLU.
        separable_activation: an activation between the depthwise and the
            pointwise half of every separable convolution (None: nothing, as
            in the paper).

    Raises:
        ValueError: ``widths`` is empty or holds a non-positive width, or
            ``stride`` is not 1 or 2.
    """

    def __init__(
        self,
        in_channels: int,
        widths: Sequence[int],
        stride: int = 1,
        start_with_relu: bool = True,
        separable_activation: ActivationFactory | None = None,
    ) -> None:
        super().__init__()
        positive_ints("XceptionBlock", "widths", widths)
        if stride not in (1, 2):
            raise ValueError(f"XceptionBlock: stride must be 1 or 2, got {stride!r}")
        layers: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(widths):
            if i > 0 or start_with_relu:
                # Not in place: the block's input also feeds the shortcut.
                layers.append(nn.ReLU())
            layers += [
                SeparableConv2d(channels, width, activation=separable_activation),
                nn.BatchNorm2d(width, eps=BN_EPS),
            ]
            channels = width
        if stride == 2:
            layers.append(nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.rep = nn.Sequential(*layers)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels != in_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(channels, eps=BN_EPS),
            )
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rep(x) + self.shortcut(x)


class Xception(ImageClassifier):
    """Xception (Chollet, 2017): entry, middle and exit flows of separable convolutions.

    At 299x299 the stem's two unpadded 3x3 convolutions give 147x147, the entry
    flow's three modules 74, 37 and 19; the middle flow runs at 19x19 and the
    exit flow ends at 10x10. Where it departs from the paper: max-pools pad 1
    on both sides where Keras's "same" padding pads 0 before and 1 after an
    even-sized map (74x74 → 37x37), which shifts the pooling windows by one
    pixel but changes neither sizes nor counts; convolutions are initialised
    with He et al.'s normal (fan-out) rule rather than Keras's Glorot uniform.

    Args:
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: a stem for 28x28 / 32x32 images: both stem convolutions
            get padding 1 and the first loses its stride (3x3, stride 1,
            instead of 3x3, stride 2, unpadded). The entry flow then works at
            32, 16, 8 and 4 pixels for 32x32 inputs (28, 14, 7, 4 for 28x28),
            the middle flow at 4x4 and the exit flow ends at 2x2.
        width_multiplier: ``α``; every layer's output channels become
            ``round(c * α)``, at least 1. At 1.0 nothing changes.
        middle_blocks: modules in the middle flow (8 in the paper).
        dropout: dropout probability before ``fc`` (0.5 in the paper's
            ImageNet experiments).
        separable_activation: an activation inside every separable convolution,
            between its depthwise and pointwise halves (the paper's Figure 10
            experiment); None, the paper's choice, puts nothing there.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        middle_blocks: int = 8,
        dropout: float = 0.5,
        separable_activation: ActivationFactory | None = None,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        non_negative_int("Xception", "middle_blocks", middle_blocks)
        probability("Xception", "dropout", dropout)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        scale = self.scale

        def block(c_in: int, widths: list[int], **options: Any) -> XceptionBlock:
            return XceptionBlock(c_in, widths, separable_activation=separable_activation,
                                 **options)  # fmt: skip

        def separable(c_in: int, c_out: int) -> list[nn.Module]:
            return [
                SeparableConv2d(c_in, c_out, activation=separable_activation),
                nn.BatchNorm2d(c_out, eps=BN_EPS),
                nn.ReLU(inplace=True),
            ]

        pad = 1 if small_input else 0
        self.stem = nn.Sequential(
            ConvBNAct(in_channels, scale(32), 3, stride=1 if small_input else 2, padding=pad,
                      eps=BN_EPS),
            ConvBNAct(scale(32), scale(64), 3, padding=pad, eps=BN_EPS),
        )  # fmt: skip
        self.entry_flow = nn.Sequential(
            block(scale(64), [scale(128)] * 2, stride=2, start_with_relu=False),
            block(scale(128), [scale(256)] * 2, stride=2),
            block(scale(256), [scale(728)] * 2, stride=2),
        )
        self.middle_flow = nn.Sequential(
            *(block(scale(728), [scale(728)] * 3) for _ in range(middle_blocks))
        )
        self.exit_flow = nn.Sequential(
            block(scale(728), [scale(728), scale(1024)], stride=2),
            *separable(scale(1024), scale(1536)),
            *separable(scale(1536), scale(2048)),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(scale(2048), num_classes)
        init_he(self, zero_linear_bias=False)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The exit flow's 2048-channel feature map, before pooling."""
        return self.exit_flow(self.middle_flow(self.entry_flow(self.stem(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.flatten(self.avgpool(self.forward_features(x)))))


class SegmentedInception(nn.Module):
    """The paper's Figures 2-4: a 1x1 convolution, then 3x3s on channel segments.

    A simplified Inception module with ``segments`` towers of "1x1, then 3x3"
    is the same function as one 1x1 convolution to ``out_channels`` followed
    by a 3x3 convolution with ``groups=segments``: each group is one tower's
    3x3, reading and writing only its own segment of ``out_channels //
    segments`` channels (Chollet, 2017, Figures 2 and 3). ``segments=1`` is a
    regular 3x3 after the 1x1; ``segments=out_channels`` is the "extreme"
    version (Figure 4), a 1x1 then a depthwise 3x3: a depthwise separable
    convolution in the other order.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the 1x1 convolution and of the output.
        segments: groups of the 3x3 convolution; must divide ``out_channels``.
        kernel_size: the spatial convolution's kernel (odd; "same" padding).
        activation: a layer factory applied after each of the two convolutions
            (Inception's ReLUs); None for none.

    Raises:
        ValueError: a size is not a positive int, ``segments`` does not divide
            ``out_channels``, or ``kernel_size`` is even.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        segments: int,
        kernel_size: int = 3,
        activation: ActivationFactory | None = nn.ReLU,
    ) -> None:
        super().__init__()
        owner = "SegmentedInception"
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("segments", segments), ("kernel_size", kernel_size)):  # fmt: skip
            positive_int(owner, name, value)
        if out_channels % segments:
            raise ValueError(
                f"{owner}: segments must divide out_channels={out_channels}, got {segments}"
            )
        if kernel_size % 2 == 0:
            raise ValueError(f"{owner}: kernel_size must be odd, got {kernel_size}")
        self.segments = segments
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.act1 = nn.Identity() if activation is None else activation()
        self.spatial = nn.Conv2d(out_channels, out_channels, kernel_size,
                                 padding=kernel_size // 2, groups=segments,
                                 bias=False)  # fmt: skip
        self.act2 = nn.Identity() if activation is None else activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act2(self.spatial(self.act1(self.pointwise(x))))


#: The kinds :func:`conv_kind` tells apart, in the order tables list them.
CONV_KINDS = ("pointwise 1x1", "depthwise", "full conv", "linear", "other")


def conv_kind(module: nn.Module) -> str:
    """Which of :data:`CONV_KINDS` a layer is.

    A ``Conv2d`` with a 1x1 kernel and one group is "pointwise 1x1" (the
    shortcuts' 1x1 projections included); one with as many groups as input
    channels (more than one) and a larger kernel is "depthwise"; any other
    ``Conv2d`` is a "full conv"; an ``nn.Linear`` is "linear"; everything
    else (batch norms, pooling, activations) is "other".

    Raises:
        TypeError: ``module`` is not an ``nn.Module``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"conv_kind: module must be an nn.Module, got {type(module).__name__}")
    if isinstance(module, nn.Conv2d):
        if module.kernel_size == (1, 1) and module.groups == 1:
            return "pointwise 1x1"
        if module.groups == module.in_channels > 1:
            return "depthwise"
        return "full conv"
    return "linear" if isinstance(module, nn.Linear) else "other"


def cost_by_kind(model: nn.Module, input_size: Sequence[int]) -> dict[str, tuple[int, int]]:
    """Parameters and MACs of ``model``'s layers, summed by :func:`conv_kind`.

    Built on :func:`cnnlib.analysis.summary` (one traced forward pass, so a
    model on the ``meta`` device works); the values add up to the summary's
    per-layer totals.

    Args:
        model: the network.
        input_size: ``(N, C, H, W)`` of the input.

    Returns:
        ``{kind: (params, macs)}`` for every kind in :data:`CONV_KINDS`, in
        that order (zeros for kinds the model lacks).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: as :func:`cnnlib.analysis.summary`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"cost_by_kind: model must be an nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    totals = {kind: [0, 0] for kind in CONV_KINDS}
    for row in summary(model, input_size).rows:
        kind = conv_kind(modules[row.name]) if row.name in modules else "other"
        totals[kind][0] += row.params
        totals[kind][1] += row.macs
    return {kind: (p, m) for kind, (p, m) in totals.items()}


@register_model(image_shape=(3, 299, 299))
def xception(**kwargs: Any) -> Xception:
    """Xception (Chollet, 2017) for 299x299 ImageNet images: 22,855,952 parameters.

    Keyword arguments (``middle_blocks``, ``dropout``, ``separable_activation``,
    ...) go to :class:`Xception`.
    """
    return Xception(**kwargs)
