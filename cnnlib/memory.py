"""What a training step keeps in memory: the activations autograd saves for backward.

During a training forward pass every operation that needs its inputs or
outputs for the gradient hands them to autograd, which keeps them alive until
the backward pass. Their total is what dominates training memory at realistic
batch sizes, and it is what DenseNet's memory-efficient implementation
(Pleiss et al., 2017) and gradient checkpointing (Chen et al., 2016) reduce.

:func:`saved_activation_bytes` counts it on any device, with
:func:`torch.autograd.graph.saved_tensors_hooks`: every tensor autograd
saves passes through the hook, and the bytes of the storages behind them are
added up once each (a ReLU's output that the next convolution also saves is
one storage). The model's parameters, which autograd saves too but which
exist anyway, are left out. On CUDA the allocator's peak
(:func:`torch.cuda.max_memory_allocated`) over a forward and backward pass is
reported as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["SavedActivations", "saved_activation_bytes"]


@dataclass(frozen=True)
class SavedActivations:
    """What one training forward pass saved for backward.

    Attributes:
        bytes: bytes of the distinct storages autograd saved, parameters excluded.
        tensors: how many distinct storages those are.
        cuda_peak_bytes: on CUDA, the allocator's peak over the forward and
            backward pass, above what was allocated before it; ``None`` elsewhere.
    """

    bytes: int
    tensors: int
    cuda_peak_bytes: int | None = None

    def __str__(self) -> str:
        text = f"{self.bytes / 2**20:,.1f} MiB saved in {self.tensors} tensors"
        if self.cuda_peak_bytes is not None:
            text += f"; CUDA peak {self.cuda_peak_bytes / 2**20:,.1f} MiB"
        return text


def _check(model: object, input_size: object) -> tuple[int, ...]:
    owner = "saved_activation_bytes"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence):
        raise TypeError(f"{owner}: input_size must be a sequence of ints, got {input_size!r}")
    if not input_size or any(
        not isinstance(s, int) or isinstance(s, bool) or s < 1 for s in input_size
    ):
        raise ValueError(f"{owner}: input_size must hold positive ints, got {input_size!r}")
    return tuple(input_size)


def saved_activation_bytes(
    model: nn.Module, input_size: Sequence[int], *, seed: int = 0
) -> SavedActivations:
    """Bytes autograd saves for backward in one training forward pass of ``model``.

    The model runs in training mode on ``torch.randn(input_size)`` (seeded
    with ``seed``) on the device and in the dtype of its parameters; its mode,
    its buffers (batch-norm running statistics) and its gradients are
    restored afterwards. On CUDA a backward pass follows, for the allocator's
    peak.

    Args:
        model: the network (with at least one parameter).
        input_size: the input's shape, batch included, e.g. ``(64, 3, 32, 32)``.
        seed: seeds the random input.

    Returns:
        A :class:`SavedActivations`.

    Raises:
        TypeError: ``model`` is not a module or ``input_size`` not a sequence.
        ValueError: ``input_size`` holds something other than positive ints,
            or ``model`` has no parameters.
    """
    shape = _check(model, input_size)
    parameters = list(model.parameters())
    if not parameters:
        raise ValueError("saved_activation_bytes: model must have parameters")
    device, dtype = parameters[0].device, parameters[0].dtype
    own = {p.untyped_storage().data_ptr() for p in parameters}
    saved: dict[int, torch.UntypedStorage] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in own and storage.nbytes() > 0:
            saved.setdefault(storage.data_ptr(), storage)
        return tensor

    was_training = model.training
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    grads = [None if p.grad is None else p.grad.detach().clone() for p in parameters]
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator).to(device, dtype)
    cuda = device.type == "cuda"
    peak = None
    try:
        model.train()
        if cuda:
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            before = torch.cuda.memory_allocated(device)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            out = model(x)
        total = sum(s.nbytes() for s in saved.values())
        count = len(saved)
        if cuda:
            out.float().sum().backward()
            torch.cuda.synchronize(device)
            peak = torch.cuda.max_memory_allocated(device) - before
        del out
    finally:
        saved.clear()
        model.train(was_training)
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(buffers[name])
        for p, g in zip(parameters, grads, strict=True):
            p.grad = g
    return SavedActivations(bytes=total, tensors=count, cuda_peak_bytes=peak)
