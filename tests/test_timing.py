"""cnnlib.timing.forward_latency: what it runs and what it reports, never how fast."""

from __future__ import annotations

import dataclasses
import time

import pytest
import torch
from torch import nn

from cnnlib.models import get_model
from cnnlib.timing import Latency, forward_latency

RUN = 0.01  # seconds of measurements: enough to exercise the timer, not to time anything


class Spy(nn.Module):
    """A small convolutional model that records what every forward pass saw."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.seen: list[tuple[tuple[int, ...], bool, bool, int, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(
            (tuple(x.shape), self.training, torch.is_grad_enabled(), torch.get_num_threads(),
             bool((x == 0).all()))
        )  # fmt: skip
        return self.bn(self.conv(x))


@pytest.mark.parametrize("training", [True, False])
def test_runs_in_eval_mode_without_grad_and_restores_the_mode(training):
    model = Spy().train(training)
    running_mean = model.bn.running_mean.clone()
    forward_latency(model, (2, 3, 8, 8), min_run_time=RUN)
    assert model.training is training
    assert model.seen, "the model never ran"
    assert all(not was_training and not grad for _, was_training, grad, _, _ in model.seen)
    # Eval mode: BatchNorm's statistics did not move.
    assert torch.equal(model.bn.running_mean, running_mean)


def test_the_model_sees_zeros_of_the_requested_shape():
    model = Spy()
    forward_latency(model, [5, 3, 7, 9], min_run_time=RUN)
    assert {shape for shape, *_ in model.seen} == {(5, 3, 7, 9)}
    assert all(zeros for *_, zeros in model.seen)


def test_threads_are_used_and_restored():
    before = torch.get_num_threads()
    model = Spy()
    latency = forward_latency(model, (1, 3, 8, 8), min_run_time=RUN, threads=1)
    # The first call checks that the input fits; the timer makes every later one.
    assert {threads for _, _, _, threads, _ in model.seen[1:]} == {1}
    assert latency.threads == 1
    assert torch.get_num_threads() == before
    assert forward_latency(Spy(), (1, 3, 8, 8), min_run_time=RUN).threads == before


def test_the_result_is_consistent():
    latency = forward_latency(get_model("lenet5"), (4, 1, 28, 28), min_run_time=RUN)
    assert isinstance(latency, Latency)
    assert latency.median > 0 and latency.iqr >= 0 and latency.measurements >= 1
    assert latency.device == "cpu"
    text = str(latency)
    assert "\n" not in text
    assert text.startswith(f"{latency.median * 1e3:.3f} ms median")
    assert f"{latency.measurements} measurement" in text and "on cpu" in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        latency.median = 0.0  # type: ignore[misc]


def test_a_model_without_parameters_runs_on_the_cpu():
    assert forward_latency(nn.ReLU(), (1, 1, 4, 4), min_run_time=RUN).device == "cpu"


def test_an_input_the_model_cannot_take_names_the_fix():
    with pytest.raises(ValueError, match="forward_latency: .*in_channels=1"):
        forward_latency(Spy(), (1, 1, 8, 8), min_run_time=RUN)


def test_device_moves_the_model():
    model = Spy()
    latency = forward_latency(model, (1, 3, 8, 8), device="cpu", min_run_time=RUN)
    assert latency.device == "cpu" and model.conv.weight.device.type == "cpu"


class Sleeper(nn.Module):
    """Waits without using the CPU: elapsed time grows, CPU time does not."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.seconds)
        return x


def test_thread_cpu_clock_leaves_out_waiting():
    nap = 0.005
    wall = forward_latency(Sleeper(nap), (1, 3, 8, 8), min_run_time=0.05, threads=1)
    cpu = forward_latency(
        Sleeper(nap), (1, 3, 8, 8), min_run_time=0.002, threads=1, clock="thread_cpu"
    )
    assert wall.median >= nap and wall.clock == "wall"
    assert cpu.median < nap / 5 and cpu.clock == "thread_cpu"
    assert "thread CPU time" in str(cpu) and "CPU time" not in str(wall)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("lenet5", (1, 1, 28, 28)), {}, TypeError, "model must be a torch.nn.Module"),
        ((Spy(), "1x3x8x8"), {}, TypeError, "input_size must be a sequence"),
        ((Spy(), (1, 3, 8)), {}, ValueError, "input_size must have four entries"),
        ((Spy(), (1, 3, 8, 8.0)), {}, TypeError, "input_size must hold ints"),
        ((Spy(), (0, 3, 8, 8)), {}, ValueError, "input_size must be positive"),
        ((Spy(), (1, 3, 8, 8)), {"device": 0.5}, TypeError, "device must be"),
        ((Spy(), (1, 3, 8, 8)), {"device": "abacus"}, ValueError, "device 'abacus'"),
        ((Spy(), (1, 3, 8, 8)), {"min_run_time": 0}, ValueError, "min_run_time"),
        ((Spy(), (1, 3, 8, 8)), {"min_run_time": float("inf")}, ValueError, "min_run_time"),
        ((Spy(), (1, 3, 8, 8)), {"threads": 0}, ValueError, "threads must be a positive int"),
        ((Spy(), (1, 3, 8, 8)), {"clock": "cpu"}, ValueError, "clock must be 'wall' or"),
        (
            (Spy(), (1, 3, 8, 8)),
            {"clock": "thread_cpu", "threads": 2},
            ValueError,
            "clock='thread_cpu' times one CPU thread",
        ),
    ],
)
def test_bad_arguments_are_named(args, kwargs, error, match):
    with pytest.raises(error, match=f"forward_latency: {match}"):
        forward_latency(*args, **kwargs)
