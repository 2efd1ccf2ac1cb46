"""Inception-v3: Szegedy, Vanhoucke, Ioffe, Shlens and Wojna (2016),
"Rethinking the Inception Architecture for Computer Vision".

Module names follow torchvision (``Conv2d_1a_3x3`` … ``Conv2d_4a_3x3``,
``maxpool1``/``maxpool2``, ``Mixed_5b`` … ``Mixed_7c``, ``AuxLogits``,
``avgpool``, ``dropout``, ``fc``, and torchvision's branch names inside the
blocks), so ``torchvision.models.inception_v3(weights=None)``'s ``state_dict``
loads with ``strict=True`` and gives the same outputs.

The paper's abstract reports "a computational cost of 5 billion multiply-adds
per inference" and "less than 25 million parameters". torchvision's twin,
built by :func:`inception_v3`, has 23,834,568 parameters (27,161,264 with the
auxiliary classifier) and costs 5.713 GMACs at 299x299: 14 % above the
abstract's round 5 billion, a figure the paper does not break down by layer,
so the difference (0.713 GMACs) cannot be traced to a layer.

The paper's ideas, and where they live here:

* **Factorising a 5x5 into two 3x3 convolutions** (Section 3.1, Figure 5):
  ``branch3x3dbl`` of :class:`InceptionA` (torchvision's ``branch5x5`` keeps a
  single 5x5, as Google's released model does).
* **Spatially separable 1xn / nx1 convolutions** (Section 3.2, Figure 6): an
  ``n x n`` convolution becomes a ``1 x n`` followed by an ``n x 1`` one, which
  costs ``2n`` instead of ``n²`` weights per channel pair (the idea of
  :class:`cnnlib.layers.SpatiallySeparableConv`). :func:`spatially_separable`
  builds such a pair; :class:`InceptionC` (n = 7) and :class:`InceptionD` use it.
  The pair is stored as two named attributes (``branch7x7_2``,
  ``branch7x7_3``, …) rather than one module so the keys stay torchvision's.
* **Expanded filter banks** (Figure 7): :class:`InceptionE` runs a 1x3 and a
  3x1 convolution side by side and concatenates them.
* **Efficient grid reduction** (Section 5, Figure 10): :class:`InceptionB` and
  :class:`InceptionD` halve the grid with stride-2 convolutions in parallel
  with a stride-2 max-pool.
* **An auxiliary classifier** on the 17x17 grid (Section 4): :class:`InceptionAux`.

The residual version of the 35x35 module from the next paper, Szegedy, Ioffe,
Vanhoucke and Alemi (2017), "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning", is :class:`InceptionResNetA`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import torch
from torch import nn

from cnnlib._checks import (
    boolean,
    non_negative_number,
    one_of,
    positive_int,
    positive_ints,
    probability,
)
from cnnlib.layers import ConvBNReLU
from cnnlib.models._common import ImageClassifier
from cnnlib.models._registry import register_model

__all__ = [
    "InceptionA",
    "InceptionAux",
    "InceptionB",
    "InceptionC",
    "InceptionD",
    "InceptionE",
    "InceptionOutputs",
    "InceptionResNetA",
    "InceptionV3",
    "inception_v3",
    "spatially_separable",
]

Scale = Callable[[int], int]


def _unscaled(channels: int) -> int:
    return channels


def spatially_separable(
    in_channels: int,
    mid_channels: int,
    out_channels: int,
    kernel_size: int = 7,
    first: Literal["1xn", "nx1"] = "1xn",
) -> tuple[ConvBNReLU, ConvBNReLU]:
    """An ``n x n`` convolution factorised into ``1 x n`` and ``n x 1`` ones (or the reverse).

    Returns the two :class:`ConvBNReLU` units, padded to keep the spatial size;
    run them one after the other. Weights: ``n·C_in·C_mid + n·C_mid·C_out``
    instead of ``n²·C_in·C_out``.
    """
    one_of("spatially_separable", "first", first, ("1xn", "nx1"))
    pad = kernel_size // 2
    row = ((1, kernel_size), (0, pad))
    column = ((kernel_size, 1), (pad, 0))
    (k1, p1), (k2, p2) = (row, column) if first == "1xn" else (column, row)
    return (
        ConvBNReLU(in_channels, mid_channels, kernel_size=k1, padding=p1),
        ConvBNReLU(mid_channels, out_channels, kernel_size=k2, padding=p2),
    )


class InceptionA(nn.Module):
    """The 35x35 module (Figure 5): 1x1 | 1x1→5x5 | 1x1→3x3→3x3 | avg-pool→1x1."""

    def __init__(self, in_channels: int, pool_features: int, scale: Scale = _unscaled) -> None:
        super().__init__()
        self.branch1x1 = ConvBNReLU(in_channels, scale(64), kernel_size=1)
        self.branch5x5_1 = ConvBNReLU(in_channels, scale(48), kernel_size=1)
        self.branch5x5_2 = ConvBNReLU(scale(48), scale(64), kernel_size=5, padding=2)
        self.branch3x3dbl_1 = ConvBNReLU(in_channels, scale(64), kernel_size=1)
        self.branch3x3dbl_2 = ConvBNReLU(scale(64), scale(96), kernel_size=3, padding=1)
        self.branch3x3dbl_3 = ConvBNReLU(scale(96), scale(96), kernel_size=3, padding=1)
        self.pool = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = ConvBNReLU(in_channels, scale(pool_features), kernel_size=1)
        self.out_channels = scale(64) + scale(64) + scale(96) + scale(pool_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(self.pool(x))
        return torch.cat([self.branch1x1(x), branch5x5, branch3x3dbl, branch_pool], dim=1)


class InceptionB(nn.Module):
    """Grid reduction 35→17 (Figure 10): 3x3/2 | 1x1→3x3→3x3/2 | max-pool 3x3/2."""

    def __init__(self, in_channels: int, scale: Scale = _unscaled) -> None:
        super().__init__()
        self.branch3x3 = ConvBNReLU(in_channels, scale(384), kernel_size=3, stride=2)
        self.branch3x3dbl_1 = ConvBNReLU(in_channels, scale(64), kernel_size=1)
        self.branch3x3dbl_2 = ConvBNReLU(scale(64), scale(96), kernel_size=3, padding=1)
        self.branch3x3dbl_3 = ConvBNReLU(scale(96), scale(96), kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2)
        self.out_channels = scale(384) + scale(96) + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), branch3x3dbl, self.pool(x)], dim=1)


class InceptionC(nn.Module):
    """The 17x17 module (Figure 6, n = 7).

    Branches: 1x1 | 1x1→1x7→7x1 | 1x1→(7x1→1x7)×2 | avg-pool→1x1.

    ``channels_7x7`` is the width inside the factorised branches (128, 160,
    160, 192 in ``Mixed_6b`` … ``Mixed_6e``).
    """

    def __init__(self, in_channels: int, channels_7x7: int, scale: Scale = _unscaled) -> None:
        super().__init__()
        c7, out = scale(channels_7x7), scale(192)
        self.branch1x1 = ConvBNReLU(in_channels, out, kernel_size=1)
        self.branch7x7_1 = ConvBNReLU(in_channels, c7, kernel_size=1)
        self.branch7x7_2, self.branch7x7_3 = spatially_separable(c7, c7, out, first="1xn")
        self.branch7x7dbl_1 = ConvBNReLU(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2, self.branch7x7dbl_3 = spatially_separable(c7, c7, c7, first="nx1")
        self.branch7x7dbl_4, self.branch7x7dbl_5 = spatially_separable(c7, c7, out, first="nx1")
        self.pool = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = ConvBNReLU(in_channels, out, kernel_size=1)
        self.out_channels = 4 * out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):  # fmt: skip
            branch7x7dbl = layer(branch7x7dbl)
        branch_pool = self.branch_pool(self.pool(x))
        return torch.cat([self.branch1x1(x), branch7x7, branch7x7dbl, branch_pool], dim=1)


class InceptionD(nn.Module):
    """Grid reduction 17→8: 1x1→3x3/2 | 1x1→1x7→7x1→3x3/2 | max-pool 3x3/2."""

    def __init__(self, in_channels: int, scale: Scale = _unscaled) -> None:
        super().__init__()
        self.branch3x3_1 = ConvBNReLU(in_channels, scale(192), kernel_size=1)
        self.branch3x3_2 = ConvBNReLU(scale(192), scale(320), kernel_size=3, stride=2)
        self.branch7x7x3_1 = ConvBNReLU(in_channels, scale(192), kernel_size=1)
        self.branch7x7x3_2, self.branch7x7x3_3 = spatially_separable(
            scale(192), scale(192), scale(192), first="1xn"
        )
        self.branch7x7x3_4 = ConvBNReLU(scale(192), scale(192), kernel_size=3, stride=2)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2)
        self.out_channels = scale(320) + scale(192) + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            branch7x7x3 = layer(branch7x7x3)
        return torch.cat([branch3x3, branch7x7x3, self.pool(x)], dim=1)


class InceptionE(nn.Module):
    """The 8x8 module with expanded filter banks (Figure 7).

    1x1 | 1x1→(1x3 ‖ 3x1) | 1x1→3x3→(1x3 ‖ 3x1) | avg-pool→1x1, where ``‖``
    runs two convolutions on the same input and concatenates them.
    """

    def __init__(self, in_channels: int, scale: Scale = _unscaled) -> None:
        super().__init__()
        c = scale(384)
        self.branch1x1 = ConvBNReLU(in_channels, scale(320), kernel_size=1)
        self.branch3x3_1 = ConvBNReLU(in_channels, c, kernel_size=1)
        self.branch3x3_2a = ConvBNReLU(c, c, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBNReLU(c, c, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBNReLU(in_channels, scale(448), kernel_size=1)
        self.branch3x3dbl_2 = ConvBNReLU(scale(448), c, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = ConvBNReLU(c, c, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBNReLU(c, c, kernel_size=(3, 1), padding=(1, 0))
        self.pool = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = ConvBNReLU(in_channels, scale(192), kernel_size=1)
        self.out_channels = scale(320) + 4 * c + scale(192)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat(
            [self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1
        )
        branch_pool = self.branch_pool(self.pool(x))
        return torch.cat([self.branch1x1(x), branch3x3, branch3x3dbl, branch_pool], dim=1)


class InceptionAux(nn.Module):
    """The auxiliary classifier on the 17x17 grid (Section 4, Figure 8).

    5x5 average pooling with stride 3 (17x17 → 5x5), a 1x1 convolution to 128
    channels, a 5x5 convolution to 768 (→ 1x1), global average pooling and a
    linear classifier. The paper found that it acts as a regulariser (its
    batch-normalised version helps most) rather than speeding up early training.

    Args:
        in_channels: channels of the 17x17 map.
        num_classes: outputs of ``fc``.
        scale: channel scaling (``width_multiplier``).
        adaptive_pool: pool adaptively to 5x5 instead (used with small inputs,
            whose map at this point is smaller than 17x17).
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        scale: Scale = _unscaled,
        adaptive_pool: bool = False,
    ) -> None:
        super().__init__()
        self.pool: nn.Module = (
            nn.AdaptiveAvgPool2d(5) if adaptive_pool else nn.AvgPool2d(kernel_size=5, stride=3)
        )
        self.conv0 = ConvBNReLU(in_channels, scale(128), kernel_size=1)
        self.conv1 = ConvBNReLU(scale(128), scale(768), kernel_size=5)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(scale(768), num_classes)

    def initialise(self) -> None:
        """torchvision's initialisation of this head.

        N(0, 0.01²) for ``conv1``'s weights, N(0, 0.001²) for ``fc``'s.
        """
        nn.init.trunc_normal_(self.conv1.conv.weight, mean=0.0, std=0.01, a=-2.0, b=2.0)
        nn.init.trunc_normal_(self.fc.weight, mean=0.0, std=0.001, a=-2.0, b=2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.conv0(self.pool(x)))
        return self.fc(self.flatten(self.avgpool(x)))


