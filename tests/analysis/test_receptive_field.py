"""Receptive fields: hand derivations (Araujo et al., Distill 2019) and gradient measurements."""

from __future__ import annotations

import copy

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import analysis
from cnnlib.analysis import AxisField
from cnnlib.layers import channel_shuffle


def test_axis_field_recurrence_by_hand():
    # Two 3x3 convs: 1 + 2 + 2 = 5. Then a 2x2 stride-2 pool: 5 + 1*1 = 6, stride 2.
    f = AxisField(1, 1, 0).then(3, 1, 1).then(3, 1, 1).then(2, 2, 0)
    assert (f.size, f.stride, f.effective_padding) == (6, 2, 2)
    # Dilation 2 makes a 3x3 kernel span 5 pixels.
    assert AxisField(1, 1, 0).then(3, 1, 0, dilation=2).size == 5


def test_dilated_stacks():
    def stack(dilations):
        return nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=d, dilation=d) for d in dilations])

    # Sizes 1 + 2*(sum of dilations): gridding 2,2,2 and hybrid 1,2,5 (Wang et al. 2018).
    assert analysis.receptive_field(stack([2, 2, 2]), (1, 1, 64, 64)).size == 13
    assert analysis.receptive_field(stack([1, 2, 5]), (1, 1, 64, 64)).size == 17


def test_strided_network_by_hand():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 7, stride=2, padding=3),  # r = 7, j = 2, P = 3
        nn.MaxPool2d(3, stride=2, padding=1),  # r = 7 + 2*2 = 11, j = 4, P = 3 + 1*2 = 5
        nn.Conv2d(8, 8, 3, padding=1),  # r = 11 + 2*4 = 19, j = 4, P = 5 + 4 = 9
    )
    rf = analysis.receptive_field(model, (1, 3, 64, 64))
    assert (rf.size, rf.stride, rf.padding) == (19, 4, 9)
    assert [row.size for row in rf.rows] == [(7, 7), (11, 11), (19, 19)]
    first = analysis.receptive_field(model, (1, 3, 64, 64), layer="0")
    assert (first.size, first.stride, first.padding) == (7, 2, 3)


def test_asymmetric_kernels_are_per_axis():
    model = nn.Sequential(
        nn.Conv2d(1, 1, (1, 7), padding=(0, 3)), nn.Conv2d(1, 1, (7, 1), padding=(3, 0))
    )
    assert analysis.receptive_field(model, (1, 1, 20, 20), layer="0").size == (1, 7)
    assert analysis.receptive_field(model, (1, 1, 20, 20)).size == 7


class Residual(nn.Module):
    def __init__(self, kernel: int, padding: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, kernel, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x)[..., : x.shape[-2], : x.shape[-1]]


def test_residual_union_and_alignment():
    aligned = analysis.receptive_field(
        nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), Residual(3, 1)), (1, 2, 16, 16)
    )
    # Identity path: 3; conv path: 5; the union of centred fields is 5.
    assert aligned.rows[-1].name == "1.conv" and aligned.size == 5
    # A 2x2 conv with padding 1 is off-centre: its field is not centred on the identity's.
    shifted = Residual(2, 1)
    rf = analysis.receptive_field(nn.Sequential(shifted, nn.Conv2d(2, 2, 1)), (1, 2, 16, 16))
    assert rf.size == 2 and not rf.aligned


class TwoBranches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 4, 1)
        self.b = nn.Conv2d(4, 4, 5, padding=2)
        self.mix = nn.Conv2d(8, 8, 1, groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([self.a(x), self.b(x)], dim=1)
        left, right = channel_shuffle(y, 2).chunk(2, dim=1)
        return self.mix(torch.cat([left, right], dim=1))


def test_concatenation_and_channel_shuffle_take_the_widest_path():
    rf = analysis.receptive_field(TwoBranches(), (1, 4, 12, 12))
    assert rf.layer == "mix" and rf.size == 5 and rf.aligned


def test_global_pooling_stops_the_field_and_selects_its_input():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)
    )
    rf = analysis.receptive_field(model, (1, 3, 9, 9))
    assert rf.layer == "1 (input)" and rf.size == 3
    with pytest.raises(ValueError, match="no spatial extent"):
        analysis.receptive_field(model, (1, 3, 9, 9), layer="3")


def test_squeeze_excitation_gate_is_global_context_not_extent():
    from cnnlib.layers import SqueezeExcite

    model = nn.Sequential(
        nn.Conv2d(16, 16, 3, padding=1), SqueezeExcite(16, reduction=4), nn.Conv2d(16, 4, 1)
    )
    rf = analysis.receptive_field(model, (1, 16, 8, 8))
    assert rf.layer == "2" and rf.size == 3 and rf.rows[-1].global_context


