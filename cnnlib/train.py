"""Training that is honest about time: device choice, budgets, ``fit`` and ``evaluate``.

A chapter never hard-codes its epochs. It asks for the :func:`budget` and picks
per budget, so the same notebook runs in about a minute on a laptop CPU
(``quick``) and trains properly on a GPU (``full``)::

    run = budget()                      # Budget(name='quick', reason='no CUDA GPU found')
    epochs = run.pick(quick=3, full=30)

On CUDA, ``fit`` uses automatic mixed precision (bf16 where the GPU supports
it, else fp16 with a gradient scaler) and the channels-last memory format;
``compile=True`` adds :func:`torch.compile`. ``checkpoint=`` saves the whole
training state after every epoch (atomically) and resumes from it. Run the same
script under ``torchrun --nproc_per_node N`` and ``fit`` trains with
:class:`~torch.nn.parallel.DistributedDataParallel`, splitting every global
batch across the processes, so the numbers match a single process on the same
global batch.

Before any work, ``fit`` and ``evaluate`` run the model once on one image of the
data: a model built for other data (input channels, image size, number of
classes) fails there with a :class:`ValueError` that names the builder argument
to change, not mid-epoch inside PyTorch. On the CPU, ``fit`` fits torch's
thread count to what other processes leave free (see :mod:`cnnlib._threads`),
so that several runs sharing a machine do not slow each other down far beyond
a fair share.
"""

from __future__ import annotations

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
from cnnlib.data import Augmentation, ImageDataset

