"""Training that is honest about time: device choice, budgets, ``fit`` and ``evaluate``.

A chapter never hard-codes its epochs. It asks for the :func:`budget` and picks
per budget, so the same notebook runs in about a minute on a laptop CPU
(``quick``) and trains properly on a GPU (``full``)::

    run = budget()                      # Budget(name='quick', reason='no CUDA GPU found')
    epochs = run.pick(quick=3, full=30)

On CUDA, ``fit`` uses automatic mixed precision (bf16 where the GPU computes in
it, compute capability 8.0 and up; fp16 with a gradient scaler on older GPUs
such as Colab's T4), the channels-last memory format and cuDNN's autotuning;
``compile=True`` adds :func:`torch.compile`. ``checkpoint=`` saves the whole
training state after every epoch (atomically) and resumes from it, on the same
or another device. Run the same script under ``torchrun --nproc_per_node N``
and ``fit`` trains with :class:`~torch.nn.parallel.DistributedDataParallel`:
each process takes an equal share of every global batch (``batch_size`` must be
a multiple of N, and a last partial batch is left out), batch norms normalise
with the statistics of the whole global batch (synchronised across the
processes, on GPUs and CPUs), and each process draws its own dropout masks; so
the numbers match a single process on the same global batches, up to float
rounding.

Before any work, ``fit`` and ``evaluate`` run the model once on one image of the
data: a model built for other data (input channels, image size, number of
classes) fails there with a :class:`ValueError` that names the builder argument
to change, not mid-epoch inside PyTorch. On the CPU, ``fit`` fits torch's
thread count to what other processes leave free (see :mod:`cnnlib._threads`),
so that several runs sharing a machine do not slow each other down far beyond
a fair share.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Literal, TypeVar

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from cnnlib._checks import boolean, non_negative_number, positive_int, positive_number, probability
from cnnlib._inputs import check_num_classes, forward_checked
from cnnlib._threads import CpuThreads
from cnnlib.data import Augmentation, ImageDataset, _to_device

__all__ = [
    "device",
    "Budget",
    "budget",
    "seed_everything",
    "History",
    "fit",
    "evaluate",
    "recalibrate_batch_norm",
    "init_distributed",
]

T = TypeVar("T")
BudgetName = Literal["quick", "full"]
_BUDGETS = ("quick", "full")


def device() -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


# fit's parameter ``device`` shadows the function; fit reaches it by this name.
_best_device = device


@dataclass(frozen=True)
class Budget(Generic[T]):
    """How much compute a chapter may spend: ``quick`` (CPU, ~1 min) or ``full`` (GPU)."""

    name: BudgetName
    reason: str

    def pick(self, *, quick: T, full: T) -> T:
        """Return ``quick`` or ``full`` according to this budget."""
        return quick if self.name == "quick" else full


def budget() -> Budget:
    """The budget in force: ``$CNNLIB_BUDGET`` if set, else ``full`` on CUDA, else ``quick``.

    Raises:
        ValueError: ``CNNLIB_BUDGET`` is set to something other than quick or full.
    """
    env = os.environ.get("CNNLIB_BUDGET", "").strip().lower()
    if env:
        if env not in _BUDGETS:
            raise ValueError(
                "budget: CNNLIB_BUDGET must be 'quick' or 'full', "
                f"got {os.environ['CNNLIB_BUDGET']!r}"
            )
        return Budget(name=env, reason="set by CNNLIB_BUDGET")  # type: ignore[arg-type]
    if torch.cuda.is_available():
        return Budget(name="full", reason=f"CUDA GPU found ({torch.cuda.get_device_name()})")
    return Budget(name="quick", reason="no CUDA GPU found")


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generators (CPU and CUDA) and return a CPU generator for shuffling."""
    return _seed_process(seed, rank=0)


