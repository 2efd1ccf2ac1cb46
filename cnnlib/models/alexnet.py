"""AlexNet and ZFNet: five convolutions, three max-pools, three linear layers.

One class, :class:`AlexNet`, builds both; they differ in their list of
convolutions (:data:`VARIANTS`). Module names follow torchvision (``features``,
``avgpool``, ``classifier``, with positional children), so torchvision's
``alexnet`` state dict loads with ``strict=True`` into :func:`alexnet`.

Papers:

* Krizhevsky, Sutskever and Hinton (2012), "ImageNet Classification with Deep
  Convolutional Neural Networks": "60 million parameters".
* Krizhevsky (2014), "One weird trick for parallelizing convolutional neural
  networks": the one-tower variant that torchvision (and :func:`alexnet`)
  implements.
* Zeiler and Fergus (2014), "Visualizing and Understanding Convolutional
  Networks": Figure 3 (ZFNet); the paper states no parameter count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cnnlib._checks import boolean, positive_int, positive_number, probability
from cnnlib.models import build_variant, register_model

__all__ = ["ConvSpec", "AlexNet", "VARIANTS", "alexnet", "zfnet"]


@dataclass(frozen=True)
class ConvSpec:
    """One convolution of the feature extractor and what follows its ReLU.

    Attributes:
        out_channels: filters of the convolution (before ``width_multiplier``).
        kernel_size: side of the square kernel.
        stride: stride of the convolution.
        padding: zero padding on every side.
        pool: a 3x3, stride-2 max-pool follows the ReLU.
        normalize: a local response normalization follows (after the pool if
            there is one: Zeiler and Fergus's order).
    """

    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    pool: bool = False
    normalize: bool = False


class AlexNet(nn.Module):
    """Convolutions with ReLU (some followed by max-pooling), then an MLP classifier.

    ``features`` holds, for every :class:`ConvSpec`, a convolution, a ReLU and,
    where the spec asks for them, a 3x3 stride-2 max-pool and a local response
    normalization. ``avgpool`` (an adaptive average pool, torchvision's
    addition so that any input size reaches the classifier with the same
    shape) brings the last map to ``pooled_size``; ``classifier`` is dropout,
    linear, ReLU, dropout, linear, ReLU, linear, as in torchvision.

    The normalization is AlexNet's (section 3.3): ``b = a / (k + α Σ a²)^β``
    over ``n`` adjacent channels with ``k = 2``, ``n = 5``, ``α = 1e-4``,
    ``β = 0.75``. PyTorch's ``LocalResponseNorm`` divides its ``alpha`` by
    ``n``, so it gets ``alpha = 5e-4``.

    Weights keep PyTorch's default initialization, as in torchvision's AlexNet
    (the paper drew them from N(0, 0.01²) and set some biases to 1).

    Args:
        layers: the convolutions, e.g. ``VARIANTS["alexnet"]``.
        num_classes: outputs of the last linear layer.
        in_channels: channels of the input image.
        hidden_features: width of the two hidden linear layers (4096).
        dropout: dropout probability before the two hidden linear layers.
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
        width_multiplier: ``α``; every convolution's channels and the hidden
            linear widths become ``max(1, round(c·α))``. At 1.0 nothing changes.

    Raises:
        ValueError: an argument is out of range (the message names it).
        TypeError: ``layers`` holds something other than :class:`ConvSpec`, or
            a flag is not a bool.
    """

    def __init__(
        self,
        layers: Sequence[ConvSpec],
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        hidden_features: int = 4096,
        dropout: float = 0.5,
        pooled_size: int = 6,
        pool_ceil_mode: bool = False,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
            raise ValueError(
                f"AlexNet: layers must be a non-empty sequence of ConvSpec, got {layers!r}"
            )
        for spec in layers:
            if not isinstance(spec, ConvSpec):
                raise TypeError(f"AlexNet: layers must hold ConvSpec instances, got {spec!r}")
        positive_ints = {
            "num_classes": num_classes,
            "in_channels": in_channels,
            "hidden_features": hidden_features,
            "pooled_size": pooled_size,
        }
        for name, value in positive_ints.items():
            positive_int("AlexNet", name, value)
        probability("AlexNet", "dropout", dropout)
        boolean("AlexNet", "pool_ceil_mode", pool_ceil_mode)
        boolean("AlexNet", "small_input", small_input)
        positive_number("AlexNet", "width_multiplier", width_multiplier)

        def scaled(channels: int) -> int:
            return max(1, round(channels * width_multiplier))

        features: list[nn.Module] = []
        channels = in_channels
        for i, spec in enumerate(layers):
            kernel, stride, padding = spec.kernel_size, spec.stride, spec.padding
            if small_input:
                kernel = 3 if i == 0 else kernel
                stride, padding = 1, (kernel - 1) // 2
            out_channels = scaled(spec.out_channels)
            features += [
                nn.Conv2d(channels, out_channels, kernel, stride=stride, padding=padding),
                nn.ReLU(inplace=True),
            ]
            if spec.pool:
                features.append(
                    nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
                    if small_input
                    else nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=pool_ceil_mode)
                )
            if spec.normalize:
                features.append(nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0))
            channels = out_channels
        self.features = nn.Sequential(*features)
        side = 4 if small_input else pooled_size
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        hidden = scaled(hidden_features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(channels * side * side, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


#: Each variant's configuration; the builders add the arguments every model accepts.
VARIANTS: dict[str, dict[str, object]] = {
    # Krizhevsky (2014)'s one-tower AlexNet, as in torchvision: 64-192-384-256-256
    # filters, no grouping, no normalization.
    "alexnet": {
        "layers": (
            ConvSpec(64, 11, stride=4, padding=2, pool=True),
            ConvSpec(192, 5, padding=2, pool=True),
            ConvSpec(384, 3, padding=1),
            ConvSpec(256, 3, padding=1),
            ConvSpec(256, 3, padding=1, pool=True),
        ),
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


def _build(
    name: str,
    num_classes: int,
    in_channels: int,
    small_input: bool,
    width_multiplier: float,
    kwargs: dict[str, object],
) -> AlexNet:
    """``AlexNet(**VARIANTS[name], ...)``; ``kwargs`` may not override the variant's config."""
    arguments = dict(
        num_classes=num_classes, in_channels=in_channels, small_input=small_input,
        width_multiplier=width_multiplier, **kwargs,
    )  # fmt: skip
    return build_variant(AlexNet, name, VARIANTS[name], arguments)


# Both builders take ``num_classes``, ``in_channels``, ``small_input`` and
# ``width_multiplier`` (see :class:`AlexNet`) and pass further keyword
# arguments (``hidden_features``, ``dropout``, ``pooled_size``) to it.


@register_model(input_size=(3, 224, 224))
def alexnet(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    small_input: bool = False,
    width_multiplier: float = 1.0,
    **kwargs: object,
) -> AlexNet:
    """AlexNet as torchvision builds it: 61,100,840 parameters, 0.714 GMACs at 224x224.

    This is the one-tower network of Krizhevsky (2014), not the two-GPU network
    of Krizhevsky et al. (2012). The 2012 network has 96-256-384-384-256
    filters, splits conv2, conv4 and conv5 into two groups (one per GPU),
    normalizes after conv1 and conv2, and pools with 3x3 windows of stride 2
    (overlapping pooling) as here; it has 60,965,224 parameters, which the
    paper rounds to "60 million". This twin has 135,616 (0.22 %) more than the
    2012 network and 1,100,840 (1.8 %) more than the paper's round figure.
    """
    return _build("alexnet", num_classes, in_channels, small_input, width_multiplier, kwargs)


@register_model(input_size=(3, 224, 224))
def zfnet(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    small_input: bool = False,
    width_multiplier: float = 1.0,
    **kwargs: object,
) -> AlexNet:
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
    return _build("zfnet", num_classes, in_channels, small_input, width_multiplier, kwargs)
