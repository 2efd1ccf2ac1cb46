"""AlexNet, ZFNet, VGG and Network in Network against torchvision, papers and hand counts."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import analysis
from cnnlib.models import alexnet, get_model, list_models, model_info, nin, vgg

VGGS = ["vgg11", "vgg13", "vgg16", "vgg19"]
VGGS_BN = [f"{name}_bn" for name in VGGS]
TWINS = ["alexnet", *VGGS, *VGGS_BN]
SMALL = ["alexnet", "zfnet", *VGGS, *VGGS_BN]  # the builders with a small_input option
ALL = [*SMALL, "nin"]
IMAGENET = (3, 224, 224)


def conv(k: int, c_in: int, c_out: int, groups: int = 1) -> int:
    """Parameters of a k x k convolution with bias: k²·(C_in/groups)·C_out + C_out."""
    return k * k * (c_in // groups) * c_out + c_out


def linear(n_in: int, n_out: int) -> int:
    """Parameters of a linear layer with bias: n_in·n_out + n_out."""
    return n_in * n_out + n_out


def on_meta(name: str, **kwargs: object) -> nn.Module:
    """Our model, built without memory or initialization cost (shapes only)."""
    with torch.device("meta"):
        return get_model(name, **kwargs)


def torchvision_meta(name: str) -> dict:
    return torchvision.models.get_model_weights(name).IMAGENET1K_V1.meta


def test_registered_with_their_default_inputs():
    assert set(ALL) <= set(list_models())
    assert all(model_info(name).image_shape == IMAGENET for name in SMALL)
    assert model_info("nin").image_shape == (3, 32, 32)


@pytest.mark.parametrize("name", TWINS)
def test_twin_layout_and_counts_match_torchvision(name):
    ours = on_meta(name)
    with torch.device("meta"):
        reference = torchvision.models.get_model(name, weights=None)
    ours_state, reference_state = ours.state_dict(), reference.state_dict()
    assert list(ours_state) == list(reference_state)
    assert [t.shape for t in ours_state.values()] == [t.shape for t in reference_state.values()]
    # Same layers in the same order, parameter-free ones (ReLU, pools, dropout) included.
    assert [type(m) for m in ours.modules()][1:] == [type(m) for m in reference.modules()][1:]
    meta = torchvision_meta(name)
    assert analysis.count_params(ours) == meta["num_params"]
    assert round(analysis.count_macs(ours, (1, *IMAGENET)) / 1e9, 3) == meta["_ops"]


@pytest.mark.slow
@pytest.mark.parametrize("name", TWINS)
def test_twin_outputs_match_torchvision(name):
    torch.manual_seed(0)
    reference = torchvision.models.get_model(name, weights=None).double().eval()
    for module in reference.modules():  # non-trivial batch-norm statistics
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1.0, 1.0)
            module.running_var.uniform_(0.5, 2.0)
    if name == "alexnet":  # small enough to load the ordinary way
        ours = get_model(name).double()
        ours.load_state_dict(reference.state_dict(), strict=True)
    else:  # skip initializing 133 M parameters only to overwrite them
        ours = on_meta(name)
        ours.load_state_dict(reference.state_dict(), strict=True, assign=True)
    ours.eval()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        assert (ours(x) - reference(x)).abs().max().item() <= 1e-10


# --- AlexNet -----------------------------------------------------------------


def test_alexnet_against_the_2012_paper():
    # Krizhevsky et al. (2012), Figure 2: 96-256-384-384-256 filters; conv2, conv4
    # and conv5 split into two groups (one per GPU), conv3 and the FC layers whole.
    paper_network = (
        conv(11, 3, 96) + conv(5, 96, 256, groups=2) + conv(3, 256, 384)
        + conv(3, 384, 384, groups=2) + conv(3, 384, 256, groups=2)
        + linear(6 * 6 * 256, 4096) + linear(4096, 4096) + linear(4096, 1000)
    )  # fmt: skip
    assert paper_network // 10**6 == 60  # the paper's "60 million parameters"
    ours = analysis.count_params(on_meta("alexnet"))
    # torchvision's one-tower network (64-192-384-256-256 filters, no groups, no
    # normalization): 61,100,840 parameters, 135,616 (0.22 %) more than the 2012
    # network's 60,965,224 and 1,100,840 (1.83 %) more than the round "60 million".
    assert abs(ours - paper_network) / paper_network < 0.01
    assert abs(ours - 60e6) / 60e6 < 0.02


def test_alexnet_parameters_by_hand():
    by_hand = (
        conv(11, 3, 64) + conv(5, 64, 192) + conv(3, 192, 384) + conv(3, 384, 256)
        + conv(3, 256, 256) + linear(6 * 6 * 256, 4096) + linear(4096, 4096)
        + linear(4096, 1000)
    )  # fmt: skip
    assert analysis.count_params(on_meta("alexnet")) == by_hand


# --- ZFNet -------------------------------------------------------------------

# Zeiler and Fergus (2014), Figure 3: (filters, kernel, stride, map size after
# the convolution, map size after the layer's pool or None).
ZFNET_TABLE = [
    (96, 7, 2, 110, 55),
    (256, 5, 2, 26, 13),
    (384, 3, 1, 13, None),
    (384, 3, 1, 13, None),
    (256, 3, 1, 13, 6),
]


def test_zfnet_map_sizes_follow_figure_3():
    model = on_meta("zfnet")
    seen: list[tuple[type, int]] = []
    for module in model.features:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            module.register_forward_hook(lambda m, i, out: seen.append((type(m), out.shape[-1])))
    model(torch.zeros(1, *IMAGENET, device="meta"))
    expected = []
    for _, _, _, conv_size, pool_size in ZFNET_TABLE:
        expected.append((nn.Conv2d, conv_size))
        if pool_size is not None:
            expected.append((nn.MaxPool2d, pool_size))
    assert seen == expected
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        row[:3] for row in ZFNET_TABLE
    ]
    # Contrast normalization after the pools of layers 1 and 2 only.
    kinds = [type(m) for m in model.features]
    norms = [i for i, kind in enumerate(kinds) if kind is nn.LocalResponseNorm]
    assert len(norms) == 2 and all(kinds[i - 1] is nn.MaxPool2d for i in norms)


def test_zfnet_parameters_and_macs_by_hand():
    # The paper gives no parameter count: sum the layer table's formulas.
    params, macs, channels = 0, 0, 3
    for filters, kernel, _, size, _ in ZFNET_TABLE:
        params += conv(kernel, channels, filters)
        macs += size * size * kernel * kernel * channels * filters
        channels = filters
    fc = [(6 * 6 * 256, 4096), (4096, 4096), (4096, 1000)]
    params += sum(linear(n_in, n_out) for n_in, n_out in fc)
    macs += sum(n_in * n_out for n_in, n_out in fc)
    model = on_meta("zfnet")
    assert analysis.count_params(model) == params
    assert analysis.count_macs(model, (1, *IMAGENET)) == macs


# --- VGG ---------------------------------------------------------------------

# Simonyan and Zisserman (2015), Table 2, in millions: A 133, B 133, D 138, E 144.
VGG_PAPER_PARAMS = {"vgg11": 133e6, "vgg13": 133e6, "vgg16": 138e6, "vgg19": 144e6}


@pytest.mark.parametrize("name", VGGS)
def test_vgg_parameters_match_table_2(name):
    paper = VGG_PAPER_PARAMS[name]
    plain = analysis.count_params(on_meta(name))
    assert abs(plain - paper) / paper < 0.01
    # Batch norm (not in the paper) adds 2 parameters per convolution channel.
    with_bn = analysis.count_params(on_meta(f"{name}_bn"))
    assert with_bn - plain == 2 * sum(sum(stage) for stage in vgg.STAGES[name])
    assert abs(with_bn - paper) / paper < 0.01


def test_vgg16_parameters_by_hand():
    # Table 1, configuration D: 3x3 convolutions, then FC-4096, FC-4096, FC-1000.
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    by_hand = sum(
        conv(3, c_in, c_out) for c_in, c_out in zip([3, *widths[:-1]], widths, strict=True)
    )
    by_hand += linear(7 * 7 * 512, 4096) + linear(4096, 4096) + linear(4096, 1000)
    assert analysis.count_params(on_meta("vgg16")) == by_hand


def test_vgg_builders_fix_their_configuration():
    with pytest.raises(TypeError, match="batch_norm is fixed"):
        vgg.vgg16(batch_norm=True)
    with pytest.raises(TypeError, match="stages is fixed"):
        vgg.vgg11_bn(stages=((64,),))


# --- Network in Network --------------------------------------------------------


def test_nin_parameters_by_hand():
    # The authors' CIFAR-10 model: three mlpconv blocks, no fully connected layer.
    by_hand = (
        conv(5, 3, 192) + conv(1, 192, 160) + conv(1, 160, 96)
        + conv(5, 96, 192) + conv(1, 192, 192) + conv(1, 192, 192)
        + conv(3, 192, 192) + conv(1, 192, 192) + conv(1, 192, 10)
    )  # fmt: skip
    model = nin.nin()
    assert analysis.count_params(model) == by_hand
    assert not any(isinstance(m, nn.Linear) for m in model.modules())


def test_nin_map_sizes_and_global_average_pooling():
    torch.manual_seed(0)
    model = nin.nin().double().eval()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    maps = model.features(x)
    assert maps.shape == (2, 10, 8, 8)  # 32 -> 16 -> 8 through the two pools
    with torch.no_grad():
        scores = model(x)
    # Each class score is the mean of its map (global average pooling).
    assert torch.allclose(scores, maps.mean(dim=(2, 3)), rtol=0, atol=1e-12)
    assert (scores >= 0).all()  # the last 1x1 convolution is followed by a ReLU
    pools = [m for m in model.features if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    assert [type(p) for p in pools] == [nn.MaxPool2d, nn.AvgPool2d]
    assert all(p.kernel_size == 3 and p.stride == 2 for p in pools)


@pytest.mark.parametrize(("in_channels", "size", "grid"), [(1, 28, 7), (3, 32, 8)])
def test_nin_runs_on_mnist_and_cifar_shapes(in_channels, size, grid):
    model = nin.nin(num_classes=10, in_channels=in_channels, width_multiplier=0.25)
    x = torch.randn(2, in_channels, size, size)
    assert model.features(x).shape == (2, 10, grid, grid)
    assert model(x).shape == (2, 10)
    assert model.features.conv1.out_channels == 48  # 192·0.25
    assert model.features.cccp2.out_channels == 24  # 96·0.25


# --- Every model ---------------------------------------------------------------


def distill_receptive_field(layers: list[tuple[int, int]]) -> int:
    """Araujo et al. (2019): r ← r + (k − 1)·j, j ← j·s over (kernel, stride) pairs."""
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


def vgg_windows(stages: tuple[tuple[int, ...], ...]) -> list[tuple[int, int]]:
    return [w for stage in stages for w in [(3, 1)] * len(stage) + [(2, 2)]]


RECEPTIVE_FIELDS = {
    "alexnet": [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)],
    "zfnet": [(7, 2), (3, 2), (5, 2), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)],
    **{name: vgg_windows(vgg.STAGES[name.removesuffix("_bn")]) for name in VGGS + VGGS_BN},
    "nin": [(5, 1), (1, 1), (1, 1), (3, 2), (5, 1), (1, 1), (1, 1), (3, 2), (3, 1)],
}


@pytest.mark.parametrize("name", ALL)
def test_receptive_field_and_macs_are_countable(name):
    model = on_meta(name)
    shape = (1, *model_info(name).image_shape)
    assert analysis.receptive_field(model, shape).size == distill_receptive_field(
        RECEPTIVE_FIELDS[name]
    )
    assert analysis.count_macs(model, shape) > 0


@pytest.mark.parametrize("name", SMALL)
def test_small_input_runs_on_mnist_and_cifar_shapes(name):
    # AlexNet/ZFNet: only the pools downsample, to 4x4; VGG: ceil-mode pools, to 1x1.
    grid = 1 if name.startswith("vgg") else 4
    for in_channels, size in ((1, 28), (3, 32)):
        model = get_model(
            name, num_classes=10, in_channels=in_channels, small_input=True, width_multiplier=0.25
        )
        x = torch.randn(2, in_channels, size, size)
        assert model.features(x).shape[-2:] == (grid, grid)
        assert model(x).shape == (2, 10)
        first = model.features[0]
        assert first.kernel_size == (3, 3) and first.stride == (1, 1)
        assert all(m.stride == (1, 1) for m in model.features if isinstance(m, nn.Conv2d))


def test_small_input_changes_only_what_is_documented():
    # VGG-11: same convolutions; the first linear layer reads 512 features instead
    # of 7·7·512, i.e. (512 - 25088)·4096 fewer weights.
    full = analysis.count_params(on_meta("vgg11"))
    small = analysis.count_params(on_meta("vgg11", small_input=True))
    assert full - small == (7 * 7 * 512 - 512) * 4096
    # AlexNet: a 3x3 first convolution and a 4x4 (not 6x6) map into the classifier.
    full = analysis.count_params(on_meta("alexnet"))
    small = analysis.count_params(on_meta("alexnet", small_input=True))
    assert full - small == (11 * 11 - 3 * 3) * 3 * 64 + (6 * 6 - 4 * 4) * 256 * 4096


@pytest.mark.parametrize("name", ["alexnet", "zfnet"])
def test_width_multiplier_scales_alexnet_family(name):
    base = on_meta(name)
    half = on_meta(name, width_multiplier=0.5)

    def widths(model: nn.Module) -> list[int]:
        layers = [*model.features, *model.classifier]
        return [m.out_channels if isinstance(m, nn.Conv2d) else m.out_features
                for m in layers if isinstance(m, (nn.Conv2d, nn.Linear))]  # fmt: skip

    assert widths(half)[:-1] == [c // 2 for c in widths(base)[:-1]]
    assert widths(half)[-1] == widths(base)[-1] == 1000  # the classes are not scaled


def test_width_multiplier_scales_vgg():
    model = on_meta("vgg16", width_multiplier=0.25)
    widths = [16, 16, 32, 32, 64, 64, 64, 128, 128, 128, 128, 128, 128]
    by_hand = sum(
        conv(3, c_in, c_out) for c_in, c_out in zip([3, *widths[:-1]], widths, strict=True)
    )
    by_hand += linear(7 * 7 * 128, 1024) + linear(1024, 1024) + linear(1024, 1000)
    assert analysis.count_params(model) == by_hand


@pytest.mark.parametrize(
    ("build", "kwargs", "error", "message"),
    [
        (alexnet.alexnet, {"num_classes": 0}, ValueError,
         "num_classes must be a positive int, got 0"),
        (alexnet.zfnet, {"in_channels": 2.0}, ValueError,
         "in_channels must be a positive int, got 2.0"),
        (alexnet.alexnet, {"small_input": "yes"}, TypeError,
         "small_input must be a bool, got 'yes'"),
        (alexnet.alexnet, {"width_multiplier": 0}, ValueError,
         "width_multiplier must be a positive finite number, got 0"),
        (alexnet.alexnet, {"dropout": 1.0}, ValueError,
         r"dropout must be a number in \[0, 1\), got 1.0"),
        (alexnet.zfnet, {"layers": ()}, TypeError, "layers is fixed"),
        (vgg.vgg16, {"num_classes": -1}, ValueError, "num_classes must be a positive int, got -1"),
        (vgg.vgg16, {"small_input": 1}, TypeError, "small_input must be a bool, got 1"),
        (vgg.vgg19_bn, {"width_multiplier": float("inf")}, ValueError,
         "width_multiplier must be a positive finite number, got inf"),
        (nin.nin, {"in_channels": True}, ValueError,
         "in_channels must be a positive int, got True"),
        (nin.nin, {"width_multiplier": -0.5}, ValueError,
         "width_multiplier must be a positive finite number, got -0.5"),
        (nin.nin, {"dropout": -0.1}, ValueError, r"dropout must be a number in \[0, 1\)"),
        (nin.nin, {"small_input": False}, ValueError, "small_input must be True"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(build, kwargs, error, message):
    with pytest.raises(error, match=message):
        build(**kwargs)


def test_bad_layer_lists_are_rejected():
    with pytest.raises(TypeError, match="layers must hold ConvSpec"):
        alexnet.AlexNet([(64, 11)])
    with pytest.raises(ValueError, match="layers must be a non-empty sequence"):
        alexnet.AlexNet([])
    with pytest.raises(ValueError, match="stages must be a non-empty sequence"):
        vgg.VGG(((64,), ()))
    with pytest.raises(ValueError, match="stages must be"):
        vgg.VGG("vgg16")
