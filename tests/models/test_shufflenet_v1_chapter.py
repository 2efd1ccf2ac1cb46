"""The ShuffleNet V1 chapter's cost formulas and channel dependence."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib.models import shufflenet


def conv_macs(h: int, w: int, c_in: int, c_out: int, k: int, groups: int) -> int:
    """A convolution's MACs by hand: h·w·k²·(c_in/g)·c_out."""
    return h * w * k * k * (c_in // groups) * c_out


@pytest.mark.parametrize(("h", "c", "m", "g"), [(28, 240, 60, 3), (7, 96, 24, 8), (5, 8, 4, 2)])
def test_formulas_sum_their_convolutions(h: int, c: int, m: int, g: int) -> None:
    resnet = conv_macs(h, h, c, m, 1, 1) + conv_macs(h, h, m, m, 3, 1) + conv_macs(h, h, m, c, 1, 1)
    resnext = (
        conv_macs(h, h, c, m, 1, 1) + conv_macs(h, h, m, m, 3, g) + conv_macs(h, h, m, c, 1, 1)
    )
    shuffle = (
        conv_macs(h, h, c, m, 1, g) + conv_macs(h, h, m, m, 3, m) + conv_macs(h, h, m, c, 1, g)
    )
    assert shufflenet.bottleneck_unit_macs(h, h, c, m) == resnet
    assert shufflenet.resnext_unit_macs(h, h, c, m, g) == resnext
    assert shufflenet.shuffle_unit_macs(h, h, c, m, g) == shuffle


def test_shuffle_formula_matches_flop_counter() -> None:
    unit = shufflenet.ShuffleUnitV1(96, 96, 1, groups=4)
    with FlopCounterMode(display=False) as counter:
        unit(torch.zeros(1, 96, 6, 6))
    assert counter.get_total_flops() == 2 * shufflenet.shuffle_unit_macs(6, 6, 96, 24, 4)


def test_paper_example_ratio() -> None:
    # Zhang et al. (2018), Section 3.2: the formulas as written, c = 4m.
    h, c, m, g = 1, 4, 1, 1
    assert shufflenet.bottleneck_unit_macs(h, h, c, m) == 2 * 4 + 9
    assert shufflenet.shuffle_unit_macs(h, h, c, m, g) == 2 * 4 + 9


@pytest.mark.parametrize(
    ("func", "args", "name"),
    [
        (shufflenet.bottleneck_unit_macs, (0, 1, 4, 1), "height"),
        (shufflenet.bottleneck_unit_macs, (1, 1, 4, 1.5), "m"),
        (shufflenet.resnext_unit_macs, (1, 1, 4, 3, 2), "groups"),
        (shufflenet.shuffle_unit_macs, (1, 1, 6, 4, 4), "groups"),
        (shufflenet.shuffle_unit_macs, (1, -1, 8, 4, 4), "width"),
    ],
)
def test_formulas_refuse_bad_sizes(func, args, name) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        func(*args)


def test_channel_dependence_of_grouped_conv_and_shuffle() -> None:
    conv = nn.Conv2d(6, 6, 1, groups=3, bias=False)
    conv_pattern, shuffle_pattern = shufflenet.channel_dependence(
        [conv, shufflenet.ChannelShuffle(3)], 6
    )
    expected = torch.block_diag(*[torch.ones(2, 2, dtype=torch.bool)] * 3)
    assert torch.equal(conv_pattern, expected)
    # Shuffle of 3 groups of 2: output position k holds input 2 * (k % 3) + k // 3.
    permutation = torch.zeros(6, 6, dtype=torch.bool)
    for k in range(6):
        permutation[k, 2 * (k % 3) + k // 3] = True
    assert torch.equal(shuffle_pattern, permutation)


def test_channel_dependence_of_units() -> None:
    for shuffle, expected in [(True, 36), (False, 12)]:
        unit = shufflenet.ShuffleUnitV1(36, 36, 1, groups=3, shuffle=shuffle)
        a, b, c = shufflenet.channel_dependence([unit.conv1, unit.shuffle, unit.conv3], 36)
        reach = (c.int() @ b.int() @ a.int()) > 0
        assert (reach.sum(1) == expected).all()


def test_channel_dependence_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="layers"):
        shufflenet.channel_dependence([], 4)
    with pytest.raises(ValueError, match="in_channels"):
        shufflenet.channel_dependence([nn.Identity()], 0)


def test_stages_repeats_sets_the_units_per_stage() -> None:
    net = shufflenet.ShuffleNetV1(groups=8, stages_repeats=(1, 2, 1))
    assert [len(net.stage2), len(net.stage3), len(net.stage4)] == [1, 2, 1]
    # Same widths as the paper's network: the stage outputs keep Table 1's
    # 384, 768 and 1536 channels for g = 8.
    assert net.stage2[-1].bn3.num_features == 384 - 24
    assert net.stage3[-1].bn3.num_features == 768
    assert net.fc.in_features == 1536
    default = shufflenet.ShuffleNetV1(groups=8)
    counts = [len(default.stage2), len(default.stage3), len(default.stage4)]
    assert counts == [4, 8, 4]  # the paper's Table 1


@pytest.mark.parametrize("bad", [(4, 8), (4, 0, 4), (4, 8.0, 4), "484", 3])
def test_stages_repeats_refuses_bad_input(bad) -> None:
    with pytest.raises(ValueError, match="stages_repeats"):
        shufflenet.ShuffleNetV1(stages_repeats=bad)
