"""CPU threads: ``fit`` alone and beside copies of itself, with torch's threads and with cnnlib's.

What it measures: the wall-clock seconds of one ``fit`` call in each of k
processes started together (k = 1, 2, 3), under two thread set-ups:

* torch's defaults, the behaviour before cnnlib chose threads: every process
  keeps torch's default thread count (one per physical core). The script sets
  ``OMP_NUM_THREADS`` to that count, an explicit choice ``fit`` leaves alone, so
  nothing else differs;
* cnnlib's policy (``cnnlib._threads``): nothing set; ``fit`` measures what the
  other processes keep busy and sets torch's threads accordingly.

Every process imports, loads the data, builds its model and warms up (a
``fit`` on 256 images: PyTorch's first optimiser imports ``torch._dynamo``, and
oneDNN builds its kernels on first use); once all are ready they start ``fit``
at the same moment, so the timed part overlaps fully. The workload is
``lenet5_modern`` on the first 40,000 Fashion-MNIST training images, 1 epoch,
with ``fit``'s defaults (batch 128, AdamW, label smoothing, random flips),
evaluated on 1,000 test images (``fit``'s evaluation is part of the time).

The alone baseline is one process with torch's defaults, the mean of three
runs one after another (one alone is run three times in both set-ups; its time
moves by about 10 % from run to run). A fair share for k processes is k times
the baseline: each gets 1/k of the machine. The table gives the seconds of each
process (of each run, alone), their mean against the baseline and against a
fair share, and the thread count each process ended with.

Target, for cnnlib's policy: one process alone within 1.10x of the baseline,
and 2 or 3 processes at once within 1.25x of a fair share.

Run: ``.venv/bin/python benchmarks/cpu_threads.py`` (about 3 minutes on 2
cores); ``--quick`` trains on 2,048 images; ``--help`` for the options.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import torch

from _report import table, verdict
from cnnlib.data import load_fashion_mnist
from cnnlib.models import get_model
from cnnlib.train import fit

MODEL = "lenet5_modern"
PROCESSES = (1, 2, 3)
ALONE_RUNS = 3
TEST_IMAGES = 1_000
WARM_UP_SAMPLES = 256
QUICK_SAMPLES = 2_048
TARGET_ALONE = 1.10
TARGET_FAIR = 1.25


@dataclass(frozen=True)
class Setup:
    """A way of running the processes: its name and the environment it adds."""

    name: str
    env: dict[str, str]


@dataclass(frozen=True)
class Run:
    """What the processes of one set-up and count reported."""

    setup: str
    processes: int
    seconds: list[float]
    threads: list[int]

    @property
    def mean(self) -> float:
        return sum(self.seconds) / len(self.seconds)


def worker(samples: int, batch_size: int) -> None:
    """One process: set up, say ``ready``, wait for a line on stdin, ``fit``, report as JSON."""
    full = load_fashion_mnist()
    data = dataclasses.replace(
        full,
        train_images=full.train_images[:samples],
        train_labels=full.train_labels[:samples],
        test_images=full.test_images[:TEST_IMAGES],
        test_labels=full.test_labels[:TEST_IMAGES],
    )
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    fit(
        get_model(MODEL), data, epochs=1, max_train_samples=WARM_UP_SAMPLES, device=cpu,
        progress=False,
    )  # fmt: skip
    model = get_model(MODEL)
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    history = fit(model, data, epochs=1, batch_size=batch_size, device=cpu, progress=False)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "threads": history.cpu_threads[-1]}), flush=True)


def run_together(setup: Setup, processes: int, samples: int, batch_size: int) -> Run:
    """Start ``processes`` workers, release them at once when all are ready, collect their times."""
    env = {**os.environ, **setup.env}
    command = [
        sys.executable, __file__, "--worker", "--samples", str(samples),
        "--batch-size", str(batch_size),
    ]  # fmt: skip
    workers = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(processes)
    ]
    for process in workers:
        line = process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"a worker failed to start (exit code {process.wait()})")
    for process in workers:
        process.stdin.write("go\n")
        process.stdin.flush()
    reports = []
    for process in workers:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed (exit code {process.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return Run(
        setup=setup.name,
        processes=processes,
        seconds=[report["seconds"] for report in reports],
        threads=[report["threads"] for report in reports],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--samples", type=int, default=40_000, help="training images (default 40,000)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=128, help="samples per step (default 128)"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"a smoke run: {QUICK_SAMPLES:,} training images"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    samples = QUICK_SAMPLES if args.quick else args.samples
    if args.worker:
        worker(samples, args.batch_size)
        return

    load = os.getloadavg()[0]
    default = torch.get_num_threads()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if any(os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")):
        parser.error("unset OMP_NUM_THREADS and MKL_NUM_THREADS: the script sets them itself")
    setups = (
        Setup("torch defaults", {"OMP_NUM_THREADS": str(default)}),
        Setup("cnnlib policy", {}),
    )
    measured: dict[tuple[str, int], list[Run]] = {}
    for processes in PROCESSES:
        for _ in range(ALONE_RUNS if processes == 1 else 1):
            for setup in setups:  # alternating, so that a drift hits both alike
                run = run_together(setup, processes, samples, args.batch_size)
                measured.setdefault((setup.name, processes), []).append(run)
    runs = [
        Run(
            setup=name,
            processes=processes,
            seconds=[s for run in repeats for s in run.seconds],
            threads=[t for run in repeats for t in run.threads],
        )
        for (name, processes), repeats in measured.items()
    ]
    alone = runs[0].mean

    print(
        f"CPU threads: {MODEL} on {samples:,} Fashion-MNIST images, 1 epoch, batch "
        f"{args.batch_size}, fit's defaults, {TEST_IMAGES:,} test images; k processes at once"
    )
    print(
        f"{cpus} CPUs, torch {torch.__version__} (default {default} "
        f"threads), load average {load:.2f} at the start"
    )
    print()
    rows = []
    for run in runs:
        fair = run.processes * alone
        rows.append(
            (
                run.setup,
                str(run.processes),
                ", ".join(f"{s:.1f}" for s in run.seconds),
                f"{run.mean / alone:.2f}x",
                f"{run.mean / fair:.2f}x",
                ", ".join(str(t) for t in run.threads),
            )
        )
    print(
        table(
            ("threads", "k", "seconds per process", "vs alone", "vs fair share", "threads used"),
            rows,
        )
    )
    print()
    policy = [run for run in runs if run.setup == "cnnlib policy"]
    alone_ratio = policy[0].mean / alone
    worst = max(run.mean / (run.processes * alone) for run in policy[1:])
    passed = alone_ratio <= TARGET_ALONE and worst <= TARGET_FAIR
    print(
        f"RESULT: cnnlib policy alone {alone_ratio:.2f}x the baseline, 2-3 processes at most "
        f"{worst:.2f}x a fair share: {verdict(passed)} against target <= {TARGET_ALONE:.2f}x "
        f"and <= {TARGET_FAIR:.2f}x{' (quick run)' if args.quick else ''}"
    )


if __name__ == "__main__":
    main()
