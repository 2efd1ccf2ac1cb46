"""NiN's options: the fully connected head, the class maps, the blocks and the micro network."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import analysis
from cnnlib.models import get_model, nin


def conv(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def small(**kwargs) -> nin.NiN:
    return nin.NiN(num_classes=10, in_channels=1, width_multiplier=0.25, **kwargs)


def test_the_fc_head_adds_one_linear_layer_on_the_flattened_class_maps():
    gap, fc = small(), small(head="fc", image_size=28)
    # At 28x28 the class maps are 7x7: (10·7·7 + 1)·10 weights and biases.
    assert analysis.count_params(fc) - analysis.count_params(gap) == (10 * 49 + 1) * 10
    assert fc.fc.linear.in_features == 490 and gap.fc is None
    assert isinstance(gap.avgpool, nn.AdaptiveAvgPool2d) and fc.avgpool is None
    # The paper-sized network at 32x32: 8x8 maps.
    full = nin.NiN(head="fc")
    assert full.fc.linear.in_features == 10 * 8 * 8
    # Every layer before the head is the same.
    assert [n for n, _ in gap.features.named_children()] == [
        n for n, _ in fc.features.named_children()
    ]


def test_global_average_pooling_is_the_fc_head_with_fixed_weights():
    torch.manual_seed(0)
    gap, fc = small().double().eval(), small(head="fc", image_size=28).double().eval()
    fc.features.load_state_dict(gap.features.state_dict())
    # Score c reads only map c, each of its 49 positions with weight 1/49.
    with torch.no_grad():
        fc.fc.linear.weight.copy_(
            torch.kron(torch.eye(10), torch.full((1, 49), 1 / 49, dtype=torch.float64))
        )
        fc.fc.linear.bias.zero_()
    x = torch.randn(3, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(fc(x), gap(x), rtol=0, atol=1e-12)


def test_class_maps_are_the_maps_whose_means_are_the_scores():
    torch.manual_seed(0)
    model = small().double().eval()
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        maps, scores = model.class_maps(x), model(x)
    assert maps.shape == (2, 10, 7, 7)
    by_hand = maps.sum(dim=(2, 3)) / 49
    assert torch.allclose(scores, by_hand, rtol=0, atol=1e-12)


@pytest.mark.parametrize("size", [28, 32, 20, 9, 7, 6, 5, 4])
def test_pooled_size_matches_the_maps_pytorch_computes(size):
    model = nin.NiN(num_classes=10, in_channels=1, width_multiplier=0.125).eval()
    with torch.no_grad():
        maps = model.class_maps(torch.zeros(1, 1, size, size))
    assert maps.shape[-2:] == (nin.pooled_size(size),) * 2


def test_pooled_size_by_hand():
    # Caffe's pools round up: 32 -> 16 -> 8, 28 -> 14 -> 7, 9 -> 4 -> 2.
    assert [nin.pooled_size(n) for n in (32, 28, 9)] == [8, 7, 2]
    # 3 -> 1 leaves nothing for the second pool, as PyTorch agrees.
    with pytest.raises(RuntimeError, match="too small"):
        nin.NiN(in_channels=1).class_maps(torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="at least 4"):
        nin.pooled_size(3)


def test_blocks_are_a_convolution_and_two_1x1_convolutions_with_relus():
    model = nin.NiN()
    for index, (k, widths) in enumerate(
        [(5, (192, 160, 96)), (5, (192, 192, 192)), (3, (192, 192, 10))], start=1
    ):
        block = model.block(index)
        convs = [m for m in block if isinstance(m, nn.Conv2d)]
        assert [c.kernel_size for c in convs] == [(k, k), (1, 1), (1, 1)]
        assert tuple(c.out_channels for c in convs) == widths
        assert sum(isinstance(m, nn.ReLU) for m in block) == 3
        assert block[0] is getattr(model.features, f"conv{index}")


def test_the_micro_network_slid_over_every_patch_is_the_block():
    torch.manual_seed(0)
    model = small().double()
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    block = model.block(1)
    mlp = nin.micro_network(block)
    assert [type(m) for m in mlp] == [nn.Linear, nn.ReLU] * 3
    assert sum(p.numel() for p in mlp.parameters()) == sum(p.numel() for p in block.parameters())
    # By hand at a few positions: the zero-padded 5x5 patch around (i, j),
    # through three affine maps and ReLUs written out from the conv weights.
    padded = F.pad(x, (2, 2, 2, 2))
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    expected = block(x.clone())
    for i, j in [(0, 0), (13, 5), (27, 27)]:
        h = padded[:, :, i : i + 5, j : j + 5]  # (N, 1, 5, 5)
        h = torch.relu(torch.einsum("nckl,ockl->no", h, convs[0].weight) + convs[0].bias)
        for c in convs[1:]:
            h = torch.relu(h @ c.weight[:, :, 0, 0].T + c.bias)
        assert torch.allclose(expected[:, :, i, j], h, rtol=0, atol=1e-10)
        patch = padded[:, :, i : i + 5, j : j + 5].reshape(2, -1)
        assert torch.allclose(mlp(patch), h, rtol=0, atol=1e-10)
    # Over every position at once, through unfold.
    slid = mlp(F.unfold(x, 5, padding=2).transpose(1, 2)).transpose(1, 2)
    assert torch.allclose(slid, expected.flatten(2), rtol=0, atol=1e-10)


def test_the_micro_network_is_a_copy():
    block = small().block(2)
    mlp = nin.micro_network(block)
    with torch.no_grad():
        mlp[0].weight.zero_()
    assert block[0].weight.abs().sum() > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(head="avg"), ValueError, "head must be 'gap' or 'fc'"),
        (dict(head="fc", image_size=3), ValueError, "image_size must be at least 4"),
        (dict(head="fc", image_size=28.0), ValueError, "image_size must be a positive int"),
        (
            dict(head="fc", head_dropout=1.0),
            ValueError,
            r"head_dropout must be a number in \[0, 1\)",
        ),
    ],
)
def test_bad_head_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        get_model("nin", **kwargs)


def test_an_fc_head_refuses_images_of_another_size():
    model = small(head="fc", image_size=28)
    with pytest.raises(ValueError, match="image_size=28"):
        model(torch.zeros(1, 1, 32, 32))


def test_block_index_is_checked():
    with pytest.raises(ValueError, match="index must be 1, 2 or 3"):
        small().block(4)


@pytest.mark.parametrize(
    ("block", "error", "match"),
    [
        (nn.Conv2d(1, 2, 3), TypeError, "must be an nn.Sequential"),
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3)), ValueError, "must be 1x1"),
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), TypeError, "BatchNorm2d"),
        (nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)), ValueError, "groups=1"),
        (nn.Sequential(nn.Conv2d(1, 2, 3, bias=False)), ValueError, "with a bias"),
        (nn.Sequential(nn.ReLU()), ValueError, "at least one convolution"),
    ],
)
def test_micro_network_refuses_what_is_no_mlp(block, error, match):
    with pytest.raises(error, match=match):
        nin.micro_network(block)
