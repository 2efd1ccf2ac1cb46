"""ShuffleNet V1 and V2: cheap pointwise convolutions, mixed by a channel shuffle.

Papers:

* Zhang, Zhou, Lin and Sun (2018), "ShuffleNet: An Extremely Efficient
  Convolutional Neural Network for Mobile Devices" (:class:`ShuffleNetV1`).
* Ma, Zhang, Zheng and Sun (2018), "ShuffleNet V2: Practical Guidelines for
  Efficient CNN Architecture Design" (:class:`ShuffleNetV2`).

The papers' "FLOPs" are multiply-accumulates, what :mod:`cnnlib.analysis`
calls MACs. ShuffleNet V2's "MAC" is memory access cost
(:func:`cnnlib.analysis.memory_access_cost`), a different quantity.

:class:`ShuffleNetV2` uses torchvision's module names (``conv1``, ``maxpool``,
``stage2`` … ``stage4``, ``conv5``, ``fc``; in a unit ``branch1`` and
``branch2``), so torchvision's ``shufflenet_v2_x0_5`` and ``shufflenet_v2_x1_0``
state dicts load with ``strict=True``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from cnnlib._checks import (
    boolean,
    positive_int,
    positive_ints,
    positive_number,
)
from cnnlib.layers import ChannelShuffle, ConvBNAct, channel_shuffle, conv1x1, make_divisible
from cnnlib.models._common import ImageClassifier
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "ShuffleUnitV1",
    "ShuffleNetV1",
    "ShuffleUnitV2",
    "ShuffleNetV2",
    "V1_STAGE_CHANNELS",
    "V2_VARIANTS",
    "bottleneck_unit_macs",
    "channel_dependence",
    "resnext_unit_macs",
    "shuffle_unit_macs",
    "shufflenet_v1",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
]

#: ShuffleNet V1 (Zhang et al., 2018, Table 1), 1x: output channels of stage 2
#: for each number of groups g; stages 3 and 4 have twice and four times as many.
V1_STAGE_CHANNELS: dict[int, int] = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
V1_STEM_CHANNELS = 24
STAGE_REPEATS = (4, 8, 4)  # units of stages 2, 3, 4, in both versions


def _stem(in_channels: int, out_channels: int, small_input: bool) -> tuple[nn.Module, nn.Module]:
    """The 3x3 stride-2 conv-BN-ReLU and 3x3 stride-2 max-pool of the stem.

    For small inputs the conv has stride 1 and there is no pool.
    """
    conv = ConvBNAct(in_channels, out_channels, 3, stride=1 if small_input else 2)
    pool: nn.Module = (
        nn.Identity() if small_input else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    )
    return conv, pool


class ShuffleUnitV1(nn.Module):
    """The ShuffleNet unit of Zhang et al. (2018), Figure 2 (b) and (c).

    1x1 group conv (``in_channels`` → ``out_channels // 4``, the bottleneck) →
    BN → ReLU → channel shuffle → 3x3 depthwise conv (stride ``stride``) → BN →
    1x1 group conv → BN, then with the shortcut:

    * ``stride == 1``: add the input (``in_channels == out_channels``), ReLU;
    * ``stride == 2``: concatenate a 3x3 stride-2 average pool of the input,
      ReLU; the last group conv then makes only ``out_channels - in_channels``
      channels.

    Args:
        in_channels: input channels.
        out_channels: output channels of the unit.
        stride: 1 or 2.
        groups: ``g``, the groups of both 1x1 convolutions (and of the shuffle).
        group_first_conv: whether the first 1x1 convolution is grouped; the
            paper leaves it ungrouped in the first unit of stage 2, whose input
            (the 24 stem channels) is small.
        shuffle: the channel shuffle after the first group convolution; False
            leaves it out (the paper's Table 3 compares the two).

    Raises:
        ValueError: an argument is out of range, or ``groups`` does not divide
            the channels of a grouped convolution (the message names them).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        groups: int,
        group_first_conv: bool = True,
        shuffle: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):  # fmt: skip
            positive_int("ShuffleUnitV1", name, value)
        boolean("ShuffleUnitV1", "group_first_conv", group_first_conv)
        boolean("ShuffleUnitV1", "shuffle", shuffle)
        if stride not in (1, 2):
            raise ValueError(f"ShuffleUnitV1: stride must be 1 or 2, got {stride!r}")
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                f"ShuffleUnitV1: stride 1 needs in_channels == out_channels, "
                f"got {in_channels} and {out_channels}"
            )
        if stride == 2 and out_channels <= in_channels:
            raise ValueError(
                f"ShuffleUnitV1: stride 2 needs out_channels > in_channels (the shortcut's "
                f"{in_channels} channels are concatenated), got {out_channels}"
            )
        bottleneck = out_channels // 4
        branch_channels = out_channels - in_channels if stride == 2 else out_channels
        first_groups = groups if group_first_conv else 1
        for what, channels, g in (("in_channels", in_channels, first_groups),
                                  ("bottleneck channels (out_channels // 4)", bottleneck, groups),
                                  ("branch output channels", branch_channels, groups)):  # fmt: skip
            if channels < 1 or channels % g:
                raise ValueError(
                    f"ShuffleUnitV1: groups={g} must divide the {what} ({channels}); "
                    f"got in_channels={in_channels}, out_channels={out_channels}, stride={stride}"
                )
        self.conv1 = nn.Conv2d(
            in_channels, bottleneck, kernel_size=1, groups=first_groups, bias=False
        )
        self.bn1 = nn.BatchNorm2d(bottleneck)
        self.relu = nn.ReLU(inplace=True)
        self.shuffle: nn.Module = (
            ChannelShuffle(groups) if groups > 1 and shuffle else nn.Identity()
        )
        self.conv2 = nn.Conv2d(bottleneck, bottleneck, kernel_size=3, stride=stride, padding=1,
                               groups=bottleneck, bias=False)  # fmt: skip
        self.bn2 = nn.BatchNorm2d(bottleneck)
        self.conv3 = nn.Conv2d(
            bottleneck, branch_channels, kernel_size=1, groups=groups, bias=False
        )
        self.bn3 = nn.BatchNorm2d(branch_channels)
        self.shortcut = nn.AvgPool2d(kernel_size=3, stride=2, padding=1) if stride == 2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.shuffle(self.relu(self.bn1(self.conv1(x))))
        out = self.bn3(self.conv3(self.bn2(self.conv2(out))))
        if self.shortcut is None:
            return self.relu(x + out)
        return self.relu(torch.cat([self.shortcut(x), out], dim=1))


