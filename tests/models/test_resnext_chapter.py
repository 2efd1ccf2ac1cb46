"""What chapter 11 (ResNeXt) relies on, against independent expectations."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

import cnnlib
from cnnlib import analysis
from cnnlib.models import resnet
from cnnlib.models.resnext import ResNeXtBlock, convert


def _conv_weights(block: nn.Module) -> int:
    return sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))


def test_resnet_row_of_table_2_is_the_resnet_bottleneck():
    # C=1, d=64 by hand: 256·64 + 9·64·64 + 64·256 = 69,632, and ResNet-50's
    # non-first layer1 block has exactly these convolutions.
    assert _conv_weights(ResNeXtBlock(256, 1, 64, "c")) == 69_632
    assert _conv_weights(resnet.resnet50().layer1[1]) == 69_632
    assert _conv_weights(ResNeXtBlock(256, 32, 4, "a")) == 70_144


@pytest.mark.parametrize(("c", "d"), [(8, 8), (16, 4), (2, 32)])
def test_depth_2_form_c_is_a_dense_basic_block(c, d):
    merged = convert(ResNeXtBlock(64, c, d, "a", depth=2), "c")
    convs = [m for m in merged.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.groups) for m in convs] == [
        (64, c * d, 1),
        (c * d, 64, 1),
    ]
    if c * d == 64:
        assert analysis.count_params(merged) == analysis.count_params(resnet.BasicBlock(64, 64))


def test_resnext50_loads_torchvision_strictly_and_agrees():
    torch.manual_seed(0)
    theirs = torchvision.models.resnext50_32x4d().eval()
    ours = cnnlib.get_model("resnext50_32x4d").eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=1e-5)


def test_quarter_width_twins_of_the_chapter_have_close_sizes():
    # The chapter's training pair: one bottleneck per stage at α = 0.25.
    small = dict(num_classes=10, in_channels=1, small_input=True, width_multiplier=0.25)
    plain = resnet.ResNet("bottleneck", (1, 1, 1, 1), **small)
    grouped = resnet.ResNet("bottleneck", (1, 1, 1, 1), cardinality=32, bottleneck_width=4, **small)
    # Inner width doubles (16 → 32 in the first stage) and the 3x3 has 32 groups.
    assert plain.layer1[0].conv2.out_channels == 16
    assert grouped.layer1[0].conv2.out_channels == 32 and grouped.layer1[0].conv2.groups == 32
    ratio = analysis.count_params(grouped) / analysis.count_params(plain)
    assert 0.85 < ratio < 1.0
