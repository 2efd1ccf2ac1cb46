"""Shake-Shake regularisation (Gastaldi, 2017) on a 26-layer, two-branch ResNet.

Gastaldi (2017), "Shake-Shake regularization", replaces the single residual
branch of a ResNet block by two parallel branches ``F1`` and ``F2`` and mixes
them with a random convex combination:

    x_{i+1} = x_i + α F1(x_i) + (1 − α) F2(x_i)          (training, forward)

with ``α ~ U(0, 1)`` drawn independently for every image of the batch. In the
backward pass the gradient reaching the branches is mixed with an
*independent* ``β ~ U(0, 1)`` ("Shake-Shake"): ``F1`` receives ``β·g`` and
``F2`` ``(1 − β)·g``. At test time both coefficients are replaced by their
expectation 0.5. The paper's best CIFAR-10 setting, "Shake-Shake-Image", is
this one: new ``α`` and ``β`` per image, at every forward and backward pass.

The network (the paper's Section 2.3, following the authors' code): a 3x3
convolution with 16 channels and batch norm, three stages of 4 blocks with
widths ``d``, ``2d``, ``4d`` (strides 1, 2, 2), then ReLU, global average
pooling and a linear classifier: 1 + 3·4·2 + 1 = 26 weight layers on the
longest path. Each branch is ReLU → conv3x3 → BN → ReLU → conv3x3 → BN. Where
the shape changes, the shortcut is the paper's: after a ReLU, two paths each
subsample with the block's stride (a 1x1 average pooling; nothing at stride 1,
where only the width changes) and apply a 1x1 convolution to half the output
channels, the second path on the input shifted by one pixel (so at stride 2
the two paths see complementary pixels); the halves are concatenated and
batch-normalised.

Reported sizes (the paper's CIFAR-10 results table): 26 2x32d has 2.9 M parameters
and 26 2x96d 26.2 M.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._checks import one_of, positive_int
from cnnlib.layers import conv1x1, conv3x3
from cnnlib.models._common import ThreeStageNet
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "ShakeShakeFunction",
    "shake_shake",
    "ShakeBranch",
    "ShakeShortcut",
    "ShakeBlock",
    "ShakeShakeResNet",
    "shake_shake_26_2x32d",
    "shake_shake_26_2x96d",
    "VARIANTS",
]

_STEM_WIDTH = 16


class ShakeShakeFunction(torch.autograd.Function):
    """Forward ``α·a + (1 − α)·b``; backward ``β·g`` to ``a``, ``(1 − β)·g`` to ``b``.

    ``alpha`` and ``beta`` broadcast against ``a`` and ``b`` (shape ``(N, 1, 1, 1)``
    for one coefficient per image) and receive no gradient.
    """

    @staticmethod
    def forward(ctx: Any, a, b, alpha, beta):  # type: ignore[override]
        ctx.save_for_backward(beta)
        return alpha * a + (1 - alpha) * b

    @staticmethod
    def backward(ctx: Any, grad):  # type: ignore[override]
        (beta,) = ctx.saved_tensors
        return beta * grad, (1 - beta) * grad, None, None


def shake_shake(
    a: torch.Tensor, b: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor
) -> torch.Tensor:
    """Mix two branch outputs: ``alpha`` forward, ``beta`` backward (:class:`ShakeShakeFunction`).

    Raises:
        ValueError: ``a`` and ``b`` differ in shape.
    """
    if a.shape != b.shape:
        raise ValueError(
            "shake_shake: a and b must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return ShakeShakeFunction.apply(a, b, alpha, beta)


class ShakeBranch(nn.Sequential):
    """One residual branch: ReLU → conv3x3 (stride) → BN → ReLU → conv3x3 → BN."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(),  # not in-place: the block's input also feeds the other branch, the shortcut
            conv3x3(in_channels, out_channels, stride),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            conv3x3(out_channels, out_channels),
            nn.BatchNorm2d(out_channels),
        )


