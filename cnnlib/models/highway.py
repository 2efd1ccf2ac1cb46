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

:func:`gate_activity` reads every gate of a trained network on a batch (the
papers' Figure 2 of *Training Very Deep Networks* shows such maps), and
:func:`class_deviation` measures how much the gates depend on the class.
:func:`thin_twin` builds the thin networks of the papers' Figure 1 at any depth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from cnnlib._checks import boolean, one_of, positive_int, positive_ints
from cnnlib.layers import same_padding
from cnnlib.models._common import ImageClassifier
from cnnlib.models._registry import build_variant, register_model

__all__ = [
    "HighwayLayer", "HighwayNetwork", "VARIANTS", "highway_fc_mnist", "highway_conv_cifar",
    "highway_layers", "gate_activity", "class_deviation", "thin_twin",
]  # fmt: skip

LayerKind = Literal["fc", "conv"]
Init = Literal["default", "kaiming"]

DEFAULT_GATE_BIAS = -2.0


def _check_gate_bias(owner: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{owner}: gate_bias must be a finite number, got {value!r}")
    return float(value)


class HighwayLayer(nn.Module):
    """One highway layer: ``y = T(x)·H(x) + (1 − T(x))·x``; with ``gated=False``, ``y = H(x)``.

    ``transform`` computes ``H``'s affine part (``H(x) = ReLU(transform(x))``),
    ``gate`` computes the gate's pre-activation (``T(x) = sigmoid(gate(x))``).
    Both are ``nn.Linear(features, features)`` for ``kind="fc"`` (input
    ``(N, features)``) or ``nn.Conv2d(features, features, kernel_size)`` with
    'same' padding for ``kind="conv"`` (input ``(N, features, H, W)``); the gate
    is per unit (per channel and position for convolutions). Parameters:
    ``2·(features² + features)`` for ``"fc"``, ``2·(k²·features² + features)``
    for ``"conv"``; half of that without the gate. After a forward pass,
    :attr:`gate_values` holds the last batch's ``T(x)`` (detached; None when
    not gated).

    Args:
        features: units (``"fc"``) or channels (``"conv"``) of input and output.
        kind: ``"fc"`` (fully connected) or ``"conv"`` (convolutional).
        kernel_size: the convolutions' kernel size (``"conv"`` only; odd).
        gate_bias: the initial value of every entry of ``b_T``; negative values
            bias the layer towards carrying its input.
        gated: False builds the plain layer ``y = H(x)`` (no gate, no carry),
            the twin a highway layer is compared with.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        features: int,
        *,
        kind: LayerKind = "fc",
        kernel_size: int = 3,
        gate_bias: float = DEFAULT_GATE_BIAS,
        gated: bool = True,
    ) -> None:
        super().__init__()
        positive_int("HighwayLayer", "features", features)
        positive_int("HighwayLayer", "kernel_size", kernel_size)
        gate_bias = _check_gate_bias("HighwayLayer", gate_bias)
        one_of("HighwayLayer", "kind", kind, ("fc", "conv"))
        boolean("HighwayLayer", "gated", gated)
        if kind == "conv" and kernel_size % 2 == 0:
            raise ValueError(f"HighwayLayer: kernel_size must be odd, got {kernel_size!r}")

        def affine() -> nn.Module:
            if kind == "fc":
                return nn.Linear(features, features)
            return nn.Conv2d(features, features, kernel_size, padding=same_padding(kernel_size))

        self.transform = affine()
        self.gate = affine() if gated else None
        if self.gate is not None:
            nn.init.constant_(self.gate.bias, gate_bias)
        self.activation = nn.ReLU()
        self.kind = kind
        self.gate_values: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.activation(self.transform(x))
        if self.gate is None:
            return h
        t = torch.sigmoid(self.gate(x))
        self.gate_values = t.detach()
        return t * h + (1 - t) * x

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, gated={self.gate is not None}"


class HighwayNetwork(ImageClassifier):
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
        small_input: must be True (the networks are built for small images).
        width_multiplier: scales every width: ``max(1, round(w·m))``; at 1.0
            nothing changes.
        image_size: side of the (square) input; fixes the first linear layer's
            inputs for ``"fc"`` (``in_channels·image_size²``); ``"conv"``
            networks run on any size of at least ``2**(stages-1)``.
        gate_bias: the initial transform-gate bias of every highway layer.
        gated: False builds the plain twin: every highway layer becomes
            ``y = H(x)`` (see :class:`HighwayLayer`).
        init: ``"default"`` keeps PyTorch's initialisation (weights of variance
            ``1/(3·fan-in)``); ``"kaiming"`` draws the weights of every ReLU
            layer (stem, transitions and each ``H``) from ``N(0, 2/fan-in)``
            (He et al., 2015) with zero biases, the "normalized
            initialization" of the papers' plain networks. Either way the
            gates keep PyTorch's small default weights, so that every gate
            starts near ``sigmoid(gate_bias)``, and the classifier keeps its
            default.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        kind: LayerKind,
        widths: Sequence[int],
        depths: Sequence[int],
        *,
        image_size: int = 28,
        gate_bias: float = DEFAULT_GATE_BIAS,
        gated: bool = True,
        init: Init = "default",
        num_classes: int = 10,
        in_channels: int = 1,
        small_input: bool = True,
        width_multiplier: float = 1.0,
    ) -> None:
        one_of("HighwayNetwork", "kind", kind, ("fc", "conv"))
        one_of("HighwayNetwork", "init", init, ("default", "kaiming"))
        positive_ints("HighwayNetwork", "widths", widths)
        positive_ints("HighwayNetwork", "depths", depths)
        if len(depths) != len(widths):
            raise ValueError(
                "HighwayNetwork: widths and depths must have the same length, "
                f"got {widths!r} and {depths!r}"
            )
        positive_int("HighwayNetwork", "image_size", image_size)
        _check_gate_bias("HighwayNetwork", gate_bias)
        boolean("HighwayNetwork", "gated", gated)
        super().__init__(num_classes, in_channels, small_input, width_multiplier, small_only=True)
        sizes = [self.scale(w) for w in widths]
        self.image_size = image_size

        def plain(c_in: int, c_out: int) -> nn.Sequential:
            if kind == "fc":
                return nn.Sequential(nn.Linear(c_in, c_out), nn.ReLU(inplace=True))
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True))

        if kind == "fc":
            self.stem = nn.Sequential(nn.Flatten(), *plain(in_channels * image_size**2, sizes[0]))
        else:
            self.stem = plain(in_channels, sizes[0])
        stages = []
        for i, (size, depth) in enumerate(zip(sizes, depths, strict=True)):
            layers: list[nn.Module] = []
            if i > 0:
                if kind == "conv":
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                layers.extend(plain(sizes[i - 1], size))
            layers.extend(HighwayLayer(size, kind=kind, gate_bias=gate_bias, gated=gated)
                          for _ in range(depth))  # fmt: skip
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        if kind == "fc":
            self.pool: nn.Module = nn.Identity()
        else:
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(sizes[-1], num_classes)
        if init == "kaiming":
            self._init_kaiming()

    def _init_kaiming(self) -> None:
        """He normal weights and zero biases for every ReLU layer; gates keep their default."""
        gates = {id(m.gate) for m in self.modules() if isinstance(m, HighwayLayer)}
        for module in [*self.stem.modules(), *self.stages.modules()]:
            if isinstance(module, (nn.Linear, nn.Conv2d)) and id(module) not in gates:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.stages(self.stem(x))))


def highway_layers(model: nn.Module) -> list[HighwayLayer]:
    """The gated :class:`HighwayLayer` modules of ``model``, in forward order.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"highway_layers: model must be a torch.nn.Module, got {type(model).__name__}"
        )
    return [m for m in model.modules() if isinstance(m, HighwayLayer) and m.gate is not None]


@torch.no_grad()
def gate_activity(model: nn.Module, inputs: torch.Tensor) -> list[torch.Tensor]:
    """The transform gates ``T(x)`` of every highway layer of ``model`` on a batch.

    Runs ``model`` once on ``inputs`` in eval mode without autograd (its mode
    is restored afterwards) and returns, for each gated highway layer in
    forward order, a ``(N, features)`` tensor: the gate of every unit for every
    sample (for convolutional layers, averaged over the positions of the map).
    Values lie in ``(0, 1)``; 0 carries the input, 1 transforms it.

    Args:
        model: a network with gated :class:`HighwayLayer` modules.
        inputs: a batch the model accepts, ``(N, C, H, W)``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``inputs`` not a tensor.
        ValueError: ``model`` has no gated highway layer (a plain twin,
            ``gated=False``, has none).
    """
    layers = highway_layers(model)
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(
            f"gate_activity: inputs must be a torch.Tensor, got {type(inputs).__name__}"
        )
    if not layers:
        raise ValueError(
            "gate_activity: model has no gated HighwayLayer (was it built with gated=False?)"
        )
    for layer in layers:
        layer.gate_values = None  # so that a layer the forward skips is noticed
    was_training = model.training
    model.eval()
    try:
        model(inputs)
    finally:
        model.train(was_training)
    gates: list[torch.Tensor] = []
    for layer in layers:
        t = layer.gate_values
        if t is None:  # a layer the forward pass skipped
            raise ValueError("gate_activity: a highway layer of model did not run in its forward")
        gates.append(t.flatten(2).mean(2) if t.dim() > 2 else t.clone())
    return gates


def class_deviation(gates: torch.Tensor, labels: torch.Tensor) -> float:
    """How far the mean gate of each class lies from the mean over all samples.

    For ``gates`` of shape ``(layers, N, units)`` (e.g. the stacked output of
    :func:`gate_activity`) and the ``N`` class labels, the mean over every
    class present, layer and unit of ``|mean over the class − mean over all|``.
    0 means the gates ignore the class; the papers' evidence that gates route
    classes differently (*Training Very Deep Networks*, §4.2) is of this kind.
    Compare it with the same statistic for shuffled labels, which is not 0
    for a finite batch.

    Args:
        gates: ``(layers, N, units)`` gate values.
        labels: ``(N,)`` integer class labels.

    Raises:
        TypeError: ``gates`` or ``labels`` is not a tensor, or ``labels`` is not
            of an integer dtype.
        ValueError: ``gates`` is not 3-d, ``labels`` not 1-d, or their ``N``
            differ (or is 0).
    """
    if not isinstance(gates, torch.Tensor):
        raise TypeError(
            f"class_deviation: gates must be a torch.Tensor, got {type(gates).__name__}"
        )
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex():
        raise TypeError("class_deviation: labels must be a tensor of integer class labels")
    if gates.dim() != 3:
        raise ValueError(
            f"class_deviation: gates must be (layers, N, units), got {tuple(gates.shape)}"
        )
    if labels.dim() != 1 or labels.numel() != gates.shape[1] or labels.numel() == 0:
        raise ValueError(
            f"class_deviation: labels must be (N,) with N = {gates.shape[1]} > 0, "
            f"got {tuple(labels.shape)}"
        )
    gates = gates.detach().double()
    labels = labels.to(gates.device)
    overall = gates.mean(1)
    means = [gates[:, labels == c].mean(1) for c in labels.unique()]
    return (torch.stack(means) - overall).abs().mean().item()


def thin_twin(
    depth: int, gated: bool = True, gate_bias: float = DEFAULT_GATE_BIAS
) -> HighwayNetwork:
    """A thin fully connected network of the papers' Figure 1, for 28x28x1 images.

    ``depth`` counts the layers before the classifier: one plain layer from the
    pixels, then ``depth − 1`` layers of 50 highway units (``gated=True``) or of
    71 plain units (``gated=False``), so that both twins have about 5,100
    parameters per layer; ReLU layers with He initialisation (``init="kaiming"``).

    Args:
        depth: layers before the classifier, at least 2.
        gated: highway (True) or plain (False) layers.
        gate_bias: the initial gate bias ``b_T`` (ignored by a plain twin).

    Raises:
        ValueError: ``depth`` is not an integer ≥ 2, or ``gate_bias`` is not finite.
        TypeError: ``gated`` is not a bool.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2:
        raise ValueError(f"thin_twin: depth must be an integer >= 2, got {depth!r}")
    boolean("thin_twin", "gated", gated)
    width = 50 if gated else 71  # equal parameters per layer
    options = {"gated": gated, "gate_bias": gate_bias, "init": "kaiming"}
    return HighwayNetwork("fc", (width,), (depth - 1,), **options)


#: Each variant's configuration.
VARIANTS: dict[str, dict[str, object]] = {
    "highway_fc_mnist": {"kind": "fc", "widths": (50,), "depths": (9,)},
    "highway_conv_cifar": {"kind": "conv", "widths": (32, 64, 128), "depths": (3, 3, 3)},
}


def _build(name: str, arguments: dict[str, Any]) -> HighwayNetwork:
    return build_variant(HighwayNetwork, VARIANTS, name, arguments)


@register_model(image_shape=(1, 28, 28))
def highway_fc_mnist(**kwargs: Any) -> HighwayNetwork:
    """Depth-10 fully connected highway network: plain 784→50, 9 highway layers of 50, classifier.

    ``2·9·(50² + 50) + (784·50 + 50) + (50·10 + 10) = 85,660`` parameters
    for 28x28x1 inputs and 10 classes. Other image sizes need ``image_size``.
    """
    return _build("highway_fc_mnist", kwargs)


@register_model(image_shape=(3, 32, 32))
def highway_conv_cifar(**kwargs: Any) -> HighwayNetwork:
    """Convolutional highway network: stages of 32, 64, 128 channels with 3 highway 3x3 layers each.

    Runs at 32x32, 16x16 and 8x8 for CIFAR (28, 14, 7 for 28x28 inputs).
    Not one of the papers' networks (see the module docstring).
    """
    return _build("highway_conv_cifar", {"in_channels": 3, **kwargs})