__all__ = [
    "device",
    "Budget",
    "budget",
    "seed_everything",
    "History",
    "fit",
    "evaluate",
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
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed_everything: seed must be a non-negative int, got {seed!r}")
    torch.manual_seed(seed)
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
    """Autocast context, its name, and whether fp16 needs a gradient scaler."""
    if dev.type != "cuda":
        return contextlib.nullcontext(), "off", False
    if torch.cuda.is_bf16_supported():
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


def init_distributed() -> tuple[int, int]:
    """Join the process group ``torchrun`` describes; return ``(rank, world_size)``.

    Without ``torchrun`` (no ``WORLD_SIZE`` above 1 in the environment) this does
    nothing and returns ``(0, 1)``. Under it, the group is initialised once
    (NCCL on CUDA, else gloo) and each process takes the GPU of its
    ``LOCAL_RANK``. :func:`fit` calls it, so a script needs no changes.

    Raises:
        ValueError: ``WORLD_SIZE`` or ``LOCAL_RANK`` is not a non-negative int.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    raw = os.environ.get("WORLD_SIZE", "1")
    if not raw.isdigit():
        raise ValueError(f"init_distributed: WORLD_SIZE must be a positive int, got {raw!r}")
    if int(raw) <= 1:
        return 0, 1
    local = os.environ.get("LOCAL_RANK", "0")
    if not local.isdigit():
        raise ValueError(f"init_distributed: LOCAL_RANK must be a non-negative int, got {local!r}")
    if torch.cuda.is_available():
        torch.cuda.set_device(int(local))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size()


def _local_world_size(world: int) -> int:
    """Processes of the job on this machine: ``LOCAL_WORLD_SIZE`` under torchrun, else ``world``."""
    raw = os.environ.get("LOCAL_WORLD_SIZE", "")
    return int(raw) if world > 1 and raw.isdigit() and int(raw) > 0 else world


def _training_device(requested: torch.device | None, world: int) -> torch.device:
    """``requested``; else under torchrun on CUDA the process's own GPU; else the best device."""
    if requested is not None:
        return requested
    if world > 1 and torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return _best_device()


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

    def __len__(self) -> int:
        return math.ceil(self.samples / self.batch_size)

    def epoch(self, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The ``(inputs, labels)`` of every step of one epoch."""
        order = torch.randperm(len(self.labels), generator=generator)[: self.samples]
        order = order.to(self.images.device)
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
) -> _Batches:
    """The training split of ``data`` on ``dev``, cut into ``fit``'s batches."""
    n = len(data.train_labels)
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
        samples=min(n, max_samples) if max_samples else n,
        rank=rank,
        world=world,
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


@dataclass(frozen=True)
class _Checkpoint:
    """The file ``fit(checkpoint=...)`` writes after every epoch, and the settings it belongs to."""

    path: Path
    settings: dict[str, object]

    def resume(self, state: _TrainingState, dev: torch.device) -> None:
        """Load the saved run into ``state``; nothing happens if the file does not exist.

        Raises:
            ValueError: the file was saved with other settings.
        """
        if not self.path.exists():
            return
        saved = torch.load(self.path, map_location="cpu", weights_only=True)
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
        state.optimizer.load_state_dict(saved["optimizer"])
        state.schedule.load_state_dict(saved["schedule"])
        state.scaler.load_state_dict(saved["scaler"])
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
        batch_size: samples per optimisation step (the global batch under ``torchrun``).
        lr: peak learning rate of the one-cycle schedule (Smith and Topin, 2019).
        weight_decay: decoupled (AdamW) or L2 (SGD) weight decay.
        optimizer: ``"adamw"`` or ``"sgd"`` (Nesterov momentum 0.9).
        label_smoothing: cross-entropy label smoothing (Szegedy et al., 2016) in [0, 1).
        augment: apply the dataset's recommended :class:`~cnnlib.data.Augmentation`
            (random crops, flips) to every training batch.
        max_train_samples: train on the first this many samples of every
            shuffled epoch (the quick budget uses it); ``None`` for all.
        seed: seeds the shuffling, the augmentation and torch's global generators (dropout).
        device: where to train; default :func:`device` (under ``torchrun`` on
            CUDA, the process's own GPU).
        compile: train through :func:`torch.compile` (evaluation runs the plain model).
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
    rank, world = init_distributed()
    dev = _training_device(device, world)
    cpu = dev.type == "cpu"
    # Entered before the set-up, which is then its first measurement of the other processes.
    with CpuThreads(enabled=cpu, local_world_size=_local_world_size(world)) as threads:
        generator = seed_everything(seed)
        memory_format = _memory_format(dev)
        model.to(dev, memory_format=memory_format)
        _check_model_fits("fit", model, data, "train", dev, memory_format)
        autocast, amp_name, needs_scaler = _autocast(dev)
        batches = _batches(
            data, dev, memory_format, batch_size=batch_size, max_samples=max_train_samples,
            augment=augment, rank=rank, world=world,
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
            saved.resume(state, dev)
        trained = DistributedDataParallel(model) if world > 1 else model
        if compile:
            trained = torch.compile(trained)

        steps = len(batches)
        with tqdm(
            total=epochs * steps, initial=len(state.history) * steps,
            disable=not progress or rank != 0, unit="batch",
        ) as bar:  # fmt: skip

            def after_step() -> None:
                bar.update()
                threads.update()

            threads.update()  # a long set-up already measured the other processes
            for epoch in range(len(state.history), epochs):
                start = time.perf_counter()
                loss_sum, correct = _train_epoch(
                    trained, batches, state, autocast=autocast, label_smoothing=label_smoothing,
                    after_step=after_step,
                )  # fmt: skip
                train_seconds = time.perf_counter() - start
                # Every process evaluates the whole test set (the same weights, the same numbers).
                test_loss, test_accuracy = evaluate(model, data, device=dev)
                history = state.history
                history.train_loss.append(loss_sum / batches.samples)
                history.train_accuracy.append(correct / batches.samples)
                history.test_loss.append(test_loss)
                history.test_accuracy.append(test_accuracy)
                history.seconds.append(time.perf_counter() - start)
                history.samples_per_second.append(batches.samples / train_seconds)
                history.cpu_threads.append(torch.get_num_threads())
                if saved is not None and rank == 0:
                    saved.save(state, dev)
                if world > 1:
                    dist.barrier()
                bar.set_postfix(
                    epoch=epoch + 1, loss=f"{history.train_loss[-1]:.3f}",
                    test_acc=f"{test_accuracy:.3f}",
                )  # fmt: skip
    return state.history
