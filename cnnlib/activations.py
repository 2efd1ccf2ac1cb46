"""Looking inside a trained network: activations, top patches, gradient maps, aliasing.

The tools of chapters 04 and 05, for any ``nn.Module`` whose layers are named
modules (as :func:`torch.nn.Module.named_modules` names them):

* :func:`model_inputs` normalises ``uint8`` images exactly as
  :func:`cnnlib.train.fit` does, so a trained model sees what it was trained on;
* :func:`record_activations` keeps the outputs of chosen layers (forward hooks);
* :func:`relu_activity` measures, per ReLU, the fraction of its outputs that
  are positive and the channels that are never positive ("dead");
* :func:`top_patches` finds, for some channels of a layer, the images that
  excite them most and cuts out the receptive field of the strongest unit
  (Zeiler and Fergus, 2014, Figure 2, without the deconvnet);
* :func:`gradient_maps` computes Simonyan, Vedaldi and Zisserman's (2014)
  saliency: the largest absolute gradient of a class score over the colour
  channels, per pixel;
* :func:`aliased_energy` measures how much of a filter's energy lies above the
  Nyquist frequency of the stride it is applied with.

Every function runs the model in eval mode and restores its mode afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._checks import positive_int
from cnnlib.analysis import receptive_field
from cnnlib.data import ImageDataset

__all__ = [
    "model_inputs",
    "record_activations",
    "ReluActivity",
    "relu_activity",
    "TopPatches",
    "top_patches",
    "gradient_maps",
    "aliased_energy",
]


def _check_model(func: str, model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_images(func: str, name: str, images: object) -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{func}: {name} must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(
            f"{func}: {name} must be a non-empty batch (N, C, H, W), got shape "
            f"{tuple(images.shape)}"
        )
    return images


def _module(func: str, model: nn.Module, name: object) -> nn.Module:
    if not isinstance(name, str):
        raise TypeError(f"{func}: layer names must be str, got {name!r}")
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        raise ValueError(
            f"{func}: layer {name!r} is not a module of the model; its modules are "
            f"{[n for n in modules if n]}"
        )
    return modules[name]


@contextmanager
def _evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode inside the block, the model's own mode after it."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_inputs(images: torch.Tensor, data: ImageDataset) -> torch.Tensor:
    """``uint8`` images as :func:`cnnlib.train.fit` feeds them: ``(x / 255 − mean) / std``.

    Args:
        images: ``(N, C, H, W)`` uint8 images of ``data`` (any size).
        data: the dataset whose per-channel mean and std to use.

    Raises:
        TypeError: ``images`` is not a uint8 tensor or ``data`` not an ImageDataset.
        ValueError: ``images`` is not a non-empty 4-D batch with ``data``'s channels.
    """
    _check_images("model_inputs", "images", images)
    if images.dtype != torch.uint8:
        raise TypeError(f"model_inputs: images must be uint8, got {images.dtype}")
    if not isinstance(data, ImageDataset):
        raise TypeError(f"model_inputs: data must be an ImageDataset, got {type(data).__name__}")
    if images.shape[1] != len(data.mean):
        raise ValueError(
            f"model_inputs: images have {images.shape[1]} channels, {data.name} has "
            f"{len(data.mean)}"
        )
    mean = torch.tensor(data.mean, device=images.device).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=images.device).view(1, -1, 1, 1)
    return (images.float() / 255 - mean) / std


def record_activations(
    model: nn.Module, inputs: torch.Tensor, layers: Sequence[str]
) -> dict[str, torch.Tensor]:
    """The outputs of ``layers`` for ``inputs``, one forward pass in eval mode, no autograd.

    Each output is copied when its layer returns it, so a later in-place
    operation (``ReLU(inplace=True)``) does not change what is recorded.

    Args:
        model: the network.
        inputs: a batch the model accepts.
        layers: names of modules of ``model`` (``"features.0"``); a module
            called more than once keeps its last output.

    Returns:
        ``{name: output}`` in the order of ``layers``, on the model's device.

    Raises:
        TypeError: ``model`` is not a module, ``inputs`` not a tensor or a name not a str.
        ValueError: ``layers`` is empty or names a module the model lacks.
    """
    func = "record_activations"
    _check_model(func, model)
    _check_images(func, "inputs", inputs)
    if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
        raise ValueError(f"{func}: layers must be a non-empty sequence of names, got {layers!r}")
    modules = {name: _module(func, model, name) for name in layers}
    outputs: dict[str, torch.Tensor] = {}
    handles = [
        module.register_forward_hook(
            lambda _m, _i, out, name=name: outputs.__setitem__(name, out.detach().clone())
        )
        for name, module in modules.items()
    ]
    try:
        with _evaluating(model), torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return {name: outputs[name] for name in layers}


@dataclass(frozen=True)
class ReluActivity:
    """How much of one ReLU's output is non-zero on a batch.

    Attributes:
        name: the ReLU module's name.
        active: fraction of its outputs that are positive (all images,
            channels and positions).
        dead_channels: channels (dimension 1) positive nowhere in the batch.
        channels: channels of its output.
    """

    name: str
    active: float
    dead_channels: int
    channels: int


def relu_activity(model: nn.Module, inputs: torch.Tensor) -> list[ReluActivity]:
    """Every ``nn.ReLU`` of ``model``: its fraction of positive outputs and its dead channels.

    A unit is active for an input when its ReLU lets a positive value
    through; a channel is dead on ``inputs`` when none of its units is active
    for any of them (it passes no signal and, through the ReLU, no gradient).

    Raises:
        TypeError: ``model`` is not a module or ``inputs`` not a tensor.
        ValueError: ``model`` has no ``nn.ReLU`` module.
    """
    func = "relu_activity"
    _check_model(func, model)
    _check_images(func, "inputs", inputs)
    names = [name for name, m in model.named_modules() if isinstance(m, nn.ReLU)]
    if not names:
        raise ValueError(f"{func}: the model has no nn.ReLU module")
    rows = []
    for name, out in record_activations(model, inputs, names).items():
        positive = out > 0
        per_channel = positive.transpose(0, 1).reshape(out.shape[1], -1).any(dim=1)
        rows.append(
            ReluActivity(
                name=name,
                active=float(positive.float().mean()),
                dead_channels=int((~per_channel).sum()),
                channels=int(out.shape[1]),
            )
        )
    return rows


@dataclass(frozen=True)
class TopPatches:
    """The inputs that excite some channels of a layer most, as receptive-field patches.

    Attributes:
        layer: the layer's name.
        channels: the channels, in the order of the rows below.
        patches: ``(len(channels), k, C, r, r)``: for each channel, the
            receptive field (``r`` pixels square, zero outside the image) of
            the strongest unit in each of the ``k`` most exciting images.
        images: ``(len(channels), k)`` indices of those images in ``inputs``.
        positions: ``(len(channels), k, 2)`` row and column of the unit in
            the layer's output.
        values: ``(len(channels), k)`` the activations, largest first.
    """

    layer: str
    channels: tuple[int, ...]
    patches: torch.Tensor
    images: torch.Tensor
    positions: torch.Tensor
    values: torch.Tensor


def top_patches(
    model: nn.Module,
    inputs: torch.Tensor,
    layer: str,
    channels: Sequence[int],
    *,
    k: int = 9,
    batch_size: int = 500,
) -> TopPatches:
    """For each channel of ``layer``: the ``k`` images that excite it most and where.

    An image's score for a channel is the largest activation of that channel
    over all positions; the ``k`` best images are kept (each once), and from
    each the receptive field of its strongest unit is cut out of ``inputs``
    (the field's size, effective stride and padding from
    :func:`cnnlib.analysis.receptive_field`; pixels outside the image are 0,
    the value the model's zero padding adds).

    Args:
        model: the network.
        inputs: ``(N, C, H, W)``, as the model takes them (see :func:`model_inputs`).
        layer: a module whose output is a ``(N, C', H', W')`` feature map.
        channels: channels of that map to explain.
        k: images per channel (at most ``N``).
        batch_size: images per forward pass.

    Raises:
        TypeError: ``model``, ``inputs`` or ``layer`` has the wrong type.
        ValueError: ``layer`` is not a module with a spatial output, a
            channel is out of range, ``channels`` is empty, or ``k`` or
            ``batch_size`` is not a positive int or ``k`` exceeds ``N``.
    """
    func = "top_patches"
    _check_model(func, model)
    _check_images(func, "inputs", inputs)
    _module(func, model, layer)
    positive_int(func, "k", k)
    positive_int(func, "batch_size", batch_size)
    if k > len(inputs):
        raise ValueError(f"{func}: k must be at most the {len(inputs)} inputs, got {k}")
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence) or not channels:
        raise ValueError(f"{func}: channels must be a non-empty sequence of ints, got {channels!r}")
    chosen = list(channels)
    maps = torch.cat([
        record_activations(model, inputs[i : i + batch_size], [layer])[layer]
        for i in range(0, len(inputs), batch_size)
    ])  # fmt: skip
    if maps.ndim != 4:
        raise ValueError(f"{func}: layer {layer!r} has no spatial output (shape {maps.shape})")
    for c in chosen:
        if not isinstance(c, int) or isinstance(c, bool) or not 0 <= c < maps.shape[1]:
            raise ValueError(f"{func}: channels must lie in [0, {maps.shape[1]}), got {c!r}")
    field = receptive_field(model, (1, *inputs.shape[1:]), layer)
    size, stride, padding = (_side(func, v) for v in (field.size, field.stride, field.padding))
    n, _, _, width = maps.shape
    flat = maps[:, chosen].flatten(2)  # (N, channels, H'·W')
    best, where = flat.max(dim=2)  # the strongest unit of every image and channel
    values, images = best.t().topk(k, dim=1)  # (channels, k)
    spots = where.t().gather(1, images)
    positions = torch.stack([spots // width, spots % width], dim=-1)
    padded = F.pad(inputs, (size, size, size, size))  # room for fields past the border
    patches = torch.empty(len(chosen), k, inputs.shape[1], size, size, dtype=inputs.dtype)
    for i in range(len(chosen)):
        for j in range(k):
            row, col = (int(p) * stride - padding + size for p in positions[i, j])
            patches[i, j] = padded[int(images[i, j]), :, row : row + size, col : col + size]
    return TopPatches(layer, tuple(chosen), patches, images, positions, values)


def _side(func: str, value: int | tuple[int, int]) -> int:
    """One side of a square field quantity; non-square fields are not supported."""
    if isinstance(value, tuple):
        raise ValueError(f"{func}: the layer's receptive field is not square ({value})")
    return value


def gradient_maps(
    model: nn.Module, inputs: torch.Tensor, classes: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Saliency maps of Simonyan, Vedaldi and Zisserman (2014): ``max_c |∂S_y / ∂x_c|``.

    ``S_y`` is the score (logit, before the softmax) of class ``y`` for each
    image; the map of a pixel is the largest absolute derivative over the
    image's channels. Dropout is off (eval mode).

    Args:
        model: a classifier returning ``(N, num_classes)`` scores.
        inputs: ``(N, C, H, W)`` images as the model takes them.
        classes: ``(N,)`` the class to explain for each image; default the
            model's prediction.

    Returns:
        ``(maps, classes)``: ``(N, H, W)`` maps and the ``(N,)`` classes explained.

    Raises:
        TypeError: ``model`` is not a module or ``inputs``/``classes`` not tensors.
        ValueError: the model's output is not ``(N, num_classes)``, or
            ``classes`` has the wrong shape or a class out of range.
    """
    func = "gradient_maps"
    _check_model(func, model)
    _check_images(func, "inputs", inputs)
    x = inputs.detach().clone().requires_grad_(True)
    with _evaluating(model), torch.enable_grad():
        scores = model(x)
        if scores.ndim != 2 or len(scores) != len(x):
            raise ValueError(f"{func}: the model must return (N, classes), got {scores.shape}")
        if classes is None:
            classes = scores.argmax(dim=1)
        elif not isinstance(classes, torch.Tensor):
            raise TypeError(f"{func}: classes must be a tensor, got {type(classes).__name__}")
        elif classes.shape != (len(x),) or not bool(
            ((classes >= 0) & (classes < scores.shape[1])).all()
        ):
            raise ValueError(
                f"{func}: classes must be ({len(x)},) ints in [0, {scores.shape[1]}), got "
                f"{classes.tolist()}"
            )
        chosen = scores.gather(1, classes.view(-1, 1).to(scores.device))
        (gradient,) = torch.autograd.grad(chosen.sum(), x)
    return gradient.abs().amax(dim=1), classes.detach()


def aliased_energy(weight: torch.Tensor, stride: int, *, size: int = 64) -> torch.Tensor:
    """Per filter: the fraction of its energy above the Nyquist frequency of ``stride``.

    A convolution applied with stride ``s`` samples its output every ``s``
    pixels, so output content at spatial frequencies above ``1 / (2s)`` cycles
    per pixel folds back onto lower ones (aliasing). This measures, for each
    filter, how much of its power spectrum ``|W(f)|²`` (summed over input
    channels, the filter zero-padded to ``size x size``) lies where
    ``max(|f_y|, |f_x|) > 1 / (2s)``. Stride 1 gives 0; a single-pixel
    (impulse) filter, whose spectrum is flat, gives the share of the
    frequency grid above that limit.

    Args:
        weight: a convolution's weight ``(C_out, C_in, k, k)``.
        stride: the stride it is applied with.
        size: side of the frequency grid (at least the kernel's side).

    Returns:
        ``(C_out,)`` fractions in [0, 1] (0 for an all-zero filter).

    Raises:
        TypeError: ``weight`` is not a tensor.
        ValueError: ``weight`` is not 4-D and square, or ``stride``/``size``
            is not a positive int or ``size`` is smaller than the kernel.
    """
    func = "aliased_energy"
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{func}: weight must be a torch.Tensor, got {type(weight).__name__}")
    if weight.ndim != 4 or weight.shape[2] != weight.shape[3]:
        raise ValueError(f"{func}: weight must be (C_out, C_in, k, k), got {tuple(weight.shape)}")
    positive_int(func, "stride", stride)
    positive_int(func, "size", size)
    if size < weight.shape[2]:
        raise ValueError(
            f"{func}: size must be at least the kernel's {weight.shape[2]}, got {size}"
        )
    spectrum = torch.fft.fft2(weight.detach().double().cpu(), s=(size, size)).abs() ** 2
    power = spectrum.sum(dim=1)  # (C_out, size, size)
    frequency = torch.fft.fftfreq(size, dtype=torch.float64).abs()
    limit = 1 / (2 * stride)
    above = (frequency.view(-1, 1) > limit + 1e-12) | (frequency.view(1, -1) > limit + 1e-12)
    total = power.sum(dim=(1, 2))
    share = (power * above).sum(dim=(1, 2)) / total.clamp_min(math.ulp(0.0))
    return torch.where(total > 0, share, torch.zeros_like(share)).float()
