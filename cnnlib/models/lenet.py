"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998) and a modernised variant.

Layer names follow the paper: ``c1`` … ``c5`` are convolutions, ``s2`` and ``s4``
subsampling (pooling) layers, ``f6`` the fully connected layer and ``output``
the classifier. With one input channel and ten classes :class:`LeNet5` has
61,706 parameters: C1 156, C3 2,416, C5 48,120, F6 10,164, output 850.

Where it departs from the paper:

* **C3 is fully connected** to the six S2 maps (2,416 parameters). The paper
  connects each C3 map to a subset of them (Table I, :data:`C3_CONNECTIONS`),
  60 of the 96 pairs, giving 1,516 parameters.
* **Subsampling is plain pooling.** The paper's S2/S4 units add the four
  inputs, multiply by a trainable coefficient, add a trainable bias and pass
  the result through the squashing function (12 and 32 parameters).
* **The output layer is linear** (84·10 weights + 10 biases = 850), trained
  with cross-entropy, where the paper used Euclidean radial basis function
  units with fixed ±1 "bitmap" centres.
* **Smaller images are padded to 32x32** with ``pad_value``, as the paper
  extended its 28x28 digits to a 32x32 field with background pixels: a 28x28
  input gets 2 pixels on each side. Pass the background's value in the units
  the network sees: for images normalised as :func:`cnnlib.train.fit` does,
  ``(0 - mean) / std`` for a black background (about -0.81 for
  Fashion-MNIST). The default, 0, is the dataset's mean: a grey frame.
* **Training** uses today's optimisers and cross-entropy, where the paper used
  a stochastic diagonal Levenberg-Marquardt method, its own initialisation
  and a loss on the RBF outputs.

:func:`paper_table` sets a model's per-layer counts beside the paper's.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._checks import boolean, one_of
from cnnlib.analysis import Summary
from cnnlib.models._common import ImageClassifier
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "C3_CONNECTIONS", "IMAGE_SIZE", "LAYERS", "LeNet5", "PAPER_CONNECTIONS", "PAPER_PARAMS",
    "ScaledTanh", "VARIANTS", "lenet5", "lenet5_modern", "pad_to_32", "paper_table",
]  # fmt: skip

#: Trainable parameters of each layer of the paper's LeNet-5, as LeCun et al. (1998),
#: section II.B, state them: 60,000 in all. The output layer's radial basis
#: functions have fixed parameters, so it has no entry.
PAPER_PARAMS: dict[str, int] = {
    "c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164,
}  # fmt: skip

#: Connections of each layer as section II.B states them: every multiplication
#: (for S2 and S4, the four inputs of a subsampling unit) plus one bias per output unit.
PAPER_CONNECTIONS: dict[str, int] = {
    "c1": 122_304, "s2": 5_880, "c3": 151_600, "s4": 2_000, "c5": 48_120,
}  # fmt: skip

Activation = Literal["scaled_tanh", "sigmoid", "relu"]
Pooling = Literal["avg", "max"]

#: LeNet-5 reads 32x32 images; smaller ones are padded to it.
IMAGE_SIZE = 32

