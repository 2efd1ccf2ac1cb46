"""What chapter 20 states about ShuffleNet V2, checked against independent sources.

torchvision's models (strict state-dict loading, equal outputs), the paper's
Table 5 (parameters and MACs with its rounding), hand formulas (the unit's
weights, the shuffle's permutation) and PyTorch's FlopCounterMode.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cnnlib
from cnnlib import analysis
from cnnlib.layers import channel_shuffle
from cnnlib.models.shufflenet import ShuffleUnitV2

# name -> (torchvision builder, Table 5 params in M, Table 5 MACs in M)
TABLE_5 = {
    "shufflenet_v2_x0_5": (torchvision.models.shufflenet_v2_x0_5, 1.4, 41),
    "shufflenet_v2_x1_0": (torchvision.models.shufflenet_v2_x1_0, 2.3, 146),
}


@pytest.mark.parametrize("name", sorted(TABLE_5))
def test_torchvision_twin_loads_strictly_and_agrees(name):
    ours = cnnlib.get_model(name).eval()
    theirs = TABLE_5[name][0](weights=None).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(TABLE_5))
def test_counts_match_table_5_with_its_rounding(name):
    model = cnnlib.get_model(name).eval()
    _, params_m, macs_m = TABLE_5[name]
    assert round(analysis.count_params(model) / 1e6, 1) == params_m
    macs = analysis.count_macs(model, (1, 3, 224, 224))
    assert abs(macs / (macs_m * 1e6) - 1) < 0.015  # the paper counts 0.75-1.3 % more
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 224, 224))
    assert counter.get_total_flops() == 2 * macs


@pytest.mark.parametrize("c", [8, 48, 116, 232])
def test_basic_unit_weights_by_formula(c):
    unit = ShuffleUnitV2(c, c, 1)
    convs = [m for m in unit.modules() if isinstance(m, nn.Conv2d)]
    half = c // 2
    assert sum(m.weight.numel() for m in convs) == 2 * half * half + 9 * half
    assert analysis.count_macs(unit, (1, c, 6, 6)) == 36 * (2 * half * half + 9 * half)


@pytest.mark.parametrize("c", [4, 8, 116])
def test_split_and_shuffle_are_deterministic(c):
    torch.manual_seed(0)
    unit = ShuffleUnitV2(c, c, 1).eval()
    x = torch.randn(2, c, 4, 4)
    with torch.no_grad():
        y = unit(x)
        assert torch.equal(y, unit(x))
    # The kept (first) half lands untouched in the even output channels.
    assert torch.equal(y[:, 0::2], x[:, : c // 2])
    ids = torch.arange(float(c)).view(1, c, 1, 1)
    perm = channel_shuffle(ids, 2).flatten().long().tolist()
    assert perm == [i // 2 + (c // 2) * (i % 2) for i in range(c)]


def test_downsampling_unit_has_no_split():
    unit = ShuffleUnitV2(24, 116, 2).eval()
    assert unit.branch1 is not None
    assert unit.branch1[0].in_channels == unit.branch2[0].in_channels == 24
    strides = [m.stride for m in unit.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert strides == [(2, 2), (2, 2)]
    with torch.no_grad():
        assert unit(torch.zeros(1, 24, 56, 56)).shape == (1, 116, 28, 28)


def test_width_multiplier_is_not_the_papers_half_size():
    half = cnnlib.get_model("shufflenet_v2_x1_0", width_multiplier=0.5)
    paper = cnnlib.get_model("shufflenet_v2_x0_5")
    assert half.stage2[-1].branch2[0].in_channels == 29  # 58 / 2
    assert paper.stage2[-1].branch2[0].in_channels == 24  # 48 / 2
    assert (half.conv5[0].out_channels, paper.conv5[0].out_channels) == (512, 1024)
    assert analysis.count_params(half) < analysis.count_params(paper)


def test_small_input_trains_on_fashion_mnist_shapes():
    model = cnnlib.get_model("shufflenet_v2_x0_5", num_classes=10, in_channels=1, small_input=True)
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