def _seed_process(seed: int, rank: int) -> torch.Generator:
    """Seed process ``rank`` of a job: its own global streams, the job's shuffling generator.

    torch's global generators (dropout masks, Shake-Shake's coefficients) get
    a different seed on every process, ``(seed + rank·2654435761) mod 2³²``
    (Knuth's multiplicative hash constant; the CPU generator keeps 32 bits of
    its seed), so rank 0 uses ``seed`` as one process does; the returned CPU
    generator, which orders and augments the batches, is seeded with ``seed``
    on every process, so that they stay in step.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed_everything: seed must be a non-negative int, got {seed!r}")
    torch.manual_seed(seed if rank == 0 else (seed + rank * 2_654_435_761) % 2**32)
    return torch.Generator().manual_seed(seed)


@dataclass
class History:
    """Per-epoch record of a training run.

    ``samples_per_second`` is training throughput (training samples / seconds of
    the training phase); ``seconds`` is the whole epoch including evaluation.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    samples_per_second: list[float] = field(default_factory=list)
    device: str = "cpu"
    amp: str = "off"
    #: The :func:`budget` in force when the run started (what produced these numbers).
    budget: str = ""
    #: Processes the run was split across (``torchrun``); 1 without it.
    world_size: int = 1
    #: torch's CPU threads at the end of each epoch (on the CPU, ``fit`` fits them to the load).
    cpu_threads: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.train_loss)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds)

    def summary(self) -> str:
        """One line: final test accuracy, total time and mean throughput."""
        if not self.train_loss:
            return "no epochs run"
        rate = sum(self.samples_per_second) / len(self.samples_per_second)
        amp = f" with {self.amp} AMP" if self.amp != "off" else ""
        processes = f" x {self.world_size} processes" if self.world_size > 1 else ""
        budget = f" ({self.budget} budget)" if self.budget else ""
        return (
            f"{len(self)} epochs on {self.device}{processes}{amp}{budget}: test accuracy "
            f"{self.test_accuracy[-1]:.2%} in {self.total_seconds:.1f} s "
            f"({rate:,.0f} samples/s)"
        )


def _normalise(
    images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, memory_format: torch.memory_format
) -> torch.Tensor:
    x = images.float().div_(255).sub_(mean).div_(std)
    return x.contiguous(memory_format=memory_format)


def _statistics(data: ImageDataset, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The dataset's per-channel mean and std on ``dev``, shaped ``(1, C, 1, 1)``."""
    mean = torch.tensor(data.mean, device=dev).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=dev).view(1, -1, 1, 1)
    return mean, std


def _memory_format(dev: torch.device) -> torch.memory_format:
    """Channels-last on CUDA (faster convolutions), the default layout elsewhere."""
    return torch.channels_last if dev.type == "cuda" else torch.contiguous_format


def _autocast(dev: torch.device) -> tuple[contextlib.AbstractContextManager, str, bool]:
    """Autocast context, its name, and whether fp16 needs a gradient scaler.

    bf16 only where the GPU computes in it: ``torch.cuda.is_bf16_supported()``
    also answers True on a T4 or V100 (compute capability 7.x), which emulates
    bf16 and has no bf16 convolutions in cuDNN; those get fp16 and a scaler.
    """
    if dev.type != "cuda":
        return contextlib.nullcontext(), "off", False
    if torch.cuda.is_bf16_supported(including_emulation=False):
        return torch.autocast("cuda", dtype=torch.bfloat16), "bf16", False
    return torch.autocast("cuda", dtype=torch.float16), "fp16", True


