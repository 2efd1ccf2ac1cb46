"""DenseNet, MobileNet V1/V2 and ShuffleNet V1/V2 against torchvision, papers and hand counts."""

from __future__ import annotations

import math

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import analysis
from cnnlib.models import densenet, get_model, list_models, mobilenet, model_info, shufflenet

TWINS = ["densenet121", "mobilenet_v2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0"]
ALL = [*TWINS, "mobilenet_v1", "shufflenet_v1"]
BUILDERS = {
    "densenet121": densenet.densenet121,
    "mobilenet_v1": mobilenet.mobilenet_v1,
    "mobilenet_v2": mobilenet.mobilenet_v2,
    "shufflenet_v1": shufflenet.shufflenet_v1,
    "shufflenet_v2_x0_5": shufflenet.shufflenet_v2_x0_5,
    "shufflenet_v2_x1_0": shufflenet.shufflenet_v2_x1_0,
}
IMAGENET = (1, 3, 224, 224)


def on_meta(build, **kwargs) -> nn.Module:
    """Build on the meta device: shapes and counts without arithmetic (fast)."""
    with torch.device("meta"):
        return build(**kwargs)


def macs(model: nn.Module, size: int = 224) -> int:
    return analysis.count_macs(model, (1, 3, size, size))


def bn_params(model: nn.Module) -> int:
    return sum(
        p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    )


def test_all_registered_for_imagenet_input():
    assert set(ALL) <= set(list_models())
    assert all(model_info(name).image_shape == (3, 224, 224) for name in ALL)


# --- torchvision twins --------------------------------------------------------------------------


@pytest.mark.parametrize("name", TWINS)
def test_twin_loads_torchvision_state_dict_and_computes_the_same(name):
    torch.manual_seed(0)
    reference = torchvision.models.get_model(name, weights=None).double().eval()
    ours = get_model(name).double().eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        assert (ours(x) - reference(x)).abs().max().item() <= 1e-10


@pytest.mark.parametrize("name", TWINS)
def test_twin_parameters_and_macs_match_torchvision_meta(name):
    meta = torchvision.models.get_model_weights(name).IMAGENET1K_V1.meta
    model = on_meta(get_model, name=name)
    assert analysis.count_params(model) == meta["num_params"]
    assert round(macs(model) / 1e9, 3) == meta["_ops"]


@pytest.mark.parametrize("alpha", [0.35, 0.5, 0.75, 1.4])
def test_mobilenet_v2_width_multiplier_rounds_like_torchvision(alpha):
    # make_divisible to multiples of 8 (and 1280 · max(1, α) for the last layer):
    # every tensor shape agrees with torchvision's width_mult.
    reference = torchvision.models.mobilenet_v2(width_mult=alpha)
    ours = mobilenet.mobilenet_v2(width_multiplier=alpha)
    ours.load_state_dict(reference.state_dict(), strict=True)


# --- DenseNet -----------------------------------------------------------------------------------


