"""Clear errors when a model and its input do not fit together.

A reader swaps models and datasets all the time: a 3-channel ImageNet model on
1-channel Fashion-MNIST, a 1000-class head on 10 classes, a 224x224 stem on a
28x28 image. PyTorch then fails deep inside a forward pass (or, for the class
count, mid-epoch in the loss). :func:`forward_checked` runs the forward pass
and turns such a failure into a :class:`ValueError` that names the builder
keyword to set (``in_channels=1``, ``small_input=True``, ``num_classes=10``);
:func:`check_num_classes` compares a model's outputs with a dataset's classes.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["forward_checked", "check_num_classes"]

_LAYERS = (nn.modules.conv._ConvNd, nn.Linear)
# Phrases of PyTorch's errors for an input too small for a layer.
_TOO_SMALL = (
    "too small",
    "smaller than kernel",
    "can't be greater than actual input size",
    "kernel size can't be greater",
    "should be at least",
)


def _shape(x: torch.Tensor) -> str:
    return "x".join(str(s) for s in x.shape[1:])


def _diagnosis(
    owner: str, model: nn.Module, x: torch.Tensor, first: tuple[str, nn.Module] | None
) -> str | None:
    """What the caller should change, or None when the error is not a fit problem."""
    model_name = type(model).__name__
    if first is not None and x.ndim >= 2:
        name, layer = first
        if isinstance(layer, nn.modules.conv._ConvNd) and layer.in_channels != x.shape[1]:
            return (
                f"{owner}: {model_name}'s first convolution ({name}) takes "
                f"{layer.in_channels} input channels, but the input has {x.shape[1]} "
                f"(shape {tuple(x.shape)}): build the model with in_channels={x.shape[1]}"
            )
        if isinstance(layer, nn.Linear) and x.ndim == 4:
            features = x[0].numel()
            if layer.in_features != features:
                return (
                    f"{owner}: {model_name}'s first layer ({name}) is fully connected and "
                    f"reads {layer.in_features} values, but one input image has "
                    f"{_shape(x)} = {features}: build the model with "
                    f"in_channels={x.shape[1]} and image_size={x.shape[-1]}"
                )
    return None


def forward_checked(owner: str, model: nn.Module, x: torch.Tensor) -> object:
    """``model(x)``, with a :class:`ValueError` naming the keyword to set when they do not fit.

    Records the first convolution or linear layer the input reaches; if the
    forward pass raises a ``RuntimeError`` because that layer expects other
    channels, or because the image is too small for the model's stem, the
    error becomes a ``ValueError`` saying which builder argument fixes it
    (``in_channels``, ``small_input``, ``image_size``). Other errors pass
    through unchanged.

    Raises:
        ValueError: the input does not fit the model (the message says how to fix it).
    """
    first: list[tuple[str, nn.Module]] = []
    names = {module: name for name, module in model.named_modules()}

    def record(module: nn.Module, args: tuple[object, ...]) -> None:
        if not first:
            first.append((names.get(module, type(module).__name__), module))

    handles = [
        m.register_forward_pre_hook(record) for m in model.modules() if isinstance(m, _LAYERS)
    ]
    try:
        return model(x)
    except RuntimeError as error:
        message = _diagnosis(owner, model, x, first[0] if first else None)
        if message is None and any(p in str(error).lower() for p in _TOO_SMALL):
            message = (
                f"{owner}: a {_shape(x)} input is too small for {type(model).__name__} "
                f"({str(error).splitlines()[0]}); for 28x28 or 32x32 images build the "
                "model with small_input=True"
            )
        if message is None:
            raise
        raise ValueError(message) from error
    finally:
        for handle in handles:
            handle.remove()


def check_num_classes(owner: str, model: nn.Module, outputs: object, num_classes: int) -> None:
    """Raise if ``outputs`` (a model's logits) do not have one column per class.

    Raises:
        ValueError: the model's output width differs from ``num_classes``.
    """
    logits = outputs[0] if isinstance(outputs, tuple) else outputs
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(
            f"{owner}: {type(model).__name__} must return logits of shape (N, classes), got {shape}"
        )
    if logits.shape[1] != num_classes:
        raise ValueError(
            f"{owner}: {type(model).__name__} has {logits.shape[1]} outputs but the data have "
            f"{num_classes} classes: build the model with num_classes={num_classes}"
        )
