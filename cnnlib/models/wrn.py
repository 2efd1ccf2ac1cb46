"""Wide Residual Networks for CIFAR (Zagoruyko and Komodakis, 2016).

Zagoruyko and Komodakis (2016), "Wide Residual Networks", build WRN-``d``-``k``
from pre-activation blocks (He et al., 2016, "Identity Mappings in Deep
Residual Networks"): BN → ReLU → 3x3 conv → BN → ReLU → (dropout) → 3x3 conv,
added to the shortcut. A 3x3 stem convolution with 16 channels is followed by
three groups of ``n`` blocks of widths ``16k``, ``32k`` and ``64k`` (strides
1, 2, 2), a final BN → ReLU, global average pooling and a linear classifier
(:class:`~cnnlib.models._common.ThreeStageNet`).

**Block types.** The paper's B(3,3) block has two 3x3 convolutions; its
Table 2 compares others, named by their kernel sizes: B(3,1,3), B(1,3,1),
B(1,3), B(3,1), B(3,1,1) (``block_kernels``). With ``l`` convolutions per
block the depth is ``d = 3·n·l + 4`` (for B(3,3) the authors' ``6n + 4``;
their code asserts ``(d - 4) % 6 == 0``). The depths printed in the paper's
Table 2 follow that code for every block type: ``n = (d - 4) / 6`` blocks
per group, so its "WRN-40-2" with B(1,3,1) has 6 blocks per group and
``d = 58`` here (:func:`depth_of_table_2`); only with that reading do the
parameter counts match the table's (1.4 M, not 0.95 M).

Reported sizes (the paper's CIFAR results): WRN-28-10 has 36.5 M
parameters and WRN-16-8 11.0 M (CIFAR-10, 10 classes).

The ImageNet Wide ResNet (``wide_resnet50_2``, a bottleneck ResNet) is in
:mod:`cnnlib.models.resnet`.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy as copy_module
from functools import partial
from typing import Any

import torch
from torch import nn

from cnnlib._checks import positive_int, positive_ints, probability
from cnnlib.layers import conv1x1
from cnnlib.models._common import ThreeStageNet
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "WideBlock",
    "WideResNet",
    "VARIANTS",
    "depth_of_table_2",
    "variance_shift",
    "wrn_28_10",
    "wrn_16_8",
]

_STEM_WIDTH = 16
_GROUP_WIDTHS = (16, 32, 64)  # multiplied by the widening factor k


class WideBlock(nn.Module):
    """Pre-activation block: BN → ReLU → conv per kernel size, plus the shortcut.

    For ``kernels=(3, 3)``, the paper's B(3,3): ``bn1``-``relu``-``conv1``
    (3x3) → ``bn2``-``relu``-(``dropout``)-``conv2`` (3x3), added to the
    shortcut; ``kernels=(1, 3, 1)`` gives ``conv1`` … ``conv3``. Dropout sits
    before the last convolution; the stride on the first convolution whose
    kernel is larger than 1. When the shape changes the shortcut is a 1x1
    convolution (``shortcut``) that, like ``conv1``, reads the pre-activated
    input ``relu(bn1(x))``; otherwise it is the identity on ``x`` itself (the
    authors' code shares the first BN-ReLU this way).

    Args:
        in_channels: input channels.
        out_channels: channels of every convolution and of the output.
        stride: the block's stride.
        kernels: kernel size of each convolution, in order.
        dropout: dropout probability before the last convolution (the paper
            uses 0.3 in its dropout experiments; 0 disables it).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernels: Sequence[int] = (3, 3),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        strided = next((i for i, k in enumerate(kernels) if k > 1), 0)
        channels = in_channels
        for i, k in enumerate(kernels, start=1):
            self.add_module(f"bn{i}", nn.BatchNorm2d(channels))
            conv = nn.Conv2d(channels, out_channels, k, stride=stride if i - 1 == strided else 1,
                             padding=k // 2, bias=False)  # fmt: skip
            self.add_module(f"conv{i}", conv)
            channels = out_channels
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout) if dropout > 0 else nn.Identity()
        self.shortcut = (
            conv1x1(in_channels, out_channels, stride)
            if stride != 1 or in_channels != out_channels
            else None
        )
        self.depth = len(kernels)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.relu(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(activated)
        out = self.conv1(activated)
        for i in range(2, self.depth + 1):
            out = self.relu(getattr(self, f"bn{i}")(out))
            if i == self.depth:
                out = self.dropout(out)
            out = getattr(self, f"conv{i}")(out)
        return out + shortcut


def _check(depth: object, widen_factor: object, kernels: object, dropout: object) -> None:
    """WideResNet's own argument checks, in one call."""
    positive_int("WideResNet", "widen_factor", widen_factor)
    kernels = positive_ints("WideResNet", "block_kernels", kernels)
    if any(k % 2 == 0 for k in kernels):
        raise ValueError(f"WideResNet: block_kernels must be odd, got {kernels!r}")
    per_group = 3 * len(kernels)
    positive_int("WideResNet", "depth", depth)
    if depth < per_group + 4 or (depth - 4) % per_group:  # type: ignore[operator]
        raise ValueError(
            f"WideResNet: depth must be {per_group}n + 4 with n >= 1 for blocks of "
            f"{len(kernels)} convolutions ({per_group + 4}, {2 * per_group + 4}, ...), "
            f"got {depth!r}"
        )
    probability("WideResNet", "dropout", dropout)


class WideResNet(ThreeStageNet):
    """WRN-``depth``-``widen_factor`` for small (CIFAR-sized) images.

    ``conv1`` (3x3, 16 channels) → ``layer1`` … ``layer3`` (``n``
    :class:`WideBlock` each, widths ``16k``, ``32k``, ``64k``, the first block
    of ``layer2``/``layer3`` with stride 2) → ``bn_final`` → ``relu`` →
    ``avgpool`` (global) → ``fc``. At 32x32 the groups run at 32x32, 16x16 and
    8x8, and the global pooling is the paper's 8x8 average pooling.

    Args:
        depth: ``d = 3·n·len(block_kernels) + 4`` with ``n >= 1`` blocks per
            group (10, 16, 22, 28, 40, ... for B(3,3)).
        widen_factor: the paper's ``k``.
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: must be True (the network is built for small images).
        width_multiplier: scales every channel count (stem and groups):
            ``max(1, round(c * width_multiplier))``; at 1.0 nothing changes.
        block_kernels: the block type, e.g. ``(3, 3)`` for B(3,3) or
            ``(1, 3, 1)`` for B(1,3,1).
        dropout: dropout before the last convolution of every block.
    """

    def __init__(
        self,
        depth: int,
        widen_factor: int,
        *,
        block_kernels: Sequence[int] = (3, 3),
        dropout: float = 0.0,
        num_classes: int = 10,
        in_channels: int = 3,
        small_input: bool = True,
        width_multiplier: float = 1.0,
    ) -> None:
        _check(depth, widen_factor, block_kernels, dropout)
        super().__init__(num_classes, in_channels, small_input, width_multiplier, small_only=True)
        blocks_per_group = (depth - 4) // (3 * len(block_kernels))
        self.build(
            partial(WideBlock, kernels=tuple(block_kernels), dropout=dropout),
            [[self.scale(w * widen_factor)] * blocks_per_group for w in _GROUP_WIDTHS],
            stem_width=self.scale(_STEM_WIDTH),
            stem_norm=False,
            final_norm=True,
        )


def depth_of_table_2(label: int, block_kernels: Sequence[int]) -> int:
    """The :class:`WideResNet` depth of a network labelled WRN-``label`` in Table 2.

    The authors' code builds ``n = (label - 4) / 6`` blocks per group whatever
    the block type, so a block of ``l`` convolutions gives ``3·n·l + 4``.

    Args:
        label: the depth printed in the paper (``6n + 4``: 10, 16, 22, ...).
        block_kernels: the block type, e.g. ``(1, 3, 1)``.

    Returns:
        ``3·n·len(block_kernels) + 4``, the ``depth`` to pass to WideResNet.

    Raises:
        ValueError: ``label`` is not an int ``6n + 4`` with ``n >= 1``, or
            ``block_kernels`` is not a non-empty sequence of positive ints.
    """
    positive_int("depth_of_table_2", "label", label)
    kernels = positive_ints("depth_of_table_2", "block_kernels", block_kernels)
    if label < 10 or (label - 4) % 6:
        raise ValueError(f"depth_of_table_2: label must be 6n + 4 with n >= 1, got {label!r}")
    return 3 * (label - 4) // 6 * len(kernels) + 4


def variance_shift(
    model: nn.Module, images: torch.Tensor, *, batch_size: int = 100, seed: int = 0
) -> dict[str, float]:
    """How the input variance of every BN at test time compares to its statistics.

    A copy of ``model`` runs over ``images`` in training mode (dropout on),
    each BN accumulating an exact average of its batch variances
    (``momentum=None``, statistics reset first); then, in evaluation mode
    (dropout off), every BN's input variance per channel over the same images
    is divided by its running variance. A ratio below 1 is the "variance
    shift" of Li et al. (2019): the BN normalises test inputs by a variance
    that only training-time dropout produced. ``model`` itself is unchanged.

    Args:
        model: a network with ``nn.BatchNorm2d`` layers.
        images: a batch ``(N, C, H, W)``, normalised as the model expects.
        batch_size: images per training-mode batch (BN's batch statistics).
        seed: seeds the dropout masks.

    Returns:
        ``{bn name: mean over channels of test variance / running variance}``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``images`` not a tensor.
        ValueError: ``images`` is not 4-D or ``batch_size`` is not in
            ``[2, len(images)]``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"variance_shift: model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"variance_shift: images must be a tensor, got {type(images).__name__}")
    if images.dim() != 4:
        raise ValueError(f"variance_shift: images must be (N, C, H, W), got {tuple(images.shape)}")
    positive_int("variance_shift", "batch_size", batch_size)
    if not 2 <= batch_size <= len(images):
        raise ValueError(
            f"variance_shift: batch_size must be in [2, {len(images)}], got {batch_size}"
        )
    copy = copy_module(model)
    norms = {n: m for n, m in copy.named_modules() if isinstance(m, nn.BatchNorm2d)}
    for bn in norms.values():
        bn.reset_running_stats()
        bn.momentum = None  # an exact average over the batches
    torch.manual_seed(seed)
    copy.train()
    with torch.no_grad():
        for batch in images.split(batch_size):
            if len(batch) >= 2:
                copy(batch)
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        bn.register_forward_hook(
            lambda _m, args, _out, name=name: seen.__setitem__(
                name, args[0].transpose(0, 1).flatten(1).var(1)
            )
        )
        for name, bn in norms.items()
    ]
    copy.eval()
    try:
        with torch.no_grad():
            copy(images)
    finally:
        for hook in hooks:
            hook.remove()
    return {n: (seen[n] / norms[n].running_var).mean().item() for n in norms}


#: Each variant's configuration.
VARIANTS: dict[str, dict[str, object]] = {
    "wrn_28_10": {"depth": 28, "widen_factor": 10},
    "wrn_16_8": {"depth": 16, "widen_factor": 8},
}


def _build(name: str, arguments: dict[str, Any]) -> WideResNet:
    return build_variant(WideResNet, VARIANTS, name, arguments)


@register_model(image_shape=(3, 32, 32))
def wrn_28_10(**kwargs: Any) -> WideResNet:
    """WRN-28-10: 4 blocks per group, widths 160/320/640; the paper reports 36.5 M parameters."""
    return _build("wrn_28_10", kwargs)


@register_model(image_shape=(3, 32, 32))
def wrn_16_8(**kwargs: Any) -> WideResNet:
    """WRN-16-8: 2 blocks per group, widths 128/256/512; the paper reports 11.0 M parameters."""
    return _build("wrn_16_8", kwargs)