class ShakeShortcut(nn.Module):
    """The paper's shortcut where the shape changes: two shifted, subsampled 1x1 paths.

    ``ReLU(x)`` → path 1: subsample with ``stride``, 1x1 conv to ``out_channels / 2``;
    path 2: shift the map by one pixel up and left (zero-filling the last row
    and column), subsample, 1x1 conv to ``out_channels / 2`` → concatenate → BN.

    Raises:
        ValueError: ``out_channels`` is odd, or an argument is not a positive int.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("stride", stride)):  # fmt: skip
            positive_int("ShakeShortcut", name, value)
        if out_channels % 2:
            raise ValueError(
                f"ShakeShortcut: out_channels must be even (two halves), got {out_channels!r}"
            )
        self.stride = stride
        self.conv1 = conv1x1(in_channels, out_channels // 2)
        self.conv2 = conv1x1(in_channels, out_channels // 2)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        path1 = self.conv1(F.avg_pool2d(x, kernel_size=1, stride=self.stride))
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        path2 = self.conv2(F.avg_pool2d(shifted, kernel_size=1, stride=self.stride))
        return self.bn(torch.cat([path1, path2], dim=1))


ForwardMode = Literal["shake", "even"]
BackwardMode = Literal["shake", "even", "keep"]
Level = Literal["image", "batch"]


class ShakeBlock(nn.Module):
    """Two branches mixed by Shake-Shake, plus the shortcut.

    In training mode the branches are mixed by :func:`shake_shake` with
    coefficients chosen by the modes of the paper's Table 1: ``forward="shake"``
    draws ``α ~ U(0, 1)``, ``"even"`` takes 0.5; ``backward="shake"`` draws an
    independent ``β ~ U(0, 1)``, ``"even"`` takes 0.5 and ``"keep"`` reuses
    ``α``. ``level="image"`` draws one coefficient per image, ``"batch"`` one
    for the whole batch. Draws use ``torch.rand`` (α first, then β) on the
    default generator. In eval mode the block returns ``0.5·(branch1(x) +
    branch2(x)) + shortcut(x)``, deterministically.

    Args:
        in_channels: input channels.
        out_channels: channels of both branches and of the output.
        stride: stride of both branches' first convolution and of the shortcut.
        forward: ``"shake"`` or ``"even"``.
        backward: ``"shake"``, ``"even"`` or ``"keep"``.
        level: ``"image"`` or ``"batch"``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        forward: ForwardMode = "shake",
        backward: BackwardMode = "shake",
        level: Level = "image",
    ) -> None:
        super().__init__()
        self.branch1 = ShakeBranch(in_channels, out_channels, stride)
        self.branch2 = ShakeBranch(in_channels, out_channels, stride)
        self.shortcut = (
            ShakeShortcut(in_channels, out_channels, stride)
            if stride != 1 or in_channels != out_channels
            else None
        )
        self.modes = (forward, backward, level)
        self.out_channels = out_channels

    def coefficients(
        self, batch_size: int, *, device: torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Draw this block's forward ``α`` and backward ``β``, as in training.

        Shapes are ``(batch_size, 1, 1, 1)`` at ``level="image"`` and
        ``(1, 1, 1, 1)`` at ``"batch"``. Random draws use ``torch.rand`` on
        the default generator, ``α`` first, then ``β``.

        Raises:
            ValueError: ``batch_size`` is not a positive int.
        """
        positive_int("ShakeBlock.coefficients", "batch_size", batch_size)
        forward, backward, level = self.modes
        shape = (batch_size if level == "image" else 1, 1, 1, 1)
        kw = dict(dtype=dtype, device=device)
        half = torch.full(shape, 0.5, **kw)
        alpha = torch.rand(shape, **kw) if forward == "shake" else half
        if backward == "shake":
            beta = torch.rand(shape, **kw)
        else:  # "keep" reuses alpha, "even" takes 0.5
            beta = alpha if backward == "keep" else half
        return alpha, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.branch1(x), self.branch2(x)
        if self.training:
            draws = self.coefficients(len(a), dtype=a.dtype, device=a.device)
            mixed = shake_shake(a, b, *draws)
        else:  # evaluation: the expectation, 0.5 and 0.5
            mixed = 0.5 * (a + b)
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return mixed + shortcut


def _check(depth: object, base_width: object, modes: tuple[object, object, object]) -> None:
    """ShakeShakeResNet's own argument checks, in one call."""
    positive_int("ShakeShakeResNet", "depth", depth)
    if depth < 8 or (depth - 2) % 6:  # type: ignore[operator]
        raise ValueError(
            "ShakeShakeResNet: depth must be 6n + 2 with n >= 1 (8, 14, 20, 26, ...), "
            f"got {depth!r}"
        )
    positive_int("ShakeShakeResNet", "base_width", base_width)
    if base_width % 2:  # type: ignore[operator]
        raise ValueError(
            "ShakeShakeResNet: base_width must be even (the shortcut splits it in halves), "
            f"got {base_width!r}"
        )
    for name, value, allowed in zip(("forward", "backward", "level"), modes,
                                    (get_args(ForwardMode), get_args(BackwardMode),
                                     get_args(Level)), strict=True):  # fmt: skip
        one_of("ShakeShakeResNet", name, value, allowed)


class ShakeShakeResNet(ThreeStageNet):
    """Shake-Shake ResNet ``depth`` 2x``base_width``d for small (CIFAR-sized) images.

    ``conv1`` (3x3, 16 channels) → ``bn1`` → ``layer1`` … ``layer3``
    (:class:`ShakeBlock` x ``n``, widths ``d``, ``2d``, ``4d``) → ``relu`` →
    ``avgpool`` (global) → ``fc``.

    Args:
        depth: ``6n + 2`` with ``n >= 1`` blocks per stage (26 in the paper).
        base_width: the paper's ``d``, the width of the first stage (32, 64 or
            96 in the paper); even.
        num_classes: outputs of ``fc``.
        in_channels: channels of the input image.
        small_input: must be True (the network is built for small images).
        width_multiplier: scales every channel count; the stem becomes
            ``max(1, round(16·m))`` and every stage width ``w`` becomes the
            even number ``max(2, 2·round(w·m / 2))`` (the shortcut splits it
            in halves). At 1.0 nothing changes.
        forward: every block's forward mode, ``"shake"`` or ``"even"``.
        backward: every block's backward mode, ``"shake"``, ``"even"`` or ``"keep"``.
        level: ``"image"`` (the paper's best, Shake-Shake-Image) or ``"batch"``.
    """

    def __init__(
        self,
        depth: int = 26,
        base_width: int = 32,
        *,
        forward: ForwardMode = "shake",
        backward: BackwardMode = "shake",
        level: Level = "image",
        num_classes: int = 10,
        in_channels: int = 3,
        small_input: bool = True,
        width_multiplier: float = 1.0,
    ) -> None:
        _check(depth, base_width, (forward, backward, level))
        super().__init__(num_classes, in_channels, small_input, width_multiplier, small_only=True)
        blocks_per_stage = (depth - 2) // 6
        widths = [self.scale(base_width * 2**i, divisor=2) for i in range(3)]
        self.build(
            partial(ShakeBlock, forward=forward, backward=backward, level=level),
            [[w] * blocks_per_stage for w in widths],
            stem_width=self.scale(_STEM_WIDTH),
            stem_norm=True,
            final_norm=False,
        )


#: Each variant's configuration.
VARIANTS: dict[str, dict[str, object]] = {
    "shake_shake_26_2x32d": {"depth": 26, "base_width": 32},
    "shake_shake_26_2x96d": {"depth": 26, "base_width": 96},
}


def _build(name: str, arguments: dict[str, Any]) -> ShakeShakeResNet:
    return build_variant(ShakeShakeResNet, VARIANTS, name, arguments)


@register_model(image_shape=(3, 32, 32))
def shake_shake_26_2x32d(**kwargs: Any) -> ShakeShakeResNet:
    """Shake-Shake 26 2x32d (widths 32/64/128); the paper reports 2.9 M parameters."""
    return _build("shake_shake_26_2x32d", kwargs)


@register_model(image_shape=(3, 32, 32))
def shake_shake_26_2x96d(**kwargs: Any) -> ShakeShakeResNet:
    """Shake-Shake 26 2x96d (widths 96/192/384); the paper reports 26.2 M parameters."""
    return _build("shake_shake_26_2x96d", kwargs)
