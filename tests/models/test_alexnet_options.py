"""AlexNet's experiment switches: activation, local response normalization, initialization."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.models import alexnet, get_model

SMALL = {"num_classes": 10, "in_channels": 1, "small_input": True, "width_multiplier": 0.25}


def kinds(model: nn.Module) -> list[type]:
    return [type(m) for m in [*model.features, *model.classifier]]


@pytest.mark.parametrize("name", ["alexnet", "alexnet_2012", "zfnet"])
def test_tanh_replaces_every_relu_and_keeps_the_parameters(name):
    relu = get_model(name, **SMALL)
    tanh = get_model(name, activation="tanh", **SMALL)
    assert nn.ReLU not in kinds(tanh)
    # Five convolutions and two hidden linear layers, each followed by one nonlinearity.
    assert kinds(tanh).count(nn.Tanh) == kinds(relu).count(nn.ReLU) == 7
    assert [k if k is not nn.Tanh else nn.ReLU for k in kinds(tanh)] == kinds(relu)
    tanh.load_state_dict(relu.state_dict(), strict=True)
    assert analysis.count_params(tanh) == analysis.count_params(relu)
    x = torch.randn(2, 1, 28, 28)
    tanh.eval()
    hidden = tanh.features(x)
    assert hidden.abs().max() <= 1.0  # the last module of features is a tanh or a pool of it


def test_local_response_norm_switch_removes_only_the_normalizations():
    with_lrn = get_model("alexnet_2012", **SMALL)
    without = get_model("alexnet_2012", local_response_norm=False, **SMALL)
    assert kinds(with_lrn).count(nn.LocalResponseNorm) == 2
    assert nn.LocalResponseNorm not in kinds(without)
    assert [k for k in kinds(with_lrn) if k is not nn.LocalResponseNorm] == kinds(without)
    assert analysis.count_params(without) == analysis.count_params(with_lrn)
    # No effect on a network whose layers ask for no normalization.
    assert kinds(get_model("alexnet", local_response_norm=False, **SMALL)) == kinds(
        get_model("alexnet", **SMALL)
    )


def test_alexnet_2012_normalizes_before_pooling_as_section_3_5_says():
    # "Response-normalization layers follow the first and second convolutional
    # layers. Max-pooling layers ... follow both response-normalization layers."
    order = kinds(get_model("alexnet_2012"))[:9]
    assert order == [
        nn.Conv2d, nn.ReLU, nn.LocalResponseNorm, nn.MaxPool2d,
        nn.Conv2d, nn.ReLU, nn.LocalResponseNorm, nn.MaxPool2d,
        nn.Conv2d,
    ]  # fmt: skip


def test_normalization_is_the_papers_formula():
    # Section 3.3: b = a / (k + α Σ_j a_j²)^β over the n = 5 channels centred on
    # the channel (clipped at the ends), k = 2, α = 1e-4, β = 0.75.
    features = get_model("alexnet_2012").features
    lrn = next(m for m in features if isinstance(m, nn.LocalResponseNorm))
    torch.manual_seed(0)
    a = 30 * torch.randn(2, 7, 3, 3, dtype=torch.float64)  # large enough for the sum to matter
    expected = torch.empty_like(a)
    channels = a.shape[1]
    for i in range(channels):
        window = a[:, max(0, i - 2) : min(channels, i + 3)]
        expected[:, i] = a[:, i] / (2 + 1e-4 * (window**2).sum(dim=1)) ** 0.75
    assert torch.allclose(lrn(a), expected, rtol=1e-12, atol=0)


def test_conv_layer_orders_and_sizes():
    spec = alexnet.ConvSpec(8, 5, stride=2, padding=1, pool=True, normalize=True)
    after = alexnet.conv_layer(3, 8, spec)
    assert [type(m) for m in after] == [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.LocalResponseNorm]
    first = alexnet.ConvSpec(8, 5, pool=True, normalize=True, normalize_first=True)
    before = alexnet.conv_layer(3, 8, first, activation="tanh")
    assert [type(m) for m in before] == [nn.Conv2d, nn.Tanh, nn.LocalResponseNorm, nn.MaxPool2d]
    small = alexnet.conv_layer(3, 8, spec, small_input=True, normalize=False)
    conv, _, pool = small
    assert (conv.stride, conv.padding, pool.padding) == ((1, 1), (2, 2), 1)
    x = torch.zeros(1, 3, 28, 28)
    # Large input: (28 + 2 - 5) // 2 + 1 = 13, then the pool (13 - 3) // 2 + 1 = 6.
    assert nn.Sequential(*after)(x).shape[-1] == 6
    # Small input: "same" padding keeps 28; the padded pool halves it to 14.
    assert nn.Sequential(*small)(x).shape[-1] == 14


@pytest.mark.parametrize(("activation", "gain"), [("relu", math.sqrt(2)), ("tanh", 5 / 3)])
def test_kaiming_init_draws_weights_with_the_activations_gain(activation, gain):
    torch.manual_seed(0)
    model = get_model("alexnet", init="kaiming", activation=activation)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            std = float(module.weight.detach().std())
            assert std == pytest.approx(gain / math.sqrt(fan_in), rel=0.05), module
            assert float(module.bias.detach().abs().max()) == 0.0
    default = get_model("alexnet")
    conv = default.features[0]
    # PyTorch's default: uniform in ±1/√fan_in, so a std of 1/√(3·fan_in).
    bound = 1 / math.sqrt(conv.weight[0].numel())
    assert float(conv.weight.detach().abs().max()) <= bound
    assert float(conv.bias.detach().abs().max()) > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"activation": "sigmoid"},
            ValueError,
            "activation must be 'relu' or 'tanh', got 'sigmoid'",
        ),
        ({"activation": nn.ReLU}, TypeError, "activation must be a str"),
        (
            {"local_response_norm": 1},
            TypeError,
            "local_response_norm must be True, False or 'constant', got 1",
        ),
        (
            {"local_response_norm": "batch"},
            ValueError,
            "local_response_norm must be True, False or 'constant', got 'batch'",
        ),
        ({"dropout_first": "yes"}, TypeError, "dropout_first must be a bool"),
        ({"init": "xavier"}, ValueError, "init must be 'default' or 'kaiming', got 'xavier'"),
        ({"init": None}, TypeError, "init must be a str, got None"),
    ],
)
def test_bad_switches_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        alexnet.AlexNet(alexnet.VARIANTS["alexnet_2012"]["layers"], **kwargs)


def test_conv_layer_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="activation must be"):
        alexnet.conv_layer(3, 8, alexnet.ConvSpec(8, 3), activation="gelu")


def test_constant_normalization_scales_by_k_to_the_minus_beta():
    # The control for the normalization: same positions, a fixed 2^-0.75 instead.
    lrn = get_model("alexnet_2012", **SMALL)
    constant = get_model("alexnet_2012", local_response_norm="constant", **SMALL)
    scales = [m for m in constant.features if isinstance(m, alexnet.ConstantScale)]
    assert len(scales) == 2 and nn.LocalResponseNorm not in kinds(constant)
    swapped = [alexnet.ConstantScale if k is nn.LocalResponseNorm else k for k in kinds(lrn)]
    assert kinds(constant) == swapped
    constant.load_state_dict(lrn.state_dict(), strict=True)  # no parameters added
    x = torch.tensor([[-3.0, 0.0, 0.5, 8.0]])
    assert torch.equal(scales[0](x), x * 0.5946035575013605)  # 2 ** -0.75 by hand
    # On small activations (α Σ a² ≪ k) it matches the normalization closely.
    a = 0.1 * torch.randn(1, 7, 4, 4, dtype=torch.float64)
    norm = nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)
    assert torch.allclose(norm(a), scales[0](a), rtol=1e-5)


@pytest.mark.parametrize(
    ("factor", "error"),
    [(0.0, ValueError), (math.inf, ValueError), ("2", TypeError), (True, TypeError)],
)
def test_constant_scale_rejects_bad_factors(factor, error):
    with pytest.raises(error, match="factor must be"):
        alexnet.ConstantScale(factor)


def test_alexnet_2012_drops_the_outputs_of_fc6_and_fc7_as_the_paper_does():
    # Section 4.2: dropout sets "the output of each hidden neuron" of the first
    # two fully connected layers to zero.
    paper = [type(m) for m in get_model("alexnet_2012").classifier]
    assert paper == [
        nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear,
    ]  # fmt: skip
    # torchvision's order (dropout before fc6 and fc7) stays in ``alexnet``.
    twin = [type(m) for m in get_model("alexnet").classifier]
    assert twin == [
        nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Linear,
    ]  # fmt: skip
    # fc6 reads the flattened features undropped: in training mode, with
    # p = 0.999, a dropout before it would zero almost all of its input.
    model = get_model("alexnet_2012", dropout=0.999, **SMALL).train()
    fc6 = model.classifier[0]
    seen = []
    fc6.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    torch.manual_seed(0)
    model(torch.randn(4, 1, 28, 28))
    assert float((seen[0] != 0).float().mean()) > 0.2
