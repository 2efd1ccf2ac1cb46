"""MobileNetV2's chapter options: the ReLU bottleneck, block attributes, truncated stages."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.models import mobilenet


def test_relu_bottleneck_adds_one_relu6_after_each_projection_and_no_parameters():
    linear = mobilenet.mobilenet_v2(num_classes=10, width_multiplier=0.25)
    relu = mobilenet.mobilenet_v2(num_classes=10, width_multiplier=0.25, linear_bottleneck=False)
    assert analysis.count_params(relu) == analysis.count_params(linear)
    blocks = [b for b in relu.features if isinstance(b, mobilenet.InvertedResidual)]
    assert len(blocks) == 17
    assert all(isinstance(b.conv[-1], nn.ReLU6) and not b.linear_bottleneck for b in blocks)
    # Same seed, same initial weights: the state dicts load into each other.
    torch.manual_seed(0)
    a = mobilenet.mobilenet_v2(width_multiplier=0.25)
    torch.manual_seed(0)
    b = mobilenet.mobilenet_v2(width_multiplier=0.25, linear_bottleneck=False)
    for (na, ta), (nb, tb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert na == nb and torch.equal(ta, tb)


def test_relu_bottleneck_outputs_are_clamped_to_zero_six():
    block = mobilenet.InvertedResidual(8, 16, 2, 6, linear_bottleneck=False).eval()
    out = block(torch.randn(2, 8, 10, 10) * 10)
    assert out.min() >= 0 and out.max() <= 6
    linear = mobilenet.InvertedResidual(8, 16, 2, 6).eval()
    assert linear(torch.randn(2, 8, 10, 10) * 10).min() < 0  # linear: signs survive


def test_block_attributes_and_paper_cost_formula():
    block = mobilenet.InvertedResidual(24, 24, 1, 6)
    assert (block.in_channels, block.out_channels, block.stride) == (24, 24, 1)
    assert block.expansion == 6 and block.hidden_channels == 144 and block.use_residual
    # Sandler et al. (2018), Section 3.4: h·w·d'·t·(d' + k² + d'').
    assert analysis.count_macs(block, (1, 24, 14, 14)) == 14 * 14 * 24 * 6 * (24 + 9 + 24)


def test_linear_bottleneck_must_be_a_bool():
    with pytest.raises(TypeError, match="linear_bottleneck"):
        mobilenet.InvertedResidual(8, 8, 1, 6, linear_bottleneck=1)
    with pytest.raises(TypeError, match="linear_bottleneck"):
        mobilenet.mobilenet_v2(linear_bottleneck="no")


def test_stages_build_a_prefix_of_table_2_and_last_channels_sets_the_head():
    model = mobilenet.mobilenet_v2(
        num_classes=10, in_channels=1, small_input=True, width_multiplier=0.25,
        stages=4, last_channels=256,
    )  # fmt: skip
    blocks = [b for b in model.features if isinstance(b, mobilenet.InvertedResidual)]
    assert len(blocks) == 1 + 2 + 3 + 4  # Table 2's n for c = 16, 24, 32, 64
    assert blocks[-1].out_channels == 16  # 64 · 0.25
    head = model.features[-1][0]
    assert (head.in_channels, head.out_channels) == (16, 256)
    assert model.classifier[1].in_features == 256
    # 28x28, small input: stride 1, 1, 2, 2 for the four stages -> 7x7 maps.
    assert model.features(torch.zeros(1, 1, 28, 28)).shape == (1, 256, 7, 7)
    full = mobilenet.mobilenet_v2(width_multiplier=0.25)
    default = [b for b in full.features if isinstance(b, mobilenet.InvertedResidual)]
    assert len(default) == 17 and full.features[-1][0].out_channels == 1280


def test_stages_and_last_channels_check_their_values():
    for bad in (0, 8, 2.0):
        with pytest.raises(ValueError, match="stages"):
            mobilenet.mobilenet_v2(stages=bad)
    with pytest.raises(ValueError, match="last_channels"):
        mobilenet.mobilenet_v2(last_channels=0)
