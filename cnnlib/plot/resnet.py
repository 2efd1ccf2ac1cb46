"""Figures of the ResNet chapter: the degradation experiment and gradient norms per layer.

:func:`gradient_norms` measures what the figure shows: the norm of the loss
gradient with respect to every convolution's weight, layer by layer, on one
batch. :func:`degradation` draws training curves beside those norms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn

from cnnlib.train import History

__all__ = ["degradation", "gradient_norms"]


def gradient_norms(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    skip: str = "downsample",
) -> list[float]:
    """The L2 norm of ∂loss/∂W of every convolution, in the order of ``model.modules()``.

    One forward and backward pass of the mean cross-entropy on ``images`` and
    ``labels``, in the model's current mode (train mode uses the batch's
    statistics in batch norm, as training does). Gradients already stored on
    the parameters are left as they were. Convolutions whose name contains
    ``skip`` (the projection shortcuts by default) are left out, so that a
    residual network and its plain twin list the same layers.

    Args:
        model: the network; its parameters' device and dtype are used.
        images: a batch ``(N, C, H, W)``, already normalised.
        labels: ``(N,)`` class indices.
        skip: leave out convolutions whose qualified name contains it ("" keeps all).

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``images``/``labels``
            are not tensors.
        ValueError: ``images`` is not 4-D, ``labels`` not ``(N,)``, or the
            model has no convolution.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"gradient_norms: model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise TypeError("gradient_norms: images and labels must be tensors")
    if images.dim() != 4:
        raise ValueError(f"gradient_norms: images must be (N, C, H, W), got {tuple(images.shape)}")
    if labels.shape != images.shape[:1]:
        raise ValueError(
            f"gradient_norms: labels must have shape ({images.shape[0]},), "
            f"got {tuple(labels.shape)}"
        )
    convs = [m for name, m in model.named_modules()
             if isinstance(m, nn.Conv2d) and not (skip and skip in name)]  # fmt: skip
    if not convs:
        raise ValueError("gradient_norms: model has no convolution")
    parameter = next(model.parameters())
    images = images.to(parameter.device, parameter.dtype)
    loss = F.cross_entropy(model(images), labels.to(parameter.device))
    grads = torch.autograd.grad(loss, [m.weight for m in convs])
    return [g.norm().item() for g in grads]


def degradation(
    histories: Mapping[str, History],
    norms: Mapping[str, Sequence[float]],
    *,
    title: str | None = None,
) -> Figure:
    """Training error per epoch (left) beside gradient norms per layer (right).

    Left: ``1 − train_accuracy`` of every history, one line each, against the
    epoch. Right: every sequence of ``norms`` (as from :func:`gradient_norms`)
    against the layer's index, on a log scale, one line each. Labels are
    coloured by their part before the first comma (``"plain 32, trained"``
    takes the colour of ``"plain 32"``); on the right, a repeated part is
    drawn dashed.

    Raises:
        TypeError: a history is not a :class:`~cnnlib.train.History`.
        ValueError: ``histories`` or ``norms`` is empty, a history has no epoch
            or a sequence of norms is empty or not positive.
    """
    if not histories or not norms:
        raise ValueError("degradation: histories and norms must not be empty")
    for label, history in histories.items():
        if not isinstance(history, History):
            raise TypeError(f"degradation: histories[{label!r}] must be a History")
        if not history.train_accuracy:
            raise ValueError(f"degradation: histories[{label!r}] has no epoch")
    for label, values in norms.items():
        if len(values) == 0 or min(values) <= 0:
            raise ValueError(f"degradation: norms[{label!r}] must be positive and non-empty")
    bases = list(dict.fromkeys(label.split(",")[0] for label in [*histories, *norms]))
    colours = {base: f"C{i}" for i, base in enumerate(bases)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for label, history in histories.items():
        epochs = range(1, len(history) + 1)
        error = [1 - a for a in history.train_accuracy]
        left.plot(epochs, error, marker="o", color=colours[label.split(",")[0]], label=label)
    left.set(xlabel="epoch", ylabel="training error", title="training error")
    left.set_ylim(0, 1)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.legend(fontsize=8)
    seen: set[str] = set()
    for label, values in norms.items():
        base = label.split(",")[0]
        style = "--" if base in seen else "-"
        seen.add(base)
        layers = range(1, len(values) + 1)
        right.semilogy(layers, values, style, marker=".", color=colours[base], label=label)
    right.set(xlabel="convolution (input to output)", ylabel="‖∂loss/∂W‖",
              title="gradient norm per layer")  # fmt: skip
    right.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
