"""cnnlib.layers: the convolution zoo's building blocks against independent computations.

Expectations come from torch's own operations (``F.conv2d``, ``nn.Linear``,
``torchvision.ops.deform_conv2d``, autograd) or from hand derivations, never
from the functions under test.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import deform_conv2d

from cnnlib import analysis, layers

# ---------------------------------------------------------------------------
# Channel shuffle and its inverse
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("channels, groups", [(12, 1), (12, 2), (12, 3), (12, 4), (12, 12), (8, 2)])
def test_channel_unshuffle_undoes_channel_shuffle(channels, groups):
    x = torch.randn(2, channels, 3, 4)
    assert torch.equal(layers.channel_unshuffle(layers.channel_shuffle(x, groups), groups), x)
    assert torch.equal(layers.channel_shuffle(layers.channel_unshuffle(x, groups), groups), x)


def test_channel_unshuffle_by_hand():
    # 6 channels in 2 groups of 3: the shuffle interleaves them as 0 3 1 4 2 5; the
    # inverse reads that order back into 0 1 2 3 4 5, so it maps 0..5 to 0 2 4 1 3 5.
    x = torch.arange(6.0).view(1, 6, 1, 1)
    assert layers.channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert layers.channel_unshuffle(x, 2).flatten().tolist() == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize("groups, match", [(5, "must divide"), (0, "positive int"), (2.0, "int")])
def test_channel_unshuffle_rejects_bad_groups(groups, match):
    with pytest.raises(ValueError, match=f"channel_unshuffle: groups.*{match}|{match}"):
        layers.channel_unshuffle(torch.zeros(1, 12, 2, 2), groups)


@pytest.mark.parametrize("groups, match", [(5, "must divide"), (0, "positive int"), (2.0, "int")])
def test_channel_shuffle_rejects_bad_groups(groups, match):
    with pytest.raises(ValueError, match=match):
        layers.channel_shuffle(torch.zeros(1, 12, 2, 2), groups)


def groups_reached(c: int, g: int, shuffle: bool) -> list[set[int]]:
    """For each output of two stacked grouped 1x1 convolutions (``g`` groups of ``c``
    channels), the input groups its gradient reaches (autograd, all-ones weights)."""
    convs = [nn.Conv2d(c * g, c * g, 1, groups=g, bias=False) for _ in range(2)]
    for conv in convs:
        nn.init.ones_(conv.weight)
    reached = []
    for o in range(c * g):
        x = torch.ones(1, c * g, 1, 1, requires_grad=True)
        y = convs[0](x)
        convs[1](layers.channel_shuffle(y, g) if shuffle else y)[0, o].sum().backward()
        reached.append({i // c for i in x.grad.flatten().nonzero().flatten().tolist()})
    return reached


@pytest.mark.parametrize("c, g", [(4, 4), (8, 4), (6, 3), (6, 4), (2, 8), (3, 8), (1, 5)])
def test_one_shuffle_mixes_min_c_g_groups(c, g):
    # Output group q reads c consecutive shuffled positions; position m holds a channel of
    # group m % g, and c consecutive residues mod g are min(c, g) distinct groups.
    assert all(len(r) == 1 for r in groups_reached(c, g, shuffle=False))
    assert all(len(r) == min(c, g) for r in groups_reached(c, g, shuffle=True))


# ---------------------------------------------------------------------------
# Spatially separable kernels
# ---------------------------------------------------------------------------


def test_separable_factors_of_sobel_are_exact_and_convolve_like_it():
    column, row = torch.tensor([1.0, 2.0, 1.0]), torch.tensor([1.0, 0.0, -1.0])
    sobel = torch.outer(column, row)  # by hand: [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    u, v = layers.separable_factors(sobel)
    assert u.shape == (3, 1) and v.shape == (1, 3)
    assert torch.allclose(u @ v, sobel, atol=1e-6)
    # u is a positive multiple of [1, 2, 1]: the largest entry is positive.
    assert torch.allclose(u.flatten() / u.flatten()[1], column / 2, atol=1e-6)
    x = torch.randn(2, 1, 9, 11)
    full = F.conv2d(x, sobel.view(1, 1, 3, 3), padding=1)
    cascade = F.conv2d(
        F.conv2d(x, u.view(1, 1, 3, 1), padding=(1, 0)), v.view(1, 1, 1, 3), padding=(0, 1)
    )
    assert torch.allclose(full, cascade, atol=1e-5)


def test_separable_factors_give_the_best_rank_one_approximation():
    torch.manual_seed(0)
    kernel = torch.randn(5, 3, dtype=torch.float64)
    u, v = layers.separable_factors(kernel)
    error = torch.linalg.norm(kernel - u @ v)
    # Eckart–Young: the error is the norm of the other singular values ...
    assert torch.isclose(error, torch.linalg.svdvals(kernel)[1:].norm())
    # ... and no other rank-1 kernel is closer (random candidates and small perturbations).
    for _ in range(200):
        a, b = torch.randn(5, 1, dtype=torch.float64), torch.randn(1, 3, dtype=torch.float64)
        assert torch.linalg.norm(kernel - a @ b) >= error
        a, b = u + 1e-3 * a, v + 1e-3 * b
        assert torch.linalg.norm(kernel - a @ b) >= error - 1e-12


@pytest.mark.parametrize(
    "kernel, error",
    [
        ([[1.0, 2.0]], TypeError),
        (torch.ones(3, 3, dtype=torch.int64), TypeError),
        (torch.ones(3), ValueError),
    ],
)
def test_separable_factors_rejects_bad_kernels(kernel, error):
    with pytest.raises(error, match="kernel"):
        layers.separable_factors(kernel)


# ---------------------------------------------------------------------------
# Deformable convolution
# ---------------------------------------------------------------------------


def test_deformable_block_with_zero_offsets_is_an_ordinary_convolution():
    torch.manual_seed(0)
    block = layers.DeformableConvBlock(3, 5).eval()
    plain = layers.ConvBNAct(3, 5, 3).eval()
    plain[0].weight.data.copy_(block.conv.weight)
    x = torch.randn(2, 3, 10, 10)
    assert torch.allclose(block(x), plain(x), atol=1e-5)
    assert not block.offset.weight.any() and not block.offset.bias.any()


def test_dilation_offsets_by_hand():
    offsets = layers.dilation_offsets(3, 3).view(9, 2)
    # Tap (i, j) moves by (d - 1)·(i - 1, j - 1) = 2·(i - 1, j - 1), row-major.
    expected = [[2 * (i - 1), 2 * (j - 1)] for i in range(3) for j in range(3)]
    assert offsets.tolist() == expected
    assert not layers.dilation_offsets(5, 1).any()


@pytest.mark.parametrize("kernel_size, dilation", [(3, 2), (3, 3), (5, 2)])
def test_dilation_offsets_turn_a_deformable_block_into_a_dilated_convolution(kernel_size, dilation):
    torch.manual_seed(0)
    block = layers.DeformableConvBlock(2, 4, kernel_size=kernel_size).eval()
    with torch.no_grad():
        block.offset.bias.copy_(layers.dilation_offsets(kernel_size, dilation))
    dilated = layers.ConvBNAct(2, 4, kernel_size, dilation=dilation).eval()
    dilated[0].weight.data.copy_(block.conv.weight)
    x = torch.randn(2, 2, 16, 16)
    assert torch.allclose(block(x), dilated(x), atol=1e-5)


def test_sampling_locations_are_where_torchvision_samples():
    """Sampling an image whose pixels hold their own row (column) returns the row (column)."""
    torch.manual_seed(0)
    height, width = 9, 8
    rows = (
        torch.arange(height, dtype=torch.float64).view(1, 1, height, 1).expand(1, 1, height, width)
    )
    columns = (
        torch.arange(width, dtype=torch.float64).view(1, 1, 1, width).expand(1, 1, height, width)
    )
    kwargs = dict(stride=2, padding=1, dilation=2)
    out = (height + 2 - 2 * 2 - 1) // 2 + 1, (width + 2 - 2 * 2 - 1) // 2 + 1
    offset = (torch.rand(1, 18, *out, dtype=torch.float64) - 0.5) * 1.8
    where = layers.deformable_sampling_locations(offset, 3, **kwargs)
    assert where.shape == (1, *out, 9, 2)
    for tap in range(9):
        one_hot = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
        one_hot.view(-1)[tap] = 1.0
        sampled_row = deform_conv2d(rows.contiguous(), offset, one_hot, **kwargs)[0, 0]
        sampled_column = deform_conv2d(columns.contiguous(), offset, one_hot, **kwargs)[0, 0]
        r, c = where[0, ..., tap, 0], where[0, ..., tap, 1]
        # Bilinear sampling reproduces a linear ramp exactly inside the image.
        inside = (r >= 0) & (r <= height - 1) & (c >= 0) & (c <= width - 1)
        assert inside.sum() >= 4
        assert torch.allclose(sampled_row[inside], r[inside])
        assert torch.allclose(sampled_column[inside], c[inside])


def test_sampling_locations_bound_the_gradient_of_one_output():
    """Autograd: the input pixels one deformable output depends on are the ones around its taps."""
    torch.manual_seed(1)
    x = torch.randn(1, 1, 20, 20, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    offset = torch.randn(1, 18, 20, 20, dtype=torch.float64) * 1.5
    deform_conv2d(x, offset, weight, padding=1)[0, 0, 10, 9].backward()
    touched = x.grad[0, 0].nonzero()
    taps = layers.deformable_sampling_locations(offset, 3, padding=1)[0, 10, 9]
    assert touched[:, 0].min() == taps[:, 0].floor().min()
    assert touched[:, 0].max() == taps[:, 0].ceil().max()
    assert touched[:, 1].min() == taps[:, 1].floor().min()
    assert touched[:, 1].max() == taps[:, 1].ceil().max()


locations = layers.deformable_sampling_locations
ZEROS = torch.zeros(1, 18, 4, 4)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: locations(torch.zeros(1, 8, 4, 4), 3), ValueError, "offset"),
        (lambda: locations(torch.zeros(18, 4, 4), 3), ValueError, "offset"),
        (lambda: locations(ZEROS.long(), 3), TypeError, "offset"),
        (lambda: locations(ZEROS, 3, padding=-1), ValueError, "padding"),
        (lambda: locations(ZEROS, 3, stride=0), ValueError, "stride"),
        (lambda: layers.dilation_offsets(4, 2), ValueError, "kernel_size"),
        (lambda: layers.dilation_offsets(3, 0), ValueError, "dilation"),
        (lambda: layers.DeformableConvBlock(0, 4), ValueError, "in_channels"),
        (lambda: layers.DeformableConvBlock(4, 4, kernel_size=2), ValueError, "kernel_size"),
    ],
)
def test_deformable_helpers_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_deformable_block_is_counted_like_its_parts():
    block = layers.DeformableConvBlock(4, 6)
    # Offsets: a 3x3 conv with bias to 2·9 channels; the deformable conv: 9·4·6; BN: 2·6.
    assert analysis.count_params(block) == (9 * 4 * 18 + 18) + 9 * 4 * 6 + 2 * 6
    # MACs at 8x8: each of the two convolutions does one dot product of 9·4 per output.
    assert analysis.count_macs(block, (1, 4, 8, 8)) == 64 * 18 * 36 + 64 * 6 * 36


# ---------------------------------------------------------------------------
# 1x1 and depthwise-separable convolutions
# ---------------------------------------------------------------------------


def test_conv1x1_is_a_linear_layer_at_every_pixel():
    torch.manual_seed(0)
    conv = layers.conv1x1(6, 4, bias=True)
    linear = nn.Linear(6, 4)
    linear.load_state_dict({"weight": conv.weight.view(4, 6), "bias": conv.bias})
    x = torch.randn(2, 6, 5, 3)
    assert torch.allclose(conv(x), linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), atol=1e-6)


@pytest.mark.parametrize("c_in, n, k", [(8, 16, 3), (32, 64, 3), (16, 16, 5)])
def test_separable_conv_cost_ratio(c_in, n, k):
    separable = layers.SeparableConv2d(c_in, n, k)
    standard = nn.Conv2d(c_in, n, k, bias=False)
    # Weights: k²·C_in (depthwise) + C_in·N (pointwise) against k²·C_in·N.
    assert analysis.count_params(separable) * k * k * n == analysis.count_params(standard) * (
        k * k + n
    )


def test_depthwise_separable_conv_is_a_depthwise_then_a_pointwise_conv_bn_relu():
    block = layers.DepthwiseSeparableConv(8, 16, stride=2, kernel_size=5)
    depthwise, pointwise = block[0][0], block[1][0]
    assert (depthwise.in_channels, depthwise.out_channels, depthwise.groups) == (8, 8, 8)
    assert (depthwise.kernel_size, depthwise.stride, depthwise.padding) == ((5, 5), (2, 2), (2, 2))
    assert (pointwise.in_channels, pointwise.out_channels, pointwise.kernel_size) == (8, 16, (1, 1))
    # By hand: 25 weights per channel, 8 x 16 pointwise weights, two BN affine pairs.
    assert sum(p.numel() for p in block.parameters()) == 25 * 8 + 8 * 16 + 2 * (8 + 16)
    assert block(torch.zeros(1, 8, 10, 10)).shape == (1, 16, 5, 5)
