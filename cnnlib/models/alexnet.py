"""AlexNet and ZFNet: five convolutions, three max-pools, three linear layers.

One class, :class:`AlexNet`, builds both; they differ in their list of
convolutions (:data:`VARIANTS`). Module names follow torchvision (``features``,
``avgpool``, ``classifier``, with positional children), so torchvision's
``alexnet`` state dict loads with ``strict=True`` into :func:`alexnet`.

Papers:

* Krizhevsky, Sutskever and Hinton (2012), "ImageNet Classification with Deep
  Convolutional Neural Networks": "60 million parameters".
* Krizhevsky (2014), "One weird trick for parallelizing convolutional neural
  networks": a one-tower variant (footnote on p. 5: 64, 192, 384, 384, 256
  filters). torchvision's :func:`alexnet` is close to it but has 256 filters in
  conv4, as in Krizhevsky's one-GPU cuda-convnet2 configuration
  (``layers-imagenet-1gpu.cfg``; pytorch/vision#463 and #704).
* Zeiler and Fergus (2014), "Visualizing and Understanding Convolutional
  Networks": Figure 3 (ZFNet); the paper states no parameter count.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnlib._checks import boolean, one_of, positive_int
from cnnlib.models._common import ImageClassifier, fully_connected_head
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "ConvSpec",
    "ACTIVATIONS",
    "ConstantScale",
    "INITS",
    "conv_layer",
    "AlexNet",
    "VARIANTS",
    "alexnet",
    "alexnet_2012",
    "zfnet",
]

#: The nonlinearities :class:`AlexNet` can use, by name: the ReLU of the paper
#: and the saturating tanh it was compared with (its Figure 1).
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}

#: How :class:`AlexNet` can initialize its weights (see its ``init`` argument).
INITS = ("default", "kaiming")

#: The constants of AlexNet's local response normalization (section 3.3).
LRN_K, LRN_N, LRN_ALPHA, LRN_BETA = 2.0, 5, 1e-4, 0.75


class ConstantScale(nn.Module):
    """Multiplies its input by a fixed number: ``x * factor``.

    With ``factor = k^-β = 2^-0.75`` it is what AlexNet's local response
    normalization reduces to when ``α Σ a²`` is negligible next to ``k``: the
    control that separates the normalization's constant scaling from its
    normalizing (``AlexNet(local_response_norm="constant")``).

    Args:
        factor: the multiplier, a finite positive number.

    Raises:
        TypeError: ``factor`` is not a real number.
        ValueError: ``factor`` is not finite and positive.
    """

    def __init__(self, factor: float = LRN_K**-LRN_BETA) -> None:
        super().__init__()
        if isinstance(factor, bool) or not isinstance(factor, (int, float)):
            raise TypeError(f"ConstantScale: factor must be a number, got {factor!r}")
        if not math.isfinite(factor) or factor <= 0:
            raise ValueError(f"ConstantScale: factor must be finite and > 0, got {factor!r}")
        self.factor = float(factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor:.6g}"


def _check_options(caller: str, activation: object, normalize: object, name: str) -> None:
    if not isinstance(activation, str):
        raise TypeError(f"{caller}: activation must be a str, got {activation!r}")
    one_of(caller, "activation", activation, list(ACTIVATIONS))
    _check_normalization(caller, name, normalize)


def _check_normalization(caller: str, name: str, value: object) -> None:
    if isinstance(value, bool) or value == "constant":
        return
    message = f"{caller}: {name} must be True, False or 'constant', got {value!r}"
    raise ValueError(message) if isinstance(value, str) else TypeError(message)


@dataclass(frozen=True)
class ConvSpec:
    """One convolution of the feature extractor and what follows its ReLU.

    Attributes:
        out_channels: filters of the convolution (before ``width_multiplier``).
        kernel_size: side of the square kernel.
        stride: stride of the convolution.
        padding: zero padding on every side.
        pool: a 3x3, stride-2 max-pool follows the ReLU.
        normalize: a local response normalization follows the ReLU.
        normalize_first: the normalization comes before the pool (AlexNet's
            order, section 3.5 of the 2012 paper) instead of after it (Zeiler
            and Fergus's order).
        groups: groups of the convolution; 2 for the layers of the 2012
            network that each GPU computed on its own half of the channels.
    """

    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    pool: bool = False
    normalize: bool = False
    normalize_first: bool = False
    groups: int = 1


def _check_layers(layers: object) -> None:
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise ValueError(
            f"AlexNet: layers must be a non-empty sequence of ConvSpec, got {layers!r}"
        )
    for spec in layers:
        if not isinstance(spec, ConvSpec):
            raise TypeError(f"AlexNet: layers must hold ConvSpec instances, got {spec!r}")
        positive_int("AlexNet", "ConvSpec.groups", spec.groups)


def conv_layer(
    in_channels: int, out_channels: int, spec: ConvSpec, *,
    activation: str = "relu", normalize: bool | str = True,
    small_input: bool = False, pool_ceil_mode: bool = False,
) -> list[nn.Module]:  # fmt: skip
    """One layer of the feature extractor: convolution, nonlinearity, then LRN and pool.

    Args:
        in_channels: channels of the layer's input.
        out_channels: filters of the convolution (``spec.out_channels``
            already scaled by the width multiplier).
        spec: the layer's kernel, stride, padding, groups, pool and normalization.
        activation: a key of :data:`ACTIVATIONS`.
        normalize: add the normalization ``spec`` asks for (False leaves it
            out; ``"constant"`` puts a :class:`ConstantScale` by ``2^-0.75`` in
            its place).
        small_input: stride 1 and "same" padding; pools padded by 1 (see
            :class:`AlexNet`).
        pool_ceil_mode: the pool rounds its output size up (large inputs only).

    Returns:
        The modules in order, for an ``nn.Sequential``.

    Raises:
        ValueError: ``activation`` is not a key of :data:`ACTIVATIONS`, or
            ``normalize`` is a string other than ``"constant"``.
        TypeError: ``normalize`` is neither a bool nor a string.
    """
    _check_options("conv_layer", activation, normalize, "normalize")
    kernel, stride, padding = spec.kernel_size, spec.stride, spec.padding
    if small_input:  # only the max-pools downsample
        stride, padding = 1, (kernel - 1) // 2
    conv = nn.Conv2d(
        in_channels, out_channels, kernel, stride, padding, groups=spec.groups
    )  # fmt: skip
    act = nn.ReLU(inplace=True) if activation == "relu" else nn.Tanh()
    norm: list[nn.Module] = []
    if spec.normalize and normalize == "constant":
        norm = [ConstantScale(LRN_K**-LRN_BETA)]
    elif spec.normalize and normalize:  # PyTorch's alpha is the paper's alpha * n
        norm = [nn.LocalResponseNorm(LRN_N, LRN_ALPHA * LRN_N, LRN_BETA, LRN_K)]
    pool: list[nn.Module] = []
    if spec.pool:
        pool_padding, ceil = (1, False) if small_input else (0, pool_ceil_mode)
        pool = [nn.MaxPool2d(3, 2, pool_padding, ceil_mode=ceil)]
    after = norm + pool if spec.normalize_first else pool + norm
    return [conv, act, *after]


class AlexNet(ImageClassifier):
    """Convolutions with ReLU (some followed by max-pooling), then an MLP classifier.

    ``features`` holds, for every :class:`ConvSpec`, the modules of
    :func:`conv_layer`: a convolution, a ReLU (or tanh, see ``activation``)
    and, where the spec asks for them, a 3x3 stride-2 max-pool and a local
    response normalization (in the spec's order). ``avgpool`` (an adaptive
    average pool, torchvision's addition so that any input size reaches the
    classifier with the same shape) brings the last map to ``pooled_size``;
    ``classifier`` is dropout, linear, ReLU, dropout, linear, ReLU, linear, as
    in torchvision (``dropout_first=True``), or linear, ReLU, dropout, linear,
    ReLU, dropout, linear, the paper's placement (section 4.2: dropout on the
    outputs of the first two fully connected layers; ``dropout_first=False``).

    The normalization is AlexNet's (section 3.3): ``b = a / (k + α Σ a²)^β``
    over ``n`` adjacent channels with ``k = 2``, ``n = 5``, ``α = 1e-4``,
    ``β = 0.75``. PyTorch's ``LocalResponseNorm`` divides its ``alpha`` by
    ``n``, so it gets ``alpha = 5e-4``.

    By default the weights keep PyTorch's default initialization, as in
    torchvision's AlexNet (the paper drew them from N(0, 0.01²) and set some
    biases to 1); ``init="kaiming"`` draws every convolution's and linear
    layer's weights from ``N(0, gain² / fan_in)`` with the gain PyTorch gives
    the activation (√2 for ReLU, 5/3 for tanh; He et al., 2015) and zeroes
    the biases, so the signal keeps its scale through the layers.

    Three switches serve experiments: ``activation="tanh"`` replaces every
    ReLU (in the features and the classifier) by a tanh, the comparison of
    the paper's Figure 1; ``local_response_norm=False`` leaves out the
    normalizations the layers ask for, and ``local_response_norm="constant"``
    replaces each by a :class:`ConstantScale` by ``k^-β = 2^-0.75`` (what the
    normalization reduces to when ``α Σ a²`` is negligible next to ``k``);
    ``init`` as above. None changes a parameter count or a module name, so
    state dicts still load.

    Args:
        layers: the convolutions, e.g. ``VARIANTS["alexnet"]``.
        num_classes: outputs of the last linear layer.
        in_channels: channels of the input image.
        hidden_features: width of the two hidden linear layers (4096).
        dropout: dropout probability of the two dropout layers.
        dropout_first: dropout before each hidden linear layer (torchvision's
            order) rather than after each hidden ReLU (the paper's).
        pooled_size: side of ``avgpool``'s output (6 for 224x224 images).
        pool_ceil_mode: round the max-pools' output size up (Caffe's
            convention; ZFNet's sizes 110 → 55 and 26 → 13 need it).
        small_input: a version for 28x28 / 32x32 images. Three things change:
            the first convolution becomes 3x3 (instead of 11x11 or 7x7) and
            every convolution gets stride 1 and "same" padding ``(k - 1) / 2``,
            so only the max-pools downsample; the max-pools get padding 1 and
            round down, so 32 → 16 → 8 → 4 and 28 → 14 → 7 → 4; ``avgpool``
            outputs 4x4 instead of ``pooled_size``, so the first linear layer
            reads ``4·4·C`` features. Everything else (channels, kernels of the
            other layers, normalization, classifier widths) is unchanged.
        width_multiplier: ``α``; the hidden linear widths become
            ``max(1, round(c·α))`` and every convolution's channels ``c·α``
            rounded to a multiple of the largest ``groups`` (so that grouped
            layers divide). At 1.0 nothing changes.
        activation: ``"relu"`` (the paper's) or ``"tanh"``, everywhere.
        local_response_norm: True keeps the local response normalizations
            the layers ask for; False leaves them out; ``"constant"`` replaces
            them by a :class:`ConstantScale` by ``2^-0.75``.
        init: ``"default"`` (PyTorch's) or ``"kaiming"`` (see above).

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        layers: Sequence[ConvSpec],
        *,
        hidden_features: int = 4096,
        dropout: float = 0.5,
        dropout_first: bool = True,
        pooled_size: int = 6,
        pool_ceil_mode: bool = False,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
        activation: str = "relu",
        local_response_norm: bool | str = True,
        init: str = "default",
    ) -> None:
        _check_layers(layers)
        positive_int("AlexNet", "pooled_size", pooled_size)
        boolean("AlexNet", "pool_ceil_mode", pool_ceil_mode)
        boolean("AlexNet", "dropout_first", dropout_first)
        _check_options("AlexNet", activation, local_response_norm, "local_response_norm")
        if not isinstance(init, str):
            raise TypeError(f"AlexNet: init must be a str, got {init!r}")
        one_of("AlexNet", "init", init, INITS)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        self.activation = activation
        features: list[nn.Module] = []
        channels = in_channels
        divisor = max(spec.groups for spec in layers)  # grouped layers need divisible widths
        for i, spec in enumerate(layers):
            if small_input and i == 0:  # a 3x3 first layer for small images
                spec = dataclasses.replace(spec, kernel_size=3)
            out_channels = self.scale(spec.out_channels, divisor=divisor)
            features += conv_layer(
                channels, out_channels, spec, activation=activation,
                normalize=local_response_norm, small_input=small_input,
                pool_ceil_mode=pool_ceil_mode,
            )  # fmt: skip
            channels = out_channels
        self.features = nn.Sequential(*features)
        side = 4 if small_input else pooled_size
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = fully_connected_head(
            "AlexNet", channels * side * side, hidden_features, num_classes, dropout,
            width_multiplier=self.width_multiplier, dropout_first=dropout_first,
        )  # fmt: skip
        if activation != "relu":  # the same positions, so state dicts keep their keys
            for index, module in enumerate(self.classifier):
                if isinstance(module, nn.ReLU):
                    self.classifier[index] = ACTIVATIONS[activation]()
        if init == "kaiming":
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(module.weight, nonlinearity=activation)
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


#: Each variant's configuration; the builders add the arguments every model accepts.
VARIANTS: dict[str, dict[str, object]] = {
    # torchvision's one-tower AlexNet: 64-192-384-256-256 filters, no grouping, no
    # normalization. It follows Krizhevsky's one-GPU cuda-convnet2 configuration;
    # Krizhevsky (2014), footnote on p. 5, lists 384 filters for conv4.
    "alexnet": {
        "layers": (
            ConvSpec(64, 11, stride=4, padding=2, pool=True),
            ConvSpec(192, 5, padding=2, pool=True),
            ConvSpec(384, 3, padding=1),
            ConvSpec(256, 3, padding=1),
            ConvSpec(256, 3, padding=1, pool=True),
        ),
    },
    # Krizhevsky, Sutskever and Hinton (2012), Figure 2: two towers (one per GPU).
    # conv2, conv4 and conv5 read only their own GPU's half of the channels
    # (groups=2); conv3 and the linear layers read both halves. LRN after the
    # ReLUs of conv1 and conv2, before their pools (section 3.5's order). Dropout
    # on the outputs of fc6 and fc7 (section 4.2), not torchvision's placement.
    "alexnet_2012": {
        "layers": (
            ConvSpec(96, 11, stride=4, padding=2, pool=True, normalize=True, normalize_first=True),
            ConvSpec(256, 5, padding=2, pool=True, normalize=True, normalize_first=True, groups=2),
            ConvSpec(384, 3, padding=1),
            ConvSpec(384, 3, padding=1, groups=2),
            ConvSpec(256, 3, padding=1, pool=True, groups=2),
        ),
        "dropout_first": False,
    },
    # Zeiler and Fergus (2014), Figure 3: map sides 224 → 110 → 55 → 26 → 13 → 13 → 13
    # → 13 → 6.
    "zfnet": {
        "layers": (
            ConvSpec(96, 7, stride=2, padding=1, pool=True, normalize=True),
            ConvSpec(256, 5, stride=2, pool=True, normalize=True),
            ConvSpec(384, 3, padding=1),
            ConvSpec(384, 3, padding=1),
            ConvSpec(256, 3, padding=1, pool=True),
        ),
        "pool_ceil_mode": True,
    },
}


def _build(name: str, arguments: dict[str, Any]) -> AlexNet:
    return build_variant(AlexNet, VARIANTS, name, arguments)


@register_model
def alexnet(**kwargs: Any) -> AlexNet:
    """AlexNet as torchvision builds it: 61,100,840 parameters, 0.714 GMACs at 224x224.

    This is torchvision's one-tower network, close to Krizhevsky (2014)'s, not the two-GPU network
    of Krizhevsky et al. (2012) (:func:`alexnet_2012`), which has 96-256-384-384-256
    filters, splits conv2, conv4 and conv5 into two groups (one per GPU) and
    normalizes after conv1 and conv2. Its filters, 64-192-384-256-256, follow
    Krizhevsky's one-GPU cuda-convnet2 configuration; the 2014 paper's footnote
    lists 384 for conv4. This twin has 135,616 (0.22 %) more
    parameters than the 2012 network and 1,100,840 (1.8 %) more than the
    paper's "60 million".
    """
    return _build("alexnet", kwargs)


@register_model
def alexnet_2012(**kwargs: Any) -> AlexNet:
    """The two-GPU AlexNet of Krizhevsky et al. (2012): 60,965,224 parameters.

    conv2, conv4 and conv5 are grouped convolutions with two groups, one per
    GPU; local response normalization follows conv1 and conv2; pools overlap
    (3x3, stride 2); dropout acts on the outputs of fc6 and fc7 (section 4.2;
    torchvision drops their inputs instead). The paper rounds the count to
    "60 million".
    """
    return _build("alexnet_2012", kwargs)


@register_model
def zfnet(**kwargs: Any) -> AlexNet:
    """ZFNet, the network of Zeiler and Fergus (2014), Figure 3: 62,357,608 parameters.

    AlexNet with a 7x7 stride-2 first layer (instead of 11x11 stride 4), a
    stride-2 second layer and 384-384-256 filters in layers 3-5; every layer is
    one tower. The paper gives the map sizes (224 → 110 → 55 → 26 → 13 → 13 →
    13 → 13 → 6) but no paddings and no parameter count: padding 1 on the first
    convolution and pools that round up reproduce the sizes. Layers 1 and 2 are
    "contrast normalized across feature maps" after pooling; the paper does not
    give the normalization's constants, so AlexNet's are used (see
    :class:`AlexNet`). 1.168 GMACs at 224x224.
    """
    return _build("zfnet", kwargs)
