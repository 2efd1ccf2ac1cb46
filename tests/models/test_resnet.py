"""ResNet, ResNeXt, Wide ResNet, SE- and CBAM-ResNet against torchvision, papers, hand counts."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import analysis
from cnnlib.models import get_model, list_models, model_info, resnet

TWINS = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "wide_resnet50_2",
]
ALL = [*TWINS, "se_resnet50", "cbam_resnet50"]

# ResNet-50's bottlenecks: (output channels 4·planes, number of blocks) per stage.
RESNET50_STAGES = [(256, 3), (512, 4), (1024, 6), (2048, 3)]
# Woo et al. (2018), Table 4: ResNet50 + SE 28.09 M, ResNet50 + CBAM 28.09 M parameters.
PAPER_SE_RESNET50 = 28.09e6
PAPER_CBAM_RESNET50 = 28.09e6


def torchvision_meta(name: str) -> dict:
    return torchvision.models.get_model_weights(name).IMAGENET1K_V1.meta


def test_all_variants_are_registered_for_imagenet_input():
    assert set(ALL) <= set(list_models())
    assert all(model_info(name).image_shape == (3, 224, 224) for name in ALL)


@pytest.mark.slow
@pytest.mark.parametrize("name", TWINS)
def test_twin_matches_torchvision(name):
    # One build per model (the large ones take seconds): counts first, in float32.
    meta = torchvision_meta(name)
    ours = get_model(name)
    assert analysis.count_params(ours) == meta["num_params"]
    assert round(analysis.count_macs(ours, (1, 3, 224, 224)) / 1e9, 3) == meta["_ops"]
    # torchvision's state dict loads strictly and gives the same outputs.
    torch.manual_seed(0)
    reference = torchvision.models.get_model(name, weights=None).double().eval()
    ours.double().eval().load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        assert (ours(x) - reference(x)).abs().max().item() <= 1e-10


def test_v1_5_strides_the_3x3():
    # torchvision's (and our) ResNet v1.5: the first bottleneck of stages 2-4
    # downsamples in conv2 (3x3), not in conv1 (1x1) as in He et al. (2016).
    model = resnet.resnet50()
    for stage in (model.layer2, model.layer3, model.layer4):
        assert stage[0].conv1.stride == (1, 1) and stage[0].conv2.stride == (2, 2)
        assert stage[0].downsample[0].stride == (2, 2)


def test_resnext_and_wide_inner_widths():
    # Bottleneck width = floor(planes·d/64)·C; first stage planes = 64.
    resnext50 = resnet.resnext50_32x4d()
    assert resnext50.layer1[0].conv2.groups == 32
    assert resnext50.layer1[0].conv2.out_channels == 32 * 4
    resnext101 = resnet.resnext101_32x8d(width_multiplier=0.5)  # planes 256 in layer4
    assert resnext101.layer4[0].conv2.out_channels == 256 * 8 // 64 * 32
    wide = resnet.wide_resnet50_2()
    assert wide.layer1[0].conv2.out_channels == 2 * 64
    assert wide.layer1[0].conv3.out_channels == 256


def se_parameters_by_hand(reduction: int = 16) -> int:
    # Each SE: FC C→C/r (+ bias) and FC C/r→C (+ bias).
    return sum(
        blocks * (2 * c * (c // reduction) + c // reduction + c) for c, blocks in RESNET50_STAGES
    )


def test_se_resnet50_parameters_match_the_paper():
    se = se_parameters_by_hand()
    # Hu et al. (2018), §4: "∼2.5 million additional parameters" over ResNet-50.
    assert 2.45e6 <= se <= 2.55e6
    expected = torchvision_meta("resnet50")["num_params"] + se
    count = analysis.count_params(resnet.se_resnet50())
    assert count == expected
    assert abs(count - PAPER_SE_RESNET50) / PAPER_SE_RESNET50 <= 0.01


def test_cbam_resnet50_parameters_match_the_paper():
    blocks = sum(n for _, n in RESNET50_STAGES)
    spatial_conv = 2 * 7 * 7  # 7x7 conv on [avg; max], no bias
    spatial_bn = 2  # BN of the one-channel map (authors' code; not in the paper's text)
    expected = torchvision_meta("resnet50")["num_params"] + se_parameters_by_hand()
    expected += blocks * (spatial_conv + spatial_bn)
    count = analysis.count_params(resnet.cbam_resnet50())
    assert count == expected
    assert abs(count - PAPER_CBAM_RESNET50) / PAPER_CBAM_RESNET50 <= 0.01
    # The spatial BN accounts for 32 parameters; with or without it the count
    # rounds to the paper's 28.09 M.
    assert round(count / 1e6, 2) == round((count - blocks * spatial_bn) / 1e6, 2) == 28.09


def test_attention_macs_by_hand():
    size = (1, 3, 64, 64)  # block outputs of 16, 8, 4, 2 pixels a side
    base = analysis.count_macs(resnet.resnet50(), size)
    # SE: two FC layers on the pooled vector, C·C/16 MACs each.
    se = sum(blocks * 2 * c * (c // 16) for c, blocks in RESNET50_STAGES)
    assert analysis.count_macs(resnet.se_resnet50(), size) - base == se
    # CBAM: the shared MLP runs twice (avg- and max-pooled), plus a 7x7 conv
    # from 2 maps to 1 at every position of the block's output.
    spatial = sum(
        blocks * 2 * 49 * side * side
        for (_, blocks), side in zip(RESNET50_STAGES, (16, 8, 4, 2), strict=True)
    )
    assert analysis.count_macs(resnet.cbam_resnet50(), size) - base == 2 * se + spatial


@pytest.mark.parametrize(
    ("name", "kind"), [("se_resnet50", "SqueezeExcite"), ("cbam_resnet50", "CBAM")]
)
def test_attention_sits_after_the_last_bn_before_the_addition(name, kind):
    torch.manual_seed(0)
    block = get_model(name).layer1[1].double().eval()  # identity shortcut
    assert type(block.attention).__name__ == kind
    seen = {}
    block.bn3.register_forward_hook(lambda m, i, o: seen.__setitem__("bn3", o.clone()))
    block.attention.register_forward_hook(
        lambda m, i, o: seen.update(attention_in=i[0].clone(), attention_out=o.clone())
    )
    x = torch.randn(2, 256, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        out = block(x)
    assert torch.equal(seen["attention_in"], seen["bn3"])
    assert torch.equal(out, torch.relu(seen["attention_out"] + x))
    assert not torch.equal(seen["attention_out"], seen["bn3"])


@pytest.mark.parametrize("name", ALL)
def test_small_input_runs_on_mnist_and_cifar_shapes(name):
    options = {"num_classes": 10, "small_input": True, "width_multiplier": 0.25}
    grey = get_model(name, in_channels=1, **options)
    assert grey.conv1.kernel_size == (3, 3) and grey.conv1.stride == (1, 1)
    assert isinstance(grey.maxpool, nn.Identity)
    assert grey.conv1.out_channels == 16  # 64·0.25
    assert grey(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    colour = get_model(name, in_channels=3, **options)
    x = torch.randn(2, 3, 32, 32)
    assert colour.forward_features(x).shape[-2:] == (4, 4)  # 32 / 8
    assert colour(x).shape == (2, 10)
    assert analysis.count_macs(colour, (1, 3, 32, 32)) > 0


def resnet18_parameters_by_hand(
    widths: list[int], in_channels: int = 3, classes: int = 1000, stem_kernel: int = 7
) -> int:
    """ResNet-18 with stage widths ``widths``: conv weights + 2 per BN channel + fc."""
    total = stem_kernel * stem_kernel * in_channels * widths[0] + 2 * widths[0]
    channels = widths[0]
    for i, width in enumerate(widths):
        for j in range(2):
            total += 9 * channels * width + 2 * width + 9 * width * width + 2 * width
            if channels != width or (i > 0 and j == 0):
                total += channels * width + 2 * width
            channels = width
    return total + channels * classes + classes


def test_resnet18_parameters_by_hand_match_torchvision():
    by_hand = resnet18_parameters_by_hand([64, 128, 256, 512])
    assert by_hand == torchvision_meta("resnet18")["num_params"]


@pytest.mark.parametrize("alpha", [0.5, 0.25, 1.5])
def test_width_multiplier_scales_every_stage(alpha):
    model = resnet.resnet18(width_multiplier=alpha)
    widths = [round(64 * alpha * 2**i) for i in range(4)]
    assert [getattr(model, f"layer{i + 1}")[0].conv2.out_channels for i in range(4)] == widths
    assert analysis.count_params(model) == resnet18_parameters_by_hand(widths)
    small = resnet.resnet18(width_multiplier=alpha, small_input=True, in_channels=1, num_classes=10)
    assert analysis.count_params(small) == resnet18_parameters_by_hand(
        widths, in_channels=1, classes=10, stem_kernel=3
    )


def test_width_multiplier_on_bottlenecks():
    model = resnet.resnext50_32x4d(width_multiplier=0.5)
    assert model.conv1.out_channels == 32
    assert model.layer1[0].conv2.out_channels == 32 * 2  # floor(32·4/64)·32
    assert model.fc.in_features == 4 * 256


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"block": "wide"}, ValueError, "block must be 'basic' or 'bottleneck', got 'wide'"),
        ({"layers": ()}, ValueError, r"layers must be a non-empty sequence .* got \(\)"),
        ({"layers": (2, 0)}, ValueError, r"layers must be .* got \(2, 0\)"),
        ({"cardinality": 32}, ValueError, "block='basic' supports only .* cardinality=32"),
        ({"bottleneck_width": 4}, ValueError, "block='basic' supports only .* bottleneck_width=4"),
        ({"block": "bottleneck", "cardinality": 0}, ValueError, "cardinality must be .* got 0"),
        ({"attention": "eca"}, ValueError, "attention must be None, 'se' or 'cbam', got 'eca'"),
        ({"attention_reduction": 0}, ValueError, "attention_reduction must be .* got 0"),
        ({"width_multiplier": 0}, ValueError, "width_multiplier must be a positive .* got 0"),
        ({"width_multiplier": float("nan")}, ValueError, "width_multiplier .* got nan"),
        ({"num_classes": 0}, ValueError, "num_classes must be a positive int, got 0"),
        ({"in_channels": 2.5}, ValueError, "in_channels must be a positive int, got 2.5"),
        ({"small_input": "yes"}, TypeError, "small_input must be a bool, got 'yes'"),
    ],
)
def test_resnet_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        resnet.ResNet(**{"block": "basic", "layers": (2,), **kwargs})


def test_builders_reject_fixed_configuration_and_pass_options():
    with pytest.raises(TypeError, match="resnet50: layers is fixed"):
        resnet.resnet50(layers=(1, 1, 1, 1))
    with pytest.raises(TypeError, match="se_resnet50: attention is fixed"):
        resnet.se_resnet50(attention="cbam")
    with pytest.raises(ValueError, match="width_multiplier"):
        resnet.resnet18(width_multiplier=-1.0)
    se18 = resnet.resnet18(attention="se")
    assert isinstance(se18.layer4[1].attention, nn.Module)
    assert se18(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_resnet_accepts_other_stage_counts():
    model = resnet.ResNet("basic", (1, 1, 1), num_classes=5, small_input=True)
    assert not hasattr(model, "layer4")
    assert model.fc.in_features == 256
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 5)
