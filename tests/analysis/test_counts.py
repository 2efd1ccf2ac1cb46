"""MACs, FLOPs, element-wise work and memory access cost; torchvision's published numbers."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import analysis
from cnnlib.layers import channel_shuffle


def flop_counter_macs(model: nn.Module, shape: tuple[int, ...], device: str = "cpu") -> int:
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(shape, device=device))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


class Attention(nn.Module):
    """Matrix products in plain functional code (no Linear module): q k^T, softmax, @ v."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.qkv = nn.Parameter(torch.randn(dim, 3 * dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, T, D)
        q, k, v = (x @ self.qkv).chunk(3, dim=-1)
        weights = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)
        return torch.matmul(weights, v)


def test_functional_matrix_products_are_counted():
    n, t, d = 2, 5, 8
    # By hand: x @ W: n*t*d*3d; q k^T: n*t*t*d; weights @ v: n*t*t*d.
    by_hand = n * t * d * 3 * d + 2 * n * t * t * d
    model = Attention(d)
    assert analysis.count_macs(model, (n, t, d)) == by_hand == flop_counter_macs(model, (n, t, d))


def test_linear_module_not_counted_twice():
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    assert analysis.count_macs(model, (3, 6)) == 3 * (6 * 4 + 4 * 2)


def test_count_flops_is_twice_macs_with_elementwise_apart():
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = torch.relu(self.bn(self.conv(x)))
            return self.pool(x + y) * 0.5

    report = analysis.count_flops(Block(), (1, 4, 8, 8))
    macs = 8 * 8 * 9 * 4 * 4
    assert report.macs == macs and report.flops == 2 * macs
    elements = 4 * 8 * 8
    assert report.elementwise == {
        "normalization": elements,
        "activation": elements,
        "addition": elements,
        "multiplication": elements // 4,  # after the 2x2 pool
        "pooling": (elements // 4) * 4,  # each output reads a 2x2 window
    }
    assert report.elementwise_total == 4 * elements + elements // 4
    assert "FLOPs (2 x MACs): 18,432" in str(report)


def test_memory_access_cost_of_a_1x1_convolution_is_shufflenet_v2_equation_1():
    h = w = 14
    c1, c2 = 64, 128
    conv = nn.Conv2d(c1, c2, 1, bias=False)
    report = analysis.memory_access_cost(conv, (1, c1, h, w))
    assert report.total == h * w * (c1 + c2) + c1 * c2
    assert report.per_layer == [("Conv2d", h * w * (c1 + c2) + c1 * c2)]


def test_memory_access_cost_views_are_free_copies_are_not():
    class Shuffle(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return channel_shuffle(x, 2)

    class Split(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a, b = x.chunk(2, dim=1)
            return a + b

    n = 1 * 8 * 5 * 5
    # The shuffle's transpose makes the tensor non-contiguous; contiguous() copies it.
    assert analysis.memory_access_cost(Shuffle(), (1, 8, 5, 5)).total == 2 * n
    # Chunks are views; the addition reads two halves and writes one.
    assert analysis.memory_access_cost(Split(), (1, 8, 5, 5)).total == n + n // 2


def test_memory_access_cost_equal_channels_minimise_it():
    # ShuffleNet V2, guideline G1: for fixed FLOPs (h*w*c1*c2), MAC is smallest when c1 == c2.
    h = w = 8
    flops_fixed = [(32, 32), (16, 64), (8, 128)]
    costs = [
        analysis.memory_access_cost(nn.Conv2d(a, b, 1, bias=False), (1, a, h, w)).total
        for a, b in flops_fixed
    ]
    assert costs == sorted(costs) and costs[0] < costs[1] < costs[2]


# Model name -> builder keyword arguments, input side, and weights enum (torchvision 0.29).
TORCHVISION = {
    "alexnet": ({}, 224, "AlexNet_Weights"),
    "vgg11": ({}, 224, "VGG11_Weights"),
    "vgg16": ({}, 224, "VGG16_Weights"),
    "vgg16_bn": ({}, 224, "VGG16_BN_Weights"),
    "googlenet": ({"aux_logits": False, "init_weights": True}, 224, "GoogLeNet_Weights"),
    "inception_v3": ({"aux_logits": False, "init_weights": True}, 299, "Inception_V3_Weights"),
    "resnet18": ({}, 224, "ResNet18_Weights"),
    "resnet34": ({}, 224, "ResNet34_Weights"),
    "resnet50": ({}, 224, "ResNet50_Weights"),
    "resnet101": ({}, 224, "ResNet101_Weights"),
    "resnext50_32x4d": ({}, 224, "ResNeXt50_32X4D_Weights"),
    "resnext101_32x8d": ({}, 224, "ResNeXt101_32X8D_Weights"),
    "wide_resnet50_2": ({}, 224, "Wide_ResNet50_2_Weights"),
    "densenet121": ({}, 224, "DenseNet121_Weights"),
    "mobilenet_v2": ({}, 224, "MobileNet_V2_Weights"),
    "shufflenet_v2_x0_5": ({}, 224, "ShuffleNet_V2_X0_5_Weights"),
    "shufflenet_v2_x1_0": ({}, 224, "ShuffleNet_V2_X1_0_Weights"),
}


def aux_parameters(name: str) -> int:
    """Parameters of a torchvision model's auxiliary classifier heads."""
    model = torchvision.models.get_model(name, weights=None, aux_logits=True, init_weights=True)
    heads = [m for n, m in model.named_children() if n.lower().startswith("aux")]
    return sum(p.numel() for head in heads for p in head.parameters())


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_torchvision_models_match_published_params_and_ops(name):
    kwargs, side, weights_name = TORCHVISION[name]
    meta = getattr(torchvision.models, weights_name).IMAGENET1K_V1.meta
    with torch.device("meta"):  # shapes only: no memory, no arithmetic
        model = torchvision.models.get_model(name, weights=None, **kwargs)
    shape = (1, 3, side, side)
    params = analysis.count_params(model)
    expected_params = meta["num_params"]
    if name == "inception_v3":
        # torchvision's count for Inception-v3 includes its auxiliary head (GoogLeNet's does not).
        expected_params -= aux_parameters(name)
    assert params == expected_params
    macs = analysis.count_macs(model, shape)
    assert macs == flop_counter_macs(model, shape, device="meta")
    assert round(macs / 1e9, 3) == meta["_ops"]


def test_deformable_convolution_is_counted_like_a_convolution():
    from torchvision.ops import DeformConv2d

    class Deformable(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.offset = nn.Conv2d(4, 18, 3, padding=1)
            self.conv = DeformConv2d(4, 6, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x, self.offset(x))

    # Offsets: 8x8 outputs x 18 channels x 9 x 4; deformable: 8x8 x 6 x 9 x 4 (sampling is
    # element-wise).
    assert analysis.count_macs(Deformable(), (1, 4, 8, 8)) == 64 * 18 * 36 + 64 * 6 * 36
