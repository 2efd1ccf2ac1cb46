"""GroupedConv: its counts are cnnlib.analysis's, the channels it draws as connected are
those a grouped torch convolution reads (gradients), its shuffle is
cnnlib.layers.channel_shuffle's, and the input groups it shows reaching each output of
conv → channel_shuffle → conv are those torch's gradients reach."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.layers import channel_shuffle
from cnnlib.widgets.grouped_conv import GroupedConv, nearest_valid_groups, valid_groups

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "cnnlib" / "widgets" / "grouped_conv.js"


def js_map(run_js: Callable[[str, str], object], function: str, cases: list) -> list:
    """``w.<function>(...case)`` for every case, in node."""
    return run_js(
        "grouped_conv",
        f"console.log(JSON.stringify({json.dumps(cases)}.map(a => w.{function}(...a))));",
    )


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def python_or_none(function, *args, **kwargs) -> int | None:
    try:
        return function(*args, **kwargs)
    except ValueError:
        return None


# Every channel pair and every groups value up to 32, valid or not; kernel and size vary.
rng = random.Random(0)
GRID = [
    (cin, cout, rng.randint(1, 7), g, rng.randint(1, 64))
    for cin, cout, g in itertools.product(range(1, 33), range(1, 33), range(1, 33))
]


def test_js_weights_agree_with_conv_params(run_js):
    js = js_map(run_js, "weights", [(cin, cout, k, g) for cin, cout, k, g, _ in GRID])
    expected = [
        python_or_none(analysis.conv_params, cin, cout, k, groups=g, bias=False)
        for cin, cout, k, g, _ in GRID
    ]
    assert js == expected
    assert expected.count(None) > 1000 and len(GRID) == 32**3  # invalid groups were exercised
    # The bias the widget mentions adds C_out parameters.
    assert analysis.conv_params(8, 16, 3, groups=4) == 3 * 3 * 8 * 16 // 4 + 16


def test_js_macs_agree_with_conv_macs(run_js):
    js = js_map(run_js, "macs", [(cin, cout, k, g, size) for cin, cout, k, g, size in GRID])
    expected = [
        python_or_none(analysis.conv_macs, cin, cout, k, size, groups=g)
        for cin, cout, k, g, size in GRID
    ]
    assert js == expected
    assert analysis.conv_macs(8, 8, 3, 14, groups=2) == 14 * 14 * 9 * 8 * 8 // 2  # hand-derived


def test_js_macs_agree_with_torch_flop_counter(run_js):
    from torch.utils.flop_counter import FlopCounterMode

    cases = [(8, 8, 3, 2, 14), (12, 18, 5, 6, 7), (16, 16, 3, 16, 10), (6, 4, 1, 2, 9)]
    js = js_map(run_js, "macs", cases)
    for (cin, cout, k, g, size), js_macs in zip(cases, js, strict=True):
        conv = nn.Conv2d(cin, cout, k, padding=k // 2, groups=g, bias=False)
        with FlopCounterMode(display=False) as counter:
            conv(torch.zeros(1, cin, size, size))
        assert js_macs == counter.get_total_flops() // 2
        assert js_macs == conv.weight.numel() * size * size


def test_js_valid_groups_are_the_divisors_torch_accepts(run_js):
    pairs = list(itertools.product(range(1, 33), range(1, 33)))
    js = js_map(run_js, "validGroups", pairs)
    for (cin, cout), offered in zip(pairs, js, strict=True):
        assert offered == sorted(set(divisors(cin)) & set(divisors(cout)))
        assert offered == valid_groups(cin, cout)
    for cin, cout in [(12, 8), (6, 9), (5, 7)]:
        accepted = []
        for g in range(1, 13):
            try:
                nn.Conv2d(cin, cout, 1, groups=g)
                accepted.append(g)
            except ValueError:
                pass
        assert js[pairs.index((cin, cout))] == accepted


def test_js_nearest_valid_groups(run_js):
    cases = [
        (cin, cout, g)
        for cin, cout in itertools.product(range(1, 33), repeat=2)
        for g in (1, 2, 3, 4, 8, 16, 32)
    ]
    js = js_map(run_js, "nearestValidGroups", cases)
    assert js == [nearest_valid_groups(*case) for case in cases]
    for (cin, cout, g), nearest in zip(cases, js, strict=True):
        allowed = valid_groups(cin, cout)
        assert nearest in allowed and abs(nearest - g) == min(abs(v - g) for v in allowed)
        if g in allowed:
            assert nearest == g
    # Hand-derived: 12 and 18 channels allow 1, 2, 3, 6, so 4 moves to 3 and 8 to 6;
    # 8 and 8 allow 1, 2, 4, 8, so 3 (equally far from 2 and 4) moves to the smaller, 2.
    assert js[cases.index((12, 18, 4))] == 3 and js[cases.index((12, 18, 8))] == 6
    assert js[cases.index((8, 8, 3))] == 2
    assert js[cases.index((6, 10, 4))] == 2  # 6 and 10 allow only 1 and 2


def torch_reads(conv: nn.Module, cin: int, size: int = 3) -> list[list[bool]]:
    """For each output channel of ``conv``, the input channels its centre unit depends on.

    Found from the gradients.
    """
    x = torch.randn(1, cin, size, size, requires_grad=True)
    out = conv(x)
    rows = []
    for o in range(out.shape[1]):
        (grad,) = torch.autograd.grad(out[0, o, size // 2, size // 2], x, retain_graph=True)
        rows.append((grad[0].abs().sum(dim=(1, 2)) != 0).tolist())
    return rows


def positive_conv(cin: int, cout: int, k: int, g: int) -> nn.Conv2d:
    """A grouped convolution whose weights are all nonzero, so no connection cancels out."""
    conv = nn.Conv2d(cin, cout, k, padding=k // 2, groups=g, bias=False)
    with torch.no_grad():
        conv.weight.uniform_(0.5, 1.5)
    return conv


CONNECTION_CASES = [
    (8, 8, 1),
    (8, 8, 2),
    (8, 8, 4),
    (8, 8, 8),
    (6, 12, 3),
    (12, 6, 3),
    (16, 32, 16),
    (9, 6, 3),
    (5, 10, 5),
    (32, 32, 32),
    (4, 4, 1),
    (1, 7, 1),
    (10, 15, 5),
]


def test_js_connected_is_what_a_grouped_torch_conv_reads(run_js):
    torch.manual_seed(0)
    js = js_map(run_js, "connected", CONNECTION_CASES)
    for (cin, cout, g), matrix in zip(CONNECTION_CASES, js, strict=True):
        assert matrix == torch_reads(positive_conv(cin, cout, 3, g), cin)
        # Block-diagonal: each output reads C_in/g inputs, each input feeds C_out/g outputs.
        assert all(sum(row) == cin // g for row in matrix)
        assert all(sum(column) == cout // g for column in zip(*matrix, strict=True))
    assert js_map(run_js, "connected", [(6, 4, 4)]) == [None]


def test_js_shuffle_permutation_is_channel_shuffle(run_js):
    cases = [(c, g) for c in range(1, 33) for g in divisors(c)]
    js = js_map(run_js, "shufflePermutation", cases)
    for (c, g), source in zip(cases, js, strict=True):
        shuffled = channel_shuffle(torch.arange(c).view(1, c, 1, 1), g).view(c).tolist()
        assert source == shuffled
        per_group = c // g
        for j in range(g):  # channel i of group j lands at position i*g + j
            for i in range(per_group):
                assert source[i * g + j] == j * per_group + i
    assert js[cases.index((6, 2))] == [0, 3, 1, 4, 2, 5]  # hand-derived
    assert js_map(run_js, "shufflePermutation", [(6, 4)]) == [None]


def torch_reaching_groups(cin: int, cout: int, g: int, shuffle: bool) -> list[list[int]]:
    """Input groups that each final output of conv → (channel_shuffle) → conv depends on."""
    first, second = positive_conv(cin, cout, 1, g), positive_conv(cout, cout, 1, g)

    def stack(x: torch.Tensor) -> torch.Tensor:
        y = first(x)
        return second(channel_shuffle(y, g) if shuffle else y)

    reads = torch_reads(stack, cin, size=1)
    return [sorted({i // (cin // g) for i, on in enumerate(row) if on}) for row in reads]


REACH_CASES = [
    (cin, cout, g, shuffle)
    for cin, cout, g in [
        (8, 8, 2),
        (8, 8, 4),
        (8, 16, 4),
        (16, 16, 4),
        (12, 24, 3),
        (6, 18, 3),
        (9, 9, 3),
        (8, 8, 8),
        (4, 32, 4),
        (32, 8, 8),
        (16, 32, 16),
        (8, 8, 1),
        (10, 20, 5),
        (24, 12, 6),
    ]
    for shuffle in (False, True)
]


def test_js_reaching_groups_match_torch_conv_shuffle_conv(run_js):
    torch.manual_seed(1)
    js = js_map(run_js, "reachingGroups", REACH_CASES)
    mixed = js_map(run_js, "mixedOutputs", REACH_CASES)
    for (cin, cout, g, shuffle), reach, count in zip(REACH_CASES, js, mixed, strict=True):
        expected = torch_reaching_groups(cin, cout, g, shuffle)
        assert reach == expected, (cin, cout, g, shuffle)
        assert count == sum(len(groups) == g for groups in expected)
        if not shuffle:  # stacked grouped convolutions never leave their group
            assert reach == [[o // (cout // g)] for o in range(cout)]
            assert count == (cout if g == 1 else 0)
        elif cout // g >= g:  # each group of the second conv takes a channel from every group
            assert count == cout
    # With 8 channels in 4 groups, each group of 2 shuffled channels carries only 2 input groups.
    case = REACH_CASES.index((8, 8, 4, True))
    assert mixed[case] == 0 and all(len(groups) == 2 for groups in js[case])


def test_grouped_conv_python_side(run_js):
    w = GroupedConv(
        in_channels=12, out_channels=24, groups=3, kernel_size=5, output_size=7, shuffle=True
    )
    assert (
        w.param_count
        == analysis.conv_params(12, 24, 5, groups=3, bias=False)
        == 5 * 5 * 12 * 24 // 3
    )
    assert w.mac_count == analysis.conv_macs(12, 24, 5, 7, groups=3)
    assert {
        "in_channels",
        "out_channels",
        "groups",
        "kernel_size",
        "output_size",
        "shuffle",
    } <= set(w.keys)
    defaults = GroupedConv()
    assert (defaults.in_channels, defaults.out_channels, defaults.groups, defaults.kernel_size) == (
        8,
        8,
        2,
        3,
    )
    assert defaults.output_size == 14 and defaults.shuffle is False
    # Python's reachability (through cnnlib.layers.channel_shuffle) is what the JS draws.
    cases = [(cin, cout, g, s) for cin, cout, g, s in REACH_CASES]
    js = js_map(run_js, "reachingGroups", cases)
    mixed = js_map(run_js, "mixedOutputs", cases)
    for (cin, cout, g, s), reach, count in zip(cases, js, mixed, strict=True):
        widget = GroupedConv(in_channels=cin, out_channels=cout, groups=g, shuffle=s)
        assert widget.reaching_groups == reach and widget.mixed_outputs == count
    # Changing a channel count that groups no longer divides moves groups to the nearest divisor.
    w.in_channels = 10  # 10 and 24 allow 1, 2
    assert w.groups == 2
    w.groups = 4
    assert w.param_count is None and w.mac_count is None and w.reaching_groups is None
    message = (
        r"groups must divide in_channels \(8\) and out_channels \(12\), one of \[1, 2, 4\], got 3"
    )
    with pytest.raises(ValueError, match=message):
        GroupedConv(in_channels=8, out_channels=12, groups=3)
    with pytest.raises(ValueError, match="in_channels must be between 1 and 32, got 33"):
        GroupedConv(in_channels=33)
    with pytest.raises(ValueError, match="output_size must be between 1 and 64, got 0"):
        GroupedConv(output_size=0)
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        GroupedConv(kernel_size=2.5)
    with pytest.raises(TypeError, match="groups must be an int"):
        GroupedConv(groups=True)
    with pytest.raises(TypeError, match="shuffle must be a bool"):
        GroupedConv(shuffle=1)
