"""VGG (Simonyan and Zisserman, 2015): stages of 3x3 convolutions, then three linear layers.

Simonyan and Zisserman (2015), "Very Deep Convolutional Networks for
Large-Scale Image Recognition". One class, :class:`VGG`, builds every
configuration from its list of stages (:data:`STAGES`); the paper's Table 1
names them A (11 weight layers), B (13), D (16) and E (19). Table 2 gives
133, 133, 138 and 144 million parameters for A, B, D and E.

Module names follow torchvision (``features``, ``avgpool``, ``classifier``, with
positional children), so torchvision's ``vgg11`` … ``vgg19_bn`` state dicts load
with ``strict=True``. The ``_bn`` variants put batch normalization (Ioffe and
Szegedy, 2015) between every convolution and its ReLU, as torchvision does;
the paper predates it. Their convolutions keep their biases (torchvision's
layout), which the batch norm makes redundant.

The paper's two other configurations are options of :class:`VGG` and
registered too: A-LRN (``vgg11_lrn``: A with a local response normalization
after the first convolution, ``local_response_norm=True``) and C (``vgg16_c``:
D whose last convolution in stages 3-5 is 1x1, ``kernel_sizes=KERNEL_SIZES["vgg16_c"]``);
Table 2 gives 133 and 134 million parameters for them.

:func:`convolutionalize` turns a VGG into the fully convolutional network of
the paper's dense evaluation (section 3.2): the linear layers become
convolutions, so a larger image gives a map of class scores.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from cnnlib._checks import boolean, one_of, positive_int, positive_ints
from cnnlib.models._common import ImageClassifier, fully_connected_head, init_he
from cnnlib.models._registry import build_variant, register_model
from cnnlib.models.alexnet import LRN_ALPHA, LRN_BETA, LRN_K, LRN_N

__all__ = [
    "VGG",
    "STAGES",
    "KERNEL_SIZES",
    "conv_layer",
    "conv_stack",
    "alexnet_lrn",
    "make_features",
    "convolutionalize",
    "vgg11",
    "vgg11_lrn",
    "vgg13",
    "vgg16_c",
    "vgg16",
    "vgg19",
    "vgg11_bn",
    "vgg13_bn",
    "vgg16_bn",
    "vgg19_bn",
    "VARIANTS",
]

#: Output channels of every convolution, stage by stage (the paper's Table 1).
#: Each stage ends with a 2x2 stride-2 max-pool.
STAGES: dict[str, tuple[tuple[int, ...], ...]] = {
    "vgg11": ((64,), (128,), (256, 256), (512, 512), (512, 512)),  # A
    "vgg13": ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),  # B
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),  # D
    "vgg19": (
        (64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512),
    ),  # E
}  # fmt: skip

#: Kernel sizes of configurations that are not all 3x3, nested like :data:`STAGES`:
#: the paper's C has D's widths and a 1x1 convolution at the end of stages 3-5.
KERNEL_SIZES: dict[str, tuple[tuple[int, ...], ...]] = {
    "vgg16_c": ((3, 3), (3, 3), (3, 3, 1), (3, 3, 1), (3, 3, 1)),
}


def _odd_kernel(owner: str, name: str, kernel_size: object) -> int:
    positive_int(owner, name, kernel_size)
    if kernel_size % 2 == 0:  # type: ignore[operator]
        raise ValueError(f"{owner}: {name} must be odd (a 'same' padding), got {kernel_size!r}")
    return kernel_size  # type: ignore[return-value]


def _check_layer(in_channels: int, out_channels: int, kernel_size: int, batch_norm: bool) -> None:
    positive_int("conv_layer", "in_channels", in_channels)
    positive_int("conv_layer", "out_channels", out_channels)
    _odd_kernel("conv_layer", "kernel_size", kernel_size)
    boolean("conv_layer", "batch_norm", batch_norm)


def conv_layer(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    *,
    batch_norm: bool = False,
) -> list[nn.Module]:
    """VGG's layer: a convolution (stride 1, padding that keeps the size), a ReLU.

    With ``batch_norm``, a batch norm sits between the two (torchvision's
    ``_bn`` variants). Returned as a list, so that a network can keep its
    layers in one flat ``nn.Sequential`` with torchvision's module names.

    Raises:
        ValueError: a channel count is not a positive int or ``kernel_size``
            not a positive odd int.
        TypeError: ``batch_norm`` is not a bool.
    """
    _check_layer(in_channels, out_channels, kernel_size, batch_norm)
    pad = kernel_size // 2
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=pad)
    norm = [nn.BatchNorm2d(out_channels)] if batch_norm else []
    return [conv, *norm, nn.ReLU(inplace=True)]


def conv_stack(channels: int, kernel_size: int, depth: int) -> nn.Sequential:
    """``depth`` of VGG's layers (:func:`conv_layer`), each from ``channels`` to ``channels``.

    Two 3x3 layers see as far as one 5x5, three as far as one 7x7 (section 2.3
    of the paper): ``conv_stack(c, 3, 3)`` against ``conv_stack(c, 7, 1)``.

    Raises:
        ValueError: ``channels`` or ``depth`` is not a positive int, or
            ``kernel_size`` not a positive odd int.
    """
    positive_int("conv_stack", "channels", channels)
    positive_int("conv_stack", "depth", depth)
    _odd_kernel("conv_stack", "kernel_size", kernel_size)
    layers = [conv_layer(channels, channels, kernel_size) for _ in range(depth)]
    return nn.Sequential(*[module for layer in layers for module in layer])


def _all_threes(stages: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple((3,) * len(stage) for stage in stages)


def _check_stages(
    owner: str, stages: object, kernel_sizes: object
) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence) or not stages:
        raise ValueError(f"{owner}: stages must be a non-empty sequence of stages, got {stages!r}")
    checked = tuple(positive_ints(owner, "every stage of stages", stage) for stage in stages)
    if kernel_sizes is None:
        return checked, _all_threes(checked)
    if (
        isinstance(kernel_sizes, (str, bytes))
        or not isinstance(kernel_sizes, Sequence)
        or [len(k) if isinstance(k, Sequence) else -1 for k in kernel_sizes]
        != [len(stage) for stage in checked]
    ):
        raise ValueError(
            f"{owner}: kernel_sizes must hold one kernel size per convolution, nested like "
            f"stages {checked!r}, got {kernel_sizes!r}"
        )
    kernels = tuple(
        tuple(_odd_kernel(owner, "every entry of kernel_sizes", k) for k in stage)
        for stage in kernel_sizes
    )
    return checked, kernels


def alexnet_lrn() -> nn.LocalResponseNorm:
    """AlexNet's local response normalization: k = 2, n = 5, α = 1e-4, β = 0.75.

    PyTorch divides its ``alpha`` by ``n``, so it is given ``α·n``.
    """
    return nn.LocalResponseNorm(LRN_N, LRN_ALPHA * LRN_N, LRN_BETA, LRN_K)


def _check_flags(
    in_channels: int, batch_norm: bool, local_response_norm: bool, ceil_mode: bool
) -> None:
    positive_int("make_features", "in_channels", in_channels)
    boolean("make_features", "batch_norm", batch_norm)
    boolean("make_features", "local_response_norm", local_response_norm)
    boolean("make_features", "ceil_mode", ceil_mode)


def make_features(
    stages: Sequence[Sequence[int]],
    kernel_sizes: Sequence[Sequence[int]] | None = None,
    *,
    in_channels: int = 3,
    batch_norm: bool = False,
    local_response_norm: bool = False,
    ceil_mode: bool = False,
) -> nn.Sequential:
    """VGG's ``features``: the stages of :func:`conv_layer`, each ending in a 2x2 max-pool.

    Args:
        stages: output channels of the convolutions, stage by stage.
        kernel_sizes: the kernel size of every convolution, nested like
            ``stages``; ``None``: all 3x3.
        in_channels: channels of the input image.
        batch_norm: a batch norm in every layer (see :func:`conv_layer`).
        local_response_norm: AlexNet's local response normalization after the
            first layer's ReLU (the paper's A-LRN; Krizhevsky et al.'s
            constants k = 2, n = 5, α = 1e-4, β = 0.75).
        ceil_mode: the pools round their output size up.

    Raises:
        ValueError: ``stages`` or ``kernel_sizes`` is malformed, or a kernel
            size is not a positive odd int.
        TypeError: a flag is not a bool.
    """
    stages, kernel_sizes = _check_stages("make_features", stages, kernel_sizes)
    _check_flags(in_channels, batch_norm, local_response_norm, ceil_mode)
    layers: list[nn.Module] = []
    channels = in_channels
    for widths, kernels in zip(stages, kernel_sizes, strict=True):
        for width, k in zip(widths, kernels, strict=True):
            first = not layers
            layers += conv_layer(channels, width, k, batch_norm=batch_norm)
            if first and local_response_norm:
                layers.append(alexnet_lrn())
            channels = width
        layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=ceil_mode))
    return nn.Sequential(*layers)


class VGG(ImageClassifier):
    """Stages of convolutions (stride 1, size-keeping padding) and ReLUs, each ending in a max-pool.

    ``features`` (:func:`make_features`) holds, for every stage, its layers
    (:func:`conv_layer`: a convolution, a batch norm if ``batch_norm``, a ReLU)
    and a 2x2 stride-2 max-pool. ``avgpool`` is an adaptive average pool to 7x7
    (torchvision's addition: the identity at 224x224, where five pools leave
    7x7). ``classifier`` is linear, ReLU, dropout, linear, ReLU, dropout,
    linear (the paper's FC-4096, FC-4096, FC-1000).

    Weights are initialized as in torchvision: He et al. (2015) normal (fan-out)
    for convolutions, N(0, 0.01²) for linear layers, zero biases;
    ``linear_init="glorot"`` draws the linear layers' weights by Glorot and
    Bengio's (2010) uniform rule instead. The paper
    drew weights from a normal distribution of variance 10⁻² for net A and
    initialized the first four convolutions and the linear layers of deeper
    nets from a trained net A; it notes that Glorot and Bengio's (2010)
    initialization makes that pre-training unnecessary.

    Args:
        stages: output channels of the convolutions, stage by stage
            (e.g. ``STAGES["vgg16"]``).
        kernel_sizes: the kernel size of every convolution, nested like
            ``stages`` (e.g. ``KERNEL_SIZES["vgg16_c"]``); ``None``: all 3x3.
        num_classes: outputs of the last linear layer.
        in_channels: channels of the input image.
        batch_norm: batch normalization after every convolution.
        local_response_norm: a local response normalization after the first
            layer (the paper's A-LRN; see :func:`make_features`).
        hidden_features: width of the two hidden linear layers (4096).
        dropout: dropout probability after the two hidden linear layers.
        small_input: a version for 28x28 / 32x32 images. Two things change: the
            max-pools round their output size up (``ceil_mode``), so five of
            them take 32 → 16 → 8 → 4 → 2 → 1 and 28 → 14 → 7 → 4 → 2 → 1
            (rounding down, a 28x28 input would shrink to 0x0 at the fifth);
            and ``avgpool`` outputs 1x1 instead of 7x7, so the first linear
            layer reads the 512 channels instead of 7·7·512 = 25,088 features.
            The convolutions and classifier widths are unchanged.
        width_multiplier: ``α``; every convolution's channels and the hidden
            linear widths become ``max(1, round(c·α))``. At 1.0 nothing changes.
        linear_init: the linear layers' weights: ``"normal"``, N(0, 0.01²)
            (the paper's variance for net A, torchvision's choice); or
            ``"glorot"``, U(−a, a) with a = √(6 / (n_in + n_out)), whose
            variance 2 / (n_in + n_out) follows the layer's width. Biases
            start at 0 either way.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        stages: Sequence[Sequence[int]],
        *,
        kernel_sizes: Sequence[Sequence[int]] | None = None,
        batch_norm: bool = False,
        local_response_norm: bool = False,
        hidden_features: int = 4096,
        dropout: float = 0.5,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
        linear_init: Literal["normal", "glorot"] = "normal",
    ) -> None:
        stages, kernel_sizes = _check_stages("VGG", stages, kernel_sizes)
        one_of("VGG", "linear_init", linear_init, ("normal", "glorot"))
        boolean("VGG", "batch_norm", batch_norm)
        boolean("VGG", "local_response_norm", local_response_norm)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        widths = tuple(tuple(self.scale(w) for w in stage) for stage in stages)
        self.features = make_features(
            widths, kernel_sizes, in_channels=in_channels, batch_norm=batch_norm,
            local_response_norm=local_response_norm, ceil_mode=small_input,
        )  # fmt: skip
        side = 1 if small_input else 7
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = fully_connected_head(
            "VGG", widths[-1][-1] * side * side, hidden_features, num_classes, dropout,
            width_multiplier=self.width_multiplier, dropout_first=False,
        )  # fmt: skip
        init_he(self, linear_std=0.01)
        if linear_init == "glorot":
            for module in self.classifier.modules():
                if isinstance(module, nn.Linear):
                    nn.init.xavier_uniform_(module.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _check_vgg(model: object) -> None:
    if not isinstance(model, VGG):
        raise TypeError(f"convolutionalize: model must be a VGG, got {type(model).__name__}")


def convolutionalize(model: VGG) -> nn.Sequential:
    """The paper's dense evaluation: ``model`` with its linear layers turned into convolutions.

    The first linear layer, which reads the ``avgpool`` map of side ``s``
    (7, or 1 with ``small_input``), becomes an ``s x s`` convolution with the
    same weights; the other two become 1x1 convolutions. ``avgpool`` is left
    out, so an image of the size the model was built for gives a 1x1 map of
    exactly the model's scores, and a larger one a map of class scores, which
    the paper averages over its positions (section 3.2). The result shares
    ``features`` with ``model`` and copies the classifier's weights.

    Returns:
        ``nn.Sequential`` with children ``features`` and ``classifier``.

    Raises:
        TypeError: ``model`` is not a :class:`VGG`.
    """
    _check_vgg(model)
    side = model.avgpool.output_size[0]
    layers: list[nn.Module] = []
    for module in model.classifier:
        if not isinstance(module, nn.Linear):
            layers.append(copy.deepcopy(module))
            continue
        k = 1 if any(isinstance(m, nn.Conv2d) for m in layers) else side
        weight = module.weight
        conv = nn.Conv2d(module.in_features // (k * k), module.out_features, k)
        conv = conv.to(device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            conv.weight.copy_(weight.reshape(conv.weight.shape))
            conv.bias.copy_(module.bias)
        layers.append(conv)
    parts = {"features": model.features, "classifier": nn.Sequential(*layers)}
    return nn.Sequential(OrderedDict(parts))


#: Each variant's configuration: the paper's configurations (A-LRN and C
#: included), and A, B, D and E with batch norm as in torchvision.
VARIANTS: dict[str, dict[str, object]] = {
    **{name: {"stages": stages, "batch_norm": False} for name, stages in STAGES.items()},
    "vgg11_lrn": {"stages": STAGES["vgg11"], "batch_norm": False, "local_response_norm": True},
    "vgg16_c": {
        "stages": STAGES["vgg16"], "kernel_sizes": KERNEL_SIZES["vgg16_c"], "batch_norm": False,
    },
    **{f"{name}_bn": {"stages": stages, "batch_norm": True} for name, stages in STAGES.items()},
}  # fmt: skip


def _build(name: str, arguments: dict[str, Any]) -> VGG:
    return build_variant(VGG, VARIANTS, name, arguments)


@register_model
def vgg11(**kwargs: Any) -> VGG:
    """VGG-11, the paper's configuration A: 132,863,336 parameters (Table 2: 133 M).

    7.609 GMACs at 224x224.
    """
    return _build("vgg11", kwargs)


@register_model
def vgg11_lrn(**kwargs: Any) -> VGG:
    """The paper's A-LRN: VGG-11 with a local response normalization after its first layer.

    The normalization has no parameters: 132,863,336, as VGG-11 (Table 2: 133 M),
    and 7.609 GMACs at 224x224.
    """
    return _build("vgg11_lrn", kwargs)


@register_model
def vgg13(**kwargs: Any) -> VGG:
    """VGG-13, the paper's configuration B: 133,047,848 parameters (Table 2: 133 M).

    11.308 GMACs at 224x224.
    """
    return _build("vgg13", kwargs)


@register_model
def vgg16_c(**kwargs: Any) -> VGG:
    """The paper's configuration C: VGG-16 with a 1x1 last convolution in stages 3-5.

    133,638,952 parameters (Table 2: 134 M), 11.771 GMACs at 224x224.
    """
    return _build("vgg16_c", kwargs)


@register_model
def vgg16(**kwargs: Any) -> VGG:
    """VGG-16, the paper's configuration D: 138,357,544 parameters (Table 2: 138 M).

    15.470 GMACs at 224x224.
    """
    return _build("vgg16", kwargs)


@register_model
def vgg19(**kwargs: Any) -> VGG:
    """VGG-19, the paper's configuration E: 143,667,240 parameters (Table 2: 144 M).

    19.632 GMACs at 224x224.
    """
    return _build("vgg19", kwargs)


@register_model
def vgg11_bn(**kwargs: Any) -> VGG:
    """VGG-11 with batch norm: 132,868,840 parameters (5,504 more than VGG-11), 7.609 GMACs."""
    return _build("vgg11_bn", kwargs)


@register_model
def vgg13_bn(**kwargs: Any) -> VGG:
    """VGG-13 with batch norm: 133,053,736 parameters (5,888 more than VGG-13), 11.308 GMACs."""
    return _build("vgg13_bn", kwargs)


@register_model
def vgg16_bn(**kwargs: Any) -> VGG:
    """VGG-16 with batch norm: 138,365,992 parameters (8,448 more than VGG-16), 15.470 GMACs."""
    return _build("vgg16_bn", kwargs)


@register_model
def vgg19_bn(**kwargs: Any) -> VGG:
    """VGG-19 with batch norm: 143,678,248 parameters (11,008 more than VGG-19), 19.632 GMACs."""
    return _build("vgg19_bn", kwargs)
