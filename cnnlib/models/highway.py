"""Highway networks (Srivastava, Greff and Schmidhuber, 2015).

Srivastava, Greff and Schmidhuber (2015), "Highway Networks" (ICML Deep
Learning Workshop) and "Training Very Deep Networks" (NeurIPS), let each layer
choose, per unit, between transforming its input and carrying it unchanged:

    y = T(x)·H(x) + (1 − T(x))·x,        T(x) = sigmoid(W_T x + b_T)

``H`` is the layer's usual transform (here an affine map or a convolution
followed by ReLU) and ``T`` the *transform gate*; ``1 − T`` is the *carry
gate*. Initialising the gate bias ``b_T`` negative biases every layer towards
carrying, so a deep stack starts close to the identity and gradients reach
the first layers. The papers suggest negative initial gate biases such as −1
to −3; this module uses **−2** by default (``gate_bias`` changes it).

A highway layer keeps the size of its input, so where the width (or the
resolution) changes the networks here use a plain layer, as the papers do.

:func:`highway_fc_mnist` follows the papers' MNIST optimisation experiments:
one plain fully connected layer to 50 units, then 9 fully connected highway
layers of 50 units (a depth-10 network, the shallowest of their depths 10, 20,
50 and 100), then the softmax classifier. :func:`highway_conv_cifar` is a small
convolutional highway network for 32x32 images of this book's own design (3x3
highway convolutions in three stages of 32, 64 and 128 channels); the papers'
CIFAR-10 networks (compared there with FitNets) are not reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from cnnlib._checks import positive_int, positive_number
from cnnlib.layers import same_padding
from cnnlib.models import register_model

__all__ = ["HighwayLayer", "HighwayNetwork", "highway_fc_mnist", "highway_conv_cifar"]

LayerKind = Literal["fc", "conv"]

DEFAULT_GATE_BIAS = -2.0


def _check_gate_bias(owner: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{owner}: gate_bias must be a finite number, got {value!r}")
    return float(value)


class HighwayLayer(nn.Module):
    """One highway layer: ``y = T(x)·H(x) + (1 − T(x))·x``.

    ``transform`` computes ``H``'s affine part (``H(x) = ReLU(transform(x))``),
    ``gate`` computes the gate's pre-activation (``T(x) = sigmoid(gate(x))``).
    Both are ``nn.Linear(features, features)`` for ``kind="fc"`` (input
    ``(N, features)``) or ``nn.Conv2d(features, features, kernel_size)`` with
    'same' padding for ``kind="conv"`` (input ``(N, features, H, W)``); the gate
    is per unit (per channel and position for convolutions). Parameters:
    ``2·(features² + features)`` for ``"fc"``, ``2·(k²·features² + features)``
    for ``"conv"``.

    Args:
        features: units (``"fc"``) or channels (``"conv"``) of input and output.
        kind: ``"fc"`` (fully connected) or ``"conv"`` (convolutional).
        kernel_size: the convolutions' kernel size (``"conv"`` only; odd).
        gate_bias: the initial value of every entry of ``b_T``; negative values
            bias the layer towards carrying its input.

    Raises:
        ValueError: an argument is out of range (the message names it).
    """

    def __init__(
        self,
        features: int,
        *,
        kind: LayerKind = "fc",
        kernel_size: int = 3,
        gate_bias: float = DEFAULT_GATE_BIAS,
    ) -> None:
        super().__init__()
        positive_int("HighwayLayer", "features", features)
        positive_int("HighwayLayer", "kernel_size", kernel_size)
        gate_bias = _check_gate_bias("HighwayLayer", gate_bias)
        if kind == "fc":
            self.transform: nn.Module = nn.Linear(features, features)
            self.gate: nn.Module = nn.Linear(features, features)
        elif kind == "conv":
            if kernel_size % 2 == 0:
                raise ValueError(f"HighwayLayer: kernel_size must be odd, got {kernel_size!r}")
            padding = same_padding(kernel_size)
            self.transform = nn.Conv2d(features, features, kernel_size, padding=padding)
            self.gate = nn.Conv2d(features, features, kernel_size, padding=padding)
        else:
            raise ValueError(f"HighwayLayer: kind must be 'fc' or 'conv', got {kind!r}")
        self.activation = nn.ReLU()
        self.kind = kind
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.activation(self.transform(x))
        t = torch.sigmoid(self.gate(x))
        return t * h + (1 - t) * x

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"


class HighwayNetwork(nn.Module):
    """A stack of highway layers between plain layers that change the size.

    ``kind="fc"``: flatten → plain ``Linear`` + ReLU to ``widths[0]`` units →
    for each stage ``i``: (for ``i > 0`` a plain ``Linear`` + ReLU from
    ``widths[i-1]`` to ``widths[i]``) and ``depths[i]`` fully connected
    highway layers → ``classifier`` (``Linear``).

    ``kind="conv"``: plain 3x3 conv + ReLU to ``widths[0]`` channels → for each
    stage ``i``: (for ``i > 0`` a 2x2 max-pooling and a plain 3x3 conv + ReLU
    from ``widths[i-1]`` to ``widths[i]``) and ``depths[i]`` convolutional
    highway layers → global average pooling → ``classifier``.

    Modules: ``stem``, ``stages`` (an ``nn.Sequential`` of stages, each an
    ``nn.Sequential`` of its transition (if any) and its highway layers),
    ``pool`` (flatten for ``"fc"``, global average pooling for ``"conv"``)
    and ``classifier``.

    Args:
        kind: ``"fc"`` or ``"conv"``.
        widths: units or channels of each stage.
        depths: highway layers per stage (same length as ``widths``).
        num_classes: outputs of the classifier.
        in_channels: channels of the input image.
        input_size: height and width of the (square) input; fixes the first
            linear layer's inputs for ``"fc"`` (``in_channels·input_size²``);
            ``"conv"`` networks run on any size of at least ``2**(stages-1)``.
        gate_bias: the initial transform-gate bias of every highway layer.
        width_multiplier: scales every width: ``max(1, round(w·m))``; at 1.0
            nothing changes.

    Raises:
        ValueError: an argument is out of range (the message names it).
    """

    def __init__(
        self,
        kind: LayerKind,
        widths: Sequence[int],
        depths: Sequence[int],
        *,
        num_classes: int = 10,
        in_channels: int = 1,
        input_size: int = 28,
        gate_bias: float = DEFAULT_GATE_BIAS,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        if kind not in ("fc", "conv"):
            raise ValueError(f"HighwayNetwork: kind must be 'fc' or 'conv', got {kind!r}")
        for name, seq in (("widths", widths), ("depths", depths)):
            if (
                isinstance(seq, (str, bytes))
                or not isinstance(seq, Sequence)
                or len(seq) == 0
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in seq)
            ):
                raise ValueError(
                    f"HighwayNetwork: {name} must be a non-empty sequence of positive ints, "
                    f"got {seq!r}"
                )
        if len(widths) != len(depths):
            raise ValueError(
                "HighwayNetwork: widths and depths must have the same length, "
                f"got {widths!r} and {depths!r}"
            )
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels),
                            ("input_size", input_size)):  # fmt: skip
            positive_int("HighwayNetwork", name, value)
        gate_bias = _check_gate_bias("HighwayNetwork", gate_bias)
        positive_number("HighwayNetwork", "width_multiplier", width_multiplier)
        sizes = [max(1, round(w * width_multiplier)) for w in widths]

        def plain(c_in: int, c_out: int) -> nn.Sequential:
            if kind == "fc":
                return nn.Sequential(nn.Linear(c_in, c_out), nn.ReLU(inplace=True))
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True))

        if kind == "fc":
            self.stem = nn.Sequential(nn.Flatten(), *plain(in_channels * input_size**2, sizes[0]))
        else:
            self.stem = plain(in_channels, sizes[0])
        stages = []
        for i, (size, depth) in enumerate(zip(sizes, depths)):
            layers: list[nn.Module] = []
            if i > 0:
                if kind == "conv":
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                layers.extend(plain(sizes[i - 1], size))
            layers.extend(HighwayLayer(size, kind=kind, gate_bias=gate_bias) for _ in range(depth))
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        if kind == "fc":
            self.pool: nn.Module = nn.Identity()
        else:
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(sizes[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.stages(self.stem(x))))


@register_model(input_size=(1, 28, 28))
def highway_fc_mnist(
    *, num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
    gate_bias: float = DEFAULT_GATE_BIAS, width_multiplier: float = 1.0,
) -> HighwayNetwork:  # fmt: skip
    """Depth-10 fully connected highway network: plain 784→50, 9 highway layers of 50, classifier.

    ``2·9·(50² + 50) + (784·50 + 50) + (50·10 + 10) = 85,660`` parameters
    for 28x28x1 inputs and 10 classes.
    """
    return HighwayNetwork(
        "fc", (50,), (9,), num_classes=num_classes, in_channels=in_channels,
        input_size=input_size, gate_bias=gate_bias, width_multiplier=width_multiplier,
    )  # fmt: skip


@register_model(input_size=(3, 32, 32))
def highway_conv_cifar(
    *, num_classes: int = 10, in_channels: int = 3, gate_bias: float = DEFAULT_GATE_BIAS,
    width_multiplier: float = 1.0,
) -> HighwayNetwork:  # fmt: skip
    """Convolutional highway network: stages of 32, 64, 128 channels with 3 highway 3x3 layers each.

    Runs at 32x32, 16x16 and 8x8 for CIFAR (28, 14, 7 for 28x28 inputs).
    Not one of the papers' networks (see the module docstring).
    """
    return HighwayNetwork(
        "conv", (32, 64, 128), (3, 3, 3), num_classes=num_classes, in_channels=in_channels,
        gate_bias=gate_bias, width_multiplier=width_multiplier,
    )  # fmt: skip
