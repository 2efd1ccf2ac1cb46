"""The options the chapters need, each against an independent expectation.

Hand derivations, torchvision's own implementation, or the layer written out
with ``torch.nn.functional``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnlib import analysis
from cnnlib.layers import CBAM, SeparableConv2d, SqueezeExcite
from cnnlib.models import (
    densenet,
    get_model,
    googlenet,
    highway,
    inception,
    pyramidnet,
    resnet,
    resnext,
    shake_shake,
    shufflenet,
    wrn,
)

F64 = torch.float64


def randomise_norms(model: nn.Module, seed: int = 0) -> None:
    """Random BN statistics and affine parameters, so that eval mode is not the identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n, kw = m.num_features, {"generator": generator, "dtype": m.weight.dtype}
                m.weight.copy_(1 + 0.3 * torch.randn(n, **kw))
                m.bias.copy_(0.3 * torch.randn(n, **kw))
                m.running_mean.copy_(0.3 * torch.randn(n, **kw))
                m.running_var.copy_(0.5 + torch.rand(n, **kw))


# ---------------------------------------------------------------------------
# ResNet
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_zero_init_residual_starts_every_block_as_the_identity(name):
    model = get_model(name, zero_init_residual=True, width_multiplier=0.25).double().eval()
    blocks = [m for m in model.modules() if isinstance(m, (resnet.BasicBlock, resnet.Bottleneck))]
    for block in blocks:
        c = block.conv1.in_channels
        x_in = torch.randn(2, c, 8, 8, dtype=F64)
        shortcut = x_in if block.downsample is None else block.downsample(x_in)
        # The last BN's scale is 0, so the residual branch adds only its (zero) shift.
        torch.testing.assert_close(block(x_in), F.relu(shortcut), rtol=0, atol=0)


@pytest.mark.parametrize("dilate", [(False, False, True), (False, True, True)])
def test_replace_stride_with_dilation_matches_torchvision(dilate):
    torch.manual_seed(0)
    ours = get_model("resnet50", replace_stride_with_dilation=dilate).eval()
    theirs = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=list(dilate))
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs.eval()(x))
        features = ours.forward_features(x)
    # Output stride 32 without dilation, 16 with one dilated stage, 8 with two.
    assert features.shape[-1] == 96 // (32 // 2 ** sum(dilate))