def test_unsupported_operations_are_errors():
    with pytest.raises(ValueError, match="transposed"):
        analysis.receptive_field(
            nn.Sequential(nn.ConvTranspose2d(1, 1, 3), nn.Conv2d(1, 1, 1)), (1, 1, 8, 8)
        )
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        analysis.receptive_field(nn.Conv1d(1, 1, 3), (1, 1, 8))
    with pytest.raises(ValueError, match="not a leaf module"):
        analysis.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 1, 8, 8), layer="nope")
    with pytest.raises(TypeError, match="layer"):
        analysis.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 1, 8, 8), layer=0)


# --- Independent measurement: where does one unit's input gradient reach? ------------


def all_paths_live(model: nn.Module) -> nn.Module:
    """A copy in which every path carries signal: positive averaging weights, identity
    norms and activations, max-pooling replaced by average pooling of the same window."""
    model = copy.deepcopy(model).double().eval()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(
                child, (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.SiLU, nn.Hardswish, nn.Dropout)
            ):
                setattr(parent, name, nn.Identity())
            elif isinstance(child, nn.MaxPool2d):
                setattr(parent, name, nn.AvgPool2d(
                    child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode
                ))  # fmt: skip
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.fill_(1.0 / fan_in)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.running_mean.zero_()
                module.running_var.fill_(1.0)
                module.weight.fill_(1.0)
                module.bias.zero_()
    return model


def measured_extent(model: nn.Module, layer: str, height: int, width: int) -> tuple[int, int, int]:
    """(first row, last row, unit row) of the input gradient of the centre unit of ``layer``."""
    name, of_input = (
        (layer[: -len(" (input)")], True) if layer.endswith(" (input)") else (layer, False)
    )
    module = dict(model.named_modules())[name]
    captured = {}

    def keep(_, inputs, output=None):
        captured["x"] = inputs[0] if of_input else output

    handle = (
        module.register_forward_pre_hook(keep) if of_input else module.register_forward_hook(keep)
    )
    x = torch.ones(1, 3, height, width, dtype=torch.float64, requires_grad=True)
    try:
        model(x)
    finally:
        handle.remove()
    feature = captured["x"]
    row, col = feature.shape[-2] // 2, feature.shape[-1] // 2
    feature[0, :, row, col].sum().backward()
    rows = (x.grad[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten()
    return int(rows[0]), int(rows[-1]), row


RF_MODELS = {
    "alexnet": {},
    "vgg16": {},
    "resnet18": {},
    "resnet50": {},
    "googlenet": {"aux_logits": False, "init_weights": True},
    "densenet121": {},
    "mobilenet_v2": {},
    "shufflenet_v2_x1_0": {},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RF_MODELS))
def test_receptive_field_equals_gradient_extent(name):
    model = torchvision.models.get_model(name, weights=None, **RF_MODELS[name])
    with torch.device("meta"):
        shape_only = torchvision.models.get_model(name, weights=None, **RF_MODELS[name])
    # AlexNet's and VGG's adaptive average pools are the identity only at 224x224:
    # measure their last max-pool.
    layer = {"alexnet": "features.12", "vgg16": "features.30"}.get(name)
    first = analysis.receptive_field(shape_only, (1, 3, 224, 224), layer=layer)
    # A tall, narrow input: the height axis is measured; every kernel is square.
    height = (first.size + 2 * first.stride + 31) // 32 * 32 + 64
    width = 64 if name != "alexnet" else 96
    rf = analysis.receptive_field(shape_only, (1, 3, height, width), layer=layer)
    assert rf.layer == first.layer
    top, bottom, unit = measured_extent(all_paths_live(model), rf.layer, height, width)
    start = unit * rf.stride - rf.padding
    assert start >= 0 and start + rf.size <= height, "the field must lie inside the image"
    assert (top, bottom) == (start, start + rf.size - 1)


@pytest.mark.parametrize("name", ["resnet50", "densenet121", "shufflenet_v2_x1_0"])
def test_receptive_field_of_an_intermediate_layer(name):
    layer = {"resnet50": "layer2.1.conv2", "densenet121": "features.denseblock2.denselayer3.conv2",
             "shufflenet_v2_x1_0": "stage3.0.branch2.3"}[name]  # fmt: skip
    model = torchvision.models.get_model(name, weights=None)
    rf = analysis.receptive_field(model, (1, 3, 256, 64), layer=layer)
    top, bottom, unit = measured_extent(all_paths_live(model), layer, 256, 64)
    start = unit * rf.stride - rf.padding
    assert start >= 0 and (top, bottom) == (start, start + rf.size - 1)
