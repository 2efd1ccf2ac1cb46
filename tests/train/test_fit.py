"""cnnlib.train on a slice of the real Fashion-MNIST."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cnnlib import train
from cnnlib.models import get_model


def test_device_follows_what_torch_sees():
    expected = "cuda" if torch.cuda.is_available() else None
    dev = train.device()
    if expected:
        assert dev.type == expected
    else:
        assert dev.type in ("mps", "cpu")
        assert (dev.type == "mps") == torch.backends.mps.is_available()


def test_budget_default_and_override(monkeypatch):
    monkeypatch.delenv("CNNLIB_BUDGET", raising=False)
    assert train.budget().name == ("full" if torch.cuda.is_available() else "quick")
    monkeypatch.setenv("CNNLIB_BUDGET", "FULL")
    chosen = train.budget()
    assert chosen.name == "full" and chosen.pick(quick=1, full=2) == 2
    monkeypatch.setenv("CNNLIB_BUDGET", "quick")
    assert train.budget().pick(quick="a", full="b") == "a"
    monkeypatch.setenv("CNNLIB_BUDGET", "medium")
    with pytest.raises(ValueError, match="CNNLIB_BUDGET.*'medium'"):
        train.budget()


def test_fit_lowers_the_loss(small):
    torch.manual_seed(0)
    model = get_model("lenet5_modern")
    before, _ = train.evaluate(model, small)
    history = train.fit(model, small, epochs=2, batch_size=64, lr=1e-2, progress=False)
    assert len(history) == 2
    # An untrained 10-way classifier sits near ln(10); training must beat it clearly.
    assert before > 0.8 * math.log(10)
    assert history.test_loss[-1] < 0.6 * before
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_accuracy[-1] > 0.6
    assert all(s > 0 for s in history.samples_per_second)
    assert "test accuracy" in history.summary()


def test_seeded_cpu_runs_are_identical(small, fixed_threads):
    def run() -> tuple[train.History, dict[str, torch.Tensor]]:
        torch.manual_seed(3)
        model = get_model("lenet5")
        history = train.fit(
            model,
            small,
            epochs=2,
            batch_size=100,
            max_train_samples=2_000,
            seed=11,
            device=torch.device("cpu"),
            progress=False,
        )
        return history, model.state_dict()

    (h1, w1), (h2, w2) = run(), run()
    for field in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert getattr(h1, field) == getattr(h2, field), field
    assert all(torch.equal(w1[k], w2[k]) for k in w1)


def test_different_seeds_shuffle_differently(small):
    histories = []
    for seed in (1, 2):
        torch.manual_seed(0)
        histories.append(
            train.fit(
                get_model("lenet5"),
                small,
                epochs=1,
                max_train_samples=500,
                seed=seed,
                progress=False,
            )
        )
    assert histories[0].train_loss != histories[1].train_loss


def test_evaluate_counts_correct_predictions(small):
    class Constant(nn.Module):
        """Always predicts class 3."""

        def __init__(self) -> None:
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(()))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            logits = torch.zeros(len(x), 10) + 0 * self.dummy
            logits[:, 3] = 1.0
            return logits

    loss, accuracy = train.evaluate(Constant(), small, batch_size=300)
    expected_accuracy = float((small.test_labels == 3).float().mean())
    assert accuracy == pytest.approx(expected_accuracy)
    # Cross-entropy of logits (1 at class 3, 0 elsewhere), by hand.
    log_z = math.log(math.e + 9)
    expected_loss = expected_accuracy * (log_z - 1) + (1 - expected_accuracy) * log_z
    assert loss == pytest.approx(expected_loss, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epochs=0), "epochs"),
        (dict(epochs=1, batch_size=0), "batch_size"),
        (dict(epochs=1, lr=-1.0), "lr"),
        (dict(epochs=1, optimizer="adam"), "optimizer"),
        (dict(epochs=1, label_smoothing=1.0), "label_smoothing"),
        (dict(epochs=1, max_train_samples=0), "max_train_samples"),
        (dict(epochs=1, weight_decay=-0.1), "weight_decay"),
    ],
)
def test_fit_bad_arguments(small, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train.fit(get_model("lenet5"), small, progress=False, **kwargs)


def test_fit_type_errors(small):
    with pytest.raises(TypeError, match="model"):
        train.fit("lenet5", small, epochs=1)
    with pytest.raises(TypeError, match="ImageDataset"):
        train.fit(get_model("lenet5"), (small.train_images, small.train_labels), epochs=1)
    with pytest.raises(ValueError, match="split"):
        train.evaluate(get_model("lenet5"), small, split="validation")
    with pytest.raises(ValueError, match="seed"):
        train.seed_everything(-1)