class InceptionOutputs(NamedTuple):
    """What :class:`InceptionV3` returns in training mode with ``aux_logits=True``.

    Train on ``loss(logits) + w * loss(aux_logits)`` with a small weight ``w``
    (GoogLeNet used 0.3 for each of its heads).
    """

    logits: torch.Tensor
    aux_logits: torch.Tensor


class InceptionV3(ImageClassifier):
    """Inception-v3: a convolutional stem, eleven Inception blocks, global pooling, linear.

    At 299x299 the stem (Conv2d_1a_3x3 … Conv2d_4a_3x3 with two max-pools,
    no padding except ``Conv2d_2b_3x3``) brings the map to 35x35 for three
    :class:`InceptionA` blocks (``Mixed_5b`` … ``Mixed_5d``); :class:`InceptionB`
    reduces it to 17x17 for four :class:`InceptionC` blocks; :class:`InceptionD`
    to 8x8 for two :class:`InceptionE` blocks; then global average pooling,
    dropout (50 %) and a linear classifier. The smallest input it accepts is
    75x75 (the last grid is then 1x1).

    Where it departs from the paper: like torchvision, it follows Google's
    released (TF-slim) model, which differs in details from the paper's
    Table 1 (the layers of the stem, the number of modules per grid, and a
    single-5x5 branch kept beside the double-3x3 one in the 35x35 modules).
    Batch norm (eps 1e-3) follows every convolution. torchvision's
    ``transform_input`` (a re-normalisation for Google's ported weights) is
    not reproduced; it is off unless those weights are loaded.

    Args:
        num_classes: outputs of ``fc`` (and of the auxiliary head).
        in_channels: channels of the input image.
        aux_logits: build the auxiliary classifier ``AuxLogits`` on the 17x17
            grid (after ``Mixed_6e``). In training mode the forward pass then
            returns :class:`InceptionOutputs`; in eval mode only the main logits.
            At the default stem it needs inputs of at least 299x299 (its 5x5
            convolution needs a 17x17 map).
        small_input: a stem for 28x28 / 32x32 images: ``Conv2d_1a_3x3`` gets
            stride 1, ``Conv2d_1a_3x3``, ``Conv2d_2a_3x3`` and ``Conv2d_4a_3x3``
            get padding 1 (the stem keeps the input size), and ``maxpool1``
            and ``maxpool2`` become ``nn.Identity``. The three grids are then
            32, 15 and 7 for 32x32 inputs (28, 13 and 6 for 28x28), near the
            35, 17 and 8 of a 299x299 input. The auxiliary head pools
            adaptively to 5x5 (see :class:`InceptionAux`).
        width_multiplier: ``α``; every convolution's output channels become
            ``round(c * α)``, at least 1. At 1.0 nothing changes.
        dropout: dropout probability before ``fc``.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        aux_logits: bool = False,
        dropout: float = 0.5,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        self.aux_logits = boolean("InceptionV3", "aux_logits", aux_logits)
        probability("InceptionV3", "dropout", dropout)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        scale = self.scale

        pad = 1 if small_input else 0
        self.Conv2d_1a_3x3 = ConvBNReLU(
            in_channels, scale(32), kernel_size=3, stride=1 if small_input else 2, padding=pad
        )
        self.Conv2d_2a_3x3 = ConvBNReLU(scale(32), scale(32), kernel_size=3, padding=pad)
        self.Conv2d_2b_3x3 = ConvBNReLU(scale(32), scale(64), kernel_size=3, padding=1)
        self.maxpool1: nn.Module = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2)
        self.Conv2d_3b_1x1 = ConvBNReLU(scale(64), scale(80), kernel_size=1)
        self.Conv2d_4a_3x3 = ConvBNReLU(scale(80), scale(192), kernel_size=3, padding=pad)
        self.maxpool2: nn.Module = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2)

        self.Mixed_5b = InceptionA(scale(192), pool_features=32, scale=scale)
        self.Mixed_5c = InceptionA(self.Mixed_5b.out_channels, pool_features=64, scale=scale)
        self.Mixed_5d = InceptionA(self.Mixed_5c.out_channels, pool_features=64, scale=scale)
        self.Mixed_6a = InceptionB(self.Mixed_5d.out_channels, scale=scale)
        self.Mixed_6b = InceptionC(self.Mixed_6a.out_channels, channels_7x7=128, scale=scale)
        self.Mixed_6c = InceptionC(self.Mixed_6b.out_channels, channels_7x7=160, scale=scale)
        self.Mixed_6d = InceptionC(self.Mixed_6c.out_channels, channels_7x7=160, scale=scale)
        self.Mixed_6e = InceptionC(self.Mixed_6d.out_channels, channels_7x7=192, scale=scale)
        self.AuxLogits: InceptionAux | None = None
        if aux_logits:
            self.AuxLogits = InceptionAux(
                self.Mixed_6e.out_channels, num_classes, scale=scale, adaptive_pool=small_input
            )
        self.Mixed_7a = InceptionD(self.Mixed_6e.out_channels, scale=scale)
        self.Mixed_7b = InceptionE(self.Mixed_7a.out_channels, scale=scale)
        self.Mixed_7c = InceptionE(self.Mixed_7b.out_channels, scale=scale)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(self.Mixed_7c.out_channels, num_classes)
        self._initialise()

    def _initialise(self) -> None:
        """torchvision's ``init_weights=True``: N(0, 0.1²) weights (the auxiliary
        head's last layers smaller, see :meth:`InceptionAux.initialise`), BN as identity."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, mean=0.0, std=0.1, a=-2.0, b=2.0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if self.AuxLogits is not None:
            self.AuxLogits.initialise()

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        """Logits; :class:`InceptionOutputs` in training mode with ``aux_logits=True``."""
        x = self.maxpool1(self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))))
        x = self.maxpool2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a,
                      self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):  # fmt: skip
            x = block(x)
        use_aux = self.training and self.AuxLogits is not None
        aux = self.AuxLogits(x) if use_aux else None  # type: ignore[misc]
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        logits = self.fc(self.dropout(self.flatten(self.avgpool(x))))
        if use_aux:
            return InceptionOutputs(logits, aux)  # type: ignore[arg-type]
        return logits