#: The layers with the paper's names, in order (the last part of each module's name).
LAYERS: tuple[str, ...] = ("c1", "s2", "c3", "s4", "c5", "f6", "output")

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

    LeCun et al. (1998, appendix A) chose the constants so that
    ``f(±1) = ±1`` (to 3e-6), with ``|f''|`` largest near ``±1`` (at
    ``a ≈ ±0.99``) and a gain of about 1 in normal operation (the slope at
    the origin is ``1.7159 · 2/3 ≈ 1.14``). It does not preserve variance:
    for standard normal inputs the output variance is about 0.75.
    """

    amplitude = 1.7159
    slope = 2.0 / 3.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)


_ACTIVATIONS = {"scaled_tanh": ScaledTanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
Layers = list[tuple[str, nn.Module]]
_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


class LeNet5(ImageClassifier):
    """LeNet-5: three 5x5 convolutions, two 2x2 subsamplings, two linear layers.

    Args:
        activation: ``"scaled_tanh"`` (the paper's), ``"sigmoid"`` or
            ``"relu"``.
        pooling: ``"avg"`` (the paper's subsampling, without its trainable
            coefficient) or ``"max"``.
        batch_norm: batch norm after every convolution and F6 (whose biases
            it makes redundant, so they are left out).
        num_classes: outputs of the last layer.
        in_channels: channels of the input image.
        small_input: must be True (LeNet-5 is built for 32x32 images).
        width_multiplier: scales the 6, 16, 120 and 84 units of C1 to F6.
        pad_value: what the margin of a smaller image holds when it is
            padded to 32x32 (see :func:`pad_to_32`), in the input's units.

    Raises:
        ValueError: an argument is out of range (the message names it).
        TypeError: ``batch_norm`` or ``small_input`` is not a bool, or
            ``pad_value`` is not a real number.
    """

    def __init__(
        self,
        *,
        activation: Activation = "scaled_tanh",
        pooling: Pooling = "avg",
        batch_norm: bool = False,
        num_classes: int = 10,
        in_channels: int = 1,
        small_input: bool = True,
        width_multiplier: float = 1.0,
        pad_value: float = 0.0,
    ) -> None:
        _check(activation, pooling, batch_norm, pad_value)
        super().__init__(
            num_classes, in_channels, small_input, width_multiplier,
            small_only=True,
        )  # fmt: skip
        self.pad_value = float(pad_value)
        c1, c3, c5, f6 = (self.scale(c) for c in (6, 16, 120, 84))
        bias = not batch_norm

        def unit(name: str, layer: nn.Module, width: int) -> Layers:
            """The layer, its batch norm (if any) and its activation."""
            layers = [(name, layer)]
            if batch_norm:
                is_conv = isinstance(layer, nn.Conv2d)
                norm = nn.BatchNorm2d if is_conv else nn.BatchNorm1d
                layers.append((f"{name}_bn", norm(width)))
            return [*layers, (f"{name}_act", _ACTIVATIONS[activation]())]

        def pool(name: str) -> Layers:
            return [(name, _POOLS[pooling](kernel_size=2, stride=2))]

        self.features = nn.Sequential(OrderedDict([
            *unit("c1", nn.Conv2d(in_channels, c1, 5, bias=bias), c1),  # 28x28
            *pool("s2"),  # 14x14
            *unit("c3", nn.Conv2d(c1, c3, 5, bias=bias), c3),  # 10x10
            *pool("s4"),  # 5x5
            *unit("c5", nn.Conv2d(c3, c5, 5, bias=bias), c5),  # 1x1
        ]))  # fmt: skip
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            *unit("f6", nn.Linear(c5, f6, bias=bias), f6),
            ("output", nn.Linear(f6, num_classes)),
        ]))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_to_32(x, self.pad_value)
        return self.classifier(self.features(x))


def _check(activation: object, pooling: object, batch_norm: object, pad_value: object) -> None:
    """Check LeNet5's own arguments (the shared ones are checked by its base class).

    Raises:
        ValueError: ``activation`` or ``pooling`` is not a known name, or
            ``pad_value`` is not finite.
        TypeError: ``batch_norm`` is not a bool or ``pad_value`` is not a real number.
    """
    one_of("LeNet5", "activation", activation, tuple(_ACTIVATIONS))
    one_of("LeNet5", "pooling", pooling, tuple(_POOLS))
    boolean("LeNet5", "batch_norm", batch_norm)
    _finite("LeNet5", "pad_value", pad_value)


def _finite(owner: str, name: str, value: object) -> None:
    """Raise unless ``value`` is a finite real number (not a bool).

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: ``value`` is infinite or NaN.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")


def pad_to_32(x: torch.Tensor, value: float = 0.0) -> torch.Tensor:
    """Centre ``x`` (N, C, H, W) in a 32x32 field whose margin holds ``value``.

    The paper extended its 28x28 digits to 32x32 with background pixels; to do
    the same, pass the background's value in ``x``'s units (for images
    normalised with a dataset's ``mean`` and ``std``, ``(0 - mean) / std`` for
    a black background). The default, 0, is the mean of normalised data.
    A 32x32 ``x`` is returned as it is.

    Raises:
        ValueError: ``x`` is larger than 32x32, a side differs from 32 by an
            odd number, or ``value`` is not finite.
        TypeError: ``value`` is not a real number.
    """
    _finite("pad_to_32", "value", value)
    height, width = x.shape[-2:]
    margins = (IMAGE_SIZE - height, IMAGE_SIZE - width)
    if min(margins) < 0 or any(m % 2 for m in margins):
        raise ValueError(
            "LeNet5: images must be at most 32x32 with an even margin to 32 "
            f"(e.g. 28x28 or 32x32), got {height}x{width}"
        )
    pad_h, pad_w = margins[0] // 2, margins[1] // 2
    if not (pad_h or pad_w):
        return x
    return F.pad(x, (pad_w, pad_w, pad_h, pad_h), value=value)


def paper_table(table: Summary) -> str:
    """LeNet-5's layers with the paper's numbers beside them, as aligned text.

    One line per layer of :data:`LAYERS`: the output shape (``CxHxW``, or
    ``F`` for a vector), the parameters and the paper's trainable parameters
    (:data:`PAPER_PARAMS`), the MACs and the paper's connections
    (:data:`PAPER_CONNECTIONS`), and the side of the receptive field; then a
    line ``total`` with the model's parameters, the paper's 60,000 and the
    model's MACs. A paper value the paper does not give is left blank. At most
    64 characters wide.

    Args:
        table: :func:`cnnlib.analysis.summary` of a :class:`LeNet5`.

    Raises:
        TypeError: ``table`` is not a :class:`~cnnlib.analysis.Summary`.
        ValueError: ``table`` lacks one of LeNet-5's layers.
    """
    if not isinstance(table, Summary):
        raise TypeError(f"paper_table: table must be a Summary, got {type(table).__name__}")
    rows = {row.name.split(".")[-1]: row for row in table.rows}
    missing = [name for name in LAYERS if name not in rows]
    if missing:
        raise ValueError(
            f"paper_table: table must summarise a LeNet5; it lacks the layers {missing}"
        )

    def line(first: str, values: list[int | None]) -> str:
        cells = ("" if v is None else f"{v:,}" for v in values)
        return (first + "".join(map(str.rjust, cells, [8, 8, 9, 13, 7]))).rstrip()

    lines = ["layer  output    params   paper     MACs  paper conn.  field"]
    for name in LAYERS:
        row = rows[name]
        shape = "x".join(map(str, row.output_shape[1:]))
        field = row.receptive_field[0] if row.receptive_field else None
        paper = [PAPER_PARAMS.get(name), PAPER_CONNECTIONS.get(name)]
        values = [row.params, paper[0], row.macs, paper[1], field]
        lines.append(line(f"{name:<7}{shape:<8}", values))
    totals = [table.total_params, sum(PAPER_PARAMS.values()), table.total_macs]
    lines.append(line("total".ljust(15), totals))
    return "\n".join(lines)


#: Each registered variant's configuration.
VARIANTS: dict[str, dict[str, object]] = {
    "lenet5": {"activation": "scaled_tanh", "pooling": "avg", "batch_norm": False},
    "lenet5_modern": {"activation": "relu", "pooling": "max", "batch_norm": True},
}


def _build(name: str, arguments: dict[str, Any]) -> LeNet5:
    return build_variant(LeNet5, VARIANTS, name, arguments)


@register_model(image_shape=(1, 28, 28))
def lenet5(**kwargs: Any) -> LeNet5:
    """LeNet-5 as in LeCun et al. (1998): scaled tanh, average pooling, full C3.

    61,706 parameters for one input channel and ten classes; see
    :mod:`cnnlib.models.lenet` for where it departs from the paper.
    """
    return _build("lenet5", kwargs)


@register_model(image_shape=(1, 28, 28))
def lenet5_modern(**kwargs: Any) -> LeNet5:
    """LeNet-5's layout with today's defaults: ReLU, max pooling, batch norm."""
    return _build("lenet5_modern", kwargs)
