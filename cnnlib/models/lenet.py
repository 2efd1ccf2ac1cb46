"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998) and a modernised variant.

Layer names follow the paper: ``c1`` … ``c5`` are convolutions, ``s2`` and ``s4``
subsampling (pooling) layers, ``f6`` the fully connected layer and ``output``
the classifier.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import torch
from torch import nn

from cnnlib.models import register_model

__all__ = ["C3_CONNECTIONS", "LeNet5", "ScaledTanh", "lenet5", "lenet5_modern"]

Activation = Literal["scaled_tanh", "sigmoid", "relu"]
Pooling = Literal["avg", "max"]

_PAPER_INPUT_SIZE = 32  # LeNet-5 reads 32x32 images (28x28 digits centred in them).

#: The paper's Table I: for each of the 16 C3 feature maps, the S2 maps it reads.
#: Six read 3 contiguous maps, nine read 4, one reads all 6: 60 of the 96 pairs.
#: :class:`LeNet5` does not use it (its C3 reads all six maps); it documents the
#: paper's design and lets the chapter count the paper's 1,516 C3 parameters.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5),
    (0, 1, 2, 5), (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class ScaledTanh(nn.Module):
    """LeCun's squashing function ``f(a) = 1.7159 * tanh(2a / 3)``.

    The constants make ``f(±1) = ±1`` and keep the gain near 1 around the origin
    (LeCun et al. 1998, appendix A).
    """

    amplitude = 1.7159
    slope = 2.0 / 3.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)


def _activation(name: Activation) -> nn.Module:
    if name == "scaled_tanh":
        return ScaledTanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "relu":
        return nn.ReLU(inplace=True)
    raise ValueError(
        f"LeNet5: activation must be 'scaled_tanh', 'sigmoid' or 'relu', got {name!r}"
    )


def _pool(name: Pooling) -> nn.Module:
    if name == "avg":
        return nn.AvgPool2d(kernel_size=2, stride=2)
    if name == "max":
        return nn.MaxPool2d(kernel_size=2, stride=2)
    raise ValueError(f"LeNet5: pooling must be 'avg' or 'max', got {name!r}")


class LeNet5(nn.Module):
    """LeNet-5: three 5x5 convolutions, two 2x2 subsamplings, two linear layers.

    With ``in_channels=1`` and ``num_classes=10`` the network has 61,706
    parameters: C1 156, C3 2,416, C5 48,120, F6 10,164 and the output layer 850.

    Where it departs from the paper:

    * **C3 is fully connected** to the six S2 maps (2,416 parameters). The paper
      connects each C3 map to a subset of them (Table I), 60 of the 96 pairs,
      giving 1,516 parameters.
    * **Subsampling is plain pooling.** The paper's S2/S4 units add the four
      inputs, multiply by a trainable coefficient, add a trainable bias and pass
      the result through a sigmoid (12 and 32 parameters). Here S2/S4 are
      parameter-free average (or max) pooling followed by nothing.
    * **The output layer is linear** (84·10 weights + 10 biases = 850) trained
      with cross-entropy, where the paper used Euclidean radial basis function
      units with fixed ±1 "bitmap" centres.
    * **Inputs of other sizes.** The paper pads 28x28 digits to 32x32; here C1
      pads the input so that the same computation happens for any even
      ``input_size`` up to 32 (padding ``(32 - input_size) / 2``; 2 for
      Fashion-MNIST's 28x28, 0 for 32x32 images).

    Args:
        in_channels: channels of the input image (1 for grey, 3 for colour).
        num_classes: number of output classes.
        input_size: height and width of the (square) input.
        activation: ``"scaled_tanh"`` (the paper's ``1.7159·tanh(2a/3)``),
            ``"sigmoid"`` or ``"relu"``.
        pooling: ``"avg"`` (the paper's subsampling, without its trainable
            coefficient) or ``"max"``.
        batch_norm: insert batch normalisation after every convolution and F6
            (Ioffe and Szegedy, 2015); the layers it follows then carry no bias.
    """

    def __init__(
        self,
        *,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        activation: Activation = "scaled_tanh",
        pooling: Pooling = "avg",
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        for arg, value in (("in_channels", in_channels), ("num_classes", num_classes)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"LeNet5: {arg} must be a positive int, got {value!r}")
        if (
            not isinstance(input_size, int)
            or isinstance(input_size, bool)
            or not 5 <= input_size <= _PAPER_INPUT_SIZE
            or (_PAPER_INPUT_SIZE - input_size) % 2
        ):
            raise ValueError(
                "LeNet5: input_size must be an int with 5 <= input_size <= 32 and "
                f"32 - input_size even (e.g. 28 or 32), got {input_size!r}"
            )
        if not isinstance(batch_norm, bool):
            raise TypeError(f"LeNet5: batch_norm must be a bool, got {batch_norm!r}")
        padding = (_PAPER_INPUT_SIZE - input_size) // 2
        bias = not batch_norm

        def conv_block(name: str, c_in: int, c_out: int, pad: int) -> list[tuple[str, nn.Module]]:
            layers: list[tuple[str, nn.Module]] = [
                (name, nn.Conv2d(c_in, c_out, kernel_size=5, padding=pad, bias=bias))
            ]
            if batch_norm:
                layers.append((f"{name}_bn", nn.BatchNorm2d(c_out)))
            layers.append((f"{name}_act", _activation(activation)))
            return layers

        self.features = nn.Sequential(
            OrderedDict(
                [
                    *conv_block("c1", in_channels, 6, padding),  # 32x32 -> 28x28
                    ("s2", _pool(pooling)),  # -> 14x14
                    *conv_block("c3", 6, 16, 0),  # -> 10x10
                    ("s4", _pool(pooling)),  # -> 5x5
                    *conv_block("c5", 16, 120, 0),  # -> 1x1
                ]
            )
        )
        f6: list[tuple[str, nn.Module]] = [("f6", nn.Linear(120, 84, bias=bias))]
        if batch_norm:
            f6.append(("f6_bn", nn.BatchNorm1d(84)))
        self.classifier = nn.Sequential(
            OrderedDict(
                [
                    ("flatten", nn.Flatten()),
                    *f6,
                    ("f6_act", _activation(activation)),
                    ("output", nn.Linear(84, num_classes)),
                ]
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@register_model(input_size=(1, 28, 28))
def lenet5(*, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> LeNet5:
    """LeNet-5 as in LeCun et al. (1998): scaled tanh, average pooling, full C3.

    61,706 parameters for one input channel and ten classes; see :class:`LeNet5`
    for where it departs from the paper.
    """
    return LeNet5(
        in_channels=in_channels,
        num_classes=num_classes,
        input_size=input_size,
        activation="scaled_tanh",
        pooling="avg",
        batch_norm=False,
    )


@register_model(input_size=(1, 28, 28))
def lenet5_modern(
    *, in_channels: int = 1, num_classes: int = 10, input_size: int = 28
) -> LeNet5:
    """LeNet-5's layout with today's defaults: ReLU, max pooling, batch norm."""
    return LeNet5(
        in_channels=in_channels,
        num_classes=num_classes,
        input_size=input_size,
        activation="relu",
        pooling="max",
        batch_norm=True,
    )
