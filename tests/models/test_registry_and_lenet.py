"""The registry and LeNet-5, against hand counts and the paper."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnnlib
from cnnlib import analysis
from cnnlib.models import get_model, lenet, list_models, model_info, register_model


def test_registry_lists_the_lenets():
    names = list_models()
    assert {"lenet5", "lenet5_modern"} <= set(names)
    assert names == sorted(names)


def test_get_model_unknown_name_lists_registered_models():
    with pytest.raises(ValueError, match=r"unknown model name 'lenet6'.*lenet5"):
        get_model("lenet6")
    with pytest.raises(TypeError, match="name must be a str"):
        get_model(5)


def test_register_model_rejects_a_second_builder_under_the_same_name():
    def lenet5() -> nn.Module:  # same name as the real builder
        return nn.Identity()

    with pytest.raises(ValueError, match="already registered"):
        register_model(lenet5)
    with pytest.raises(TypeError, match="callable"):
        register_model("lenet5")


def test_get_model_passes_keyword_arguments():
    model = get_model("lenet5", num_classes=3, in_channels=3)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 3)


@pytest.mark.slow  # at full size; tests/models/test_contract.py covers every model fast
@pytest.mark.parametrize("name", list_models())
def test_every_model_builds_runs_and_is_countable(name):
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = get_model(name)
    shape = (2, *model_info(name).image_shape)
    out = model(torch.randn(shape))
    assert out.ndim == 2 and out.shape[0] == 2
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert analysis.count_params(model) == sum(p.numel() for p in model.parameters())
    # Counts need shapes only: analyse a copy on the meta device.
    single = (1, *shape[1:])
    model.to("meta").eval()
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(single, device="meta"))
    assert analysis.count_macs(model, single) == counter.get_total_flops() // 2 > 0
    if any(isinstance(m, nn.Conv2d) for m in model.modules()):
        rf = analysis.receptive_field(model, single)
        sizes = (rf.size,) if isinstance(rf.size, int) else rf.size
        assert min(sizes) >= 1 and rf.layer in {row.name for row in rf.rows}
    else:  # fully connected from the start: the deepest spatial map is the image itself
        assert analysis.receptive_field(model, single).size == 1


def test_register_model_validates_image_shape():
    def some_new_model() -> nn.Module:
        return nn.Identity()

    with pytest.raises(ValueError, match="image_shape"):
        register_model(image_shape=(28, 28))(some_new_model)
    assert "some_new_model" not in list_models()


def test_lenet5_parameters_by_hand():
    # (k*k*C_in + 1)*C_out per convolution, (n_in + 1)*n_out per linear layer.
    by_hand = (25 * 1 + 1) * 6 + (25 * 6 + 1) * 16 + (25 * 16 + 1) * 120 + 121 * 84 + 85 * 10
    assert by_hand == 61_706
    assert cnnlib.count_params(get_model("lenet5")) == by_hand


def test_lenet5_feature_map_sizes_follow_the_paper():
    # LeCun et al. 1998: C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5, C5 120@1x1.
    features = get_model("lenet5").features
    x = lenet.pad_to_32(torch.zeros(1, 1, 28, 28))  # the paper's 32x32 field
    shapes = {}
    for name, layer in features.named_children():
        x = layer(x)
        shapes[name] = tuple(x.shape[1:])
    assert shapes["c1"] == (6, 28, 28) and shapes["s2"] == (6, 14, 14)
    assert shapes["c3"] == (16, 10, 10) and shapes["s4"] == (16, 5, 5)
    assert shapes["c5"] == (120, 1, 1)


def test_lenet5_macs_by_hand_and_against_torch():
    from torch.utils.flop_counter import FlopCounterMode

    model = get_model("lenet5")
    by_hand = 28 * 28 * 25 * 6 + 10 * 10 * 25 * 6 * 16 + 25 * 16 * 120 + 120 * 84 + 84 * 10
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, 28, 28))
    assert cnnlib.count_macs(model, (1, 1, 28, 28)) == by_hand == counter.get_total_flops() // 2


def test_paper_c3_connection_table():
    # Table I: six maps read 3 S2 maps, nine read 4, one reads all 6; the paper
    # states C3 then has 1,516 trainable parameters.
    sizes = sorted(len(inputs) for inputs in lenet.C3_CONNECTIONS)
    assert sizes == [3] * 6 + [4] * 9 + [6]
    assert all(
        len(set(inputs)) == len(inputs) and set(inputs) <= set(range(6))
        for inputs in lenet.C3_CONNECTIONS
    )
    assert 25 * sum(sizes) + 16 == 1_516


def test_scaled_tanh_maps_plus_minus_one_to_itself():
    f = lenet.ScaledTanh()
    x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
    assert torch.allclose(f(x), x, atol=1e-4)
    assert torch.allclose(f(torch.tensor(50.0)), torch.tensor(1.7159))


def test_modern_variant_uses_relu_max_pool_and_batch_norm():
    model = get_model("lenet5_modern")
    kinds = {type(m) for m in model.modules()}
    assert {nn.ReLU, nn.MaxPool2d, nn.BatchNorm2d, nn.BatchNorm1d} <= kinds
    assert lenet.ScaledTanh not in kinds and nn.AvgPool2d not in kinds
    # Batch norm adds 2 per channel after C1, C3, C5 and F6; those layers lose their bias.
    channels = 6 + 16 + 120 + 84
    assert cnnlib.count_params(model) == 61_706 + 2 * channels - channels


@pytest.mark.parametrize("size, padding", [(28, 2), (32, 0), (30, 1)])
def test_smaller_images_are_centred_in_a_32x32_field(size, padding):
    torch.manual_seed(0)
    model = lenet.LeNet5().eval()
    x = torch.randn(2, 1, size, size)
    by_hand = torch.zeros(2, 1, 32, 32)
    by_hand[:, :, padding : padding + size, padding : padding + size] = x
    assert torch.equal(model(x), model(by_hand))
    assert model(x).shape == (2, 10)


def test_pad_to_32_fills_the_margin_with_the_value_it_is_given():
    x = torch.rand(2, 1, 28, 28)
    padded = lenet.pad_to_32(x, -0.8)
    assert padded.shape == (2, 1, 32, 32)
    assert torch.equal(padded[..., 2:30, 2:30], x)  # the image, centred
    margin = torch.ones(32, 32, dtype=torch.bool)
    margin[2:30, 2:30] = False
    assert margin.sum() == 32 * 32 - 28 * 28
    assert torch.all(padded[..., margin] == -0.8)
    assert torch.all(lenet.pad_to_32(x)[..., margin] == 0)  # the default: zeros
    assert lenet.pad_to_32(padded, 5.0) is padded  # 32x32 already: unchanged
    with pytest.raises(TypeError, match="value"):
        lenet.pad_to_32(x, "black")
    with pytest.raises(ValueError, match="value"):
        lenet.pad_to_32(x, float("nan"))


def test_lenet5_pads_with_its_pad_value():
    # The paper's field is background: a black Fashion-MNIST background,
    # normalised with its mean 0.2860 and std 0.3530, is about -0.81.
    background = (0 - 0.2860) / 0.3530
    torch.manual_seed(0)
    model = lenet.LeNet5(pad_value=background).eval()
    x = torch.randn(2, 1, 28, 28)
    by_hand = torch.full((2, 1, 32, 32), background)
    by_hand[:, :, 2:30, 2:30] = x
    assert torch.equal(model(x), model(by_hand))
    assert model.pad_value == background
    built = get_model("lenet5_modern", pad_value=-1)
    assert built.pad_value == -1.0 and isinstance(built.pad_value, float)


@pytest.mark.parametrize(
    "pad_value, error", [("0", TypeError), (True, TypeError), (float("inf"), ValueError)]
)
def test_lenet5_rejects_a_bad_pad_value(pad_value, error):
    with pytest.raises(error, match="pad_value"):
        lenet.LeNet5(pad_value=pad_value)


def test_paper_table_sets_the_papers_numbers_beside_the_models():
    table = analysis.summary(get_model("lenet5"), (1, 1, 28, 28))
    lines = lenet.paper_table(table).splitlines()
    assert lines[0].split() == [
        "layer",
        "output",
        "params",
        "paper",
        "MACs",
        "paper",
        "conn.",
        "field",
    ]
    assert [line.split()[0] for line in lines[1:]] == [*lenet.LAYERS, "total"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    # Section II.B of LeCun et al. (1998): C1 156 parameters, 122,304
    # connections; S2 12 and 5,880; C3 1,516 and 151,600; S4 32 and 2,000;
    # C5 48,120 and 48,120; F6 10,164 parameters; 60,000 in all. Ours by hand:
    # C1 (25 + 1) * 6 parameters and 28 * 28 * 25 * 6 MACs, C3 (150 + 1) * 16
    # and 10 * 10 * 150 * 16, C5 (400 + 1) * 120 and 400 * 120.
    assert rows["c1"] == ["6x28x28", "156", "156", "117,600", "122,304", "5"]
    assert rows["s2"] == ["6x14x14", "0", "12", "0", "5,880", "6"]
    assert rows["c3"] == ["16x10x10", "2,416", "1,516", "240,000", "151,600", "14"]
    assert rows["s4"] == ["16x5x5", "0", "32", "0", "2,000", "16"]
    assert rows["c5"] == ["120x1x1", "48,120", "48,120", "48,000", "48,120", "32"]
    assert rows["f6"] == ["84", "10,164", "10,164", "10,080"]
    assert rows["output"] == ["10", "850", "840"]
    assert rows["total"] == ["61,706", "60,000", "416,520"]
    assert max(map(len, lines)) <= 64


def test_paper_table_refuses_what_is_not_a_lenet_summary():
    with pytest.raises(TypeError, match="Summary"):
        lenet.paper_table("lenet5")
    vgg = analysis.summary(nn.Sequential(nn.Conv2d(1, 2, 3)), (1, 1, 8, 8))
    with pytest.raises(ValueError, match="lacks the layers"):
        lenet.paper_table(vgg)


@pytest.mark.parametrize("size", [33, 27])
def test_lenet5_rejects_images_it_cannot_centre(size):
    with pytest.raises(ValueError, match="at most 32x32 with an even margin"):
        lenet.LeNet5()(torch.zeros(1, 1, size, size))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(in_channels=0), "in_channels"),
        (dict(num_classes=-1), "num_classes"),
        (dict(activation="gelu"), "activation"),
        (dict(pooling="median"), "pooling"),
        (dict(small_input=False), "small_input"),
    ],
)
def test_lenet5_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lenet.LeNet5(**kwargs)


def test_paper_counts_follow_from_the_layer_sizes():
    # LeCun et al. (1998), section II.B, by hand: a connection is a multiplication
    # or the bias of one output unit; S2/S4 units sum 4 inputs and have a bias.
    params, connections = lenet.PAPER_PARAMS, lenet.PAPER_CONNECTIONS
    assert sum(params.values()) == 60_000
    assert params["c1"] == (25 + 1) * 6 and connections["c1"] == 28 * 28 * (25 + 1) * 6
    assert params["s2"] == 2 * 6 and connections["s2"] == 14 * 14 * 6 * (4 + 1)
    c3_inputs = sum(len(inputs) for inputs in lenet.C3_CONNECTIONS)
    assert params["c3"] == 25 * c3_inputs + 16
    assert connections["c3"] == 10 * 10 * (25 * c3_inputs + 16)
    assert params["s4"] == 2 * 16 and connections["s4"] == 5 * 5 * 16 * (4 + 1)
    assert params["c5"] == connections["c5"] == (25 * 16 + 1) * 120
    assert params["f6"] == (120 + 1) * 84


def test_scaled_tanh_does_not_preserve_unit_variance():
    import math

    import numpy as np

    # Gauss-Hermite quadrature of E[f(a)^2] for a ~ N(0, 1), in numpy (not torch).
    nodes, weights = np.polynomial.hermite_e.hermegauss(120)
    variance = float((weights * (1.7159 * np.tanh(2 * nodes / 3)) ** 2).sum() / weights.sum())
    assert abs(variance - 0.7504) < 1e-3
    samples = lenet.ScaledTanh()(torch.randn(200_000, generator=torch.Generator().manual_seed(0)))
    assert abs(float(samples.var()) - variance) < 0.01
    # |f''| = 2AS^2 |tanh u| sech^2 u (u = Sa) peaks where tanh^2 u = 1/3.
    assert abs(math.atanh(1 / math.sqrt(3)) / (2 / 3) - 0.988) < 1e-3
    assert abs(1.7159 * 2 / 3 - 1.144) < 1e-3  # the slope at the origin