def densenet121_params_by_hand() -> int:
    k, bottleneck = 32, 4 * 32
    total = 3 * 7 * 7 * 64 + 2 * 64  # conv0, norm0
    channels = 64
    for i, layers in enumerate((6, 12, 24, 16)):
        for _ in range(layers):
            # norm1, 1x1 conv, norm2, 3x3 conv
            total += 2 * channels + channels * bottleneck + 2 * bottleneck + bottleneck * 9 * k
            channels += k
        if i < 3:
            total += 2 * channels + channels * (channels // 2)  # transition norm + 1x1 conv
            channels //= 2
    return total + 2 * channels + channels * 1000 + 1000  # norm5, classifier


def test_densenet121_channels_and_parameters_by_hand():
    model = on_meta(densenet.densenet121)
    # 64 + 6·32 = 256 → 128 + 12·32 = 512 → 256 + 24·32 = 1024 → 512 + 16·32 = 1024
    blocks = [getattr(model.features, f"denseblock{i}") for i in range(1, 5)]
    assert [block.out_channels for block in blocks] == [256, 512, 1024, 1024]
    assert model.features.denseblock3.denselayer5.conv1.in_channels == 256 + 4 * 32
    assert model.features.denseblock3.denselayer5.conv2.out_channels == model.growth_rate == 32
    assert model.classifier.in_features == 1024
    assert analysis.count_params(model) == densenet121_params_by_hand()


def test_densenet_small_input_and_width_multiplier():
    model = densenet.densenet121(small_input=True, width_multiplier=0.5)
    assert model.features.conv0.kernel_size == (3, 3) and model.features.conv0.stride == (1, 1)
    assert "pool0" not in dict(model.features.named_children())
    assert model.growth_rate == 16 and model.features.conv0.out_channels == 32


# --- MobileNet V1 (Howard et al., 2017) ---------------------------------------------------------

# Table 6 (α at 224x224): (α, parameters in millions, mult-adds in millions); α = 1 is
# Table 1's net.
V1_WIDTH_ROWS = [(1.0, 4.2, 569), (0.75, 2.6, 325), (0.5, 1.3, 149), (0.25, 0.5, 41)]
# Table 7 (1.0 MobileNet): (input resolution, mult-adds in millions).
V1_RESOLUTION_ROWS = [(224, 569), (192, 418), (160, 290), (128, 186)]


@pytest.mark.parametrize(("alpha", "paper_params", "paper_macs"), V1_WIDTH_ROWS)
def test_mobilenet_v1_width_multiplier_matches_table_6(alpha, paper_params, paper_macs):
    model = on_meta(mobilenet.mobilenet_v1, width_multiplier=alpha)
    assert round(analysis.count_params(model) / 1e6, 1) == paper_params
    assert math.isclose(macs(model), paper_macs * 1e6, rel_tol=0.01)


@pytest.mark.parametrize(("resolution", "paper_macs"), V1_RESOLUTION_ROWS)
def test_mobilenet_v1_resolution_multiplier_matches_table_7(resolution, paper_macs):
    model = on_meta(mobilenet.mobilenet_v1, resolution_multiplier=resolution / 224)
    assert model.input_resolution == resolution
    assert math.isclose(macs(model, model.input_resolution), paper_macs * 1e6, rel_tol=0.01)
    # ρ changes the MACs, never the parameters.
    assert analysis.count_params(model) == analysis.count_params(on_meta(mobilenet.mobilenet_v1))


def test_mobilenet_v1_layers_follow_table_1():
    model = on_meta(mobilenet.mobilenet_v1)
    separable = list(model.features)[1:]
    assert len(separable) == 13
    # Each depthwise separable layer: 3x3 depthwise (groups = channels), then 1x1 pointwise.
    for block in separable:
        depthwise, pointwise = block[0][0], block[1][0]
        assert depthwise.groups == depthwise.in_channels == depthwise.out_channels
        assert depthwise.kernel_size == (3, 3) and pointwise.kernel_size == (1, 1)
    strides = [block[0][0].stride[0] for block in separable]
    assert strides == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    assert model.features(torch.zeros(1, 3, 224, 224, device="meta")).shape == (1, 1024, 7, 7)


def test_mobilenet_v1_depthwise_separable_cost_is_equation_5():
    # Howard et al., eq. (5): D_K·D_K·M·D_F·D_F + M·N·D_F·D_F for one separable layer.
    block = mobilenet.mobilenet_v1().features[2]  # 64 → 128 channels, stride 2: D_F = 56 at output
    d_k, m, n, d_f = 3, 64, 128, 56
    assert (
        analysis.count_macs(block, (1, m, 112, 112))
        == d_k * d_k * m * d_f * d_f + m * n * d_f * d_f
    )


# --- MobileNetV2 (Sandler et al., 2018) ---------------------------------------------------------

PAPER_V2_PARAMS = 3.4e6  # Tables 3 and 4
PAPER_V2_MACS = 300e6
CHECKPOINT_V2_PARAMS_M = 3.47  # tensorflow/models research/slim/nets/mobilenet/README.md


def test_mobilenet_v2_against_the_paper():
    model = on_meta(mobilenet.mobilenet_v2)
    assert math.isclose(macs(model), PAPER_V2_MACS, rel_tol=0.01)
    # Parameters: 3.08 % above the paper's 3.4 M. Without batch norm's scales
    # and shifts the count is the authors' checkpoint list's 3.47 M, and the
    # paper's 3.4 M is that number truncated to one decimal.
    params = analysis.count_params(model)
    assert params > PAPER_V2_PARAMS * 1.01
    weights = params - bn_params(model)
    assert round(weights / 1e6, 2) == CHECKPOINT_V2_PARAMS_M
    assert math.floor(weights / 1e5) / 10 == PAPER_V2_PARAMS / 1e6


def test_mobilenet_v2_small_input_strides():
    model = on_meta(mobilenet.mobilenet_v2, small_input=True)
    assert model.features[0][0].stride == (1, 1)
    assert model.features[2].conv[1][0].stride == (1, 1)  # the first 24-channel block
    assert model.features(torch.zeros(1, 3, 32, 32, device="meta")).shape[-2:] == (4, 4)


# --- ShuffleNet V1 (Zhang et al., 2018) ---------------------------------------------------------

# Table 1: output channels of stages 2, 3, 4 and complexity (MFLOPs = M mult-adds) for 1x.
TABLE_1 = {
    1: ((144, 288, 576), 143),
    2: ((200, 400, 800), 140),
    3: ((240, 480, 960), 137),
    4: ((272, 544, 1088), 133),
    8: ((384, 768, 1536), 137),
}


@pytest.mark.parametrize("groups", sorted(TABLE_1))
def test_shufflenet_v1_matches_table_1(groups):
    channels, paper_macs = TABLE_1[groups]
    model = on_meta(shufflenet.shufflenet_v1, groups=groups)
    stages = [model.stage2, model.stage3, model.stage4]
    assert [len(s) for s in stages] == [4, 8, 4]
    for stage, out_channels in zip(stages, channels, strict=True):
        for unit in stage:
            assert unit.conv1.out_channels == out_channels // 4  # bottleneck = 1/4 of the output
            assert unit.conv3.groups == groups
    total = macs(model)
    fc_macs = channels[-1] * 1000
    # Table 1's numbers are our counts without the classifier, to the nearest million;
    assert round((total - fc_macs) / 1e6) == paper_macs
    # with the classifier we are at most 1.01 % (g = 4: 134.34 M vs 133 M) above them.
    assert paper_macs * 1e6 < total <= paper_macs * 1e6 * 1.0101


def test_shufflenet_v1_units():
    model = shufflenet.shufflenet_v1(groups=3)
    first = model.stage2[0]
    assert first.conv1.groups == 1  # the first pointwise conv of stage 2 is not grouped
    assert model.stage3[0].conv1.groups == 3
    # Stride-2 units concatenate a 3x3 average-pooled shortcut: 24 + 216 = 240 channels.
    assert isinstance(first.shortcut, nn.AvgPool2d) and first.conv3.out_channels == 240 - 24
    assert model.stage2[1].shortcut is None
    x = torch.randn(1, 24, 56, 56)
    assert first(x).shape == (1, 240, 28, 28)


# (groups, scale_factor, stem_channels, paper MFLOPs): Table 5 (2x, 1.5x, 0.5x) and Table 2 (0.25x).
SCALED_ROWS = [(3, 2.0, None, 524), (4, 0.5, None, 38), (3, 1.5, 24, 292), (3, 0.25, 12, 13)]


@pytest.mark.parametrize(("groups", "scale", "stem", "paper_macs"), SCALED_ROWS)
def test_shufflenet_v1_scaled_models_match_the_paper(groups, scale, stem, paper_macs):
    model = on_meta(shufflenet.shufflenet_v1, groups=groups, scale_factor=scale, stem_channels=stem)
    assert round(macs(model) / 1e6) == paper_macs


def test_shufflenet_v1_scale_factor_scales_table_1_channels():
    model = shufflenet.shufflenet_v1(groups=8, scale_factor=0.5)
    assert [s[-1].bn3.num_features for s in (model.stage2, model.stage3, model.stage4)] == [
        192,
        384,
        768,
    ]
    # s and α multiply.
    a = shufflenet.shufflenet_v1(scale_factor=0.5, width_multiplier=2.0)
    assert analysis.count_params(a) == analysis.count_params(shufflenet.shufflenet_v1())


# --- ShuffleNet V2 (Ma et al., 2018) ------------------------------------------------------------

# Table 5: (weights in millions, MFLOPs = M mult-adds).
TABLE_5_V2 = {"shufflenet_v2_x0_5": (1.4, 41), "shufflenet_v2_x1_0": (2.3, 146)}


@pytest.mark.parametrize("name", sorted(TABLE_5_V2))
def test_shufflenet_v2_against_table_5(name):
    paper_params, paper_macs = TABLE_5_V2[name]
    model = on_meta(get_model, name=name)
    assert round(analysis.count_params(model) / 1e6, 1) == paper_params
    # Our MACs are 1.27 % (0.5x: 40.48 M) and 0.75 % (1x: 144.91 M) below the
    # paper's; torchvision's _ops agree with ours (twin test above). The paper
    # does not define what else it counts, see ShuffleNetV2's docstring.
    assert paper_macs * 1e6 * (1 - 0.0128) <= macs(model) < paper_macs * 1e6


def test_shufflenet_v2_stride_1_unit_keeps_half_and_shuffles():
    unit = shufflenet.ShuffleUnitV2(8, 8, 1)
    x = torch.randn(1, 8, 5, 5)
    out = unit(x)
    # After the shuffle with 2 groups, the untouched half sits at the even channels.
    assert torch.equal(out[:, 0::2], x[:, :4])


# --- every model --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(("in_channels", "size"), [(1, 28), (3, 32)])
def test_small_input_variant_runs(name, in_channels, size):
    model = BUILDERS[name](num_classes=10, in_channels=in_channels, small_input=True,
                           width_multiplier=0.25).eval()  # fmt: skip
    with torch.no_grad():
        assert model(torch.randn(2, in_channels, size, size)).shape == (2, 10)
    assert analysis.count_macs(model, (1, in_channels, size, size)) > 0


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_classes": 0}, ValueError, "num_classes must be a positive int, got 0"),
        ({"in_channels": 2.5}, ValueError, "in_channels must be a positive int, got 2.5"),
        (
            {"width_multiplier": -1.0},
            ValueError,
            "width_multiplier must be a positive finite number, got -1.0",
        ),
        ({"small_input": "yes"}, TypeError, "small_input must be a bool, got 'yes'"),
    ],
)
def test_bad_arguments_name_the_parameter(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        BUILDERS[name](**kwargs)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (
            lambda: shufflenet.shufflenet_v1(groups=5),
            ValueError,
            r"groups must be one of \[1, 2, 3, 4, 8\], got 5",
        ),
        (
            lambda: shufflenet.shufflenet_v1(groups=3.0),
            ValueError,
            r"groups must be one of .*got 3.0",
        ),
        (
            lambda: shufflenet.shufflenet_v1(scale_factor=0),
            ValueError,
            "scale_factor must be a positive",
        ),
        (
            lambda: shufflenet.shufflenet_v1(groups=8, stem_channels=20),
            ValueError,
            r"groups=8 must divide",
        ),
        (
            lambda: mobilenet.mobilenet_v1(resolution_multiplier=float("nan")),
            ValueError,
            "resolution_multiplier must be a positive finite number, got nan",
        ),
        (lambda: mobilenet.mobilenet_v1(resolution_multiplier=0.001), ValueError, "at least 1"),
        (
            lambda: mobilenet.mobilenet_v2(dropout=1.0),
            ValueError,
            r"dropout must be a number in \[0, 1\), got 1.0",
        ),
        (
            lambda: densenet.DenseNet(block_config=()),
            ValueError,
            "block_config must be a non-empty",
        ),
        (
            lambda: densenet.DenseNet(compression=0),
            ValueError,
            r"compression must be in \(0, 1\], got 0",
        ),
        (lambda: densenet.densenet121(growth_rate=12), TypeError, "growth_rate is fixed"),
        (
            lambda: shufflenet.ShuffleNetV2(stages_out_channels=(24, 115, 232, 464, 1024)),
            ValueError,
            "must be even",
        ),
        (
            lambda: mobilenet.InvertedResidual(16, 16, 3, 6),
            ValueError,
            "stride must be 1 or 2, got 3",
        ),
    ],
)
def test_bad_family_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()
