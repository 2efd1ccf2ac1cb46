"""init_he: the standard deviation of each convolution's weights, from its fan counted by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cnnlib.models._common import init_he


@pytest.mark.parametrize(
    "conv, mode, fan",
    [
        # fan-out: the outputs one input value reaches, out/groups · kh · kw
        (nn.Conv2d(64, 512, 3), "fan_out", 512 * 9),
        (nn.Conv2d(256, 256, 3, groups=32), "fan_out", 8 * 9),  # ResNeXt's 3x3
        (nn.Conv2d(960, 960, 3, groups=960), "fan_out", 9),  # depthwise
        (nn.Conv2d(64, 512, 1), "fan_out", 512),
        # fan-in: the inputs one output reads, in/groups · kh · kw
        (nn.Conv2d(64, 512, 3), "fan_in", 64 * 9),
        (nn.Conv2d(960, 960, 3, groups=960), "fan_in", 9),
    ],
)
def test_weight_std_is_he_with_the_fan_of_the_grouped_layer(conv, mode, fan):
    torch.manual_seed(0)
    init_he(nn.Sequential(conv), mode=mode)
    expected = math.sqrt(2.0 / fan)
    # Over thousands of weights the sample std lies within a few % of the true one.
    assert conv.weight.std().item() == pytest.approx(expected, rel=0.05)
    assert conv.weight.mean().abs().item() < 0.05 * expected


def test_dense_layers_match_pytorchs_kaiming_init():
    # Without groups the count is PyTorch's own: the same std as kaiming_normal_.
    torch.manual_seed(0)
    ours, reference = nn.Conv2d(128, 256, 3), nn.Conv2d(128, 256, 3)
    init_he(nn.Sequential(ours))
    nn.init.kaiming_normal_(reference.weight, mode="fan_out", nonlinearity="relu")
    assert ours.weight.std().item() == pytest.approx(reference.weight.std().item(), rel=0.02)


def test_batch_norm_starts_as_identity_and_biases_at_zero():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, bias=True), nn.BatchNorm2d(8), nn.Linear(8, 2))
    init_he(model)
    assert torch.all(model[0].bias == 0) and torch.all(model[2].bias == 0)
    assert torch.all(model[1].weight == 1) and torch.all(model[1].bias == 0)


def test_bad_mode_is_named():
    with pytest.raises(ValueError, match="init_he: mode must be 'fan_in' or 'fan_out', got 'fan'"):
        init_he(nn.Sequential(nn.Conv2d(3, 8, 3)), mode="fan")
