"""fit's GPU paths: the decisions it takes for a CUDA device, checked on the CPU by
standing in for what torch.cuda reports, and the same runs on a real GPU (skipped
without one)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.distributed as dist
from torch import nn

from cnnlib import train
from cnnlib.models import get_model

CUDA = torch.device("cuda", 0)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


# ---------------------------------------------------------------------------
# bf16 only where the GPU computes in it
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "capability, native, expected",
    [((7, 5), False, ("fp16", True)), ((7, 0), False, ("fp16", True)),
     ((8, 0), True, ("bf16", False)), ((9, 0), True, ("bf16", False))],
)  # fmt: skip
def test_bf16_only_with_native_support(monkeypatch, capability, native, expected):
    # A T4 (7.5) or V100 (7.0) "supports" bf16 by emulation only: cuDNN has no
    # bf16 convolutions below compute capability 8.0, so fit must use fp16 there.
    monkeypatch.setattr(
        torch.cuda,
        "is_bf16_supported",
        lambda including_emulation=True: including_emulation or native,
    )
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    _, name, needs_scaler = train._autocast(CUDA)
    assert (name, needs_scaler) == expected


# ---------------------------------------------------------------------------
# The process group: a backend per device, set_device only for CUDA training
# ---------------------------------------------------------------------------


@pytest.fixture
def fake_group(monkeypatch):
    """torchrun's environment for rank 1 of 2 on a CUDA host, and a recorded init_process_group."""
    calls: dict[str, object] = {"set_device": []}
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_device", lambda d: calls["set_device"].append(d))
    monkeypatch.setattr(dist, "is_initialized", lambda: "init" in calls)

    def init_process_group(backend=None, **kwargs):
        calls["init"] = (backend, kwargs)

    monkeypatch.setattr(dist, "init_process_group", init_process_group)
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    return calls


def test_cpu_training_on_a_cuda_host_uses_gloo_and_no_gpu(fake_group):
    assert train.init_distributed(torch.device("cpu")) == (1, 2)
    backend, kwargs = fake_group["init"]
    assert backend == "cpu:gloo,cuda:nccl"
    assert fake_group["set_device"] == [] and kwargs.get("device_id") is None


def test_cuda_training_takes_the_local_ranks_gpu(fake_group):
    assert train.init_distributed(torch.device("cuda", 1)) == (1, 2)
    backend, kwargs = fake_group["init"]
    assert backend == "cpu:gloo,cuda:nccl"
    assert fake_group["set_device"] == [torch.device("cuda", 1)]
    assert kwargs["device_id"] == torch.device("cuda", 1)


def test_the_device_of_a_process_follows_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert train._training_device(torch.device("cuda"), world=2) == torch.device("cuda", 1)
    assert train._training_device(None, world=2) == torch.device("cuda", 1)
    assert train._training_device(torch.device("cpu"), world=2) == torch.device("cpu")
    with pytest.raises(ValueError, match="LOCAL_RANK is 1.*device='cuda:0'"):
        train._training_device(torch.device("cuda", 0), world=2)


# ---------------------------------------------------------------------------
# Resuming where the parameters have another memory layout
# ---------------------------------------------------------------------------


def test_resumed_optimiser_state_takes_each_parameters_layout():
    # A CUDA run keeps its weights channels-last, a CPU run contiguous, and a
    # checkpoint keeps the layout it was saved in. Fused optimisers walk a
    # parameter and its state together; CUDA's fused AdamW refuses tensors whose
    # strides differ. So every state tensor is laid out like its parameter.
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)
    saved_opt = torch.optim.SGD(conv.parameters(), lr=0.1, momentum=0.9)
    conv(torch.randn(4, 3, 8, 8).to(memory_format=torch.channels_last)).square().sum().backward()
    saved_opt.step()
    saved = copy.deepcopy(saved_opt.state_dict())
    assert saved["state"][0]["momentum_buffer"].is_contiguous(memory_format=torch.channels_last)

    def resume_and_step(fused: bool) -> torch.Tensor:
        model = nn.Conv2d(3, 8, 3)
        model.load_state_dict({k: v.contiguous() for k, v in conv.state_dict().items()})
        optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=fused)
        train._load_optimiser_state(optimiser, copy.deepcopy(saved))
        for parameter in model.parameters():
            buffer = optimiser.state[parameter]["momentum_buffer"]
            assert buffer.stride() == parameter.stride()
        torch.manual_seed(1)
        model(torch.randn(4, 3, 8, 8)).square().sum().backward()
        optimiser.step()
        return model.weight.detach()

    torch.testing.assert_close(resume_and_step(fused=True), resume_and_step(fused=False))


