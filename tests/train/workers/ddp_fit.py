"""Run by tests/test_train_runs.py under torchrun: cnnlib.train.fit on a slice of Fashion-MNIST.

usage: torchrun --nproc_per_node N ddp_fit.py <output.pt>
The first process saves the final weights and the history to <output.pt>.
"""

from __future__ import annotations

import dataclasses
import sys

import torch
import torch.distributed as dist

from cnnlib import data, train
from cnnlib.models import get_model

# Shared with the test, which runs the same settings in one process.
SETTINGS = dict(epochs=2, batch_size=100, lr=1e-2, max_train_samples=1_000, seed=5, progress=False)
MODEL_SEED = 1


def small_fashion_mnist() -> data.ImageDataset:
    full = data.load_fashion_mnist()
    return dataclasses.replace(
        full,
        train_images=full.train_images[:2_000],
        train_labels=full.train_labels[:2_000],
        test_images=full.test_images[:500],
        test_labels=full.test_labels[:500],
    )


def main(output: str) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(MODEL_SEED)
    model = get_model("lenet5")
    history = train.fit(model, small_fashion_mnist(), device=torch.device("cpu"), **SETTINGS)
    if dist.get_rank() == 0:
        torch.save({"model": model.state_dict(), "history": dataclasses.asdict(history)}, output)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