class InceptionResNetA(nn.Module):
    """The 35x35 Inception-ResNet module (Szegedy et al., 2017, Figure 16 for v2).

    Three branches as in an Inception module — ``branch0`` 1x1 (32),
    ``branch1`` 1x1 (32) → 3x3 (32), ``branch2`` 1x1 (32) → 3x3 (48) → 3x3 (64)
    — **concatenated** (128 channels), then a **linear** 1x1 convolution
    (``conv``, with bias, no batch norm, no activation) back to
    ``in_channels``, scaled by ``residual_scale`` and **added** to the input,
    then ReLU. The residual sum replaces neither the concatenation nor the
    branches: the 1x1 only restores the width so that the sum is defined.
    Inception-ResNet-v2 has 384 input channels here; ``branch_channels``
    ``((32,), (32, 32), (32, 32, 32))`` gives v1's module (Figure 10, 256
    inputs). The paper scales residuals by 0.1–0.3 to stabilise very wide
    networks (Section 3.3); 1.0 (the default) does not scale.

    Args:
        in_channels: input (and output) channels.
        branch_channels: the output channels of each branch's convolutions, in order.
        residual_scale: factor on the residual before the addition.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        in_channels: int = 384,
        branch_channels: Sequence[Sequence[int]] = ((32,), (32, 32), (32, 48, 64)),
        residual_scale: float = 1.0,
    ) -> None:
        super().__init__()
        positive_int("InceptionResNetA", "in_channels", in_channels)
        self.residual_scale = non_negative_number(
            "InceptionResNetA", "residual_scale", residual_scale
        )
        concatenated = 0
        for i, widths in enumerate(branch_channels):
            widths = positive_ints("InceptionResNetA", "every branch of branch_channels", widths)
            layers, channels = [], in_channels
            for j, width in enumerate(widths):
                kernel = 1 if j == 0 else 3
                layers.append(ConvBNReLU(channels, width, kernel, padding=kernel // 2))
                channels = width
            self.add_module(f"branch{i}", nn.Sequential(*layers))
            concatenated += channels
        self.num_branches = len(branch_channels)
        self.conv = nn.Conv2d(concatenated, in_channels, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [getattr(self, f"branch{i}")(x) for i in range(self.num_branches)]
        residual = self.conv(torch.cat(branches, dim=1))
        return self.relu(x + self.residual_scale * residual)


@register_model(image_shape=(3, 299, 299))
def inception_v3(**kwargs: Any) -> InceptionV3:
    """Inception-v3 (Szegedy et al., 2016), torchvision's twin, for 299x299 inputs.

    Equals ``torchvision.models.inception_v3(weights=None, aux_logits=aux_logits,
    init_weights=True)`` (``transform_input=False``): 23,834,568 parameters
    without the auxiliary classifier (27,161,264 with it), 5.713 GMACs at
    299x299. Keyword arguments (``aux_logits``, ``dropout``, ...) go to
    :class:`InceptionV3`.
    """
    return InceptionV3(**kwargs)