class ShuffleNetV1(ImageClassifier):
    """ShuffleNet (Zhang et al., 2018, Table 1) with ``g`` groups, scaled by ``s``.

    ``conv1`` (3x3 stride-2 conv-BN-ReLU, 24 channels) → ``maxpool`` (3x3,
    stride 2) → ``stage2``, ``stage3``, ``stage4`` (4, 8 and 4
    :class:`ShuffleUnitV1`, the first of each with stride 2) → global average
    pool → ``fc``. Stage output channels for 1x are :data:`V1_STAGE_CHANNELS`
    ``[g]`` times 1, 2 and 4.

    **Complexity.** The paper's Table 1 gives 143, 140, 137, 133 and 137 M
    "FLOPs" (MACs) for 1x with g = 1, 2, 3, 4, 8 at 224x224. Without the
    classifier, this model has 142.50, 140.04, 136.50, 133.25 and 136.83 M
    MACs: the paper's numbers to the nearest million, so Table 1 appears to
    leave ``fc`` out. With ``fc`` (576 k … 1,536 k MACs) the totals are
    143.08, 140.84, 137.46, 134.34 and 138.37 M, at most 1.01 % (g = 4)
    above Table 1. The paper's other tables do count the classifier: 2x
    (g = 3) has 524.05 M MACs (Table 5: 524 M) and 0.5x (g = 4) 37.94 M
    (38 M). "ShuffleNet 1x, 140 MFLOPs" in the text names the budget class.

    **Scaling.** ``s`` (``scale_factor``, "ShuffleNet s×") and ``α``
    (``width_multiplier``, the library-wide name) multiply: every layer's
    channels scale by ``s · α``. The paper does not say how channels are
    rounded; here the stage channels become ``make_divisible(c · s · α, 4g)``
    (so that ``g`` divides the bottleneck ``c/4``) and the stem
    ``make_divisible(24 · s · α, g)`` (so that ``g`` divides the stride-2
    branches' ``c - stem``). For g = 1, 3, 8 and s = 0.5, 1.5, 2 the stage
    channels are the exact products; for g = 2 and 4 at s = 0.5 and 1.5 they
    are rounded (g = 4, 0.5x: 136 → 144, since 4 groups must divide 136/4 = 34
    bottleneck channels). The stem scales too, which the authors' released
    models (megvii-model/ShuffleNet-Series) do not always do: they keep 24
    stem channels at 1.5x, and the paper's numbers fit a stem of 24 at 1.5x
    (292.37 M MACs for g = 3, Table 5: 292 M; the default stem of 36 gives
    299.61 M, +2.6 %) and of 12 at 0.25x (13.30 M for g = 3, Table 2: 13 M;
    the default stem of 6 gives 11.01 M). ``stem_channels`` sets it
    explicitly. At ``s · α = 1`` nothing changes.

    Args:
        groups: ``g``, one of 1, 2, 3, 4, 8.
        scale_factor: ``s``.
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: for 28x28 / 32x32 images: ``conv1`` has stride 1 and
            ``maxpool`` is ``nn.Identity``; nothing else changes. A 32x32 input
            then reaches stage 4 at 4x4.
        width_multiplier: ``α``, see above.
        stem_channels: channels of ``conv1``; by default
            ``make_divisible(24 · s · α, g)``. ``g`` must divide
            (stage 2 channels − ``stem_channels``).
        shuffle: the channel shuffle in every unit (see :class:`ShuffleUnitV1`).
        stages_repeats: units in stages 2, 3 and 4, ``(4, 8, 4)`` in the paper;
            fewer give a shallower network of the same widths (for quick
            experiments). The first unit of each stage has stride 2.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        groups: int = 3,
        scale_factor: float = 1.0,
        stem_channels: int | None = None,
        shuffle: bool = True,
        stages_repeats: Sequence[int] = STAGE_REPEATS,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        if (
            not isinstance(groups, int)
            or isinstance(groups, bool)
            or groups not in V1_STAGE_CHANNELS
        ):
            raise ValueError(
                f"ShuffleNetV1: groups must be one of {sorted(V1_STAGE_CHANNELS)}, got {groups!r}"
            )
        boolean("ShuffleNetV1", "shuffle", shuffle)
        positive_ints("ShuffleNetV1", "stages_repeats", stages_repeats, length=3)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        scale = (
            positive_number("ShuffleNetV1", "scale_factor", scale_factor) * self.width_multiplier
        )

        if stem_channels is None:
            channels = make_divisible(V1_STEM_CHANNELS * scale, groups)
        else:
            channels = positive_int("ShuffleNetV1", "stem_channels", stem_channels)
        self.conv1, self.maxpool = _stem(in_channels, channels, small_input)
        for i, repeats in enumerate(stages_repeats):
            out_channels = make_divisible(V1_STAGE_CHANNELS[groups] * 2**i * scale, 4 * groups)
            units = [ShuffleUnitV1(channels, out_channels, 2, groups, i > 0, shuffle)]
            units += [ShuffleUnitV1(out_channels, out_channels, 1, groups, True, shuffle)
                      for _ in range(repeats - 1)]  # fmt: skip
            self.add_module(f"stage{i + 2}", nn.Sequential(*units))
            channels = out_channels
        self.fc = nn.Linear(channels, num_classes)
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        return self.fc(x.mean(dim=(2, 3)))


def _unit_sizes(owner: str, **sizes: object) -> None:
    """Refuse any size that is not a positive int (the message names it).

    Raises:
        ValueError, TypeError: a size is not a positive int.
    """
    for name, value in sizes.items():
        positive_int(owner, name, value)


def bottleneck_unit_macs(height: int, width: int, c: int, m: int) -> int:
    """MACs of a ResNet bottleneck unit: ``hw(2cm + 9m²)`` (stride 1).

    1x1 conv ``c → m``, 3x3 conv ``m → m``, 1x1 conv ``m → c`` on an
    ``height × width`` map (Zhang et al., 2018, Section 3.2). Batch norm,
    ReLU and the shortcut's addition count nothing, as in the paper.

    Args:
        height, width: the spatial size ``h × w`` of the unit's input.
        c: input (and output) channels.
        m: bottleneck channels.

    Raises:
        ValueError, TypeError: a size is not a positive int.
    """
    _unit_sizes("bottleneck_unit_macs", height=height, width=width, c=c, m=m)
    return height * width * (2 * c * m + 9 * m * m)


def resnext_unit_macs(height: int, width: int, c: int, m: int, groups: int) -> int:
    """MACs of a ResNeXt unit: ``hw(2cm + 9m²/g)`` (stride 1).

    The bottleneck unit with its 3x3 convolution split into ``g`` groups.

    Args:
        height, width: the spatial size ``h × w`` of the unit's input.
        c: input (and output) channels.
        m: bottleneck channels.
        groups: ``g``, the groups of the 3x3 convolution.

    Raises:
        ValueError, TypeError: a size is not a positive int, or ``groups``
            does not divide ``m``.
    """
    _unit_sizes("resnext_unit_macs", height=height, width=width, c=c, m=m, groups=groups)
    if m % groups:
        raise ValueError(f"resnext_unit_macs: groups ({groups}) must divide m ({m})")
    return height * width * (2 * c * m + 9 * m * m // groups)


def shuffle_unit_macs(height: int, width: int, c: int, m: int, groups: int) -> int:
    """MACs of a ShuffleNet unit (stride 1): ``hw(2cm/g + 9m)``.

    Two 1x1 group convolutions (``c → m`` and ``m → c``, ``g`` groups) and a
    3x3 depthwise convolution on ``m`` channels (Zhang et al., 2018,
    Section 3.2). Batch norm, ReLU, the shuffle and the addition count
    nothing.

    Args:
        height, width: the spatial size ``h × w`` of the unit's input.
        c: input (and output) channels.
        m: bottleneck channels.
        groups: ``g``, the groups of both 1x1 convolutions.

    Raises:
        ValueError, TypeError: a size is not a positive int, or ``groups``
            does not divide ``c`` and ``m``.
    """
    _unit_sizes("shuffle_unit_macs", height=height, width=width, c=c, m=m, groups=groups)
    if c % groups or m % groups:
        raise ValueError(f"shuffle_unit_macs: groups ({groups}) must divide c ({c}) and m ({m})")
    return height * width * (2 * c * m // groups + 9 * m)


def channel_dependence(layers: Sequence[nn.Module], in_channels: int) -> list[torch.Tensor]:
    """Which channels each layer's outputs read: one boolean matrix per layer.

    Every layer runs alone, in float64, on a random ``1 × in_channels × 1 × 1``
    input (the previous layer's output); entry ``[o, i]`` of its matrix is
    True when output channel ``o`` has a non-zero derivative with respect to
    input channel ``i`` (autograd's Jacobian). For convolutions with random
    weights that is the pattern of their connections; for a channel shuffle,
    its permutation. A product of the matrices (as integers) tells which input
    channels reach which output channel of the whole stack.

    Args:
        layers: modules applied one after the other (e.g. a unit's ``conv1``,
            ``shuffle`` and ``conv3``), each mapping ``(1, C, 1, 1)`` to
            ``(1, C', 1, 1)``; they are copied, not changed.
        in_channels: channels of the first layer's input.

    Raises:
        TypeError: ``layers`` is not a non-empty sequence of modules.
        ValueError: ``in_channels`` is not a positive int.
    """
    positive_int("channel_dependence", "in_channels", in_channels)
    if not layers or not all(isinstance(layer, nn.Module) for layer in layers):
        raise TypeError("channel_dependence: layers must be a non-empty sequence of modules")
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, in_channels, 1, 1, generator=generator, dtype=torch.float64)
    matrices = []
    for layer in layers:
        layer = copy.deepcopy(layer).double().eval()
        jacobian = torch.autograd.functional.jacobian(layer, x)
        matrices.append(jacobian.reshape(-1, x.shape[1]) != 0)
        x = layer(x).detach()
    return matrices


class ShuffleUnitV2(nn.Module):
    """The ShuffleNet V2 unit (Ma et al., 2018, Figure 3 (c) and (d)).

    ``stride == 1``: split the channels in halves; the first passes unchanged,
    the second goes through ``branch2`` (1x1 conv-BN-ReLU → 3x3 depthwise
    conv-BN → 1x1 conv-BN-ReLU); concatenate. ``stride == 2``: no split; the
    whole input goes through ``branch1`` (3x3 stride-2 depthwise conv-BN →
    1x1 conv-BN-ReLU) and through ``branch2`` (its depthwise conv with stride
    2); concatenate. Both end with a channel shuffle with 2 groups. Each
    branch makes ``out_channels // 2`` channels.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        positive_int("ShuffleUnitV2", "in_channels", in_channels)
        positive_int("ShuffleUnitV2", "out_channels", out_channels)
        if stride not in (1, 2):
            raise ValueError(f"ShuffleUnitV2: stride must be 1 or 2, got {stride!r}")
        if out_channels % 2:
            raise ValueError(f"ShuffleUnitV2: out_channels must be even, got {out_channels}")
        branch_channels = out_channels // 2
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                f"ShuffleUnitV2: stride 1 needs in_channels == out_channels, "
                f"got {in_channels} and {out_channels}"
            )
        self.stride = stride
        if stride == 2:
            self.branch1: nn.Sequential | None = nn.Sequential(
                nn.Conv2d(in_channels, in_channels, 3, stride=2, padding=1, groups=in_channels,
                          bias=False),
                nn.BatchNorm2d(in_channels),
                conv1x1(in_channels, branch_channels),
                nn.BatchNorm2d(branch_channels),
                nn.ReLU(inplace=True),
            )  # fmt: skip
        else:
            self.branch1 = None
        self.branch2 = nn.Sequential(
            conv1x1(in_channels if stride == 2 else branch_channels, branch_channels),
            nn.BatchNorm2d(branch_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(branch_channels, branch_channels, 3, stride=stride, padding=1,
                      groups=branch_channels, bias=False),
            nn.BatchNorm2d(branch_channels),
            conv1x1(branch_channels, branch_channels),
            nn.BatchNorm2d(branch_channels),
            nn.ReLU(inplace=True),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.branch1 is None:
            kept, processed = x.chunk(2, dim=1)
            out = torch.cat([kept, self.branch2(processed)], dim=1)
        else:
            out = torch.cat([self.branch1(x), self.branch2(x)], dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(ImageClassifier):
    """ShuffleNet V2 (Ma et al., 2018, Table 5): stem, three stages of units, 1x1 conv, fc.

    ``conv1`` (3x3 stride-2 conv-BN-ReLU) → ``maxpool`` (3x3, stride 2) →
    ``stage2`` … ``stage4`` (:class:`ShuffleUnitV2`; the first of each has
    stride 2) → ``conv5`` (1x1 conv-BN-ReLU) → global average pool → ``fc``.

    **Complexity.** The paper's Table 5 gives 1.4 M and 2.3 M weights and 41
    and 146 M "FLOPs" (MACs) for 0.5x and 1x. These models have 1,366,792 and
    2,278,604 parameters (the same to 0.1 M), and 40,476,448 and 144,907,992
    MACs, 1.27 % and 0.75 % fewer; torchvision's ``_ops`` for its models agree
    with our counts, not with the paper's. The paper does not say what its
    count includes beyond convolutions and the classifier, so we cannot
    attribute the gap to a layer; it is a matter of counting convention, as
    the architecture (Table 5's channels and units) is reproduced exactly.

    Args:
        stages_repeats: units per stage, ``(4, 8, 4)`` in the paper.
        stages_out_channels: channels of the stem, of the three stages and of
            ``conv5``, e.g. ``(24, 116, 232, 464, 1024)`` for 1x.
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: for 28x28 / 32x32 images: ``conv1`` has stride 1 and
            ``maxpool`` is ``nn.Identity``; nothing else changes. A 32x32 input
            then reaches stage 4 at 4x4.
        width_multiplier: ``α``; the stage channels become the nearest even
            number to ``α · c`` (at least 2; both branches get half), the stem
            and ``conv5`` ``max(1, round(α · c))``. At 1.0 nothing changes.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        stages_repeats: Sequence[int] = STAGE_REPEATS,
        stages_out_channels: Sequence[int] = (24, 116, 232, 464, 1024),
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        positive_ints("ShuffleNetV2", "stages_repeats", stages_repeats, length=3)
        positive_ints("ShuffleNetV2", "stages_out_channels", stages_out_channels, length=5)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        stem, *stage_channels, last = stages_out_channels
        if any(c % 2 for c in stage_channels):
            raise ValueError(
                f"ShuffleNetV2: the stage channels (stages_out_channels[1:4]) must be even, "
                f"got {tuple(stage_channels)}"
            )

        channels = self.scale(stem)
        self.conv1, self.maxpool = _stem(in_channels, channels, small_input)
        for i, (repeats, stage_width) in enumerate(
            zip(stages_repeats, stage_channels, strict=True)
        ):
            out_channels = self.scale(stage_width, divisor=2)
            units = [ShuffleUnitV2(channels, out_channels, 2)]
            units += [ShuffleUnitV2(out_channels, out_channels, 1) for _ in range(repeats - 1)]
            self.add_module(f"stage{i + 2}", nn.Sequential(*units))
            channels = out_channels
        last = self.scale(last)
        self.conv5 = ConvBNAct(channels, last, 1)
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return self.fc(x.mean(dim=(2, 3)))


#: The registered ShuffleNet V2 models' configurations.
V2_VARIANTS: dict[str, dict[str, object]] = {
    "shufflenet_v2_x0_5": {"stages_out_channels": (24, 48, 96, 192, 1024)},
    "shufflenet_v2_x1_0": {"stages_out_channels": (24, 116, 232, 464, 1024)},
}


@register_model
def shufflenet_v1(**kwargs: Any) -> ShuffleNetV1:
    """ShuffleNet 1x with g = 3 (Zhang et al., 2018).

    1,865,728 parameters, 137.46 M MACs at 224x224. Table 1 gives 137 M
    (without the classifier: 136.50 M here). ``groups`` (1, 2, 3, 4, 8),
    ``scale_factor`` (the paper's 0.25, 0.5, 1, 1.5, 2), ``stem_channels``
    and ``shuffle`` select the paper's other models; see :class:`ShuffleNetV1`.
    """
    return ShuffleNetV1(**kwargs)


@register_model
def shufflenet_v2_x0_5(**kwargs: Any) -> ShuffleNetV2:
    """ShuffleNet V2 0.5x (channels 24, 48, 96, 192, 1024): torchvision's twin.

    1,366,792 parameters and 40.48 M MACs at 224x224. The paper's Table 5
    gives 41 M, 1.27 % more; see :class:`ShuffleNetV2`.
    """
    return build_variant(ShuffleNetV2, V2_VARIANTS, "shufflenet_v2_x0_5", kwargs)


@register_model
def shufflenet_v2_x1_0(**kwargs: Any) -> ShuffleNetV2:
    """ShuffleNet V2 1x (channels 24, 116, 232, 464, 1024): torchvision's twin.

    2,278,604 parameters and 144.91 M MACs at 224x224. The paper's Table 5
    gives 146 M, 0.75 % more; see :class:`ShuffleNetV2`.
    """
    return build_variant(ShuffleNetV2, V2_VARIANTS, "shufflenet_v2_x1_0", kwargs)
