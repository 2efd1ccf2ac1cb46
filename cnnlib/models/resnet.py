"""ResNet and its descendants: ResNeXt, Wide ResNet, SE-ResNet and CBAM-ResNet.

One class, :class:`ResNet`, builds them all; the variants are configurations
(as in timm). Module names follow torchvision (``conv1``, ``bn1``, ``relu``,
``maxpool``, ``layer1`` … ``layer4``, ``avgpool``, ``fc``; inside a block
``conv1``/``bn1``/``conv2``/``bn2``/(``conv3``/``bn3``)/``downsample.0``/``.1``),
so a torchvision ``state_dict`` loads with ``strict=True`` into the eight
torchvision twins: ``resnet18``, ``resnet34``, ``resnet50``, ``resnet101``,
``resnet152``, ``resnext50_32x4d``, ``resnext101_32x8d`` and ``wide_resnet50_2``.

Papers:

* He, Zhang, Ren and Sun (2016), "Deep Residual Learning for Image Recognition".
* Xie, Girshick, Dollár, Tu and He (2017), "Aggregated Residual Transformations
  for Deep Neural Networks" (ResNeXt; the three equivalent block forms of its
  Figure 3 are in :mod:`cnnlib.models.resnext`).
* Zagoruyko and Komodakis (2016), "Wide Residual Networks".
* Hu, Shen and Sun (2018), "Squeeze-and-Excitation Networks".
* Woo, Park, Lee and Kweon (2018), "CBAM: Convolutional Block Attention Module".

**ResNet v1.5.** Like torchvision, the bottleneck block downsamples with its 3x3
convolution (``conv2`` has the stride). The paper's ResNet-50/101/152 (v1,
``stride_in="1x1"``) put the stride on the first 1x1 convolution, which then
reads only one input pixel in four. The parameter count is the same; the MACs
are higher (4.089 instead of 3.858 GMACs for ResNet-50, whose paper gives
3.8 × 10⁹), because the first 1x1 of every downsampling block runs at its
input's resolution instead of a quarter of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from cnnlib._checks import boolean, one_of, positive_int, positive_ints
from cnnlib.layers import CBAM, SqueezeExcite, conv1x1, conv3x3
from cnnlib.models._common import ImageClassifier, init_he
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "wide_resnet50_2",
    "se_resnet50",
    "cbam_resnet50",
    "VARIANTS",
    "cifar_resnet",
]

BlockKind = Literal["basic", "bottleneck"]
Attention = Literal[None, "se", "cbam"]
StrideIn = Literal["1x1", "3x3"]

_BASE_WIDTH = 64  # channels of the stem and of the first stage's "planes" at width_multiplier 1


def _attention_module(attention: Attention, channels: int, reduction: int) -> nn.Module | None:
    if attention == "se":
        return SqueezeExcite(channels, reduction=reduction)
    if attention == "cbam":
        return CBAM(channels, reduction=reduction)
    return None


def _projection(in_channels: int, out_channels: int,
                stride: int) -> nn.Sequential | None:  # fmt: skip
    """The projection shortcut (1x1 conv with the block's stride, then BN), if needed."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        conv1x1(in_channels, out_channels, stride),
        nn.BatchNorm2d(out_channels),
    )


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or projection) shortcut.

    ``conv1`` (stride ``stride``) → BN → ReLU → ``conv2`` → BN → [attention] →
    add the shortcut → ReLU. Output channels: ``planes`` (``expansion = 1``).
    Checked by :class:`ResNet`, which builds it.

    Args:
        in_channels: input channels.
        planes: channels of both convolutions and of the output.
        stride: stride of ``conv1`` and of the projection shortcut.
        dilation: dilation (and padding) of both 3x3 convolutions.
        residual: add the shortcut; False makes the plain twin (no
            ``downsample`` either).
        attention: ``None``, ``"se"`` or ``"cbam"``, after the last BN.
        attention_reduction: the attention MLP's reduction ratio ``r``.
    """

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        *,
        dilation: int = 1,
        residual: bool = True,
        attention: Attention = None,
        attention_reduction: int = 16,
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, planes, stride, dilation=dilation)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes, dilation=dilation)
        self.bn2 = nn.BatchNorm2d(planes)
        self.attention = _attention_module(attention, planes, attention_reduction)
        self.downsample = _projection(in_channels, planes, stride) if residual else None
        self.residual = residual
        self.out_channels = planes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.attention is not None:
            out = self.attention(out)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce → 3x3 (grouped for ResNeXt) → 1x1 expand, each with BN.

    ``conv1`` (1x1, ``in_channels`` → ``width``) → BN → ReLU → ``conv2`` (3x3,
    ``width`` → ``width``, ``groups=cardinality``) → BN → ReLU → ``conv3``
    (1x1, ``width`` → ``4 * planes``) → BN → [attention] → add the shortcut →
    ReLU. Checked by :class:`ResNet`, which builds it.

    The inner width is ``floor(planes * bottleneck_width / 64) * cardinality``
    (the floor at least 1): ResNet has ``cardinality=1, bottleneck_width=64``
    (``width = planes``); ResNeXt-50 32x4d has ``C=32, d=4`` (``width =
    2 * planes``); Wide ResNet-50-2 has ``C=1, d=128``. This is form (c) of
    Xie et al. (2017), Figure 3.

    Args:
        in_channels: input channels.
        planes: the stage's base width; the block outputs ``4 * planes`` channels.
        stride: the block's stride, on ``conv2`` (``stride_in="3x3"``, ResNet
            v1.5 as in torchvision) or on ``conv1`` (``"1x1"``, the paper's v1);
            and on the projection shortcut.
        cardinality: ResNeXt's ``C``, the number of groups of ``conv2``.
        bottleneck_width: ResNeXt's ``d``, the channels per group when ``planes = 64``.
        dilation: dilation (and padding) of ``conv2``.
        stride_in: ``"3x3"`` or ``"1x1"``, see ``stride``.
        residual: add the shortcut; False makes the plain twin.
        attention: ``None``, ``"se"`` (Hu et al., 2018) or ``"cbam"`` (Woo et al.,
            2018), after ``bn3``, before the residual addition.
        attention_reduction: the attention MLP's reduction ratio ``r``.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        *,
        cardinality: int = 1,
        bottleneck_width: int = 64,
        dilation: int = 1,
        stride_in: StrideIn = "3x3",
        residual: bool = True,
        attention: Attention = None,
        attention_reduction: int = 16,
    ) -> None:
        super().__init__()
        width = max(1, planes * bottleneck_width // _BASE_WIDTH) * cardinality
        out_channels = planes * self.expansion
        stride_1x1, stride_3x3 = (stride, 1) if stride_in == "1x1" else (1, stride)
        self.conv1 = conv1x1(in_channels, width, stride_1x1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride_3x3, groups=cardinality,
                             dilation=dilation)  # fmt: skip
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.attention = _attention_module(attention, out_channels,
                                           attention_reduction)  # fmt: skip
        self.downsample = (_projection(in_channels, out_channels, stride)
                           if residual else None)  # fmt: skip
        self.residual = residual
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.attention is not None:
            out = self.attention(out)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


def _check(
    block: object, layers: object, cardinality: object, bottleneck_width: object,
    attention: object, attention_reduction: object, zero_init_residual: object,
    replace_stride_with_dilation: object, stride_in: object, residual: object,
) -> None:  # fmt: skip
    """ResNet's own argument checks, in one call."""
    one_of("ResNet", "block", block, ("basic", "bottleneck"))
    layers = positive_ints("ResNet", "layers", layers)
    for name, value in (("cardinality", cardinality), ("bottleneck_width", bottleneck_width),
                        ("attention_reduction", attention_reduction)):  # fmt: skip
        positive_int("ResNet", name, value)
    if block == "basic" and (cardinality != 1 or bottleneck_width != _BASE_WIDTH):
        raise ValueError(
            "ResNet: block='basic' supports only cardinality=1 and bottleneck_width=64, "
            f"got cardinality={cardinality!r}, bottleneck_width={bottleneck_width!r}"
        )
    one_of("ResNet", "attention", attention, (None, "se", "cbam"))
    one_of("ResNet", "stride_in", stride_in, ("3x3", "1x1"))
    if block == "basic" and stride_in != "3x3":
        raise ValueError(
            "ResNet: stride_in='1x1' needs block='bottleneck' (a basic block has no 1x1)"
        )
    boolean("ResNet", "zero_init_residual", zero_init_residual)
    boolean("ResNet", "residual", residual)
    flags = replace_stride_with_dilation
    if (
        not isinstance(flags, Sequence)
        or len(flags) != len(layers) - 1
        or not all(isinstance(f, bool) for f in flags)
    ):
        raise ValueError(
            f"ResNet: replace_stride_with_dilation must be {len(layers) - 1} bools (one per "
            f"stage after the first), got {flags!r}"
        )


