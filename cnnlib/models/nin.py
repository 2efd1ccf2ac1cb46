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
from typing import Any

import torch
from torch import nn

from cnnlib._checks import probability
from cnnlib.models._common import ImageClassifier, init_he
from cnnlib.models._registry import register_model

__all__ = ["NiN", "mlpconv", "nin"]


class NiN(ImageClassifier):
    """Three mlpconv blocks and global average pooling (see the module docstring).

    It follows the released model layer for layer. Its pools round their
    output size up, as Caffe's do (32 → 16 → 8; rounding down would give
    15 → 7). The last average pool is adaptive (global) where the released
    model has a fixed 8x8 window: the same at 32x32, and valid at any size.
    As in the released model, the last 1x1 convolution is followed by a ReLU,
    so the class scores are non-negative. 28x28 images give 14x14 and 7x7
    maps after the two pools.

    Weights: He et al. (2015) normal (fan-out) for the convolutions, zero
    biases (the released model used hand-set Gaussian standard deviations).

    Args:
        num_classes: maps of the last 1x1 convolution, one per class.
        in_channels: channels of the input image.
        small_input: must be True (the network is built for 32x32 images).
        width_multiplier: ``α``; the channels of every convolution but the
            last become ``max(1, round(c·α))``. At 1.0 nothing changes.
        dropout: dropout probability after the first two blocks.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        dropout: float = 0.5,
        num_classes: int = 10,
        in_channels: int = 3,
        small_input: bool = True,
        width_multiplier: float = 1.0,
    ) -> None:
        probability("NiN", "dropout", dropout)
        super().__init__(num_classes, in_channels, small_input, width_multiplier, small_only=True)
        c192, c160, c96 = (self.scale(c) for c in (192, 160, 96))
        self.features = nn.Sequential(OrderedDict([
            *mlpconv(1, in_channels, 5, (c192, c160, c96)),
            ("pool1", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)),
            ("drop1", nn.Dropout(p=dropout)),
            *mlpconv(2, c96, 5, (c192, c192, c192)),
            ("pool2", nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True)),
            ("drop2", nn.Dropout(p=dropout)),
            *mlpconv(3, c192, 3, (c192, c192, num_classes)),
        ]))  # fmt: skip
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        init_he(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.avgpool(self.features(x)), 1)


def mlpconv(
    index: int, in_channels: int, kernel_size: int, widths: tuple[int, int, int]
) -> list[tuple[str, nn.Module]]:
    """An mlpconv block: a k x k convolution and two 1x1 convolutions, each with a ReLU.

    The 1x1 convolutions are the "micro network": the same two-layer
    perceptron applied at every position. Names follow the released model
    (``conv{i}``, ``cccp{2i-1}``, ``cccp{2i}``).
    """
    first, second, third = widths
    return [
        (f"conv{index}", nn.Conv2d(in_channels, first, kernel_size, padding=kernel_size // 2)),
        (f"relu{index}", nn.ReLU(inplace=True)),
        (f"cccp{2 * index - 1}", nn.Conv2d(first, second, kernel_size=1)),
        (f"relu_cccp{2 * index - 1}", nn.ReLU(inplace=True)),
        (f"cccp{2 * index}", nn.Conv2d(second, third, kernel_size=1)),
        (f"relu_cccp{2 * index}", nn.ReLU(inplace=True)),
    ]


@register_model(image_shape=(3, 32, 32))
def nin(**kwargs: Any) -> NiN:
    """Network in Network for CIFAR-10 (Lin et al., 2014): 966,986 parameters, 0.222 GMACs."""
    return NiN(**kwargs)
