"""cnnlib.models.highway: the initialisations and reading the gates of a network."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cnnlib.models import get_model, highway

F64 = torch.float64


def _net(**kwargs: object) -> highway.HighwayNetwork:
    return highway.HighwayNetwork("fc", (20,), (6,), image_size=8, **kwargs)


def test_kaiming_init_gives_relu_layers_variance_two_over_fan_in():
    torch.manual_seed(0)
    net = highway.HighwayNetwork("fc", (400,), (3,), image_size=20, init="kaiming")
    stem = net.stem[1]
    # He et al. (2015): N(0, 2 / fan_in); 400·400 draws estimate it to ~0.4 %.
    assert stem.weight.var().item() == pytest.approx(2 / 400, rel=0.03)
    assert torch.count_nonzero(stem.bias) == 0
    for layer in highway.highway_layers(net):
        assert layer.transform.weight.var().item() == pytest.approx(2 / 400, rel=0.03)
        assert torch.count_nonzero(layer.transform.bias) == 0
        # The gate keeps PyTorch's default, uniform in ±1/sqrt(fan_in), and its bias.
        assert layer.gate.weight.abs().max().item() <= 1 / math.sqrt(400)
        assert torch.equal(layer.gate.bias, torch.full((400,), -2.0))


def test_kaiming_init_reaches_conv_layers_and_the_registered_builder():
    torch.manual_seed(0)
    net = get_model("highway_conv_cifar", init="kaiming", in_channels=1)
    convs = [m for m in net.stages.modules() if isinstance(m, nn.Conv2d)]
    gates = {id(layer.gate) for layer in highway.highway_layers(net)}
    transforms = [m for m in convs if id(m) not in gates]
    assert len(transforms) == 9 + 2  # 9 highway transforms, 2 transitions
    for conv in transforms:
        fan_in = conv.in_channels * 9
        assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.1)


def test_default_init_is_pytorchs():
    torch.manual_seed(0)
    default = _net()
    torch.manual_seed(0)
    explicit = _net(init="default")
    for a, b in zip(default.parameters(), explicit.parameters(), strict=True):
        assert torch.equal(a, b)
    # PyTorch's default Linear init is uniform in ±1/sqrt(fan_in): variance 1/(3·fan_in).
    assert default.stages[0][0].transform.weight.abs().max() <= 1 / math.sqrt(20)


def test_gate_activity_matches_the_formula_per_layer():
    torch.manual_seed(0)
    net = _net().double()
    x = torch.randn(5, 1, 8, 8, dtype=F64)
    gates = highway.gate_activity(net, x)
    assert len(gates) == 6 and all(g.shape == (5, 20) for g in gates)
    # Recompute every gate by hand: T = sigmoid(W_T h + b_T), h the layer's input.
    h = torch.relu(net.stem[1](x.flatten(1)))
    for layer, t in zip(net.stages[0], gates, strict=True):
        expected = torch.sigmoid(h @ layer.gate.weight.T + layer.gate.bias)
        torch.testing.assert_close(t, expected, rtol=0, atol=1e-12)
        hh = torch.relu(h @ layer.transform.weight.T + layer.transform.bias)
        h = expected * hh + (1 - expected) * h


def test_gate_activity_restores_training_mode_and_averages_conv_positions():
    net = get_model("highway_conv_cifar", in_channels=1).train()
    x = torch.randn(2, 1, 16, 16)
    gates = highway.gate_activity(net, x)
    assert net.training
    assert [g.shape for g in gates] == [(2, 32)] * 3 + [(2, 64)] * 3 + [(2, 128)] * 3
    full = highway.highway_layers(net)[0].gate_values  # (2, 32, 16, 16) from that pass
    assert full.shape == (2, 32, 16, 16)
    torch.testing.assert_close(gates[0], full.mean(dim=(2, 3)))


def test_highway_layers_skips_plain_twins_and_gate_activity_refuses_them():
    assert len(highway.highway_layers(get_model("highway_fc_mnist"))) == 9
    plain = get_model("highway_fc_mnist", gated=False)
    assert highway.highway_layers(plain) == []
    with pytest.raises(ValueError, match="gated=False"):
        highway.gate_activity(plain, torch.zeros(1, 1, 28, 28))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="init"):
        _net(init="he")
    with pytest.raises(TypeError, match="model"):
        highway.highway_layers("net")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inputs"):
        highway.gate_activity(_net(), [[0.0]])  # type: ignore[arg-type]


def test_class_deviation_against_hand_computed_class_means():
    # Two classes of 3 samples: class 0 gates all 0.2, class 1 all 0.4, so the
    # overall mean is 0.3 and each class mean lies 0.1 from it.
    gates = torch.tensor([0.2, 0.2, 0.2, 0.4, 0.4, 0.4]).reshape(1, 6, 1).expand(2, 6, 4)
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    assert highway.class_deviation(gates, labels) == pytest.approx(0.1)
    # Unequal classes: 0.2 (x1) and 0.5 (x2): overall 0.4, deviations 0.2 and 0.1.
    gates = torch.tensor([0.2, 0.5, 0.5]).reshape(1, 3, 1)
    assert highway.class_deviation(gates, torch.tensor([3, 7, 7])) == pytest.approx(0.15)
    # Gates that ignore the class deviate by nothing.
    flat = torch.rand(3, 1, 5).expand(3, 8, 5)
    assert highway.class_deviation(flat, torch.arange(8) % 3) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "gates, labels, error",
    [
        ([[[0.5]]], torch.tensor([0]), TypeError),
        (torch.zeros(1, 2, 1), torch.tensor([0.0, 1.0]), TypeError),
        (torch.zeros(2, 2), torch.tensor([0, 1]), ValueError),
        (torch.zeros(1, 2, 1), torch.tensor([0, 1, 2]), ValueError),
        (torch.zeros(1, 0, 1), torch.zeros(0, dtype=torch.long), ValueError),
    ],
)
def test_class_deviation_refuses_bad_input(gates, labels, error):
    with pytest.raises(error):
        highway.class_deviation(gates, labels)


@pytest.mark.parametrize("depth", [2, 10, 50])
def test_thin_twins_have_the_planned_layers_and_about_equal_parameters(depth):
    gated = highway.thin_twin(depth, True, -3.0)
    plain = highway.thin_twin(depth, False)
    layers = highway.highway_layers(gated)
    assert len(layers) == depth - 1
    assert all(
        float(m.gate.bias.detach().min()) == float(m.gate.bias.detach().max()) == -3.0
        for m in layers
    )
    assert highway.highway_layers(plain) == []
    # Stem 784 -> width, depth - 1 layers, classifier: by hand.
    n_gated = 785 * 50 + (depth - 1) * 2 * (50 * 50 + 50) + 51 * 10
    n_plain = 785 * 71 + (depth - 1) * (71 * 71 + 71) + 72 * 10
    assert sum(p.numel() for p in gated.parameters()) == n_gated
    assert sum(p.numel() for p in plain.parameters()) == n_plain
    assert gated(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("depth", [1, 2.0, True])
def test_thin_twin_refuses_a_bad_depth(depth):
    with pytest.raises(ValueError, match="depth"):
        highway.thin_twin(depth)