class ResNet(ImageClassifier):
    """A stem, stages of residual blocks, global average pooling and a linear classifier.

    Stage ``i`` (``layer{i+1}``) has ``layers[i]`` blocks of base width
    ``64 * 2**i * width_multiplier``; its first block has stride 2 (except in
    ``layer1``, which follows the max-pool) and a projection shortcut whenever
    the shape changes (torchvision's ``_make_layer``).

    Args:
        block: ``"basic"`` (:class:`BasicBlock`, ResNet-18/34) or ``"bottleneck"``
            (:class:`Bottleneck`, ResNet-50 and deeper, ResNeXt, Wide ResNet).
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)`` for ResNet-50.
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: a stem for 28x28 / 32x32 images. ``conv1`` becomes a 3x3
            convolution with stride 1 and padding 1 (instead of 7x7, stride 2,
            padding 3) and ``maxpool`` becomes ``nn.Identity``; nothing else
            changes. ``layer1`` then runs at the input resolution (32x32 for
            CIFAR) and ``layer4`` at 1/8 of it (4x4). This is the common
            "ResNet-18 on CIFAR" adaptation, not He et al.'s 3-stage CIFAR
            ResNets (ResNet-20/32/56/110).
        width_multiplier: ``α``; the stem and every stage's base width are
            ``round(64 * 2**i * α)`` (at least 1). At 1.0 nothing changes.
        cardinality: ResNeXt's ``C`` (bottleneck blocks only).
        bottleneck_width: ResNeXt's ``d`` (bottleneck blocks only).
        attention: ``None``, ``"se"`` or ``"cbam"`` in every block (see
            :class:`Bottleneck`).
        attention_reduction: reduction ratio of the attention MLPs.
        zero_init_residual: start the last BN of every block at scale 0
            (torchvision's option, Goyal et al., 2017), so that each block
            begins as the identity map (up to its final ReLU).
        replace_stride_with_dilation: one bool per stage after the first: that
            stage keeps the resolution (stride 1) and dilates its 3x3
            convolutions instead, as torchvision does for segmentation; the
            output stride falls from 32 to 16 or 8.
        stride_in: where a bottleneck downsamples: ``"3x3"`` (v1.5, torchvision)
            or ``"1x1"`` (the paper's v1).
        residual: False builds the plain twin: the same layers without any
            shortcut (He et al.'s "plain" networks).

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        block: BlockKind,
        layers: Sequence[int],
        *,
        cardinality: int = 1,
        bottleneck_width: int = 64,
        attention: Attention = None,
        attention_reduction: int = 16,
        zero_init_residual: bool = False,
        replace_stride_with_dilation: Sequence[bool] | None = None,
        stride_in: StrideIn = "3x3",
        residual: bool = True,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        dilate = replace_stride_with_dilation
        if dilate is None:
            dilate = (False,) * (len(layers) - 1) if isinstance(layers, Sequence) else ()
        _check(
            block, layers, cardinality, bottleneck_width, attention, attention_reduction,
            zero_init_residual, dilate, stride_in, residual,
        )  # fmt: skip
        stem_width = self.scale(_BASE_WIDTH)
        if small_input:
            self.conv1 = conv3x3(in_channels, stem_width)
            self.maxpool: nn.Module = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, stem_width, 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)

        options: dict[str, object] = dict(
            residual=residual, attention=attention, attention_reduction=attention_reduction
        )
        if block == "bottleneck":
            options.update(cardinality=cardinality, bottleneck_width=bottleneck_width,
                           stride_in=stride_in)  # fmt: skip
        unit = Bottleneck if block == "bottleneck" else BasicBlock
        self.inplanes, self.dilation = stem_width, 1
        for i, depth in enumerate(layers):
            planes = self.scale(_BASE_WIDTH * 2**i)
            stage = self._make_layer(unit, planes, depth, stride=1 if i == 0 else 2,
                                     dilate=i > 0 and dilate[i - 1], **options)  # fmt: skip
            self.add_module(f"layer{i + 1}", stage)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, num_classes)
        self.num_stages = len(layers)
        init_he(self, zero_linear_bias=False)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, (BasicBlock, Bottleneck)):
                    last_norm = module.bn3 if isinstance(module, Bottleneck) else module.bn2
                    nn.init.zeros_(last_norm.weight)

    def _make_layer(
        self,
        unit: type[BasicBlock] | type[Bottleneck],
        planes: int,
        blocks: int,
        stride: int,
        dilate: bool,
        **options: Any,
    ) -> nn.Sequential:
        """One stage, as torchvision's ``_make_layer``: ``blocks`` units of base width ``planes``.

        Only the first unit changes the shape (stride, channels), so only it
        can get a projection shortcut. With ``dilate`` the stage keeps the
        resolution and dilates its 3x3 convolutions by the stride instead; the
        first unit keeps the previous dilation. Updates ``self.inplanes`` and
        ``self.dilation``.
        """
        previous_dilation = self.dilation
        if dilate:
            self.dilation, stride = self.dilation * stride, 1
        first = unit(self.inplanes, planes, stride,
                     dilation=previous_dilation, **options)  # fmt: skip
        self.inplanes = first.out_channels
        rest = [unit(self.inplanes, planes, dilation=self.dilation, **options)
                for _ in range(1, blocks)]  # fmt: skip
        return nn.Sequential(first, *rest)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map after the last stage, before pooling."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(x)), 1))


#: Each variant's configuration (timm style); the builders below add the
#: arguments every model accepts.
VARIANTS: dict[str, dict[str, object]] = {
    "resnet18": {"block": "basic", "layers": (2, 2, 2, 2)},
    "resnet34": {"block": "basic", "layers": (3, 4, 6, 3)},
    "resnet50": {"block": "bottleneck", "layers": (3, 4, 6, 3)},
    "resnet101": {"block": "bottleneck", "layers": (3, 4, 23, 3)},
    "resnet152": {"block": "bottleneck", "layers": (3, 8, 36, 3)},
    "resnext50_32x4d": {
        "block": "bottleneck", "layers": (3, 4, 6, 3), "cardinality": 32, "bottleneck_width": 4,
    },
    "resnext101_32x8d": {
        "block": "bottleneck", "layers": (3, 4, 23, 3), "cardinality": 32, "bottleneck_width": 8,
    },
    "wide_resnet50_2": {"block": "bottleneck", "layers": (3, 4, 6, 3), "bottleneck_width": 128},
    "se_resnet50": {"block": "bottleneck", "layers": (3, 4, 6, 3), "attention": "se"},
    "cbam_resnet50": {"block": "bottleneck", "layers": (3, 4, 6, 3), "attention": "cbam"},
}  # fmt: skip


def _build(name: str, arguments: dict[str, Any]) -> ResNet:
    return build_variant(ResNet, VARIANTS, name, arguments)


@register_model
def resnet18(**kwargs: Any) -> ResNet:
    """ResNet-18 (He et al., 2016): basic blocks (2, 2, 2, 2).

    torchvision's twin: 11,689,512 parameters, 1.814 GMACs at 224x224.
    """
    return _build("resnet18", kwargs)


@register_model
def resnet34(**kwargs: Any) -> ResNet:
    """ResNet-34 (He et al., 2016): basic blocks (3, 4, 6, 3).

    torchvision's twin: 21,797,672 parameters, 3.664 GMACs at 224x224.
    """
    return _build("resnet34", kwargs)


@register_model
def resnet50(**kwargs: Any) -> ResNet:
    """ResNet-50 (He et al., 2016) v1.5: bottlenecks (3, 4, 6, 3), stride on the 3x3.

    torchvision's twin: 25,557,032 parameters, 4.089 GMACs at 224x224 (the
    paper's v1, ``stride_in="1x1"``: 3.858 GMACs; the paper: 3.8 × 10⁹ FLOPs,
    i.e. multiply-adds).
    """
    return _build("resnet50", kwargs)


@register_model
def resnet101(**kwargs: Any) -> ResNet:
    """ResNet-101 (He et al., 2016) v1.5: bottlenecks (3, 4, 23, 3), stride on the 3x3.

    torchvision's twin: 44,549,160 parameters, 7.801 GMACs at 224x224.
    """
    return _build("resnet101", kwargs)


@register_model
def resnet152(**kwargs: Any) -> ResNet:
    """ResNet-152 (He et al., 2016) v1.5: bottlenecks (3, 8, 36, 3), stride on the 3x3.

    torchvision's twin: 60,192,808 parameters, 11.514 GMACs at 224x224.
    """
    return _build("resnet152", kwargs)


@register_model
def resnext50_32x4d(**kwargs: Any) -> ResNet:
    """ResNeXt-50 (32x4d) (Xie et al., 2017): cardinality 32, bottleneck_width 4.

    ResNet-50's layout with grouped 3x3 convolutions (32 groups of 4 channels
    in the first stage, 32 of 32 in the last), stride on the 3x3.
    torchvision's twin: 25,028,904 parameters, 4.230 GMACs at 224x224 (the
    paper's Table 1: 25.0 M parameters, 4.2 GFLOPs, i.e. multiply-adds).
    """
    return _build("resnext50_32x4d", kwargs)


@register_model
def resnext101_32x8d(**kwargs: Any) -> ResNet:
    """ResNeXt-101 (32x8d) (Xie et al., 2017): cardinality 32, bottleneck_width 8.

    Bottlenecks (3, 4, 23, 3), stride on the 3x3. torchvision's twin:
    88,791,336 parameters, 16.414 GMACs at 224x224.
    """
    return _build("resnext101_32x8d", kwargs)


@register_model
def wide_resnet50_2(**kwargs: Any) -> ResNet:
    """Wide ResNet-50-2 (Zagoruyko and Komodakis, 2016), torchvision's bottleneck version.

    ResNet-50 with the bottleneck's inner width doubled (``bottleneck_width=128``:
    the 3x3 convolutions have 128 … 1024 channels); the block outputs are
    unchanged. Stride on the 3x3. torchvision's twin: 68,883,240 parameters,
    11.398 GMACs at 224x224.
    """
    return _build("wide_resnet50_2", kwargs)


@register_model
def se_resnet50(**kwargs: Any) -> ResNet:
    """SE-ResNet-50 (Hu, Shen and Sun, 2018, "Squeeze-and-Excitation Networks").

    ResNet-50 (v1.5) with a squeeze-and-excitation module (reduction ratio 16)
    after ``bn3`` of every bottleneck, before the residual addition. The SE
    modules add ``2·C²/16 + C/16 + C`` parameters per block (two fully
    connected layers with biases), 2,530,992 over the 16 blocks (the paper,
    §4: "∼2.5 million additional parameters"): 28,088,024 in all, against
    SE-ResNet-50's 28.09 M in Woo et al. (2018), Table 4.
    """
    return _build("se_resnet50", kwargs)


@register_model
def cbam_resnet50(**kwargs: Any) -> ResNet:
    """CBAM-ResNet-50 (Woo, Park, Lee and Kweon, 2018).

    From "CBAM: Convolutional Block Attention Module": ResNet-50 (v1.5) with
    CBAM (channel MLP with reduction 16, 7x7 spatial convolution) after
    ``bn3`` of every bottleneck, before the residual addition. The paper's
    Table 4 lists ResNet50 + CBAM at 28.09 M parameters; this model has
    28,089,624: the channel MLPs as in SE-ResNet-50 (2,530,992), plus per
    block a 2·7·7 = 98-weight spatial convolution and its one-channel batch
    norm (2 parameters; the authors' code has it, the paper's formula for the
    spatial attention does not), 16 · 100 = 1,600 in all. Without the spatial
    BN the count would be 32 lower, 28,089,592; both round to 28.09 M.
    """
    return _build("cbam_resnet50", kwargs)


def cifar_resnet(
    depth: int,
    *,
    residual: bool = True,
    num_classes: int = 10,
    in_channels: int = 1,
    width_multiplier: float = 0.25,
    zero_init_residual: bool = False,
    attention: Attention = None,
    attention_reduction: int = 16,
) -> ResNet:
    """He et al.'s CIFAR layout at ``depth = 6n + 2``: three stages of ``n`` basic blocks.

    A 3x3 stem, stages of ``n`` basic blocks at strides 1, 2, 2, global
    average pooling and ``fc``: ``1 + 6n + 1`` weighted layers (ResNet-20 at
    ``n = 3``, ResNet-32 at ``n = 5``, ResNet-56 at ``n = 9``). It is a
    :class:`ResNet` with ``layers=(n, n, n)`` and ``small_input=True``, so its
    widths are ``64·2**i·width_multiplier``: the default 0.25 gives the paper's
    16, 32 and 64 channels. One difference from the paper: where the shape
    changes, the shortcut is a 1x1 projection (the paper's option B), while the
    CIFAR networks of He et al. (2016, §4.2) pad the identity with zero
    channels (option A); this adds two 1x1 convolutions and their batch norms.
    Not registered: a chapter's tool for depth experiments (``residual=False``
    builds the plain twin of the paper's Figure 6).

    Args:
        depth: weighted layers, ``6n + 2`` with ``n ≥ 1`` (8, 14, 20, 26, 32, ...).
        residual: False builds the plain twin (no shortcuts).
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image (1 for Fashion-MNIST).
        width_multiplier: scales every width (0.25: 16, 32, 64 channels).
        zero_init_residual: start the last BN of every block at scale 0.
        attention: ``None``, ``"se"`` or ``"cbam"`` in every block, after
            its last BN and before the residual addition (the SE-ResNet module
            of Hu et al., 2018, Figure 3); the attention chapter's small SE-
            and CBAM-ResNets.
        attention_reduction: the attention MLP's reduction ratio ``r``; its
            hidden width is ``channels // r`` (at least 1), so at the default
            widths (16, 32, 64 channels) ``r = 16`` leaves 1, 2 and 4 units.

    Raises:
        TypeError: ``depth`` is not an int.
        ValueError: ``depth`` is not ``6n + 2`` with ``n ≥ 1``; or, from
            :class:`ResNet`, another argument is out of range.
    """
    if not isinstance(depth, int) or isinstance(depth, bool):
        raise TypeError(f"cifar_resnet: depth must be an int, got {type(depth).__name__}")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"cifar_resnet: depth must be 6n + 2 with n >= 1 (8, 14, 20, ...), got {depth}"
        )
    n = (depth - 2) // 6
    return ResNet(
        "basic", (n, n, n), residual=residual, num_classes=num_classes,
        in_channels=in_channels, small_input=True, width_multiplier=width_multiplier,
        zero_init_residual=zero_init_residual, attention=attention,
        attention_reduction=attention_reduction,
    )  # fmt: skip
