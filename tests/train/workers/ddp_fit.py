"""Run by tests/train under torchrun: cnnlib.train.fit on a slice of Fashion-MNIST.

usage: torchrun --nproc_per_node N ddp_fit.py <case> <output.pt> [<checkpoint folder>]

``<case>`` is a key of :data:`CASES`: the model and the settings of ``fit``,
which the tests run again in one process to compare. The first process saves the
final weights and the history to ``<output.pt>``; with a checkpoint folder,
process ``r`` uses ``<folder>/rank<r>/run.pt`` (a filesystem per process, as on
several machines without a shared one), and ``DDP_FIT_INTERRUPT=1`` stops the
run during the second epoch's evaluation, once the first epoch is saved.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from cnnlib import data, train
from cnnlib.models import get_model

MODEL_SEED = 1
_COMMON = dict(lr=1e-2, seed=5, progress=False)
#: Each case's model and fit settings, shared with the tests.
CASES: dict[str, tuple[str, dict[str, object]]] = {
    # Whole global batches that split evenly.
    "lenet5": ("lenet5", dict(epochs=2, batch_size=100, max_train_samples=1_000, **_COMMON)),
    # Batch norm: the statistics must be those of the global batch. Two SGD steps:
    # ReLU and max-pooling kinks make longer runs diverge by float rounding alone.
    "modern": (
        "lenet5_modern",
        dict(epochs=1, batch_size=100, max_train_samples=200, optimizer="sgd", **_COMMON),
    ),
    # 9 samples in batches of 4: the last batch has 1 sample for 2 processes.
    "uneven": ("lenet5", dict(epochs=1, batch_size=4, max_train_samples=9, **_COMMON)),
    # A global batch that 2 processes cannot split evenly.
    "odd_batch": ("lenet5", dict(epochs=1, batch_size=5, max_train_samples=20, **_COMMON)),
    # Resumed from the first process's checkpoint (see the module docstring).
    "resume": ("lenet5", dict(epochs=2, batch_size=100, max_train_samples=400, **_COMMON)),
}


def small_fashion_mnist() -> data.ImageDataset:
    full = data.load_fashion_mnist()
    return dataclasses.replace(
        full,
        train_images=full.train_images[:2_000],
        train_labels=full.train_labels[:2_000],
        test_images=full.test_images[:500],
        test_labels=full.test_labels[:500],
    )


def main(case: str, output: str, checkpoints: str | None = None) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(MODEL_SEED)
    name, settings = CASES[case]
    model = get_model(name)
    if checkpoints is not None:
        # Processes that disagree about where to resume would wait for each other
        # forever: join the group here with a short timeout, so that a test fails.
        dist.init_process_group("gloo", timeout=timedelta(seconds=60))
        settings = {
            **settings,
            "checkpoint": Path(checkpoints) / f"rank{dist.get_rank()}" / "run.pt",
        }
    if os.environ.get("DDP_FIT_INTERRUPT") == "1":
        evaluate, calls = train.evaluate, []

        def evaluate_then_stop(*args: object, **kwargs: object) -> tuple[float, float]:
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return evaluate(*args, **kwargs)

        train.evaluate = evaluate_then_stop
    try:
        history = train.fit(model, small_fashion_mnist(), device=torch.device("cpu"), **settings)
    except ValueError as error:
        print(f"ValueError: {error}", file=sys.stderr)
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(4)
    result = {"model": model.state_dict(), "history": dataclasses.asdict(history)}
    if dist.get_rank() == 0:
        torch.save(result, output)
    torch.save(result, f"{output}.rank{dist.get_rank()}")


if __name__ == "__main__":
    main(*sys.argv[1:])
