"""Training throughput of ``cnnlib.train.fit`` against the textbook PyTorch loop.

What it measures: samples per second of the training epochs (evaluation not
counted) of ``lenet5_modern`` on Fashion-MNIST, trained two ways with the same
initial weights, optimiser (AdamW, same learning rate and weight decay), batch
size and number of epochs:

* the textbook loop: torchvision's ``datasets.FashionMNIST`` (a PIL image per
  sample) with ``Compose([ToTensor(), Normalize(mean, std)])``, a
  ``DataLoader(shuffle=True)`` and ``train / zero_grad / forward /
  cross_entropy / backward / step``;
* ``cnnlib.train.fit``, which slices batches out of in-memory uint8 tensors.
  Its ``History.samples_per_second`` counts only the training phase of each
  epoch, not the evaluation ``fit`` runs after it. It is called with
  ``augment=False`` and ``label_smoothing=0`` (its defaults augment and smooth
  labels), so both loops do the same work (``fit`` adds its one-cycle
  learning-rate schedule, one cheap call per step).

A third row times the same number of optimisation steps on one fixed batch,
with no data pipeline at all: the rate no loop around this model can beat, so
``bound / textbook`` is the largest ratio the target could see on this machine.

Target: ``cnnlib / textbook >= 3x`` on 2 CPU cores (torch's default threads).

Run: ``.venv/bin/python benchmarks/train_throughput.py`` (about a minute on 2
cores); ``--quick`` trains on 2,048 samples only; ``--help`` for the options.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import datasets, transforms

from _report import table, verdict
from cnnlib.data import load_fashion_mnist
from cnnlib.models import get_model
from cnnlib.train import evaluate, fit

MODEL = "lenet5_modern"
TARGET_RATIO = 3.0
QUICK_SAMPLES = 2048
WARM_UP_STEPS = 5


def torchvision_fashion_mnist(source: Path, root: Path) -> datasets.FashionMNIST:
    """torchvision's training split read from the IDX files in ``source``.

    The files are unpacked into ``root/FashionMNIST/raw/`` and the dataset is
    built with ``download=False``: torchvision checks the MD5 of the ``.gz``
    files it downloads, which re-compressed copies (Debian's) fail.
    """
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name, _ in datasets.FashionMNIST.resources:
        stem = Path(name).stem  # train-images-idx3-ubyte.gz -> train-images-idx3-ubyte
        packed, plain = source / name, source / stem
        if packed.is_file():
            with gzip.open(packed, "rb") as src, open(raw / stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            shutil.copyfile(plain, raw / stem)
    return datasets.FashionMNIST(str(root), train=True, download=False)


def fresh_model(seed: int) -> nn.Module:
    """``lenet5_modern`` with the initial weights that ``seed`` gives."""
    torch.manual_seed(seed)
    return get_model(MODEL)


def model_steps(steps: int, batch_size: int, *, lr: float, weight_decay: float) -> float:
    """Seconds for ``steps`` optimisation steps on one fixed random batch: no data pipeline at all.

    The rate this gives bounds what any training loop can reach with this model;
    a few steps of it also warm up the kernels before the two loops are timed.
    """
    model = fresh_model(0)
    # Fused, like the optimiser fit builds on the CPU.
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True)
    x = torch.randn(batch_size, 1, 28, 28)
    y = torch.randint(0, 10, (batch_size,))
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return time.perf_counter() - start


def textbook_train(
    model: nn.Module, loader: DataLoader, *, epochs: int, lr: float, weight_decay: float
) -> float:
    """Train with the textbook loop; return the seconds the epochs took."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1, help="training epochs (default 1)")
    parser.add_argument(
        "--batch-size", type=int, default=128, help="samples per step (default 128)"
    )
    parser.add_argument("--lr", type=float, default=3e-3, help="AdamW learning rate (default 3e-3)")
    parser.add_argument(
        "--weight-decay", type=float, default=5e-4, help="AdamW weight decay (default 5e-4)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="DataLoader worker processes (default 0)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="initial weights and shuffling (default 0)"
    )
    parser.add_argument(
        "--max-train-samples", type=int, default=None,
        help="train on this many samples per epoch instead of all 60,000",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", help=f"a smoke run: {QUICK_SAMPLES:,} samples, 1 epoch"
    )
    args = parser.parse_args()
    epochs = 1 if args.quick else args.epochs
    max_samples = QUICK_SAMPLES if args.quick else args.max_train_samples
    cpu = torch.device("cpu")
    optimiser = {"lr": args.lr, "weight_decay": args.weight_decay}
    load = os.getloadavg()[0]

    data = load_fashion_mnist()
    with tempfile.TemporaryDirectory(prefix="fashion-mnist-") as tmp:
        transform = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize(data.mean, data.std)]
        )
        full = torchvision_fashion_mnist(Path(data.source), Path(tmp))
        full.transform = transform
        train_set: Dataset = full if max_samples is None else Subset(full, range(max_samples))
        n = len(train_set)
        loader = DataLoader(
            train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
            generator=torch.Generator().manual_seed(args.seed),
        )  # fmt: skip
        model_steps(WARM_UP_STEPS, args.batch_size, **optimiser)
        textbook_model = fresh_model(args.seed)
        textbook_seconds = textbook_train(textbook_model, loader, epochs=epochs, **optimiser)
    _, textbook_accuracy = evaluate(textbook_model, data, device=cpu)

    # fit augments and smooths labels by default; the textbook loop does neither.
    history = fit(
        fresh_model(args.seed), data, epochs=epochs, batch_size=args.batch_size, optimizer="adamw",
        label_smoothing=0.0, augment=False, max_train_samples=max_samples, seed=args.seed,
        device=cpu, progress=False, **optimiser,
    )  # fmt: skip
    fit_seconds = sum(n / rate for rate in history.samples_per_second)

    steps = epochs * math.ceil(n / args.batch_size)
    bound_seconds = model_steps(steps, args.batch_size, **optimiser)
    textbook_rate = epochs * n / textbook_seconds
    fit_rate = epochs * n / fit_seconds
    bound_rate = steps * args.batch_size / bound_seconds
    ratio = fit_rate / textbook_rate
    threads = torch.get_num_threads()
    print(
        f"Training throughput: {MODEL} on Fashion-MNIST, {epochs} epoch(s) of {n:,} samples, "
        f"batch {args.batch_size}, AdamW lr {args.lr:g} weight decay {args.weight_decay:g}"
    )
    print(
        f"CPU, torch threads {threads}, DataLoader workers {args.workers}, "
        f"load average {load:.2f} at the start; fit: augment=False, label_smoothing=0"
    )
    print()
    print(
        table(
            ("training loop", "train s", "samples/s", "vs textbook", "test acc"),
            [
                ("textbook (PIL + DataLoader)", f"{textbook_seconds:.2f}", f"{textbook_rate:,.0f}",
                 "1.00x", f"{textbook_accuracy:.2%}"),
                ("cnnlib.train.fit", f"{fit_seconds:.2f}", f"{fit_rate:,.0f}", f"{ratio:.2f}x",
                 f"{history.test_accuracy[-1]:.2%}"),
                ("bound: model steps on one batch", f"{bound_seconds:.2f}", f"{bound_rate:,.0f}",
                 f"{bound_rate / textbook_rate:.2f}x", "-"),
            ],
        )
    )  # fmt: skip
    print()
    print(
        f"RESULT: cnnlib / textbook = {ratio:.2f}x: {verdict(ratio >= TARGET_RATIO)} against "
        f"target >= {TARGET_RATIO:g}x on 2 CPU cores ({threads} torch threads"
        f"{', quick run' if args.quick else ''})"
    )


if __name__ == "__main__":
    main()