def test_stride_in_1x1_is_the_papers_v1():
    v1 = get_model("resnet50", stride_in="1x1")
    first = v1.layer2[0]
    assert (first.conv1.stride, first.conv2.stride) == ((2, 2), (1, 1))
    v15 = get_model("resnet50")
    assert analysis.count_params(v1) == analysis.count_params(v15)
    # Both 3x3s of a downsampling block produce (n/2)² positions; the first 1x1
    # (c_in → w) runs at n² positions in v1.5 and at (n/2)² in v1.
    stages = [(256, 128, 56), (512, 256, 28), (1024, 512, 14)]  # c_in, w, n
    saved = sum(c_in * w * (n * n - (n // 2) ** 2) for c_in, w, n in stages)
    shape = (1, 3, 224, 224)
    assert analysis.count_macs(v15, shape) - analysis.count_macs(v1, shape) == saved
    # He et al. (2016), Table 1: ResNet-50 has 3.8 x 10^9 FLOPs (multiply-adds).
    assert round(analysis.count_macs(v1, shape) / 1e9, 1) == 3.9
    assert abs(analysis.count_macs(v1, shape) / 3.8e9 - 1) < 0.02


@pytest.mark.parametrize("block", ["basic", "bottleneck"])
def test_residual_false_is_the_plain_twin(block):
    name = "resnet18" if block == "basic" else "resnet50"
    plain = get_model(name, residual=False, width_multiplier=0.25).double().eval()
    randomise_norms(plain)
    assert not any(m.downsample is not None for m in plain.modules() if hasattr(m, "downsample"))
    unit = plain.layer2[0]
    x = torch.randn(2, unit.conv1.in_channels, 8, 8, dtype=F64)
    out = F.relu(unit.bn1(unit.conv1(x)))
    if block == "basic":
        expected = F.relu(unit.bn2(unit.conv2(out)))
    else:
        out = F.relu(unit.bn2(unit.conv2(out)))
        expected = F.relu(unit.bn3(unit.conv3(out)))
    torch.testing.assert_close(unit(x), expected, rtol=0, atol=0)
    residual = get_model(name, width_multiplier=0.25)
    projections = sum(analysis.count_params(m.downsample) for m in residual.modules()
                      if getattr(m, "downsample", None) is not None)  # fmt: skip
    assert analysis.count_params(residual) - analysis.count_params(plain) == projections


def test_resnet_option_errors():
    with pytest.raises(ValueError, match="replace_stride_with_dilation must be 3 bools"):
        get_model("resnet18", replace_stride_with_dilation=(True,))
    with pytest.raises(ValueError, match="stride_in='1x1' needs block='bottleneck'"):
        get_model("resnet18", stride_in="1x1")
    with pytest.raises(TypeError, match="residual must be a bool"):
        get_model("resnet18", residual=0)


# ---------------------------------------------------------------------------
# AlexNet, GoogLeNet, Inception-ResNet, highway networks
# ---------------------------------------------------------------------------


def test_alexnet_2012_has_two_towers_and_the_papers_parameters():
    model = get_model("alexnet_2012")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]
    # Krizhevsky et al. (2012), Figure 2: a grouped layer's kernels see half the channels.
    by_hand = (
        (11 * 11 * 3 + 1) * 96 + (5 * 5 * 48 + 1) * 256 + (3 * 3 * 256 + 1) * 384
        + (3 * 3 * 192 + 1) * 384 + (3 * 3 * 192 + 1) * 256
        + (256 * 6 * 6 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    )  # fmt: skip
    assert analysis.count_params(model) == by_hand == 60_965_224
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in model.features) == 2
    thin = get_model("alexnet_2012", width_multiplier=0.3, small_input=True)
    assert all(c.out_channels % 2 == 0 for c in thin.features if isinstance(c, nn.Conv2d))


def test_inception_without_reductions_is_the_naive_module():
    config = googlenet.INCEPTION_CONFIG["inception3a"]  # 64, 96, 128, 16, 32, 32
    naive = googlenet.Inception(192, *config, branch3_kernel_size=5, reductions=False)
    full = googlenet.Inception(192, *config, branch3_kernel_size=5)
    bn = 2  # scale and shift per channel
    naive_by_hand = (192 * 64 + 9 * 192 * 128 + 25 * 192 * 32) + bn * (64 + 128 + 32)
    assert analysis.count_params(naive) == naive_by_hand
    full_by_hand = (
        192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
        + bn * (64 + 96 + 128 + 16 + 32 + 32)
    )  # fmt: skip
    assert analysis.count_params(full) == full_by_hand
    out = naive(torch.zeros(1, 192, 28, 28))
    assert out.shape == (1, 64 + 128 + 32 + 192, 28, 28) and naive.out_channels == 416


def test_inception_resnet_a_concatenates_then_adds_a_linear_projection():
    block = inception.InceptionResNetA(384).double().eval()
    randomise_norms(block)
    bn = 2
    by_hand = (
        384 * 32 + 384 * 32 + 9 * 32 * 32 + 384 * 32 + 9 * 32 * 48 + 9 * 48 * 64
        + bn * (32 + 32 + 32 + 32 + 48 + 64) + 128 * 384 + 384
    )  # fmt: skip
    assert analysis.count_params(block) == by_hand
    x = torch.randn(2, 384, 9, 9, dtype=F64)
    branches = torch.cat([block.branch0(x), block.branch1(x), block.branch2(x)], dim=1)
    assert branches.shape[1] == 32 + 32 + 64
    expected = F.relu(x + F.conv2d(branches, block.conv.weight, block.conv.bias))
    torch.testing.assert_close(block(x), expected)
    with torch.no_grad():
        block.conv.weight.zero_(), block.conv.bias.zero_()
    torch.testing.assert_close(block(x), F.relu(x), rtol=0, atol=0)


def test_highway_plain_twin_has_no_gates_and_computes_h():
    layer = highway.HighwayLayer(8, kind="fc", gated=False).double()
    x = torch.randn(3, 8, dtype=F64)
    torch.testing.assert_close(layer(x), F.relu(layer.transform(x)), rtol=0, atol=0)
    gated = get_model("highway_fc_mnist")
    plain = get_model("highway_fc_mnist", gated=False)
    assert analysis.count_params(gated) - analysis.count_params(plain) == 9 * (50 * 50 + 50)
    gated(torch.zeros(2, 1, 28, 28))
    gates = [m.gate_values for m in gated.modules() if isinstance(m, highway.HighwayLayer)]
    # At initialisation the gate bias is -2 and a zero image gives H's input
    # from the plain stem only through the bias: every gate is near sigmoid(-2).
    assert all(g.shape == (2, 50) for g in gates)
    assert 0.0 < float(gates[0].mean()) < 0.5


# ---------------------------------------------------------------------------
# ResNeXt of depth 2, Wide ResNet block types, Shake-Shake modes, PyramidNet
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_depth_2_aggregation_is_a_wide_dense_block(mode):
    torch.manual_seed(0)
    a = resnext.ResNeXtBlock(16, 4, 3, "a", depth=2).double()
    randomise_norms(a)
    c = resnext.convert(a, "c")
    b = resnext.convert(a, "b")
    # Form (c) of a depth-2 block has no grouped convolution: it is a basic
    # block of width C·d = 12 (Xie et al., 2017, Figure 4).
    assert all(m.groups == 1 for m in c.modules() if isinstance(m, nn.Conv2d))
    assert (c.conv1.out_channels, c.conv2.in_channels) == (12, 12)
    x = torch.randn(4, 16, 6, 6, dtype=F64)
    for block in (a, b, c):
        block.train(mode == "train")
    torch.testing.assert_close(b(x), a(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(c(x), a(x), rtol=0, atol=1e-12)
    by_hand = 9 * 16 * 12 + 9 * 12 * 16 + 2 * (12 + 16)
    assert analysis.count_params(a) == analysis.count_params(c) == by_hand


@pytest.mark.parametrize(
    "kernels, depth", [((1, 3, 1), 40), ((3, 1), 40), ((1, 3), 40), ((3, 1, 1), 40),
                       ((3, 3), 28), ((3, 1, 3), 22)],
)  # fmt: skip
def test_wrn_block_types_of_table_1(kernels, depth):
    model = wrn.WideResNet(depth, 2, block_kernels=kernels)
    n = (depth - 4) // (3 * len(kernels))
    bn = 2
    total, c_in = 9 * 3 * 16, 16
    for _, width in enumerate((32, 64, 128)):
        for _ in range(n):
            for k, kernel in enumerate(kernels):
                c = c_in if k == 0 else width
                total += bn * c + kernel * kernel * c * width
            if c_in != width:
                total += c_in * width  # the 1x1 projection
            c_in = width
    total += bn * c_in + c_in * 10 + 10
    assert analysis.count_params(model) == total
    # The authors' depth 3·n·l + 4 is two more than the weight layers on the
    # longest path: the stem, 3·n·l block convolutions and the classifier.
    shortcuts = {b.shortcut for b in model.modules() if isinstance(b, wrn.WideBlock)}
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m not in shortcuts]
    assert len(convs) + 1 == depth - 2 and len(convs) == 3 * n * len(kernels) + 1
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


def test_wrn_depth_must_fit_the_block_type():
    with pytest.raises(ValueError, match=r"depth must be 9n \+ 4"):
        wrn.WideResNet(28, 2, block_kernels=(1, 3, 1))


def _coefficients(block: shake_shake.ShakeBlock, x: torch.Tensor):
    captured = {}
    for name in ("branch1", "branch2"):

        def hook(module, inputs, output, name=name):
            captured[name] = output
            output.register_hook(lambda g: captured.__setitem__(name + "_grad", g))

        getattr(block, name).register_forward_hook(hook)
    out = block(x)
    a, b = captured["branch1"].detach(), captured["branch2"].detach()
    alpha = ((out - x).detach() - b) / (a - b)
    upstream = torch.randn_like(out)
    out.backward(upstream)
    beta = captured["branch1_grad"] / upstream
    return alpha.flatten(1)[:, 0], beta.flatten(1)[:, 0]


@pytest.mark.parametrize(
    "forward, backward, level",
    [("shake", "keep", "image"), ("even", "even", "image"), ("shake", "shake", "batch")],
)
def test_shake_shake_modes(forward, backward, level):
    torch.manual_seed(0)
    block = shake_shake.ShakeBlock(4, 4, 1, forward, backward, level).double().train()
    alpha, beta = _coefficients(block, torch.randn(6, 4, 5, 5, dtype=F64))
    if forward == "even":
        torch.testing.assert_close(alpha, torch.full_like(alpha, 0.5))
    if backward == "even":
        torch.testing.assert_close(beta, torch.full_like(beta, 0.5))
    if backward == "keep":
        torch.testing.assert_close(beta, alpha)
    if level == "batch":
        torch.testing.assert_close(alpha, alpha[:1].expand_as(alpha))
        torch.testing.assert_close(beta, beta[:1].expand_as(beta))
        assert not torch.allclose(alpha, beta)
    else:
        assert forward == "even" or alpha.unique().numel() == 6


def test_pyramidnet_multiplicative_widening_by_hand():
    widths = pyramidnet.pyramidal_widths(54, 4, widening="multiplicative")
    assert widths == [math.floor(16 * 4 ** (k / 54)) for k in range(1, 55)]
    assert widths[-1] == 64 and widths == sorted(widths)
    model = pyramidnet.PyramidNet(110, 4, widening="multiplicative")
    blocks = [m for m in model.modules() if isinstance(m, pyramidnet.PyramidBlock)]
    assert [b.out_channels for b in blocks] == widths
    with pytest.raises(ValueError, match="alpha must be >= 1 for multiplicative"):
        pyramidnet.pyramidal_widths(10, 0.5, widening="multiplicative")


# ---------------------------------------------------------------------------
# DenseNet, Xception's separable convolution, ShuffleNet, attention maps
# ---------------------------------------------------------------------------


def test_densenet_bc_100_12_matches_the_paper():
    model = get_model("densenet_bc_100_12")
    blocks = [m for m in model.modules() if isinstance(m, densenet.DenseBlock)]
    assert [len(list(b.children())) for b in blocks] == [16, 16, 16]
    # Huang et al. (2017), Table 2: DenseNet-BC (L = 100, k = 12) has 0.8 M parameters.
    assert round(analysis.count_params(model) / 1e6, 1) == 0.8
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_memory_efficient_densenet_computes_the_same_function_and_gradients():
    torch.manual_seed(0)
    plain = get_model("densenet_bc_100_12", width_multiplier=0.5).double()
    efficient = get_model("densenet_bc_100_12", width_multiplier=0.5, memory_efficient=True)
    efficient.double().load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 16, 16, dtype=F64)
    out_plain, out_efficient = plain(x), efficient(x)
    torch.testing.assert_close(out_efficient, out_plain, rtol=0, atol=1e-12)
    out_plain.sum().backward()
    out_efficient.sum().backward()
    for (name, p), q in zip(plain.named_parameters(), efficient.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=0, atol=1e-10, msg=name)


@pytest.mark.parametrize("activation", [None, nn.ReLU, nn.ELU])
def test_separable_conv_activation_between_depthwise_and_pointwise(activation):
    conv = SeparableConv2d(4, 6, activation=activation).double()
    x = torch.randn(2, 4, 7, 7, dtype=F64)
    middle = F.conv2d(x, conv.depthwise.weight, padding=1, groups=4)
    if activation is not None:
        middle = activation()(middle)
    torch.testing.assert_close(conv(x), F.conv2d(middle, conv.pointwise.weight), rtol=0, atol=0)


def test_shufflenet_v1_shuffle_switch():
    with_shuffle = shufflenet.shufflenet_v1(groups=3)
    without = shufflenet.shufflenet_v1(groups=3, shuffle=False)
    from cnnlib.layers import ChannelShuffle

    assert sum(isinstance(m, ChannelShuffle) for m in with_shuffle.modules()) == 16
    assert not any(isinstance(m, ChannelShuffle) for m in without.modules())
    assert analysis.count_params(with_shuffle) == analysis.count_params(without)


def test_attention_maps_are_readable_after_a_forward_pass():
    torch.manual_seed(0)
    se = SqueezeExcite(8, reduction=2).double()
    x = torch.randn(3, 8, 5, 5, dtype=F64)
    out = se(x)
    hidden = F.relu(F.conv2d(x.mean(dim=(2, 3), keepdim=True), se.fc1.weight, se.fc1.bias))
    gate = torch.sigmoid(F.conv2d(hidden, se.fc2.weight, se.fc2.bias))
    torch.testing.assert_close(se.channel_weights, gate)
    torch.testing.assert_close(out, x * gate)
    cbam = CBAM(8, reduction=2).double().eval()
    out = cbam(x)
    assert cbam.channel_weights.shape == (3, 8, 1, 1)
    assert cbam.spatial_weights.shape == (3, 1, 5, 5)
    torch.testing.assert_close(out, x * cbam.channel_weights * cbam.spatial_weights)
    assert not cbam.spatial_weights.requires_grad
