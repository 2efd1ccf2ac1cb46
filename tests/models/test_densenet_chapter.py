"""DenseNet helpers of chapter 14: channel counts, connections, the CIFAR builder."""

from __future__ import annotations

import pytest
import torch

from cnnlib.models import densenet


@pytest.mark.parametrize("k0, k, layers", [(64, 32, 6), (24, 12, 16), (3, 1, 1)])
def test_layer_in_channels_is_what_each_built_layer_reads(k0, k, layers):
    block = densenet.DenseBlock(layers, k0, k, bn_size=4)
    read = [layer.conv1.in_channels for layer in block.children()]
    assert read == [densenet.layer_in_channels(k0, k, j) for j in range(1, layers + 1)]
    assert read[-1] + k == block.out_channels


@pytest.mark.parametrize("layers", [1, 2, 5, 12])
def test_block_connections_counts_the_feature_maps_each_layer_concatenates(layers):
    block = densenet.DenseBlock(layers, 4, 2, bn_size=2)
    seen = []
    for layer in block.children():
        layer.register_forward_pre_hook(lambda _m, args: seen.append(len(args[0])))
    block(torch.randn(1, 4, 5, 5))
    assert seen == list(range(1, layers + 1))
    assert densenet.block_connections(layers) == sum(seen)


def test_block_connections_by_hand():
    assert [densenet.block_connections(n) for n in (1, 2, 3, 4, 16)] == [1, 3, 6, 10, 136]


@pytest.mark.parametrize("depth, n", [(10, 1), (22, 3), (40, 6), (100, 16)])
def test_densenet_bc_depth_counts_weighted_layers(depth, n):
    model = densenet.densenet_bc(depth, in_channels=1)
    weighted = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(weighted) == depth
    blocks = [m for m in model.modules() if isinstance(m, densenet.DenseBlock)]
    assert [len(list(b.children())) for b in blocks] == [n, n, n]
    assert model.features.conv0.out_channels == 24  # 2k


def test_densenet_bc_100_equals_the_registered_variant():
    a = densenet.densenet_bc(100)
    b = densenet.densenet_bc_100_12()
    assert [tuple(p.shape) for p in a.parameters()] == [tuple(p.shape) for p in b.parameters()]


@pytest.mark.parametrize(
    "call, error, match",
    [(lambda: densenet.densenet_bc(20), ValueError, "depth"),
     (lambda: densenet.densenet_bc(4), ValueError, "depth"),
     (lambda: densenet.densenet_bc(True), ValueError, "depth"),
     (lambda: densenet.densenet_bc(22, growth_rate=0), ValueError, "growth_rate"),
     (lambda: densenet.densenet_bc(22, block_config=(1,)), TypeError, "block_config"),
     (lambda: densenet.layer_in_channels(0, 12, 1), ValueError, "in_channels"),
     (lambda: densenet.layer_in_channels(24, 12, 0), ValueError, "layer"),
     (lambda: densenet.block_connections(0), ValueError, "num_layers")],
)  # fmt: skip
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
