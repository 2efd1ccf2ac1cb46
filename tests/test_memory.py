"""saved_activation_bytes against what autograd saves, derived by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import memory
from cnnlib.models import get_model


def test_conv_relu_saves_the_conv_input_and_the_relu_output():
    # Conv2d saves its input (and its weight, a parameter: not counted);
    # ReLU saves its output. 4 bytes per float32 element.
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    result = memory.saved_activation_bytes(model, (2, 3, 10, 10))
    assert result.bytes == 4 * (2 * 3 * 10 * 10 + 2 * 8 * 8 * 8)
    assert result.tensors == 2
    assert result.cuda_peak_bytes is None  # the model is on the CPU


def test_a_shared_storage_counts_once():
    # Conv → in-place ReLU → conv: the ReLU's output and the second conv's
    # input are one storage.
    model = nn.Sequential(nn.Conv2d(1, 4, 1), nn.ReLU(inplace=True), nn.Conv2d(4, 2, 1))
    result = memory.saved_activation_bytes(model, (1, 1, 5, 5))
    assert result.bytes == 4 * (25 + 4 * 25)


def test_float64_doubles_the_bytes_and_state_is_restored():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()).eval()
    single = memory.saved_activation_bytes(model, (2, 3, 8, 8)).bytes
    before = {k: v.clone() for k, v in model.state_dict().items()}
    double = memory.saved_activation_bytes(model.double(), (2, 3, 8, 8)).bytes
    assert double == 2 * single
    assert not model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key].to(value.dtype)), key
    assert all(p.grad is None for p in model.parameters())


def test_checkpointed_densenet_saves_less():
    kwargs = dict(width_multiplier=0.25)
    plain = get_model("densenet_bc_100_12", **kwargs)
    efficient = get_model("densenet_bc_100_12", memory_efficient=True, **kwargs)
    a = memory.saved_activation_bytes(plain, (2, 3, 32, 32)).bytes
    b = memory.saved_activation_bytes(efficient, (2, 3, 32, 32)).bytes
    assert b < a / 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_peak_is_reported_and_at_least_the_saved_bytes():
    model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU()).cuda()
    result = memory.saved_activation_bytes(model, (8, 3, 64, 64))
    assert result.cuda_peak_bytes is not None
    assert result.cuda_peak_bytes >= result.bytes


@pytest.mark.parametrize(
    "model, size, error",
    [(1, (1, 3, 8, 8), TypeError), (nn.Conv2d(3, 3, 1), "1x3", TypeError),
     (nn.Conv2d(3, 3, 1), (1, 0, 8, 8), ValueError), (nn.Conv2d(3, 3, 1), (), ValueError),
     (nn.ReLU(), (1, 3, 8, 8), ValueError)],
)  # fmt: skip
def test_bad_input(model, size, error):
    with pytest.raises(error, match="model|input_size"):
        memory.saved_activation_bytes(model, size)