def _check_model_fits(
    owner: str,
    model: nn.Module,
    data: ImageDataset,
    split: Literal["train", "test"],
    dev: torch.device,
    memory_format: torch.memory_format,
) -> None:
    """Raise a ValueError now if ``model`` cannot learn from ``split`` of ``data``.

    Checks that the labels lie in ``[0, len(data.classes))``, then runs the
    model once on the split's first image, normalised, in eval mode without
    autograd (the mode is restored; no random numbers are drawn), through
    :func:`~cnnlib._inputs.forward_checked`, and checks that it returns one
    logit per class.
    """
    labels = getattr(data, f"{split}_labels")
    classes = len(data.classes)
    if len(labels) == 0:
        raise ValueError(f"{owner}: the {split} split of {data.name} has no images")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        raise ValueError(
            f"{owner}: the {split} labels of {data.name} lie in [{low}, {high}], but the data "
            f"have {classes} classes: labels must lie in [0, {classes - 1}]"
        )
    mean, std = _statistics(data, dev)
    x = _normalise(getattr(data, f"{split}_images")[:1].to(dev), mean, std, memory_format)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = forward_checked(owner, model, x)
    finally:
        model.train(was_training)
    check_num_classes(owner, model, outputs, classes)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ImageDataset,
    *,
    split: Literal["train", "test"] = "test",
    batch_size: int = 1000,
    device: torch.device | None = None,
) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on a split of ``data``.

    Runs in eval mode without autograd; the model's mode is restored afterwards.

    Raises:
        TypeError: ``model`` is not a module.
        ValueError: ``split`` or ``batch_size`` is invalid, the model does not fit
            the data (input channels, image size or number of classes; the
            message names the builder argument to change), or a label lies
            outside the classes.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"evaluate: model must be a torch.nn.Module, got {type(model).__name__}")
    if split not in ("train", "test"):
        raise ValueError(f"evaluate: split must be 'train' or 'test', got {split!r}")
    positive_int("evaluate", "batch_size", batch_size)
    dev = device or next(model.parameters()).device
    memory_format = _memory_format(dev)
    _check_model_fits("evaluate", model, data, split, dev, memory_format)
    images = getattr(data, f"{split}_images")
    labels = getattr(data, f"{split}_labels")
    mean, std = _statistics(data, dev)
    autocast, _, _ = _autocast(dev)
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, len(labels), batch_size):
            x = _normalise(images[start : start + batch_size].to(dev), mean, std, memory_format)
            y = labels[start : start + batch_size].to(dev)
            with autocast:
                logits = model(x)
            total_loss += float(F.cross_entropy(logits.float(), y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
    finally:
        model.train(was_training)
    return total_loss / len(labels), correct / len(labels)


def recalibrate_batch_norm(
    model: nn.Module,
    data: ImageDataset,
    *,
    samples: int = 1000,
    batch_size: int = 100,
    device: torch.device | None = None,
) -> nn.Module:
    """Recompute every batch norm's running statistics from training images.

    A batch norm normalises with the statistics of the current batch while
    training and with running averages (momentum 0.1) in eval mode. After a
    short run the averages still remember the statistics of earlier weights,
    and a network whose training-mode predictions are good can score far
    lower in eval mode. This resets each batch norm's statistics and runs the
    first ``samples`` training images through the model in training mode,
    without gradients and normalised as :func:`fit` and :func:`evaluate` do,
    with ``momentum=None`` (the running statistics become the plain average of
    the batches' statistics). Weights do not change; the momenta and the
    model's mode are restored. Wu and Johnson (2021) call this "precise BN".

    Args:
        model: the network, changed in place.
        data: the dataset whose training split supplies the images.
        samples: how many training images to use.
        batch_size: images per batch, at least 2 (a batch norm needs two).
        device: where to run; default: where the model's parameters are.

    Returns:
        ``model``.

    Raises:
        TypeError: ``model`` is not a module.
        ValueError: ``samples`` is not a positive int or exceeds the training
            images, ``batch_size`` is not an int in ``[2, samples]``, or the
            model does not fit the data (the message names the builder
            argument to change).
    """
    owner = "recalibrate_batch_norm"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")
    positive_int(owner, "samples", samples)
    if samples > len(data.train_labels):
        raise ValueError(
            f"{owner}: samples must be at most the {len(data.train_labels)} training images, "
            f"got {samples}"
        )
    positive_int(owner, "batch_size", batch_size)
    if not 2 <= batch_size <= samples:
        raise ValueError(f"{owner}: batch_size must be in [2, {samples}], got {batch_size}")
    dev = device or next(model.parameters()).device
    memory_format = _memory_format(dev)
    _check_model_fits(owner, model, data, "train", dev, memory_format)
    mean, std = _statistics(data, dev)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [bn.momentum for bn in norms]
    was_training = model.training
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    try:
        with torch.no_grad():
            for start in range(0, samples - 1, batch_size):  # a last batch of one is left out
                images = data.train_images[start : min(start + batch_size, samples)]
                model(_normalise(images.to(dev), mean, std, memory_format))
    finally:
        for bn, momentum in zip(norms, momenta, strict=True):
            bn.momentum = momentum
        model.train(was_training)
    return model


def _world_size() -> int:
    """Processes of the job: ``WORLD_SIZE`` (set by ``torchrun``), else 1."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    raw = os.environ.get("WORLD_SIZE", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"init_distributed: WORLD_SIZE must be a positive int, got {raw!r}")
    return int(raw)


def _local_rank() -> int:
    """This process's index on its machine: ``LOCAL_RANK`` (set by ``torchrun``), else 0."""
    local = os.environ.get("LOCAL_RANK", "0")
    if not local.isdigit():
        raise ValueError(f"init_distributed: LOCAL_RANK must be a non-negative int, got {local!r}")
    return int(local)


def init_distributed(device: torch.device | None = None) -> tuple[int, int]:
    """Join the process group ``torchrun`` describes; return ``(rank, world_size)``.

    Without ``torchrun`` (no ``WORLD_SIZE`` above 1 in the environment) this does
    nothing and returns ``(0, 1)``. Under it, the group is initialised once,
    with a backend per device (gloo for CPU tensors, NCCL for CUDA ones where
    CUDA exists), and destroyed when the program exits. Only a process that
    trains on CUDA (``device``) binds to its GPU, ``cuda:LOCAL_RANK``, which
    it also hands to the group (``device_id``). :func:`fit` calls it, so a
    script needs no changes.

    Raises:
        ValueError: ``WORLD_SIZE`` or ``LOCAL_RANK`` is not a non-negative int.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if _world_size() <= 1:
        return 0, 1
    _local_rank()  # checked before anything is initialised
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    options: dict[str, object] = {}
    if device is not None and device.type == "cuda":
        torch.cuda.set_device(device)
        options["device_id"] = device
    dist.init_process_group(backend, **options)
    atexit.register(_leave_process_group)
    return dist.get_rank(), dist.get_world_size()


def _leave_process_group() -> None:
    """At exit: destroy the group :func:`init_distributed` made (NCCL warns otherwise)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _local_world_size(world: int) -> int:
    """Processes of the job on this machine: ``LOCAL_WORLD_SIZE`` under torchrun, else ``world``."""
    raw = os.environ.get("LOCAL_WORLD_SIZE", "")
    return int(raw) if world > 1 and raw.isdigit() and int(raw) > 0 else world


def _training_device(requested: torch.device | None, world: int) -> torch.device:
    """Where this process trains.

    Under ``torchrun`` with CUDA, each process trains on ``cuda:LOCAL_RANK``:
    ``device=None`` or ``"cuda"`` picks it, and any other GPU is refused (it
    would put several processes on one GPU). Otherwise ``requested``, or the
    best device.

    Raises:
        ValueError: under ``torchrun``, ``requested`` is a GPU other than this
            process's.
    """
    if world > 1 and torch.cuda.is_available():
        own = torch.device("cuda", _local_rank())
        if requested is None or (requested.type == "cuda" and requested.index is None):
            return own
        if requested.type == "cuda" and requested != own:
            raise ValueError(
                f"fit: under torchrun this process's LOCAL_RANK is {own.index}, so it trains on "
                f"{own}; got device='{requested}': pass device='cuda' (or none) to use it"
            )
        return requested
    return requested if requested is not None else _best_device()


def _check_fit_arguments(
    model: object,
    data: object,
    *,
    epochs: object,
    batch_size: object,
    lr: object,
    weight_decay: object,
    optimizer: object,
    label_smoothing: object,
    max_train_samples: object,
    flags: dict[str, object],
    checkpoint: str | os.PathLike[str] | None,
) -> Path | None:
    """Check fit's arguments (``flags`` are its bools by name); return the checkpoint's path."""
    func = "fit"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(data, ImageDataset):
        raise TypeError(
            f"{func}: data must be a cnnlib.data.ImageDataset, got {type(data).__name__}"
        )
    positive_int(func, "epochs", epochs)
    positive_int(func, "batch_size", batch_size)
    if max_train_samples is not None:
        positive_int(func, "max_train_samples", max_train_samples)
    positive_number(func, "lr", lr)
    non_negative_number(func, "weight_decay", weight_decay)
    probability(func, "label_smoothing", label_smoothing)
    if optimizer not in ("adamw", "sgd"):
        raise ValueError(f"{func}: optimizer must be 'adamw' or 'sgd', got {optimizer!r}")
    for name, flag in flags.items():
        boolean(func, name, flag)
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and not path.parent.is_dir():
        raise ValueError(f"{func}: checkpoint's folder {str(path.parent)!r} does not exist")
    return path


@dataclass(frozen=True)
class _Batches:
    """One process's training batches: shuffled, augmented, normalised, sliced by rank.

    Every epoch draws a fresh order of all samples from the generator and keeps
    the first ``samples`` of it. Each global batch is augmented as a whole on
    every process, so the draws stay in step across a ``torchrun`` job; each
    process then takes every ``world``-th sample of it, from its ``rank`` on.
    With ``whole_batches`` (under ``torchrun``, where ``world`` divides
    ``batch_size``, and with ``torch.compile``) a last, partial batch is left
    out: every process gets an equal, non-empty share of every step, and a
    compiled model sees one batch shape.
    """

    images: torch.Tensor
    labels: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    memory_format: torch.memory_format
    augmentation: Augmentation | None
    batch_size: int
    samples: int
    rank: int
    world: int
    whole_batches: bool

    def __len__(self) -> int:
        if self.whole_batches:
            return self.samples // self.batch_size
        return math.ceil(self.samples / self.batch_size)

    @property
    def used(self) -> int:
        """Samples of an epoch that reach the model (all processes together)."""
        return min(self.samples, len(self) * self.batch_size)

    def epoch(self, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The ``(inputs, labels)`` of every step of one epoch."""
        order = torch.randperm(len(self.labels), generator=generator)[: self.samples]
        order = _to_device(order, self.images.device)
        for step in range(len(self)):
            index = order[step * self.batch_size : (step + 1) * self.batch_size]
            batch = self.images[index]
            if self.augmentation is not None:
                batch = self.augmentation(batch, generator)
            mine = slice(self.rank, None, self.world)
            yield (
                _normalise(batch[mine], self.mean, self.std, self.memory_format),
                self.labels[index][mine],
            )


def _batches(
    data: ImageDataset,
    dev: torch.device,
    memory_format: torch.memory_format,
    *,
    batch_size: int,
    max_samples: int | None,
    augment: bool,
    rank: int,
    world: int,
    whole_batches: bool,
) -> _Batches:
    """The training split of ``data`` on ``dev``, cut into ``fit``'s batches.

    Raises:
        ValueError: ``whole_batches`` leaves no batch (fewer samples than ``batch_size``).
    """
    n = len(data.train_labels)
    samples = min(n, max_samples) if max_samples else n
    if whole_batches and samples < batch_size:
        raise ValueError(
            f"fit: {samples} training samples make no whole batch of batch_size={batch_size} "
            "(needed under torchrun and with compile=True): lower batch_size"
        )
    mean, std = _statistics(data, dev)
    augmentation = data.augmentation if augment and data.augmentation.enabled else None
    return _Batches(
        images=data.train_images.to(dev),
        labels=data.train_labels.to(dev),
        mean=mean,
        std=std,
        memory_format=memory_format,
        augmentation=augmentation,
        batch_size=batch_size,
        samples=samples,
        rank=rank,
        world=world,
        whole_batches=whole_batches,
    )


def _optimiser_and_schedule(
    model: nn.Module,
    name: Literal["adamw", "sgd"],
    *,
    lr: float,
    weight_decay: float,
    epochs: int,
    steps_per_epoch: int,
    dev: torch.device,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.OneCycleLR]:
    """AdamW or SGD with Nesterov momentum 0.9, under a one-cycle schedule peaking at ``lr``."""
    # One fused kernel per step instead of a loop over parameter tensors (CPU and CUDA).
    fused = dev.type in ("cpu", "cuda")
    if name == "adamw":
        optimiser: torch.optim.Optimizer = torch.optim.AdamW(
            model.parameters(), lr=lr, weight_decay=weight_decay, fused=fused
        )
    else:
        optimiser = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay,
            fused=fused,
        )  # fmt: skip
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch
    )
    return optimiser, schedule


@dataclass
class _TrainingState:
    """Everything a checkpoint holds: what a run needs to continue exactly where it stopped."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.OneCycleLR
    scaler: torch.amp.GradScaler
    generator: torch.Generator
    history: History


def _save_atomic(state: dict[str, object], path: Path) -> None:
    """Write ``state`` to ``path`` so that ``path`` is always either the old or the new file."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_optimiser_state(optimiser: torch.optim.Optimizer, state: dict[str, object]) -> None:
    """``optimiser.load_state_dict(state)``, with each state tensor in its parameter's layout.

    A checkpoint keeps the memory format it was saved with: channels-last from a
    CUDA run, contiguous from a CPU run. Fused optimisers walk a parameter and
    its state in memory order, so a state in another layout than its parameter
    pairs the wrong elements (on the CPU) or fails (on CUDA): copy each state
    tensor shaped like its parameter into a tensor laid out like it.
    """
    optimiser.load_state_dict(state)
    for group in optimiser.param_groups:
        for parameter in group["params"]:
            for key, value in optimiser.state.get(parameter, {}).items():
                if isinstance(value, torch.Tensor) and value.shape == parameter.shape:
                    laid_out = torch.empty_like(parameter, dtype=value.dtype)
                    optimiser.state[parameter][key] = laid_out.copy_(value)


def _load_scaler_state(scaler: torch.amp.GradScaler, state: dict[str, object]) -> None:
    """Load a gradient scaler's state; an empty one (saved by a CPU or bf16 run) starts afresh."""
    if state:
        scaler.load_state_dict(state)


@dataclass(frozen=True)
class _Checkpoint:
    """The file ``fit(checkpoint=...)`` writes after every epoch, and the settings it belongs to."""

    path: Path
    settings: dict[str, object]

    def resume(self, state: _TrainingState, dev: torch.device, world: int) -> None:
        """Load the saved run into ``state``; nothing happens if there is no file.

        Under ``torchrun`` the first process reads the file and sends it to the
        others, so all resume at the same epoch even when the file is on its
        machine only (the processes write it from the first one only).

        Raises:
            ValueError: the file was saved with other settings.
        """
        saved = None
        if world == 1 or dist.get_rank() == 0:
            if self.path.exists():
                saved = torch.load(self.path, map_location="cpu", weights_only=True)
        if world > 1:
            box = [saved]
            dist.broadcast_object_list(box, src=0, device=dev if dev.type == "cuda" else None)
            saved = box[0]
        if saved is None:
            return
        if saved["settings"] != self.settings:
            changed = {
                key: (saved["settings"].get(key), value)
                for key, value in self.settings.items()
                if saved["settings"].get(key) != value
            }
            raise ValueError(
                f"fit: the checkpoint {str(self.path)!r} was saved with other settings "
                f"(saved, now): {changed}; delete it or train with its settings"
            )
        state.model.load_state_dict(saved["model"])
        _load_optimiser_state(state.optimizer, saved["optimizer"])
        state.schedule.load_state_dict(saved["schedule"])
        _load_scaler_state(state.scaler, saved["scaler"])
        state.generator.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        if "cuda_rng" in saved and dev.type == "cuda":
            torch.cuda.set_rng_state(saved["cuda_rng"], dev)
        state.history = History(**saved["history"])

    def save(self, state: _TrainingState, dev: torch.device) -> None:
        """Write ``state`` (and the random generators' states) atomically."""
        cuda_rng = {"cuda_rng": torch.cuda.get_rng_state(dev)} if dev.type == "cuda" else {}
        _save_atomic(
            {
                "settings": self.settings,
                "model": state.model.state_dict(),
                "optimizer": state.optimizer.state_dict(),
                "schedule": state.schedule.state_dict(),
                "scaler": state.scaler.state_dict(),
                "generator": state.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                **cuda_rng,
                "history": dataclasses.asdict(state.history),
            },
            self.path,
        )


def _train_epoch(
    trained: nn.Module,
    batches: _Batches,
    state: _TrainingState,
    *,
    autocast: contextlib.AbstractContextManager,
    label_smoothing: float,
    after_step: Callable[[], None],
) -> tuple[float, int]:
    """One epoch of optimisation steps: the summed loss and the correct predictions.

    The sums cover the samples of all processes of a ``torchrun`` job.
    """
    trained.train()
    dev = batches.images.device
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.long)
    for x, y in batches.epoch(state.generator):
        with autocast:
            logits = trained(x)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        state.optimizer.zero_grad(set_to_none=True)
        state.scaler.scale(loss).backward()
        state.scaler.step(state.optimizer)
        state.scaler.update()
        state.schedule.step()
        loss_sum += loss.detach().float() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        after_step()
    if batches.world > 1:
        dist.all_reduce(loss_sum)
        dist.all_reduce(correct)
    return float(loss_sum), int(correct)


def fit(
    model: nn.Module,
    data: ImageDataset,
    *,
    epochs: int,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 5e-4,
    optimizer: Literal["adamw", "sgd"] = "adamw",
    label_smoothing: float = 0.1,
    augment: bool = True,
    max_train_samples: int | None = None,
    seed: int = 0,
    device: torch.device | None = None,
    compile: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``data`` with a one-cycle learning-rate schedule.

    Batches are slices of the in-memory uint8 tensors (on the training device),
    augmented as a whole batch with ``data.augmentation`` and normalised with
    the dataset's mean and std — no per-sample Python. The order of samples and
    the augmentation draw from a generator seeded with ``seed``, so two runs
    with the same seed and initial weights on the CPU give identical histories
    (with the same number of CPU threads: on the CPU, ``fit`` lowers torch's
    thread count while other processes keep cores busy, and restores it at the
    end, unless you set it yourself; see :mod:`cnnlib._threads`).

    Before training, the model runs once on one training image: if it does not
    fit the data (its input channels, image size or number of classes), a
    ``ValueError`` names the builder argument to change.

    Args:
        model: the network; moved to ``device`` (in place).
        data: an :class:`~cnnlib.data.ImageDataset`.
        epochs: passes over the (possibly truncated) training set.
        batch_size: samples per optimisation step (the global batch under
            ``torchrun``, a multiple of the number of processes).
        lr: peak learning rate of the one-cycle schedule (Smith and Topin, 2019).
        weight_decay: decoupled (AdamW) or L2 (SGD) weight decay.
        optimizer: ``"adamw"`` or ``"sgd"`` (Nesterov momentum 0.9).
        label_smoothing: cross-entropy label smoothing (Szegedy et al., 2016) in [0, 1).
        augment: apply the dataset's recommended :class:`~cnnlib.data.Augmentation`
            (random crops, flips) to every training batch.
        max_train_samples: train on the first this many samples of every
            shuffled epoch (the quick budget uses it); ``None`` for all. Under
            ``torchrun`` and with ``compile=True`` only whole batches of them.
        seed: seeds the shuffling, the augmentation and torch's global generators (dropout).
        device: where to train; default :func:`device`. Under ``torchrun`` with
            CUDA, each process trains on its own GPU, ``cuda:LOCAL_RANK``
            (``device="cuda"`` names it too; another GPU is refused).
        compile: train through :func:`torch.compile` (evaluation runs the plain
            model); whole batches only, so that one compiled graph serves the run.
        checkpoint: a file for the training state (weights, optimiser, schedule,
            gradient scaler, generators, history), written atomically after every
            epoch. If it exists when ``fit`` starts, training resumes after its
            last epoch; the settings above must be those it was saved with.
        progress: show a ``tqdm`` progress bar (on the first process only).

    Returns:
        The :class:`History`, with test loss and accuracy after every epoch.

    Raises:
        TypeError: ``model`` is not a module or ``data`` not an ImageDataset.
        ValueError: a setting is out of range; the model does not fit the data
            (input channels, image size or number of classes) or a label lies
            outside the classes; or the checkpoint was saved with other settings.
    """
    path = _check_fit_arguments(
        model, data, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
        optimizer=optimizer, label_smoothing=label_smoothing, max_train_samples=max_train_samples,
        flags={"augment": augment, "compile": compile, "progress": progress},
        checkpoint=checkpoint,
    )  # fmt: skip
    world = _world_size()
    if batch_size % world:
        raise ValueError(
            f"fit: under torchrun batch_size ({batch_size}) must be a multiple of the {world} "
            "processes, so that each takes an equal share of every global batch"
        )
    dev = _training_device(device, world)
    rank, world = init_distributed(dev)
    # Entered before the set-up, which is then its first measurement of the other processes.
    with (
        CpuThreads(enabled=dev.type == "cpu", local_world_size=_local_world_size(world)) as threads,
        _cudnn_autotuning(dev),
    ):
        generator = _seed_process(seed, rank)
        memory_format = _memory_format(dev)
        model.to(dev, memory_format=memory_format)
        _check_model_fits("fit", model, data, "train", dev, memory_format)
        autocast, amp_name, needs_scaler = _autocast(dev)
        batches = _batches(
            data, dev, memory_format, batch_size=batch_size, max_samples=max_train_samples,
            augment=augment, rank=rank, world=world, whole_batches=world > 1 or compile,
        )  # fmt: skip
        optimiser, schedule = _optimiser_and_schedule(
            model, optimizer, lr=lr, weight_decay=weight_decay, epochs=epochs,
            steps_per_epoch=len(batches), dev=dev,
        )  # fmt: skip
        history = History(device=str(dev), amp=amp_name, budget=budget().name, world_size=world)
        scaler = torch.amp.GradScaler("cuda", enabled=needs_scaler)
        state = _TrainingState(model, optimiser, schedule, scaler, generator, history)
        saved = None
        if path is not None:
            saved = _Checkpoint(path, {
                "epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay,
                "optimizer": optimizer, "label_smoothing": label_smoothing, "augment": augment,
                "max_train_samples": max_train_samples, "seed": seed, "dataset": data.name,
                "world_size": world,
            })  # fmt: skip
            saved.resume(state, dev, world)
        with _global_batch_norm(model, dev, enabled=world > 1):
            trained = model
            if world > 1:
                trained = DistributedDataParallel(model, device_ids=_device_ids(dev))
            if compile:
                trained = torch.compile(trained)
            _run_epochs(
                trained, data, batches, state, epochs=epochs, autocast=autocast,
                label_smoothing=label_smoothing, checkpoint=saved, show=progress and rank == 0,
                threads=threads,
            )  # fmt: skip
    return state.history


def _run_epochs(
    trained: nn.Module,
    data: ImageDataset,
    batches: _Batches,
    state: _TrainingState,
    *,
    epochs: int,
    autocast: contextlib.AbstractContextManager,
    label_smoothing: float,
    checkpoint: _Checkpoint | None,
    show: bool,
    threads: CpuThreads,
) -> None:
    """The epochs ``state.history`` does not hold yet: train, evaluate, record, save."""
    dev = batches.images.device
    model, history, steps = state.model, state.history, len(batches)
    with tqdm(total=epochs * steps, initial=len(history) * steps, disable=not show,
              unit="batch") as bar:  # fmt: skip

        def after_step() -> None:
            bar.update()
            threads.update()

        threads.update()  # a long set-up already measured the other processes
        for epoch in range(len(history), epochs):
            start = time.perf_counter()
            loss_sum, correct = _train_epoch(
                trained, batches, state, autocast=autocast, label_smoothing=label_smoothing,
                after_step=after_step,
            )  # fmt: skip
            _synchronise(dev)  # the GPU's queued steps belong to the training time
            train_seconds = time.perf_counter() - start
            if batches.world > 1:
                _broadcast_buffers(model)
            # Every process evaluates the whole test set (the same weights, the same numbers).
            test_loss, test_accuracy = evaluate(model, data, device=dev)
            history.train_loss.append(loss_sum / batches.used)
            history.train_accuracy.append(correct / batches.used)
            history.test_loss.append(test_loss)
            history.test_accuracy.append(test_accuracy)
            history.seconds.append(time.perf_counter() - start)
            history.samples_per_second.append(batches.used / train_seconds)
            history.cpu_threads.append(torch.get_num_threads())
            if checkpoint is not None and (batches.world == 1 or dist.get_rank() == 0):
                checkpoint.save(state, dev)
            if batches.world > 1:
                dist.barrier()
            bar.set_postfix(
                epoch=epoch + 1, loss=f"{history.train_loss[-1]:.3f}",
                test_acc=f"{test_accuracy:.3f}",
            )  # fmt: skip


def _synchronise(dev: torch.device) -> None:
    """Wait for the work queued on a GPU (nothing to wait for elsewhere)."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _device_ids(dev: torch.device) -> list[torch.device] | None:
    """DistributedDataParallel's ``device_ids``: the process's GPU, or None on the CPU."""
    return [dev] if dev.type == "cuda" else None


def _broadcast_buffers(model: nn.Module) -> None:
    """Give every process the first one's buffers (batch norms' running statistics)."""
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


@contextlib.contextmanager
def _cudnn_autotuning(dev: torch.device) -> Iterator[None]:
    """On CUDA, let cuDNN time its convolution algorithms once per shape; restored afterwards."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = before or dev.type == "cuda"
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


class _SummedOverProcesses(torch.autograd.Function):
    """The sum of a tensor over all processes; its gradient is summed over them likewise."""

    @staticmethod
    def forward(ctx: object, tensor: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        total = grad.clone()
        dist.all_reduce(total)
        return total


class _GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm over the global batch of a ``torchrun`` job, on any backend (gloo too).

    In training mode the mean and the (biased) variance come from all the
    processes' samples: two all-reductions of per-channel sums whose backward
    pass all-reduces the gradients (:class:`_SummedOverProcesses`), as if one
    process normalised the whole batch.
    Running statistics are updated as :class:`torch.nn.BatchNorm2d` does
    (unbiased variance, ``momentum``), so every process keeps the same ones.
    In eval mode it is a plain batch norm. :class:`torch.nn.SyncBatchNorm`
    does the same on GPUs only.
    """

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2-D input (N, C, ...), got {x.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        all_reduce = _SummedOverProcesses.apply
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        count = x.new_tensor([x.numel() // x.shape[1]])
        totals = all_reduce(torch.cat([x.sum(dims), count]))
        n = totals[-1]
        mean = totals[:-1] / n
        centred = x - mean.view(shape)
        variance = all_reduce(centred.square().sum(dims)) / n
        y = centred * torch.rsqrt(variance + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = self.momentum
                if factor is None:
                    factor = 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean, factor)
                self.running_var.lerp_(variance * n / (n - 1), factor)
        return y


@contextlib.contextmanager
def _global_batch_norm(model: nn.Module, dev: torch.device, enabled: bool) -> Iterator[None]:
    """While training under ``torchrun``: every batch norm of ``model`` normalises the global batch.

    Each batch norm is replaced, in place, by a synchronised one
    (:class:`torch.nn.SyncBatchNorm` on CUDA, :class:`_GlobalBatchNorm` on the
    CPU) that shares its parameters and buffers, so the optimiser, checkpoints
    and ``state_dict`` keys are untouched; the originals are put back at the end.
    """
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    if enabled:
        kind = nn.SyncBatchNorm if dev.type == "cuda" else _GlobalBatchNorm
        for parent in list(model.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.modules.batchnorm._BatchNorm):
                    synced = kind(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats)  # fmt: skip
                    for tensor in ("weight", "bias", "running_mean", "running_var",
                                   "num_batches_tracked"):  # fmt: skip
                        setattr(synced, tensor, getattr(child, tensor))
                    synced.train(child.training)
                    setattr(parent, name, synced)
                    swapped.append((parent, name, child))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
