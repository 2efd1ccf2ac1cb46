"""fit and evaluate reject a model that does not fit the data before any work, naming the fix."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from cnnlib import train
from cnnlib.models import get_model

CPU = torch.device("cpu")

# A model built for other data, and the builder argument the error must name.
MISMATCHES = [
    pytest.param("lenet5", {"num_classes": 3}, r"3 outputs.*10 classes.*num_classes=10", id="cls"),
    pytest.param("resnet18", {"num_classes": 10}, r"3 input channels.*in_channels=1", id="chans"),
    pytest.param("alexnet", {"in_channels": 1}, r"too small.*small_input=True", id="size"),
]


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


@pytest.mark.parametrize("name, kwargs, match", MISMATCHES)
def test_fit_names_the_fix_before_any_step(small, name, kwargs, match):
    torch.manual_seed(0)
    model = get_model(name, **kwargs)
    before = weights(model)
    with pytest.raises(ValueError, match=f"^fit: .*{match}"):
        train.fit(model, small, epochs=1, device=CPU, progress=False)
    # No optimisation step ran (BatchNorm's running statistics did not move either).
    after = model.state_dict()
    assert all(torch.equal(before[key], after[key]) for key in before)
    assert model.training


@pytest.mark.parametrize("name, kwargs, match", MISMATCHES)
def test_evaluate_names_the_fix(small, name, kwargs, match):
    torch.manual_seed(0)
    model = get_model(name, **kwargs).eval()
    with pytest.raises(ValueError, match=f"^evaluate: .*{match}"):
        train.evaluate(model, small)
    assert not model.training


def test_labels_outside_the_classes_are_refused(small):
    labels = small.train_labels.clone()
    labels[7] = 10
    bad = dataclasses.replace(small, train_labels=labels)
    torch.manual_seed(0)
    model = get_model("lenet5")
    before = weights(model)
    with pytest.raises(ValueError, match=r"^fit: the train labels .* lie in \[0, 10\].*10 classes"):
        train.fit(model, bad, epochs=1, device=CPU, progress=False)
    assert all(torch.equal(before[key], tensor) for key, tensor in model.state_dict().items())
    with pytest.raises(ValueError, match=r"evaluate: the train labels"):
        train.evaluate(model, bad, split="train")


def test_the_check_draws_no_random_numbers_and_restores_the_mode(small):
    torch.manual_seed(0)
    model = get_model("lenet5_modern")  # BatchNorm and ReLU: eval and train modes differ
    for training in (True, False):
        model.train(training)
        state = torch.get_rng_state()
        train._check_model_fits("fit", model, small, "train", CPU, torch.contiguous_format)
        assert torch.equal(torch.get_rng_state(), state)
        assert model.training is training
