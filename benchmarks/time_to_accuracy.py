"""Time to accuracy: wall-clock seconds for ``cnnlib.train.fit`` to reach a test accuracy.

What it measures, in two parts:

* ``lenet``: ``lenet5_modern`` trained on Fashion-MNIST on the CPU with the
  recipe ``LENET`` below, from loading the data (listed separately) to the
  final test accuracy. ``fit`` evaluates the test set after every epoch; that
  is counted too.
  Target: test accuracy >= 90 % in <= 45 s on 2 CPU cores.
* ``resnet``: ResNet-18 with the CIFAR stem (``small_input=True``) on CIFAR-10
  with the fast recipe ``RESNET``: SGD with Nesterov momentum, one-cycle,
  label smoothing 0.1, batch 512, random crops (4 pixels of padding) and
  flips, and the bf16 autocast and channels-last format that ``fit`` uses on
  CUDA by itself. Target: test accuracy >= 94 % in <= 60 s on one H100.
  Without a CUDA GPU it is a CPU smoke run, not the target: one epoch on a few
  thousand samples, evaluated on a thousand test images. CIFAR-10 comes from
  ``cnnlib.data.load_cifar10`` (downloaded only on CUDA); where it cannot be
  had, Fashion-MNIST stands in and the output says so.

Run: ``.venv/bin/python benchmarks/time_to_accuracy.py`` (both parts: about
half a minute for ``lenet`` and one for the CPU smoke run on 2 cores);
``--part lenet`` or ``--part resnet`` for one; ``--compile`` to train the
ResNet through ``torch.compile``; ``--quick`` for a few seconds of each (a
smoke test); ``--help`` for the options.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from dataclasses import dataclass
from typing import Literal

import torch

from _report import table, verdict
from cnnlib.data import DatasetUnavailableError, ImageDataset, load_cifar10, load_fashion_mnist
from cnnlib.models import get_model
from cnnlib.train import History, budget, device, fit


@dataclass(frozen=True)
class Recipe:
    """The settings of one ``fit`` call (``max_train_samples=None``: every sample)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    optimizer: Literal["adamw", "sgd"]
    label_smoothing: float
    augment: bool
    max_train_samples: int | None = None

    def describe(self, train_size: int) -> str:
        samples = min(train_size, self.max_train_samples or train_size)
        return (
            f"{self.epochs} epoch(s) x {samples:,} samples, batch {self.batch_size}, "
            f"{self.optimizer} lr {self.lr:g} weight decay {self.weight_decay:g}, one-cycle, "
            f"label smoothing {self.label_smoothing:g}, augment={self.augment}"
        )


# Tuned on this repository's 2-core CPU machine, 2026-11-29 (see benchmarks/README.md).
LENET = Recipe(epochs=4, batch_size=256, lr=6e-3, weight_decay=5e-4, optimizer="adamw",
               label_smoothing=0.0, augment=False)  # fmt: skip
LENET_TARGET = (0.90, 45.0)  # test accuracy, seconds
RESNET = Recipe(epochs=15, batch_size=512, lr=0.2, weight_decay=5e-4, optimizer="sgd",
                label_smoothing=0.1, augment=True)  # fmt: skip
RESNET_TARGET = (0.94, 60.0)
QUICK_SAMPLES = 4096  # --quick: one epoch on this many training samples
# Without CUDA: one epoch on this many training samples, evaluated on this many test images.
CPU_SMOKE = (2048, 1000)
QUICK_CPU_SMOKE = (256, 256)
QUICK_NOTE = ", quick run, not the target"


def one_epoch(recipe: Recipe, samples: int) -> Recipe:
    """``recipe`` cut down to one epoch on ``samples`` training samples."""
    return dataclasses.replace(recipe, epochs=1, max_train_samples=samples)


def timed_fit(
    model_name: str, model_kwargs: dict[str, object], data: ImageDataset, recipe: Recipe,
    *, dev: torch.device, compile_model: bool = False,
) -> tuple[History, float]:  # fmt: skip
    """Build the model (seed 0) and train it with ``recipe``; return the history and the seconds."""
    start = time.perf_counter()
    torch.manual_seed(0)
    model = get_model(model_name, **model_kwargs)
    history = fit(
        model, data, **dataclasses.asdict(recipe), compile=compile_model, seed=0, device=dev,
        progress=False,
    )  # fmt: skip
    return history, time.perf_counter() - start


