"""cnnlib.train beyond one plain run: checkpoints that resume exactly, torch.compile,
and the settings a run records (DistributedDataParallel: tests/train/test_distributed.py)."""

from __future__ import annotations

import pytest
import torch

from cnnlib import train
from cnnlib.models import get_model

CPU = torch.device("cpu")


def run(
    small, *, seed_model: int = 0, model: str = "lenet5_modern", **kwargs
) -> tuple[train.History, dict[str, torch.Tensor]]:
    torch.manual_seed(seed_model)
    network = get_model(model)
    settings = dict(
        epochs=3, batch_size=64, lr=1e-2, max_train_samples=640, seed=2, device=CPU,
        progress=False,
    )  # fmt: skip
    history = train.fit(network, small, **{**settings, **kwargs})
    return history, network.state_dict()


def test_checkpoint_resumes_exactly_where_it_stopped(small, tmp_path, monkeypatch, fixed_threads):
    straight, weights = run(small)

    # Interrupt a second run during epoch 2's evaluation: epoch 1's checkpoint is on disk.
    path = tmp_path / "run.pt"
    calls = []
    real_evaluate = train.evaluate

    def evaluate_then_crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(train, "evaluate", evaluate_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run(small, checkpoint=path)
    monkeypatch.setattr(train, "evaluate", real_evaluate)
    saved = torch.load(path, weights_only=True)
    assert len(saved["history"]["train_loss"]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary file left behind

    # A fresh model with other initial weights resumes and must land on the same numbers.
    resumed, resumed_weights = run(small, seed_model=123, checkpoint=path)
    assert len(resumed) == 3
    for field in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert getattr(resumed, field) == getattr(straight, field), field
    assert all(torch.equal(weights[k], resumed_weights[k]) for k in weights)

    # Finished: running again trains nothing and returns the same history.
    again, _ = run(small, checkpoint=path)
    assert again.test_accuracy == straight.test_accuracy


def test_checkpoint_refuses_other_settings(small, tmp_path):
    path = tmp_path / "run.pt"
    run(small, epochs=1, checkpoint=path)
    with pytest.raises(ValueError, match=r"other settings.*'lr': \(0.01, 0.02\)"):
        run(small, epochs=1, lr=2e-2, checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint's folder"):
        run(small, checkpoint=tmp_path / "missing" / "run.pt")


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "state.pt"
    train._save_atomic({"epoch": 1}, path)

    def broken_save(obj, file):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        train._save_atomic({"epoch": 2}, path)
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]


def record_gradients(model: torch.nn.Module) -> dict[str, list[torch.Tensor]]:
    """The gradient of every parameter (by name) at every optimisation step, as it trains."""
    gradients: dict[str, list[torch.Tensor]] = {name: [] for name, _ in model.named_parameters()}
    for name, parameter in model.named_parameters():
        parameter.register_post_accumulate_grad_hook(
            lambda p, seen=gradients[name]: seen.append(p.grad.clone())
        )
    return gradients


def test_compiled_step_computes_the_eager_gradients(small):
    """One optimisation step of lenet5_modern: compiled and eager agree to float32 rounding.

    Inductor fuses BatchNorm, ReLU and the loss into kernels of its own, so its
    sums run in another order than eager's. Measured on this model and batch:
    against a float64 reference, the fp32 gradients are off by at most 4e-5
    (relative norm, conv c1's weight, a sum of 64 x 28 x 28 products) for eager
    (1 or 2 threads) and compiled alike, and compiled differs from eager by at
    most 1.5e-6. The bound, 1e-4, is that float32 noise with room for other
    CPUs' kernels; the loss, one sum deep, agrees to 1e-7 (bound 1e-5).
    """
    runs = {}
    for compile in (False, True):
        torch.manual_seed(0)
        model = get_model("lenet5_modern")
        gradients = record_gradients(model)
        history = train.fit(
            model, small, epochs=1, batch_size=64, max_train_samples=64, augment=False, seed=2,
            device=CPU, progress=False, compile=compile,
        )  # fmt: skip
        runs[compile] = history, gradients, model.state_dict()
    eager, eager_gradients, eager_state = runs[False]
    compiled, compiled_gradients, compiled_state = runs[True]
    assert compiled.train_loss == pytest.approx(eager.train_loss, rel=1e-5)
    assert eager_gradients.keys() == compiled_gradients.keys()
    for name, [expected] in eager_gradients.items():
        [gradient] = compiled_gradients[name]
        assert float((gradient - expected).norm() / expected.norm()) < 1e-4, name
    # After the step: the weights (AdamW's first step is about lr * sign(gradient)) and
    # BatchNorm's running statistics, to float32's default tolerances.
    for name, tensor in eager_state.items():
        torch.testing.assert_close(compiled_state[name], tensor, msg=name)


def test_compiled_training_follows_eager(small):
    """Ten steps of compiled training stay within float32 noise of eager training.

    The model is lenet5 (scaled tanh, average pooling, no BatchNorm): its loss is
    smooth, so a rounding difference stays rounding-sized over a few steps.
    Measured after these 10 AdamW steps: eager runs that differ from the
    reference only in the order of their float32 sums (oneDNN off, another
    thread count) or by one ulp in the initial weights end within 5e-6 of it
    (largest weight difference, over six perturbations); compiled ends within
    5e-7. The bound, 5e-5, is ten times that noise floor.

    lenet5_modern cannot be compared this way. Its loss has a kink wherever the
    input of a ReLU crosses zero, and among its 416,512 ReLU inputs per batch a
    few lie closer to zero than the rounding differences. At step 5 of the same
    run with it, weights 5e-6 apart put three on opposite sides: the gradient jumps
    by 1 % (in float64 as well: the jump is in the loss, not in the rounding),
    AdamW turns that into lr-sized steps, and the runs part. Two eager runs with
    1 and 2 threads end 1e-2 apart after 10 steps, as far as compiled and eager.
    """
    settings = dict(model="lenet5", epochs=1, augment=False)
    eager, eager_weights = run(small, **settings)
    compiled, compiled_weights = run(small, compile=True, **settings)
    assert compiled.train_loss == pytest.approx(eager.train_loss, rel=1e-5)
    for name, tensor in eager_weights.items():
        torch.testing.assert_close(compiled_weights[name], tensor, rtol=0, atol=5e-5, msg=name)


def test_history_records_budget_and_processes(small, monkeypatch):
    monkeypatch.setenv("CNNLIB_BUDGET", "full")
    history, _ = run(small, epochs=1)
    assert history.budget == "full" and history.world_size == 1
    assert "(full budget)" in history.summary()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"label_smoothing": 1.0}, r"label_smoothing must be a number in \[0, 1\), got 1.0"),
        ({"lr": 0}, "lr must be a positive finite number, got 0"),
        ({"lr": float("nan")}, "lr must be a positive finite number, got nan"),
        ({"weight_decay": -1}, "weight_decay must be a finite number >= 0, got -1"),
        ({"augment": "yes"}, "augment must be a bool, got 'yes'"),
        ({"compile": 1}, "compile must be a bool, got 1"),
    ],
)
def test_bad_settings_are_named(small, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        run(small, **kwargs)


def test_init_distributed_without_torchrun(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert train.init_distributed() == (0, 1)
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE must be a positive int, got 'two'"):
        train.init_distributed()


def test_sgd_nesterov_learns_and_reproduces(small, fixed_threads):
    first, weights = run(small, optimizer="sgd", lr=0.05)
    second, weights_again = run(small, optimizer="sgd", lr=0.05)
    assert first.train_loss == second.train_loss
    assert all(torch.equal(weights[k], weights_again[k]) for k in weights)
    # Better than chance (10 classes) on the held-out images after three short epochs.
    assert first.test_accuracy[-1] > 0.5 and first.train_loss[-1] < first.train_loss[0]
