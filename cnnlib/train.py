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
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tempfile
import time
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
from cnnlib.data import ImageDataset

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
                f"budget: CNNLIB_BUDGET must be 'quick' or 'full', got {os.environ['CNNLIB_BUDGET']!r}"
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


def _autocast(dev: torch.device) -> tuple[contextlib.AbstractContextManager, str, bool]:
    """Autocast context, its name, and whether fp16 needs a gradient scaler."""
    if dev.type != "cuda":
        return contextlib.nullcontext(), "off", False
    if torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16), "bf16", False
    return torch.autocast("cuda", dtype=torch.float16), "fp16", True


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
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"evaluate: model must be a torch.nn.Module, got {type(model).__name__}")
    if split not in ("train", "test"):
        raise ValueError(f"evaluate: split must be 'train' or 'test', got {split!r}")
    positive_int("evaluate", "batch_size", batch_size)
    dev = device or next(model.parameters()).device
    images = getattr(data, f"{split}_images")
    labels = getattr(data, f"{split}_labels")
    mean = torch.tensor(data.mean, device=dev).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=dev).view(1, -1, 1, 1)
    memory_format = torch.channels_last if dev.type == "cuda" else torch.contiguous_format
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
    with the same seed and initial weights on the CPU give identical histories.

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
        ValueError: a setting is out of range, or the checkpoint was saved with
            other settings.
    """
    func = "fit"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(data, ImageDataset):
        raise TypeError(f"{func}: data must be a cnnlib.data.ImageDataset, got {type(data).__name__}")
    positive_int(func, "epochs", epochs)
    positive_int(func, "batch_size", batch_size)
    if max_train_samples is not None:
        positive_int(func, "max_train_samples", max_train_samples)
    positive_number(func, "lr", lr)
    non_negative_number(func, "weight_decay", weight_decay)
    probability(func, "label_smoothing", label_smoothing)
    if optimizer not in ("adamw", "sgd"):
        raise ValueError(f"{func}: optimizer must be 'adamw' or 'sgd', got {optimizer!r}")
    for name, flag in (("augment", augment), ("compile", compile), ("progress", progress)):
        boolean(func, name, flag)
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and not path.parent.is_dir():
        raise ValueError(f"{func}: checkpoint's folder {str(path.parent)!r} does not exist")

    rank, world = init_distributed()
    generator = seed_everything(seed)
    if device is not None:
        dev = device
    elif world > 1 and torch.cuda.is_available():
        dev = torch.device("cuda", torch.cuda.current_device())
    else:
        dev = globals()["device"]()
    memory_format = torch.channels_last if dev.type == "cuda" else torch.contiguous_format
    model.to(dev, memory_format=memory_format)
    autocast, amp_name, needs_scaler = _autocast(dev)
    scaler = torch.amp.GradScaler("cuda", enabled=needs_scaler)

    n = len(data.train_labels)
    n_used = min(n, max_train_samples) if max_train_samples else n
    steps_per_epoch = math.ceil(n_used / batch_size)
    # One fused kernel per step instead of a loop over parameter tensors (CPU and CUDA).
    fused = dev.type in ("cpu", "cuda")
    if optimizer == "adamw":
        opt: torch.optim.Optimizer = torch.optim.AdamW(
            model.parameters(), lr=lr, weight_decay=weight_decay, fused=fused
        )
    else:
        opt = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay,
            fused=fused,
        )  # fmt: skip
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch
    )
    history = History(device=str(dev), amp=amp_name, budget=budget().name, world_size=world)
    settings = {
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay,
        "optimizer": optimizer, "label_smoothing": label_smoothing, "augment": augment,
        "max_train_samples": max_train_samples, "seed": seed, "dataset": data.name, "world_size": world,
    }  # fmt: skip
    first_epoch = 0
    if path is not None and path.exists():
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state["settings"] != settings:
            changed = {k: (state["settings"].get(k), v) for k, v in settings.items() if state["settings"].get(k) != v}
            raise ValueError(
                f"{func}: the checkpoint {str(path)!r} was saved with other settings "
                f"(saved, now): {changed}; delete it or train with its settings"
            )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        scaler.load_state_dict(state["scaler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and dev.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], dev)
        history = History(**state["history"])
        first_epoch = len(history)

    trained = DistributedDataParallel(model) if world > 1 else model
    if compile:
        trained = torch.compile(trained)
    images = data.train_images.to(dev)
    labels = data.train_labels.to(dev)
    mean = torch.tensor(data.mean, device=dev).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=dev).view(1, -1, 1, 1)
    augmentation = data.augmentation if augment else None

    bar = tqdm(
        total=epochs * steps_per_epoch, initial=first_epoch * steps_per_epoch,
        disable=not progress or rank != 0, unit="batch",
    )  # fmt: skip
    try:
        for epoch in range(first_epoch, epochs):
            start = time.perf_counter()
            trained.train()
            order = torch.randperm(n, generator=generator)[:n_used].to(dev)
            loss_sum = torch.zeros((), device=dev)
            correct = torch.zeros((), device=dev, dtype=torch.long)
            for step in range(steps_per_epoch):
                index = order[step * batch_size : (step + 1) * batch_size]
                batch = images[index]
                if augmentation is not None and augmentation.enabled:
                    # The whole global batch on every process, so the draws stay in step.
                    batch = augmentation(batch, generator)
                # Under torchrun each process takes every world-th sample of the global batch.
                x = _normalise(batch[rank::world], mean, std, memory_format)
                y = labels[index][rank::world]
                with autocast:
                    logits = trained(x)
                    loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                schedule.step()
                loss_sum += loss.detach().float() * len(y)
                correct += (logits.detach().argmax(1) == y).sum()
                bar.update()
            if world > 1:
                dist.all_reduce(loss_sum)
                dist.all_reduce(correct)
            train_seconds = time.perf_counter() - start
            # Every process evaluates the whole test set (the same weights give the same numbers).
            test_loss, test_accuracy = evaluate(model, data, device=dev)
            history.train_loss.append(float(loss_sum) / n_used)
            history.train_accuracy.append(int(correct) / n_used)
            history.test_loss.append(test_loss)
            history.test_accuracy.append(test_accuracy)
            history.seconds.append(time.perf_counter() - start)
            history.samples_per_second.append(n_used / train_seconds)
            if path is not None and rank == 0:
                _save_atomic(
                    {
                        "settings": settings,
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "schedule": schedule.state_dict(),
                        "scaler": scaler.state_dict(),
                        "generator": generator.get_state(),
                        "torch_rng": torch.get_rng_state(),
                        **({"cuda_rng": torch.cuda.get_rng_state(dev)} if dev.type == "cuda" else {}),
                        "history": dataclasses.asdict(history),
                    },
                    path,
                )
            if world > 1:
                dist.barrier()
            bar.set_postfix(
                epoch=epoch + 1,
                loss=f"{history.train_loss[-1]:.3f}",
                test_acc=f"{test_accuracy:.3f}",
            )
    finally:
        bar.close()
    return history