def report(
    title: str, recipe: Recipe, data: ImageDataset, history: History, load_seconds: float,
    fit_seconds: float, *, compiled: bool = False,
) -> None:  # fmt: skip
    """Print the recipe, the accuracy after every epoch and where the seconds went."""
    samples = min(len(data.train_labels), recipe.max_train_samples or len(data.train_labels))
    # History.samples_per_second counts the training phase only; the rest of an epoch is evaluation.
    train = sum(samples / rate for rate in history.samples_per_second)
    print(title)
    print(f"  data: {data.name} from {data.source}, {len(data.test_labels):,} test images")
    print(
        f"  recipe: {recipe.describe(len(data.train_labels))}{', compile=True' if compiled else ''}"
    )
    print(
        f"  device {history.device}, AMP {history.amp}, torch threads {torch.get_num_threads()}, "
        f"budget {history.budget}"
    )
    print(
        "  test accuracy after each epoch: " + " ".join(f"{a:.2%}" for a in history.test_accuracy)
    )
    rows = [
        (f"load {data.name}", f"{load_seconds:.1f}"),
        (f"training, {len(history)} epoch(s)", f"{train:.1f}"),
        ("test-set evaluation after each epoch", f"{history.total_seconds - train:.1f}"),
        ("model set-up and the rest of fit", f"{fit_seconds - history.total_seconds:.1f}"),
        ("total wall clock", f"{load_seconds + fit_seconds:.1f}"),
    ]
    print("\n".join("  " + line for line in table(("phase", "seconds"), rows).splitlines()))
    print()


def run_lenet(*, quick: bool) -> str:
    """Part ``lenet``; returns its verdict for the RESULT line."""
    recipe = one_epoch(LENET, QUICK_SAMPLES) if quick else LENET
    start = time.perf_counter()
    data = load_fashion_mnist()
    load_seconds = time.perf_counter() - start
    history, fit_seconds = timed_fit("lenet5_modern", {}, data, recipe, dev=torch.device("cpu"))
    report("(a) lenet5_modern on Fashion-MNIST, CPU", recipe, data, history, load_seconds,
           fit_seconds)  # fmt: skip
    accuracy, seconds = history.test_accuracy[-1], load_seconds + fit_seconds
    target_accuracy, target_seconds = LENET_TARGET
    passed = accuracy >= target_accuracy and seconds <= target_seconds
    return (
        f"lenet5_modern {accuracy:.2%} in {seconds:.1f} s: {verdict(passed)} against target "
        f">= {target_accuracy:.0%} in <= {target_seconds:g} s on 2 CPU cores "
        f"({torch.get_num_threads()} torch threads{QUICK_NOTE if quick else ''})"
    )


def run_resnet(*, quick: bool, compile_model: bool) -> str:
    """Part ``resnet``; returns its verdict for the RESULT line."""
    dev = device()
    cuda = dev.type == "cuda"
    start = time.perf_counter()
    try:
        data, missing = load_cifar10(download=cuda), None
    except DatasetUnavailableError as error:
        data, missing = load_fashion_mnist(), str(error).splitlines()[0]
    load_seconds = time.perf_counter() - start
    if missing is not None:
        print(f"NOTE: {missing}\nNOTE: {data.name} stands in for CIFAR-10: not the target.\n")
    if cuda:
        recipe = one_epoch(RESNET, QUICK_SAMPLES) if quick else RESNET
        where = torch.cuda.get_device_name()
    else:
        train_samples, test_samples = QUICK_CPU_SMOKE if quick else CPU_SMOKE
        recipe = one_epoch(RESNET, train_samples)
        data = dataclasses.replace(
            data,
            test_images=data.test_images[:test_samples],
            test_labels=data.test_labels[:test_samples],
        )
        where = "CPU smoke run, not the target"
    model_kwargs = {
        "small_input": True,
        "num_classes": len(data.classes),
        "in_channels": data.image_shape[0],
    }
    history, fit_seconds = timed_fit(
        "resnet18", model_kwargs, data, recipe, dev=dev, compile_model=compile_model
    )
    title = f"(b) resnet18 (CIFAR stem) on {data.name}, {where}"
    report(title, recipe, data, history, load_seconds, fit_seconds, compiled=compile_model)
    accuracy, seconds = history.test_accuracy[-1], load_seconds + fit_seconds
    summary = f"resnet18 {accuracy:.2%} in {seconds:.1f} s"
    if not cuda:
        return f"{summary}: no CUDA GPU, CPU smoke run, not the target"
    if missing is not None:
        return f"{summary}: not measured ({data.name} stood in for CIFAR-10)"
    target_accuracy, target_seconds = RESNET_TARGET
    passed = accuracy >= target_accuracy and seconds <= target_seconds
    return (
        f"{summary}: {verdict(passed)} against target >= {target_accuracy:.0%} in "
        f"<= {target_seconds:g} s on an H100 (ran on {where}{QUICK_NOTE if quick else ''})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("all", "lenet", "resnet"), default="all",
                        help="which measurement to run (default all)")  # fmt: skip
    parser.add_argument(
        "--compile", action="store_true", help="train the ResNet through torch.compile"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds of each part (a smoke test)"
    )
    args = parser.parse_args()
    run = budget()
    print(
        f"Time to accuracy. cnnlib budget {run.name} ({run.reason}); "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    print()
    results = []
    if args.part in ("all", "lenet"):
        results.append(run_lenet(quick=args.quick))
    if args.part in ("all", "resnet"):
        results.append(run_resnet(quick=args.quick, compile_model=args.compile))
    print("RESULT: " + "; ".join(results))


if __name__ == "__main__":
    main()
