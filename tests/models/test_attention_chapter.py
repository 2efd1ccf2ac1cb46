"""SE and CBAM as chapter 21 uses them: counts, placement and the gates."""

from __future__ import annotations

import pytest
import torch

from cnnlib import analysis, layers
from cnnlib.models import resnet


@pytest.mark.parametrize(("channels", "reduction"), [(16, 4), (64, 16), (256, 16)])
def test_se_and_cbam_parameters_by_hand(channels, reduction):
    hidden = channels // reduction
    se = layers.SqueezeExcite(channels, reduction=reduction)
    # Two FC layers with biases: the paper's 2C²/r weights plus C/r + C.
    assert analysis.count_params(se) == 2 * channels * hidden + hidden + channels
    cbam = layers.CBAM(channels, reduction=reduction)
    # The same MLP, a 7x7 conv from 2 planes to 1 (98) and a 1-channel BN (2).
    assert analysis.count_params(cbam) == analysis.count_params(se) + 2 * 49 + 2


def test_squeeze_excite_is_pool_mlp_sigmoid_scale():
    torch.manual_seed(0)
    se = layers.SqueezeExcite(8, reduction=2).double()
    x = torch.randn(3, 8, 5, 5, dtype=torch.double)
    z = x.mean((2, 3))  # squeeze
    w1, b1 = se.fc1.weight.flatten(1), se.fc1.bias
    w2, b2 = se.fc2.weight.flatten(1), se.fc2.bias
    s = torch.sigmoid(torch.relu(z @ w1.T + b1) @ w2.T + b2)
    torch.testing.assert_close(se(x), x * s[:, :, None, None])
    torch.testing.assert_close(se.channel_weights.flatten(1), s)


@pytest.mark.parametrize("kind", ["se", "cbam"])
def test_cifar_resnet_places_attention_on_every_residual_branch(kind):
    model = resnet.cifar_resnet(14, attention=kind, attention_reduction=4).eval()
    blocks = [b for stage in (model.layer1, model.layer2, model.layer3) for b in stage]
    assert len(blocks) == 6
    expected = layers.SqueezeExcite if kind == "se" else layers.CBAM
    assert all(isinstance(b.attention, expected) for b in blocks)
    assert [b.attention.mlp[0].out_channels if kind == "cbam" else b.attention.fc1.out_channels
            for b in blocks] == [4, 4, 8, 8, 16, 16]  # fmt: skip
    b = model.layer2[0]
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        branch = b.bn2(b.conv2(b.relu(b.bn1(b.conv1(x)))))
        hand = torch.relu(b.attention(branch) + b.downsample(x))
        torch.testing.assert_close(b(x), hand)


def test_cifar_resnet_attention_adds_exactly_the_modules():
    plain = analysis.count_params(resnet.cifar_resnet(20))
    se = analysis.count_params(resnet.cifar_resnet(20, attention="se", attention_reduction=4))
    assert se - plain == 3 * sum(2 * c * c // 4 + c // 4 + c for c in (16, 32, 64))


def test_cifar_resnet_rejects_bad_attention():
    with pytest.raises(ValueError, match="attention"):
        resnet.cifar_resnet(8, attention="eca")
    with pytest.raises(ValueError, match="attention_reduction"):
        resnet.cifar_resnet(8, attention="se", attention_reduction=0)


def test_se_resnet50_macs_match_woo_et_al_table_4():
    size = (1, 3, 224, 224)
    with torch.device("meta"):
        nets = [resnet.resnet50(stride_in="1x1"), resnet.se_resnet50(stride_in="1x1"),
                resnet.cbam_resnet50(stride_in="1x1")]  # fmt: skip
    gmacs = [round(analysis.count_macs(m, size) / 1e9, 3) for m in nets]
    assert gmacs == [3.858, 3.860, 3.864]  # ResNet50, + SE, + CBAM