def test_an_empty_scaler_state_starts_a_fresh_scaler():
    # A checkpoint from a CPU or bf16 run saved a disabled scaler: its state is {}.
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    train._load_scaler_state(scaler, {})
    assert scaler.is_enabled() and scaler.get_scale() == 2.0**16


# ---------------------------------------------------------------------------
# Different random streams per process, the same augmentation
# ---------------------------------------------------------------------------


def test_every_process_draws_its_own_dropout_masks():
    generators = [train._seed_process(7, rank) for rank in (0, 1)]
    draws = []
    for rank in (0, 1):
        train._seed_process(7, rank)
        draws.append(torch.rand(5))
    assert not torch.equal(draws[0], draws[1])
    # One process (rank 0) seeds exactly as seed_everything always did.
    train.seed_everything(7)
    assert torch.equal(draws[0], torch.rand(5))
    # The shuffling and augmentation generator is the same on every process.
    assert torch.equal(generators[0].get_state(), generators[1].get_state())


# ---------------------------------------------------------------------------
# Time, autotuning and batch shapes
# ---------------------------------------------------------------------------


def test_epoch_time_waits_for_the_gpu(monkeypatch):
    # CUDA runs asynchronously: without a synchronisation the queued steps would be
    # counted in the evaluation's time and the training throughput overstated.
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    train._synchronise(torch.device("cpu"))
    train._synchronise(CUDA)
    assert calls == [CUDA]


def test_cudnn_autotuning_only_on_cuda_and_restored():
    before = torch.backends.cudnn.benchmark
    with train._cudnn_autotuning(CUDA):
        assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cudnn.benchmark is before
    with train._cudnn_autotuning(torch.device("cpu")):
        assert torch.backends.cudnn.benchmark is before


def test_whole_batches_leave_out_a_last_partial_batch(small):
    # Under torchrun and with torch.compile, every step gets a whole batch: one
    # shape for the compiled graph, an equal share for every process.
    def batches(whole: bool) -> train._Batches:
        return train._batches(
            small, torch.device("cpu"), torch.contiguous_format, batch_size=64,
            max_samples=1_000, augment=False, rank=0, world=1, whole_batches=whole,
        )  # fmt: skip

    assert (len(batches(False)), batches(False).used) == (16, 1_000)  # 15 x 64 + 40
    assert (len(batches(True)), batches(True).used) == (15, 960)
    sizes = [len(y) for _, y in batches(True).epoch(torch.Generator().manual_seed(0))]
    assert sizes == [64] * 15


def test_the_process_group_is_left_at_exit(monkeypatch):
    destroyed = []
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "destroy_process_group", lambda: destroyed.append(1))
    train._leave_process_group()
    assert destroyed == [1]


# ---------------------------------------------------------------------------
# On a real GPU
# ---------------------------------------------------------------------------


@needs_cuda
def test_cuda_fit_uses_the_right_precision_and_synchronised_timing(small):
    model = get_model("lenet5_modern")
    bf16 = torch.cuda.get_device_capability() >= (8, 0)
    history = train.fit(model, small, epochs=1, device=CUDA, progress=False)
    assert history.amp == ("bf16" if bf16 else "fp16")
    assert history.test_accuracy[-1] > 0.5
    assert torch.backends.cudnn.benchmark is False  # restored after the run


def stop_after_first_epoch(monkeypatch):
    """Make fit stop during its second evaluation (the first epoch's checkpoint is saved)."""
    evaluate, calls = train.evaluate, []

    def evaluate_then_stop(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(train, "evaluate", evaluate_then_stop)


@needs_cuda
@pytest.mark.parametrize("first, then", [("cpu", "cuda"), ("cuda", "cpu")])
def test_a_checkpoint_resumes_on_the_other_device(small, tmp_path, monkeypatch, first, then):
    # Fused AdamW on both: channels-last state on CUDA, contiguous on the CPU.
    path = tmp_path / "run.pt"
    settings = dict(epochs=2, max_train_samples=512, progress=False, checkpoint=path)
    with monkeypatch.context() as patch:
        stop_after_first_epoch(patch)
        with pytest.raises(KeyboardInterrupt):
            train.fit(get_model("lenet5_modern"), small, device=torch.device(first), **settings)
    history = train.fit(get_model("lenet5_modern"), small, device=torch.device(then), **settings)
    assert len(history) == 2 and all(math.isfinite(v) for v in history.train_loss)
