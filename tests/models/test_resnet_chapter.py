"""What chapter 10 (ResNet) relies on: cifar_resnet, _make_layer's shortcuts, v1 vs v1.5."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.models import get_model, resnet


def _weighted_layers(model: nn.Module) -> int:
    """Convolutions and linear layers outside the projection shortcuts."""
    return sum(
        1
        for name, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear)) and "downsample" not in name
    )


@pytest.mark.parametrize("depth", [8, 14, 20, 32, 56])
def test_cifar_resnet_has_depth_weighted_layers(depth):
    assert _weighted_layers(resnet.cifar_resnet(depth)) == depth
    assert _weighted_layers(resnet.cifar_resnet(depth, residual=False)) == depth


def test_cifar_resnet_20_has_the_papers_widths_and_parameters():
    model = resnet.cifar_resnet(20, in_channels=3)
    assert [model.conv1.out_channels, model.layer1[0].conv2.out_channels,
            model.layer2[0].conv2.out_channels, model.layer3[0].conv2.out_channels] == [
        16, 16, 32, 64]  # fmt: skip
    # The paper's ResNet-20 (option A shortcuts) has 0.27 M parameters; by hand:
    convs = (
        3 * 9 * 16
        + 6 * 9 * 16 * 16
        + 9 * 16 * 32
        + 5 * 9 * 32 * 32
        + (9 * 32 * 64 + 5 * 9 * 64 * 64)
    )
    norms = 2 * (16 + 6 * 16 + 6 * 32 + 6 * 64)
    projections = 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64
    fc = 64 * 10 + 10
    assert analysis.count_params(model) == convs + norms + projections + fc
    assert 0.26e6 < convs + norms + fc < 0.28e6


def test_plain_twin_has_no_shortcut_and_differs_only_there():
    torch.manual_seed(0)
    plain = resnet.cifar_resnet(8, residual=False).eval()
    assert all(
        b.downsample is None and not b.residual
        for b in plain.modules()
        if isinstance(b, resnet.BasicBlock)
    )
    block = plain.layer1[0]
    x = torch.randn(2, 16, 8, 8)
    expected = torch.relu(block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x))))))
    assert torch.allclose(block(x), expected)


@pytest.mark.parametrize("depth", [0, 7, 9, 21])
def test_cifar_resnet_rejects_other_depths(depth):
    with pytest.raises(ValueError, match="depth"):
        resnet.cifar_resnet(depth)


@pytest.mark.parametrize("depth", [20.0, "20", True])
def test_cifar_resnet_rejects_non_int_depth(depth):
    with pytest.raises(TypeError, match="depth"):
        resnet.cifar_resnet(depth)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("resnet18", ["layer2.0", "layer3.0", "layer4.0"]),
     ("resnet50", ["layer1.0", "layer2.0", "layer3.0", "layer4.0"])],
)  # fmt: skip
def test_only_first_blocks_that_change_shape_project(name, expected):
    model = get_model(name)
    projected = [n.removesuffix(".downsample") for n, m in model.named_modules()
                 if n.endswith("downsample") and m is not None]  # fmt: skip
    assert projected == expected


def test_v1_and_v15_macs_and_fields_by_hand():
    v1, v15 = get_model("resnet50", stride_in="1x1"), get_model("resnet50")
    size = (1, 3, 224, 224)
    macs_v1, macs_v15 = analysis.count_macs(v1, size), analysis.count_macs(v15, size)
    assert macs_v15 - macs_v1 == 3 * (56 * 56 * 256 * 128) // 4 * 3
    # torchvision's documented 4.09 GFLOPS (MACs) for v1.5; the paper's 3.8e9 for v1.
    assert round(macs_v15 / 1e9, 2) == 4.09 and round(macs_v1 / 1e9, 1) == 3.9
    # Fields: 7x7 stem and max-pool give 11 at stride 4; each 3x3 adds 2 * stride.
    rf_v15 = 11 + 2 * 4 * 3 + 2 * 4 + 2 * 8 * 3 + 2 * 8 + 2 * 16 * 5 + 2 * 16 + 2 * 32 * 2
    assert analysis.receptive_field(v15, size).size == rf_v15 == 427
    assert analysis.receptive_field(v1, size).size == rf_v15 + 2 * (4 + 8 + 16)


def test_zero_init_residual_makes_every_block_its_shortcut_then_relu():
    model = resnet.cifar_resnet(14, zero_init_residual=True).train()
    x = torch.relu(torch.randn(4, 16, 14, 14))
    for block in [b for s in (model.layer1, model.layer2, model.layer3) for b in s]:
        short = x if block.downsample is None else block.downsample(x)
        assert torch.equal(block(x), torch.relu(short))
        x = block(x)
