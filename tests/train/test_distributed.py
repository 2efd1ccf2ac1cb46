"""fit under torchrun, on two gloo processes on the CPU, against one process.

Each test runs ``workers/ddp_fit.py`` with ``torch.distributed.run`` (a few
seconds each), then the same case in this process, and compares.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ddp_fit  # the torchrun worker, on sys.path through conftest.py
from cnnlib import train
from cnnlib.models import get_model

pytestmark = pytest.mark.slow

CPU = torch.device("cpu")


def torchrun(case: str, output: Path, *extra: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``ddp_fit.py <case> <output> [extra]`` on two processes; return the finished run."""
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(Path(ddp_fit.__file__)), case, str(output), *extra],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1", "CNNLIB_BUDGET": "quick", **env},
    )  # fmt: skip


def one_process(case: str, small) -> tuple[train.History, dict[str, torch.Tensor]]:
    """The same case in this process, one thread."""
    name, settings = ddp_fit.CASES[case]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(ddp_fit.MODEL_SEED)
        model = get_model(name)
        history = train.fit(model, small, device=CPU, **settings)
    finally:
        torch.set_num_threads(threads)
    return history, model.state_dict()


def assert_same_run(ddp: dict, single: train.History, weights: dict, test_images: int) -> None:
    """Same global batches, gradients averaged over the halves: equal up to float rounding."""
    for name, tensor in weights.items():
        torch.testing.assert_close(ddp["model"][name], tensor, rtol=1e-4, atol=1e-5, msg=name)
    for field in ("train_loss", "test_loss"):
        assert ddp["history"][field] == pytest.approx(getattr(single, field), rel=1e-4), field
    two_images = 2 / test_images
    assert ddp["history"]["test_accuracy"] == pytest.approx(single.test_accuracy, abs=two_images)


def test_ddp_matches_one_process(small, tmp_path):
    result = torchrun("lenet5", tmp_path / "ddp.pt")
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    assert ddp["history"]["world_size"] == 2
    single, weights = one_process("lenet5", small)
    assert single.world_size == 1
    assert_same_run(ddp, single, weights, len(small.test_labels))


def test_ddp_with_batch_norm_matches_one_process(small, tmp_path):
    # Batch norm normalises with the statistics of the global batch, as in one process,
    # and every process ends with the same running statistics.
    result = torchrun("modern", tmp_path / "ddp.pt")
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    single, weights = one_process("modern", small)
    assert_same_run(ddp, single, weights, len(small.test_labels))
    other = torch.load(f"{tmp_path / 'ddp.pt'}.rank1", weights_only=True)
    for name, tensor in ddp["model"].items():
        assert torch.equal(other["model"][name], tensor), name
    assert other["history"]["test_loss"] == ddp["history"]["test_loss"]


def test_a_last_batch_smaller_than_the_processes_is_dropped(small, tmp_path):
    # 9 samples in batches of 4 on 2 processes: the last global batch holds one
    # sample, which would leave one process an empty shard (a NaN loss).
    result = torchrun("uneven", tmp_path / "ddp.pt")
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    assert all(math.isfinite(v) for v in ddp["history"]["train_loss"])
    # Whole global batches only: the same as one process on the first 8 samples.
    _, settings = ddp_fit.CASES["uneven"]
    torch.manual_seed(ddp_fit.MODEL_SEED)
    model = get_model("lenet5")
    single = train.fit(model, small, device=CPU, **{**settings, "max_train_samples": 8})
    assert_same_run(ddp, single, model.state_dict(), len(small.test_labels))


def test_a_global_batch_must_split_evenly(tmp_path):
    result = torchrun("odd_batch", tmp_path / "ddp.pt")
    assert result.returncode != 0 and not (tmp_path / "ddp.pt").exists()
    assert "batch_size (5) must be a multiple of the 2 processes" in result.stderr


def test_resume_without_a_shared_filesystem(tmp_path):
    # Only the first process's machine holds the checkpoint: it loads it and
    # sends it to the others, so every process resumes at the same epoch.
    for rank in (0, 1):
        (tmp_path / "straight" / f"rank{rank}").mkdir(parents=True)
        (tmp_path / "disks" / f"rank{rank}").mkdir(parents=True)
    straight = torchrun("resume", tmp_path / "straight.pt", str(tmp_path / "straight"))
    stopped = torchrun("resume", tmp_path / "stopped.pt", str(tmp_path / "disks"),
                       DDP_FIT_INTERRUPT="1")  # fmt: skip
    assert stopped.returncode != 0
    assert (tmp_path / "disks" / "rank0" / "run.pt").exists()
    assert not (tmp_path / "disks" / "rank1" / "run.pt").exists()
    resumed = torchrun("resume", tmp_path / "resumed.pt", str(tmp_path / "disks"))
    assert straight.returncode == 0, straight.stderr[-3000:]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a = torch.load(tmp_path / "straight.pt", weights_only=True)
    b = torch.load(tmp_path / "resumed.pt", weights_only=True)
    assert b["history"]["test_loss"] == a["history"]["test_loss"]
    for name, tensor in a["model"].items():
        assert torch.equal(b["model"][name], tensor), name
