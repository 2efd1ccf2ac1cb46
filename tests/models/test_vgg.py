"""VGG's configurations A-LRN and C, its layers and dense evaluation, against hand counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.models import get_model, list_models, vgg


def conv(k: int, c_in: int, c_out: int) -> int:
    """Parameters of a k x k convolution with bias."""
    return k * k * c_in * c_out + c_out


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def on_meta(name: str, **kwargs: object) -> nn.Module:
    with torch.device("meta"):
        return get_model(name, **kwargs)


# Simonyan and Zisserman (2015), Table 1, written out layer by layer as
# (kernel size, output channels); "M" is a max-pool.
TABLE_1 = {
    "vgg11": [(3, 64), "M", (3, 128), "M", (3, 256), (3, 256), "M",
              (3, 512), (3, 512), "M", (3, 512), (3, 512), "M"],
    "vgg16_c": [(3, 64), (3, 64), "M", (3, 128), (3, 128), "M",
                (3, 256), (3, 256), (1, 256), "M",
                (3, 512), (3, 512), (1, 512), "M",
                (3, 512), (3, 512), (1, 512), "M"],
}  # fmt: skip
TABLE_1["vgg11_lrn"] = TABLE_1["vgg11"]
# Table 2, millions of parameters.
TABLE_2 = {"vgg11": 133, "vgg11_lrn": 133, "vgg13": 133, "vgg16_c": 134, "vgg16": 138,
           "vgg19": 144}  # fmt: skip


def by_hand(layers: list) -> int:
    convs = [layer for layer in layers if layer != "M"]
    channels = [3] + [c for _, c in convs]
    total = sum(conv(k, c_in, c) for (k, c), c_in in zip(convs, channels[:-1], strict=True))
    return total + linear(7 * 7 * 512, 4096) + linear(4096, 4096) + linear(4096, 1000)


@pytest.mark.parametrize("name", sorted(TABLE_1))
def test_parameters_by_hand_from_table_1(name):
    assert analysis.count_params(on_meta(name)) == by_hand(TABLE_1[name])


@pytest.mark.parametrize("name", sorted(TABLE_2))
def test_parameters_round_to_table_2(name):
    assert round(analysis.count_params(on_meta(name)) / 1e6) == TABLE_2[name]


def test_c_is_d_with_three_1x1_convolutions():
    # Each 1x1 replaces a 3x3 from C to C channels: 8·C² fewer weights.
    saved = 8 * (256 * 256 + 2 * 512 * 512)
    d, c = on_meta("vgg16"), on_meta("vgg16_c")
    assert analysis.count_params(d) - analysis.count_params(c) == saved
    # MACs at 224x224: stage 3 runs at 56x56, stage 4 at 28x28, stage 5 at 14x14.
    macs_saved = 8 * (56 * 56 * 256 * 256 + (28 * 28 + 14 * 14) * 512 * 512)
    size = (1, 3, 224, 224)
    assert analysis.count_macs(d, size) - analysis.count_macs(c, size) == macs_saved
    kernels = [m.kernel_size[0] for m in c.features if isinstance(m, nn.Conv2d)]
    assert kernels == [k for k, _ in (x for x in TABLE_1["vgg16_c"] if x != "M")]
    # A 1x1 convolution does not widen the field: 212 for D, 212 - 2·(4 + 8 + 16) for C.
    assert analysis.receptive_field(d, size).size == 212
    assert analysis.receptive_field(c, size).size == 212 - 2 * (4 + 8 + 16)


def test_a_lrn_normalizes_after_the_first_relu_with_alexnets_constants():
    model = get_model("vgg11_lrn", small_input=True, width_multiplier=0.125)
    first = list(model.features)[:4]
    types = [type(m) for m in first]
    assert types == [nn.Conv2d, nn.ReLU, nn.LocalResponseNorm, nn.MaxPool2d]
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in model.features) == 1
    # Krizhevsky et al. (2012): b_i = a_i / (k + α Σ_j a_j²)^β over n = 5
    # neighbouring channels, k = 2, α = 1e-4, β = 0.75. Channel 3 of 8 sees 1..5.
    a = torch.arange(1.0, 9.0).view(1, 8, 1, 1) * 10
    expected = a[0, 3, 0, 0] / (2 + 1e-4 * (a[0, 1:6, 0, 0] ** 2).sum()) ** 0.75
    assert torch.isclose(first[2](a)[0, 3, 0, 0], expected)
    assert analysis.count_params(on_meta("vgg11_lrn")) == analysis.count_params(on_meta("vgg11"))


def test_new_configurations_are_registered_and_fixed():
    assert {"vgg11_lrn", "vgg16_c"} <= set(list_models())
    with pytest.raises(TypeError, match="kernel_sizes is fixed"):
        vgg.vgg16_c(kernel_sizes=None)
    with pytest.raises(TypeError, match="local_response_norm is fixed"):
        vgg.vgg11_lrn(local_response_norm=False)
    model = get_model("vgg16_c", num_classes=10, in_channels=1, small_input=True,
                      width_multiplier=0.25)  # fmt: skip
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize(("k", "depth"), [(3, 1), (3, 2), (3, 3), (5, 1), (7, 1), (1, 2)])
def test_conv_stack_field_weights_and_relus(k, depth):
    channels = 4
    stack = vgg.conv_stack(channels, k, depth)
    assert analysis.receptive_field(stack, (1, channels, 16, 16)).size == 1 + depth * (k - 1)
    weights = sum(m.weight.numel() for m in stack if isinstance(m, nn.Conv2d))
    assert weights == depth * k * k * channels * channels
    assert sum(isinstance(m, nn.ReLU) for m in stack) == depth
    assert stack(torch.zeros(1, channels, 9, 9)).shape == (1, channels, 9, 9)


def test_conv_layer_with_batch_norm():
    layer = vgg.conv_layer(3, 8, batch_norm=True)
    assert [type(m) for m in layer] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert layer[0].padding == (1, 1)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: vgg.conv_layer(3, 8, 2), ValueError, "kernel_size must be odd"),
        (lambda: vgg.conv_layer(0, 8), ValueError, "in_channels must be a positive int"),
        (lambda: vgg.conv_layer(3, 8, batch_norm=1), TypeError, "batch_norm must be a bool"),
        (lambda: vgg.conv_stack(4, 3, 0), ValueError, "depth must be a positive int"),
        (lambda: vgg.make_features(((8,),), ((3, 3),)), ValueError,
         "kernel_sizes must hold one kernel size per convolution"),
        (lambda: vgg.make_features(((8,),), ((4,),)), ValueError,
         "every entry of kernel_sizes must be odd"),
        (lambda: vgg.make_features(((8,),), ceil_mode=None), TypeError,
         "ceil_mode must be a bool"),
        (lambda: vgg.VGG(vgg.STAGES["vgg11"], kernel_sizes="3"), ValueError,
         "VGG: kernel_sizes must hold"),
        (lambda: vgg.VGG(vgg.STAGES["vgg11"], local_response_norm="yes"), TypeError,
         "local_response_norm must be a bool"),
        (lambda: vgg.convolutionalize(nn.Linear(2, 2)), TypeError, "model must be a VGG"),
        (lambda: vgg.VGG(vgg.STAGES["vgg11"], linear_init="xavier"), ValueError,
         "VGG: linear_init must be 'normal' or 'glorot'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(("small_input", "size"), [(False, 224), (True, 28), (True, 32)])
def test_convolutionalized_vgg_gives_the_same_scores_at_its_size(small_input, size):
    torch.manual_seed(0)
    model = get_model("vgg11_bn", num_classes=10, small_input=small_input,
                      width_multiplier=0.0625).eval()  # fmt: skip
    for m in model.modules():  # non-trivial batch-norm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    dense = vgg.convolutionalize(model).eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        scores = dense(x)
        assert scores.shape == (2, 10, 1, 1)
        torch.testing.assert_close(scores[:, :, 0, 0], model(x), rtol=1e-4, atol=1e-5)


def test_convolutionalized_vgg_maps_a_larger_image_to_a_score_map():
    model = on_meta("vgg16")
    dense = vgg.convolutionalize(model)
    first = dense.classifier[0]
    assert isinstance(first, nn.Conv2d) and first.kernel_size == (7, 7)
    kernels = [m.kernel_size for m in dense.classifier if isinstance(m, nn.Conv2d)]
    assert kernels == [(7, 7), (1, 1), (1, 1)]
    # 384 / 32 = 12 positions after five pools; a 7x7 window fits at 12 - 7 + 1 = 6.
    assert dense(torch.zeros(1, 3, 384, 384, device="meta")).shape == (1, 1000, 6, 6)
    # The same weights: the conversion only reshapes them.
    assert analysis.count_params(dense) == analysis.count_params(model)


@pytest.mark.parametrize("linear_init", ["normal", "glorot"])
def test_linear_init_sets_the_classifier_spread(linear_init):
    torch.manual_seed(0)
    net = get_model("vgg11", linear_init=linear_init, width_multiplier=0.25)
    linears = [m for m in net.classifier if isinstance(m, nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [
        (1024, 128 * 49),
        (1024, 1024),
        (1000, 1024),
    ]
    for m in linears:
        n_out, n_in = m.weight.shape
        # N(0, 0.01^2), or Glorot's uniform on [-a, a], a = sqrt(6 / (n_in + n_out)),
        # whose std is a / sqrt(3) = sqrt(2 / (n_in + n_out)).
        a = (6 / (n_in + n_out)) ** 0.5
        std = 0.01 if linear_init == "normal" else a / 3**0.5
        assert m.weight.std().item() == pytest.approx(std, rel=0.02)
        if linear_init == "glorot":
            assert m.weight.abs().max().item() <= a
        assert torch.count_nonzero(m.bias) == 0


def test_linear_init_leaves_the_convolutions_alone():
    torch.manual_seed(0)
    normal = get_model("vgg11", width_multiplier=0.25)
    torch.manual_seed(0)
    glorot = get_model("vgg11", width_multiplier=0.25, linear_init="glorot")
    for a, b in zip(normal.features.parameters(), glorot.features.parameters(), strict=True):
        assert torch.equal(a, b)
