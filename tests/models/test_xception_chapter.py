"""What the Xception chapter relies on: segmented Inception modules and cost by kind."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.layers import SeparableConv2d
from cnnlib.models import xception


@pytest.mark.parametrize("segments", [1, 2, 4, 8])
def test_segmented_inception_weights_by_hand(segments):
    module = xception.SegmentedInception(16, 8, segments)
    # 1x1: 16·8; 3x3 with g groups: 9·(8/g)·8.
    assert analysis.count_params(module) == 16 * 8 + 9 * (8 // segments) * 8


def test_segments_are_independent_towers():
    """Output segment i depends only on segment i of the 1x1's output (Figure 3)."""
    torch.manual_seed(0)
    module = xception.SegmentedInception(6, 6, 3, activation=None).double()
    towers = [nn.Conv2d(2, 2, 3, padding=1, bias=False).double() for _ in range(3)]
    with torch.no_grad():
        for i, tower in enumerate(towers):
            tower.weight.copy_(module.spatial.weight[2 * i : 2 * i + 2])
        x = torch.randn(2, 6, 5, 5, dtype=torch.float64)
        mid = module.pointwise(x)
        expected = torch.cat([t(mid[:, 2 * i : 2 * i + 2]) for i, t in enumerate(towers)], 1)
        assert torch.allclose(module(x), expected, atol=1e-12)


def test_extreme_inception_is_pointwise_then_depthwise():
    module = xception.SegmentedInception(4, 8, 8)
    assert module.spatial.groups == module.spatial.in_channels == 8
    assert xception.conv_kind(module.spatial) == "depthwise"
    assert xception.conv_kind(module.pointwise) == "pointwise 1x1"


def test_segmented_inception_rejects_bad_arguments():
    with pytest.raises(ValueError, match="segments"):
        xception.SegmentedInception(4, 6, 4)
    with pytest.raises(ValueError, match="kernel_size"):
        xception.SegmentedInception(4, 6, 2, kernel_size=2)
    with pytest.raises(ValueError, match="in_channels"):
        xception.SegmentedInception(0, 6, 2)


def test_conv_kind():
    assert xception.conv_kind(nn.Conv2d(8, 8, 3, groups=8)) == "depthwise"
    assert xception.conv_kind(nn.Conv2d(8, 16, 1, stride=2)) == "pointwise 1x1"
    assert xception.conv_kind(nn.Conv2d(8, 8, 3, groups=2)) == "full conv"
    assert xception.conv_kind(nn.Conv2d(1, 1, 3, groups=1)) == "full conv"
    assert xception.conv_kind(nn.Linear(3, 4)) == "linear"
    assert xception.conv_kind(nn.BatchNorm2d(3)) == "other"
    with pytest.raises(TypeError, match="module"):
        xception.conv_kind("conv")


def test_cost_by_kind_of_a_separable_conv_by_hand():
    conv = SeparableConv2d(8, 16)
    costs = xception.cost_by_kind(conv, (1, 8, 5, 5))
    assert costs["depthwise"] == (9 * 8, 25 * 9 * 8)
    assert costs["pointwise 1x1"] == (8 * 16, 25 * 8 * 16)
    assert costs["full conv"] == costs["linear"] == (0, 0)


def test_cost_by_kind_adds_up_for_xception():
    model = xception.xception().to("meta")
    costs = xception.cost_by_kind(model, (1, 3, 299, 299))
    assert list(costs) == list(xception.CONV_KINDS)
    assert sum(p for p, _ in costs.values()) == 22_855_952
    assert sum(m for _, m in costs.values()) == analysis.count_macs(model, (1, 3, 299, 299))
    # Depthwise weights by hand: 9 per channel of every separable convolution.
    seps = [m for m in model.modules() if isinstance(m, SeparableConv2d)]
    assert costs["depthwise"][0] == sum(9 * m.depthwise.in_channels for m in seps)
    assert costs["linear"][0] == 2048 * 1000 + 1000
    with pytest.raises(TypeError, match="model"):
        xception.cost_by_kind(None, (1, 3, 8, 8))


def test_separable_activation_reaches_every_separable_conv():
    model = xception.Xception(separable_activation=nn.ReLU, middle_blocks=1, width_multiplier=0.1)
    seps = [m for m in model.modules() if isinstance(m, SeparableConv2d)]
    assert len(seps) == 2 * 3 + 3 + 2 + 2
    assert all(isinstance(m.activation, nn.ReLU) for m in seps)
