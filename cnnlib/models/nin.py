"""Network in Network (Lin, Chen and Yan, 2014) for CIFAR-10.

Lin, Chen and Yan (2014), "Network In Network". Each *mlpconv* block is a
spatial convolution followed by two 1x1 convolutions (a small multilayer
perceptron slid over the image), every one followed by a ReLU. The last block
produces one map per class and *global average pooling* turns each map into a
class score: there is no fully connected layer.

The configuration is that of the authors' released CIFAR-10 model (Caffe), the
paper giving none in its text; module names follow its layer names
(``conv1``, ``cccp1`` …):

* mlpconv 1: 5x5 conv 192, 1x1 conv 160, 1x1 conv 96 (32x32); 3x3 max-pool,
  stride 2 (16x16); dropout 0.5.
* mlpconv 2: 5x5 conv 192, 1x1 conv 192, 1x1 conv 192 (16x16); 3x3 average
  pool, stride 2 (8x8); dropout 0.5.
* mlpconv 3: 3x3 conv 192, 1x1 conv 192, 1x1 conv 10 (8x8); global average
  pool (1x1), whose 10 values are the class scores.

The paper reports no parameter count; this network has 966,986 parameters.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from cnnlib._checks import positive_int, positive_number, probability
from cnnlib.models import register_model

__all__ = ["NiN", "nin"]


class NiN(nn.Module):
    """Three mlpconv blocks and global average pooling (see the module docstring).

    It follows the released model layer for layer. Its pools round their
    output size up, as Caffe's do (32 → 16 → 8; rounding down would give
    15 → 7). The last average pool is adaptive (global) where the released
    model has a fixed 8x8 window: the same at 32x32, and valid at any size.
    As in the released model, the last 1x1 convolution is followed by a ReLU,
    so the class scores are non-negative.

    The network is built for 32x32 images and needs no separate small-input
    stem; 28x28 images give 14x14 and 7x7 maps after the two pools.

    Weights: He et al. (2015) normal (fan-out) for the convolutions, zero
    biases (the released model used hand-set Gaussian standard deviations).

    Args:
        num_classes: maps of the last 1x1 convolution, one per class.
        in_channels: channels of the input image.
        dropout: dropout probability after the first two blocks.
        width_multiplier: ``α``; the channels of every convolution but the
            last become ``max(1, round(c·α))``. At 1.0 nothing changes.

    Raises:
        ValueError: an argument is out of range (the message names it).
    """

    def __init__(
        self,
        *,
        num_classes: int = 10,
        in_channels: int = 3,
        dropout: float = 0.5,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        positive_int("NiN", "num_classes", num_classes)
        positive_int("NiN", "in_channels", in_channels)
        probability("NiN", "dropout", dropout)
        positive_number("NiN", "width_multiplier", width_multiplier)

        def scaled(channels: int) -> int:
            return max(1, round(channels * width_multiplier))

        def mlpconv(
            index: int, c_in: int, kernel_size: int, widths: tuple[int, int, int]
        ) -> list[tuple[str, nn.Module]]:
            """A k x k convolution and two 1x1 convolutions, each with a ReLU."""
            first, second, third = widths
            return [
                (f"conv{index}", nn.Conv2d(c_in, first, kernel_size, padding=kernel_size // 2)),
                (f"relu{index}", nn.ReLU(inplace=True)),
                (f"cccp{2 * index - 1}", nn.Conv2d(first, second, kernel_size=1)),
                (f"relu_cccp{2 * index - 1}", nn.ReLU(inplace=True)),
                (f"cccp{2 * index}", nn.Conv2d(second, third, kernel_size=1)),
                (f"relu_cccp{2 * index}", nn.ReLU(inplace=True)),
            ]

        c192, c160, c96 = scaled(192), scaled(160), scaled(96)
        self.features = nn.Sequential(
            OrderedDict(
                [
                    *mlpconv(1, in_channels, 5, (c192, c160, c96)),
                    ("pool1", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)),
                    ("drop1", nn.Dropout(p=dropout)),
                    *mlpconv(2, c96, 5, (c192, c192, c192)),
                    ("pool2", nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True)),
                    ("drop2", nn.Dropout(p=dropout)),
                    *mlpconv(3, c192, 3, (c192, c192, num_classes)),
                ]
            )
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.avgpool(self.features(x)), 1)


@register_model(input_size=(3, 32, 32))
def nin(
    *,
    num_classes: int = 10,
    in_channels: int = 3,
    width_multiplier: float = 1.0,
    **kwargs: object,
) -> NiN:
    """Network in Network for CIFAR-10 (Lin et al., 2014): 966,986 parameters, 0.222 GMACs.

    Takes ``num_classes``, ``in_channels`` and ``width_multiplier`` and passes
    further keyword arguments (``dropout``) to :class:`NiN`. There is no
    ``small_input``: the network is already built for 32x32 (and runs on 28x28).
    """
    return NiN(
        num_classes=num_classes,
        in_channels=in_channels,
        width_multiplier=width_multiplier,
        **kwargs,  # type: ignore[arg-type]
    )
