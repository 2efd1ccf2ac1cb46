"""train.recalibrate_batch_norm: running statistics recomputed from the training images."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import train


def tiny() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.LazyLinear(10)
    ).eval()


def normalised(small, n: int) -> torch.Tensor:
    # By hand: scale to [0, 1], then the dataset's per-channel mean and std.
    x = small.train_images[:n].float() / 255
    return (x - torch.tensor(small.mean).view(1, -1, 1, 1)) / torch.tensor(small.std).view(
        1, -1, 1, 1
    )


def test_one_batch_gives_that_batchs_mean_and_unbiased_variance(small):
    model = tiny()
    model(torch.zeros(2, 1, 28, 28))  # materialise the lazy layer
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k}
    train.recalibrate_batch_norm(model, small, samples=40, batch_size=40)
    out = model[0](normalised(small, 40)).detach().transpose(0, 1).flatten(1)
    bn = model[1]
    assert torch.allclose(bn.running_mean, out.mean(1), atol=1e-5)
    assert torch.allclose(bn.running_var, out.var(1), rtol=1e-4)  # unbiased, as BN keeps it
    after = {k: v for k, v in model.state_dict().items() if "running" not in k}
    assert all(torch.equal(weights[k], after[k]) for k in weights if "num_batches" not in k)
    assert bn.momentum == 0.1 and not model.training  # momentum and mode restored


def test_several_batches_average_the_batch_statistics(small):
    model = tiny()
    train.recalibrate_batch_norm(model.train(), small, samples=60, batch_size=25)
    # Batches of 25, 25 and 10 images: momentum=None averages their statistics equally.
    x = normalised(small, 60)
    chunks = [model[0](x[a:b]).detach().transpose(0, 1).flatten(1) for a, b in
              ((0, 25), (25, 50), (50, 60))]  # fmt: skip
    expected_mean = torch.stack([c.mean(1) for c in chunks]).mean(0)
    expected_var = torch.stack([c.var(1) for c in chunks]).mean(0)
    assert torch.allclose(model[1].running_mean, expected_mean, atol=1e-5)
    assert torch.allclose(model[1].running_var, expected_var, rtol=1e-4)
    assert model.training


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"model": "net"}, TypeError, "model must be a torch.nn.Module"),
        ({"samples": 0}, ValueError, "samples must be a positive int"),
        ({"samples": 10**6}, ValueError, "samples must be at most the 2000 training images"),
        ({"batch_size": 1}, ValueError, r"batch_size must be in \[2, 1000\], got 1"),
        (
            {"model": nn.Sequential(nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2))},
            ValueError,
            ".* takes 3 input channels.*in_channels=1",
        ),
    ],
)
def test_bad_arguments_are_named(small, kwargs, error, match):
    arguments = {"model": tiny(), **kwargs}
    model = arguments.pop("model")
    with pytest.raises(error, match=f"recalibrate_batch_norm: {match}"):
        train.recalibrate_batch_norm(model, small, **arguments)
