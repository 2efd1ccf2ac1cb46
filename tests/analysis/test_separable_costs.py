"""cnnlib.analysis.separable against hand counts, PyTorch's FLOP counter and the paper."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib.analysis import separable
from cnnlib.models import mobilenet


def flop_counter_macs(module: nn.Module, shape: tuple[int, ...]) -> int:
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(shape))
    return counter.get_total_flops() // 2


def test_hand_numbers():
    # 3x3, 2 -> 4 channels on a 5x5 output: 9·2·4·25 = 1,800 for the dense
    # convolution; 9·2·25 + 2·4·25 = 450 + 200 = 650 for the separable one.
    assert separable.standard_conv_cost(3, 2, 4, 5) == 1_800
    assert separable.separable_conv_cost(3, 2, 4, 5) == 650
    # The paper's example (Section 3.1): D_K = 3 saves 8 to 9 times.
    assert separable.separable_cost_ratio(3, 512) == pytest.approx(1 / 512 + 1 / 9)
    assert 8 < 1 / separable.separable_cost_ratio(3, 512) < 9
    # At feature_size=1 the cost is the number of weights.
    assert separable.standard_conv_cost(3, 2, 4, 1) == nn.Conv2d(2, 4, 3).weight.numel()


@pytest.mark.parametrize(("k", "m", "n", "size"), [(3, 8, 16, 10), (5, 4, 12, 7), (1, 3, 5, 6)])
def test_costs_match_flop_counter_on_real_layers(k, m, n, size):
    standard = nn.Conv2d(m, n, k, padding=k // 2, bias=False)
    pair = nn.Sequential(
        nn.Conv2d(m, m, k, padding=k // 2, groups=m, bias=False), nn.Conv2d(m, n, 1, bias=False)
    )
    shape = (1, m, size, size)
    assert flop_counter_macs(standard, shape) == separable.standard_conv_cost(k, m, n, size)
    assert flop_counter_macs(pair, shape) == separable.separable_conv_cost(k, m, n, size)
    ratio = separable.separable_conv_cost(k, m, n, size) / separable.standard_conv_cost(
        k, m, n, size
    )
    assert math.isclose(ratio, separable.separable_cost_ratio(k, n))


def test_costs_by_layer_type_is_table_2():
    # Howard et al. (2017), Table 2: (mult-adds %, parameters %) per layer type.
    paper = {
        "conv 1x1": (94.86, 74.59),
        "conv dw": (3.06, 1.06),
        "fc": (0.18, 24.33),
    }
    with torch.device("meta"):
        model = mobilenet.mobilenet_v1()
    costs = separable.costs_by_layer_type(model, (1, 3, 224, 224))
    assert list(costs) == ["conv full", "conv dw", "conv 1x1", "fc"]
    macs = sum(c.macs for c in costs.values())
    weights = sum(c.weights for c in costs.values())
    for kind, (macs_share, weights_share) in paper.items():
        assert round(100 * costs[kind].macs / macs, 2) == macs_share
        assert round(100 * costs[kind].weights / weights, 2) == weights_share
    # The stem by hand: 3x3, 3 -> 32 channels, 112x112 output; weights only.
    assert costs["conv full"] == separable.LayerTypeCost(864, 864 * 112 * 112)
    # Weights: every parameter except batch norm's and the classifier's bias.
    bn = sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d)
             for p in m.parameters())  # fmt: skip
    total = sum(p.numel() for p in model.parameters())
    assert weights == total - bn - 1000


def test_grouped_layers_are_their_own_type():
    model = nn.Sequential(nn.Conv2d(8, 8, 3, groups=2), nn.Conv2d(8, 8, 3, groups=8))
    costs = separable.costs_by_layer_type(model, (1, 8, 6, 6))
    assert costs["conv grouped"].weights == 9 * 4 * 8
    assert costs["conv dw"].weights == 9 * 8
    assert separable.layer_type(nn.ReLU()) is None


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: separable.standard_conv_cost(0, 1, 1, 1), ValueError, "kernel_size"),
        (lambda: separable.standard_conv_cost(3, -1, 1, 1), ValueError, "in_channels"),
        (lambda: separable.separable_conv_cost(3, 1, 0, 1), ValueError, "out_channels"),
        (lambda: separable.separable_conv_cost(3, 1, 1, 0), ValueError, "feature_size"),
        (lambda: separable.separable_cost_ratio(3.0, 4), TypeError, "kernel_size"),
        (lambda: separable.separable_cost_ratio(3, True), TypeError, "out_channels"),
        (lambda: separable.layer_type("conv"), TypeError, "module"),
        (lambda: separable.costs_by_layer_type(None, (1, 3, 8, 8)), TypeError, "model"),
    ],
)
def test_bad_input_names_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()
