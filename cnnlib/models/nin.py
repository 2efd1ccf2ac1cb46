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

For the paper's comparison of global average pooling with a fully connected
classifier, ``NiN(head="fc", image_size=...)`` keeps every layer and replaces
only the averaging by a linear layer on the flattened class maps;
:func:`micro_network` rewrites an mlpconv block as the multilayer perceptron it
slides over the image.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, Literal

import torch
from torch import nn

from cnnlib._checks import one_of, positive_int, probability
from cnnlib.models._common import ImageClassifier, init_he
from cnnlib.models._registry import register_model

__all__ = ["NiN", "mlpconv", "micro_network", "pooled_size", "nin"]

#: Layers per mlpconv block in ``NiN.features``: three convolutions, each with its ReLU.
BLOCK_LAYERS = 6


class NiN(ImageClassifier):
    """Three mlpconv blocks and global average pooling (see the module docstring).

    It follows the released model layer for layer. Its pools round their
    output size up, as Caffe's do (32 → 16 → 8; rounding down would give
    15 → 7). The last average pool is adaptive (global) where the released
    model has a fixed 8x8 window: the same at 32x32, and valid at any size.
    As in the released model, the last 1x1 convolution is followed by a ReLU,
    so the class scores are non-negative. 28x28 images give 14x14 and 7x7
    maps after the two pools.

    ``head="fc"`` is the paper's point of comparison: the same layers, but the
    class maps are flattened and a fully connected layer (after dropout with
    ``head_dropout``) computes the scores. Global average pooling is that
    layer with fixed weights: ``1 / (H·W)`` from each class's own map, 0 from
    the others. The layer's size depends on the maps' size, so this head needs
    ``image_size``.

    Weights: He et al. (2015) normal (fan-out) for the convolutions, zero
    biases (the released model used hand-set Gaussian standard deviations);
    PyTorch's default for the fully connected head, with a zero bias.

    Args:
        dropout: dropout probability after the first two blocks.
        head: ``"gap"`` (global average pooling, the paper's network) or
            ``"fc"`` (a fully connected layer on the flattened class maps).
        image_size: side of the square input images; used only by
            ``head="fc"`` (the class maps are ``pooled_size(image_size)`` on
            a side).
        head_dropout: dropout probability before the fully connected head
            (``head="fc"`` only).
        num_classes: maps of the last 1x1 convolution, one per class.
        in_channels: channels of the input image.
        small_input: must be True (the network is built for 32x32 images).
        width_multiplier: ``α``; the channels of every convolution but the
            last become ``max(1, round(c·α))``. At 1.0 nothing changes.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        dropout: float = 0.5,
        head: Literal["gap", "fc"] = "gap",
        image_size: int = 32,
        head_dropout: float = 0.0,
        num_classes: int = 10,
        in_channels: int = 3,
        small_input: bool = True,
        width_multiplier: float = 1.0,
    ) -> None:
        probability("NiN", "dropout", dropout)
        one_of("NiN", "head", head, ("gap", "fc"))
        side = pooled_size(image_size)
        probability("NiN", "head_dropout", head_dropout)
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
        self.head = head
        self.image_size = image_size
        self.avgpool = nn.AdaptiveAvgPool2d(1) if head == "gap" else None
        self.fc = None
        if head == "fc":
            self.fc = nn.Sequential(OrderedDict([
                ("drop", nn.Dropout(p=head_dropout)),
                ("linear", nn.Linear(num_classes * side * side, num_classes)),
            ]))  # fmt: skip
        init_he(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.features(x)  # one map per class
        if self.fc is None:
            return torch.flatten(self.avgpool(maps), 1)  # each map's mean
        self._check_map_size(maps)
        return self.fc(torch.flatten(maps, 1))

    def class_maps(self, x: torch.Tensor) -> torch.Tensor:
        """The last block's output, ``(N, num_classes, H, W)``: one map per class.

        With ``head="gap"`` each class score is the mean of its map, so the
        maps show where in the image the evidence for each class lies.
        """
        return self.features(x)

    def block(self, index: int) -> nn.Sequential:
        """mlpconv block ``index`` (1, 2 or 3) of ``features``: its three convolutions and ReLUs.

        Raises:
            ValueError: ``index`` is not 1, 2 or 3.
        """
        one_of("NiN.block", "index", index, (1, 2, 3))
        names = [f"conv{index}", f"cccp{2 * index - 1}", f"cccp{2 * index}"]
        start = list(dict(self.features.named_children())).index(names[0])
        return self.features[start : start + BLOCK_LAYERS]

    def _check_map_size(self, maps: torch.Tensor) -> None:
        expected = pooled_size(self.image_size)
        if tuple(maps.shape[-2:]) != (expected, expected):
            side = maps.shape[-1]
            raise ValueError(
                f"NiN: the fully connected head was built for image_size={self.image_size} "
                f"({expected}x{expected} class maps) but the maps are "
                f"{maps.shape[-2]}x{side}: build the model with the images' side as image_size"
            )


def pooled_size(image_size: int) -> int:
    """Side of NiN's class maps for square images of side ``image_size``.

    Two 3x3 pools with stride 2 that round up (Caffe's rule, PyTorch's
    ``ceil_mode``): ``ceil((n − 3) / 2) + 1`` twice, so 32 → 16 → 8 and
    28 → 14 → 7. As in PyTorch, a last window that would start outside the
    input is dropped, and a window may reach past the edge, so a 2x2 input
    still gives one output.

    Raises:
        ValueError: ``image_size`` is not an int of at least 4 (smaller
            images leave nothing for the second pool).
    """
    positive_int("pooled_size", "image_size", image_size)
    side = image_size
    for _ in range(2):
        out = math.ceil((side - 3) / 2) + 1
        side = out - 1 if (out - 1) * 2 >= side else out
        if side < 1:
            raise ValueError(
                f"pooled_size: image_size must be at least 4 (smaller images leave "
                f"nothing for the second 3x3 pool), got {image_size!r}"
            )
    return side


def mlpconv(
    index: int,
    in_channels: int,
    kernel_size: int,
    widths: tuple[int, int, int],
) -> list[tuple[str, nn.Module]]:
    """An mlpconv block: a k x k convolution and two 1x1 convolutions, each with a ReLU.

    The 1x1 convolutions are the "micro network": the same two-layer
    perceptron applied at every position. Names follow the released model
    (``conv{i}``, ``cccp{2i-1}``, ``cccp{2i}``).
    """
    first, second, third = widths
    conv = nn.Conv2d(in_channels, first, kernel_size, padding=kernel_size // 2)
    return [
        (f"conv{index}", conv),
        (f"relu{index}", nn.ReLU(inplace=True)),
        (f"cccp{2 * index - 1}", nn.Conv2d(first, second, kernel_size=1)),
        (f"relu_cccp{2 * index - 1}", nn.ReLU(inplace=True)),
        (f"cccp{2 * index}", nn.Conv2d(second, third, kernel_size=1)),
        (f"relu_cccp{2 * index}", nn.ReLU(inplace=True)),
    ]


def micro_network(block: nn.Sequential) -> nn.Sequential:
    """The multilayer perceptron that an mlpconv block slides over the image, weights copied.

    The first convolution (``k x k`` over ``C`` channels) becomes a linear
    layer on a flattened ``C·k·k`` patch, in the order of
    :func:`torch.nn.functional.unfold`; every later convolution must be 1x1
    and becomes a linear layer on the channel vector. ReLUs stay. So
    ``micro_network(block)`` applied to every patch of
    ``unfold(x, k, padding=p)`` gives ``block(x)`` (for a block with stride 1
    and padding ``p``).

    Args:
        block: convolutions (bias included, ``groups=1``, dilation 1) and
            ReLUs, such as ``NiN.block(i)``.

    Returns:
        ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` layers, on the
        block's device and dtype, independent of it (a copy).

    Raises:
        TypeError: ``block`` is not an ``nn.Sequential`` or holds a layer other
            than a convolution or a ReLU.
        ValueError: a convolution after the first is not 1x1, one is grouped,
            dilated or has no bias, or the block holds no convolution.
    """
    if not isinstance(block, nn.Sequential):
        raise TypeError(
            f"micro_network: block must be an nn.Sequential, got {type(block).__name__}"
        )
    layers: list[nn.Module] = []
    for name, module in block.named_children():
        if isinstance(module, nn.ReLU):
            layers.append(nn.ReLU())
        elif isinstance(module, nn.Conv2d):
            if module.groups != 1 or module.dilation != (1, 1) or module.bias is None:
                raise ValueError(
                    f"micro_network: block layer {name} must be a plain convolution with a "
                    "bias (groups=1, dilation=1)"
                )
            if layers and module.kernel_size != (1, 1):
                raise ValueError(
                    f"micro_network: block layer {name} must be 1x1 (only the first "
                    f"convolution sees a patch), got {module.kernel_size}"
                )
            weight = module.weight.detach()
            linear = nn.Linear(weight[0].numel(), weight.shape[0])
            linear = linear.to(device=weight.device, dtype=weight.dtype)
            with torch.no_grad():
                linear.weight.copy_(weight.reshape(weight.shape[0], -1))
                linear.bias.copy_(module.bias.detach())
            layers.append(linear)
        else:
            raise TypeError(
                f"micro_network: block layer {name} must be an nn.Conv2d or nn.ReLU, "
                f"got {type(module).__name__}"
            )
    if not any(isinstance(layer, nn.Linear) for layer in layers):
        raise ValueError("micro_network: block must hold at least one convolution")
    return nn.Sequential(*layers)


@register_model(image_shape=(3, 32, 32))
def nin(**kwargs: Any) -> NiN:
    """Network in Network for CIFAR-10 (Lin et al., 2014): 966,986 parameters, 0.222 GMACs."""
    return NiN(**kwargs)
