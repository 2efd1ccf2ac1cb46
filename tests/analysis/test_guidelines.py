"""cnnlib.analysis.guidelines builds the paper's test networks at equal MACs.

Expectations come from the paper's tables (channel pairs and widths), from
hand formulas (MACs of 1x1 convolutions, memory access cost by equation (1))
and from PyTorch (parameter tensors, functional convolutions), never from the
module's own output.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import analysis
from cnnlib.analysis import guidelines


@pytest.mark.parametrize(
    ("channels", "pairs"),
    [
        (128, [(128, 128), (90, 180), (52, 312), (36, 432)]),  # Table 1, GPU
        (32, [(32, 32), (22, 44), (13, 78), (9, 108)]),  # Table 1, ARM
    ],
)
def test_g1_channels_reproduce_table_1(channels, pairs):
    assert [guidelines.g1_channels(channels, r) for r in (1, 2, 6, 12)] == pairs


@pytest.mark.parametrize("channels", [32, 64, 128])
@pytest.mark.parametrize("ratio", [1, 2, 6, 12])
def test_g1_networks_have_equal_macs_within_rounding(channels, ratio):
    c1, c2 = guidelines.g1_channels(channels, ratio)
    assert c2 == ratio * c1
    # c1 is the largest width whose product does not exceed channels²:
    assert c1 * c1 * ratio <= channels**2 < (c1 + 1) ** 2 * ratio
    net = guidelines.g1_network(c1, c2)
    hw = 7 * 7
    by_hand = 20 * hw * c1 * c2  # 10 blocks of two 1x1 convolutions
    assert analysis.count_macs(net, (1, c1, 7, 7)) == by_hand
    # The rounding costs at most one step of c1 in the product.
    assert 0 <= hw * channels**2 * 20 - by_hand < 20 * hw * ratio * (2 * c1 + 1)


def test_g2_channels_reproduce_table_2():
    assert [guidelines.g2_channels(128, g) for g in (1, 2, 4, 8)] == [128, 180, 256, 360]


@pytest.mark.parametrize("channels", [64, 128])
@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_g2_networks_have_equal_macs_within_rounding(channels, groups):
    c = guidelines.g2_channels(channels, groups)
    assert c % groups == 0
    assert c * c <= channels**2 * groups < (c + groups) ** 2
    net = guidelines.g2_network(c, groups)
    assert analysis.count_macs(net, (1, c, 5, 5)) == 10 * 25 * c * c // groups
    weights = sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Conv2d))
    assert weights == 10 * c * c // groups
    assert all(m.groups == groups for m in net.modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize(("fragments", "width"), [(1, 64), (2, 45), (4, 32)])
def test_g3_fragments_keep_the_macs(fragments, width):
    assert guidelines.g3_channels(64, fragments) == width
    for arrangement in ("series", "parallel"):
        net = guidelines.g3_network(64, fragments, arrangement)
        macs = analysis.count_macs(net, (1, width, 6, 6))
        assert macs == 10 * fragments * 36 * width * width
        assert abs(macs / (10 * 36 * 64 * 64) - 1) < 0.02


def test_fragments_compute_series_and_parallel():
    torch.manual_seed(0)
    block = guidelines.Fragments(4, 3, "parallel")
    x = torch.randn(2, 4, 3, 3)
    weights = [conv.weight for conv in block.convs]
    with torch.no_grad():
        expected = sum(F.conv2d(x, w) for w in weights)
        torch.testing.assert_close(block(x), expected)
        block.arrangement = "series"
        expected = F.conv2d(F.conv2d(F.conv2d(x, weights[0]), weights[1]), weights[2])
        torch.testing.assert_close(block(x), expected)


def test_bottleneck_switches():
    c = 16
    per_unit = c * (c // 4) + 9 * (c // 4) ** 2 + (c // 4) * c  # conv weights
    x, y = torch.randn(2, c, 5, 5), torch.randn(2, c, 5, 5)
    for relu in (True, False):
        for shortcut in (True, False):
            torch.manual_seed(0)
            unit = guidelines.Bottleneck(c, relu=relu, shortcut=shortcut).eval()
            for bn in (unit.bn1, unit.bn2, unit.bn3):
                nn.init.normal_(bn.bias)
            convs = [m for m in unit.modules() if isinstance(m, nn.Conv2d)]
            assert sum(m.weight.numel() for m in convs) == per_unit
            with torch.no_grad():
                out, zero = unit(x), unit(torch.zeros_like(x))
                if relu:
                    assert (out >= 0).all()
                else:  # affine: f(x + y) - f(y) == f(x) - f(0)
                    torch.testing.assert_close(unit(x + y) - unit(y), out - zero)
                if not relu and shortcut:
                    plain = guidelines.Bottleneck(c, relu=False, shortcut=False).eval()
                    plain.load_state_dict(unit.state_dict())
                    torch.testing.assert_close(out, plain(x) + x)


@pytest.mark.parametrize(("hw", "c1", "c2"), [(784, 64, 64), (784, 16, 256), (9, 3, 5)])
def test_pointwise_memory_access_is_equation_1(hw, c1, c2):
    side = math.isqrt(hw)
    conv = nn.Conv2d(c1, c2, 1, bias=False)
    traced = analysis.memory_access_cost(conv, (1, c1, side, side)).total
    assert guidelines.pointwise_memory_access(hw, c1, c2) == traced == hw * (c1 + c2) + c1 * c2


def test_memory_bound_is_reached_only_at_equal_widths():
    hw, product = 784, 4096
    bound = guidelines.pointwise_memory_bound(hw, hw * product)
    assert math.isclose(bound, 2 * 784 * 64 + 4096)  # = 104,448 by hand
    for c1 in (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096):
        cost = guidelines.pointwise_memory_access(hw, c1, product // c1)
        assert cost >= bound
        assert math.isclose(cost, bound) == (c1 == 64)


def test_setups_label_rows_and_shapes():
    runs = guidelines.setups("G3", channels=64, size=8, batch=2)
    assert [r.label for r in runs] == [
        "1 fragment", "2 series", "4 series", "2 parallel", "4 parallel",
    ]  # fmt: skip
    assert [r.input_size for r in runs][:3] == [(2, 64, 8, 8), (2, 45, 8, 8), (2, 32, 8, 8)]
    g4 = guidelines.setups("G4", channels=32, size=8)
    assert [r.label for r in g4] == ["unit", "no ReLU", "no shortcut", "neither"]
    for run in runs + g4:
        assert not run.model.training
        with torch.no_grad():
            assert run.model(torch.zeros(run.input_size)).shape == run.input_size


def test_measure_counts_one_image_and_restores_threads():
    threads = torch.get_num_threads()
    runs = guidelines.setups("G1", channels=8, size=4, batch=2)
    rows = guidelines.measure(runs, min_run_time=0.01)
    assert torch.get_num_threads() == threads
    for row, run in zip(rows, runs, strict=True):
        c1 = run.input_size[1]
        c2 = int(row.label[2:]) * c1
        assert row.macs == 20 * 16 * c1 * c2
        assert row.memory_access == 20 * guidelines.pointwise_memory_access(16, c1, c2)
        assert row.batch == 2 and row.latency.threads == 1
        assert row.latency.clock == "thread_cpu" and row.latency.device == "cpu"
        assert row.images_per_second == pytest.approx(2 / row.latency.median)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: guidelines.g1_channels(0, 2), ValueError, "channels"),
        (lambda: guidelines.g1_channels(32, 2.0), ValueError, "ratio"),
        (lambda: guidelines.g1_channels(2, 12), ValueError, "channels"),
        (lambda: guidelines.g2_channels(64, 0), ValueError, "groups"),
        (lambda: guidelines.g2_network(30, 4), ValueError, "groups"),
        (lambda: guidelines.g3_channels(64, -1), ValueError, "fragments"),
        (lambda: guidelines.Fragments(8, 2, "ring"), ValueError, "arrangement"),
        (lambda: guidelines.Bottleneck(10), ValueError, "channels"),
        (lambda: guidelines.Bottleneck(8, relu=1), TypeError, "relu"),
        (lambda: guidelines.setups("G5", channels=8), ValueError, "guideline"),
        (lambda: guidelines.setups("G1", channels=8, size=0), ValueError, "size"),
        (lambda: guidelines.measure("G1"), TypeError, "runs"),
        (lambda: guidelines.measure([1]), TypeError, "runs"),
        (lambda: guidelines.pointwise_memory_bound(10, -1.0), ValueError, "macs"),
        (lambda: guidelines.pointwise_memory_access(0, 1, 1), ValueError, "hw"),
    ],
)
def test_bad_arguments_name_the_parameter(call, error, name):
    with pytest.raises(error, match=name):
        call()
