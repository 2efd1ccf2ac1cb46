"""DilatedStack: its field sizes are cnnlib.analysis's, and the pixels it draws as read are
exactly those where the input gradient of one output unit is nonzero."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.widgets.dilated_stack import GRIDDING, HYBRID, DilatedStack, footprint_1d

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "cnnlib" / "widgets" / "dilated_stack.js"


def js_map(run_js: Callable[[str, str], object], function: str, stacks: list) -> list:
    """``w.<function>(stack)`` for every stack, in node."""
    return run_js(
        "dilated_stack",
        f"console.log(JSON.stringify({json.dumps(stacks)}.map(s => w.{function}(s))));",
    )


def stack(kernels: list[int], strides: list[int], dilations: list[int]) -> list[dict[str, int]]:
    return [
        {"kernel": k, "stride": s, "dilation": d}
        for k, s, d in zip(kernels, strides, dilations, strict=True)
    ]


def random_stacks(count: int, seed: int) -> list[list[dict[str, int]]]:
    rng = random.Random(seed)
    stacks = []
    for _ in range(count):
        depth = rng.randint(1, 6)
        stacks.append(stack(
            [rng.randint(1, 7) for _ in range(depth)],
            [rng.randint(1, 3) for _ in range(depth)],
            [rng.randint(1, 8) for _ in range(depth)],
        ))  # fmt: skip
    return stacks


def sequential(
    layers: list[dict[str, int]], device: str = "cpu", dtype: torch.dtype = torch.float32
) -> nn.Sequential:
    return nn.Sequential(
        *(nn.Conv2d(1, 1, layer["kernel"], stride=layer["stride"], dilation=layer["dilation"],
                    device=device, dtype=dtype)
          for layer in layers)
    )  # fmt: skip


# --- Field sizes: the widget's recurrence is cnnlib.analysis.receptive_field ----------


def test_js_field_sizes_agree_with_cnnlib(run_js):
    single = [stack([k], [s], [d]) for k in range(1, 8) for s in range(1, 4) for d in range(1, 9)]
    widest = stack([7] * 6, [3] * 6, [8] * 6)
    stacks = single + random_stacks(150, seed=0) + [GRIDDING, HYBRID, widest]
    sizes = js_map(run_js, "fieldSizes", stacks)
    for layers, js in zip(stacks, sizes, strict=True):
        # On the meta device nothing is computed, so an input larger than any field is free.
        rows = analysis.receptive_field(
            sequential(layers, device="meta"), (1, 1, 20000, 20000)
        ).rows
        assert [(r["size"], r["stride"]) for r in js] == [
            (row.size[0], row.effective_stride[0]) for row in rows
        ]
        assert all(row.size[0] == row.size[1] for row in rows)
    # Hand-derived: 2,2,2 spans 1 + 3·2·2 = 13 pixels, 1,2,5 spans 1 + 2·(1 + 2 + 5) = 17.
    assert [r["size"] for r in sizes[-3]] == [5, 9, 13]
    assert [r["size"] for r in sizes[-2]] == [3, 7, 17]
    assert sizes[-1][-1] == {"size": 1 + 48 * (1 + 3 + 9 + 27 + 81 + 243), "stride": 3**6}


def test_field_sizes_of_a_real_forward_pass(run_js):
    """The same, with arithmetic on the CPU and an input just large enough for each stack."""
    stacks = [s for s in random_stacks(200, seed=1) if analysis_size(s) <= 120][:40]
    sizes = js_map(run_js, "fieldSizes", stacks)
    for layers, js in zip(stacks, sizes, strict=True):
        n = js[-1]["size"]
        field = analysis.receptive_field(sequential(layers), (1, 1, n, n))
        assert field.size == n and field.stride == js[-1]["stride"]
        with pytest.raises(
            RuntimeError
        ):  # one pixel less and the stack has no output: the field is n wide
            sequential(layers)(torch.zeros(1, 1, n - 1, n - 1))


def analysis_size(layers: list[dict[str, int]]) -> int:
    return analysis.receptive_field(sequential(layers, device="meta"), (1, 1, 20000, 20000)).size


# --- Footprint: exactly the pixels the input gradient of one output unit reaches ------


def gradient(layers: list[dict[str, int]], n: int) -> torch.Tensor:
    """d(output unit (0, 0)) / d(input) of the stack with every weight 1, on an n×n input."""
    model = sequential(layers, dtype=torch.float64)
    for conv in model:
        nn.init.ones_(conv.weight)
        nn.init.zeros_(conv.bias)
    x = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    model(x)[0, 0, 0, 0].backward()
    return x.grad[0, 0]


FOOTPRINT_STACKS = [
    GRIDDING,
    HYBRID,
    stack([3, 3, 3], [1, 1, 1], [1, 2, 4]),  # WaveNet-style doubling: no holes
    stack([3, 3], [1, 1], [3, 3]),  # a common factor 3: holes
    stack(
        [3, 3], [2, 1], [1, 2]
    ),  # stride 2, then dilation 2 (steps of 4 over 3-wide fields): holes
    stack([2, 3, 3, 2], [1, 2, 1, 3], [4, 1, 3, 2]),
]


@pytest.mark.parametrize("seed", [2, 3])
def test_js_footprint_is_where_the_input_gradient_is_nonzero(run_js, seed):
    stacks = (
        FOOTPRINT_STACKS + [s for s in random_stacks(300, seed=seed) if analysis_size(s) <= 90][:30]
    )
    footprints = js_map(run_js, "footprint1d", stacks)
    counts = js_map(run_js, "pathCounts1d", stacks)
    stats = js_map(run_js, "footprintStats", stacks)
    for layers, js_offsets, js_counts, js_stats in zip(
        stacks, footprints, counts, stats, strict=True
    ):
        n = analysis_size(layers)
        grad = gradient(layers, n + 3)
        read = {tuple(p) for p in (grad != 0).nonzero().tolist()}
        assert read == {(y, x) for y in js_offsets for x in js_offsets}
        assert footprint_1d(layers) == js_offsets  # the Python copy agrees
        # With weights 1 the gradient counts the paths through the taps: the 2-D count is
        # the product.
        assert grad.tolist() == [
            [float(js_counts[y] * js_counts[x]) if y < n and x < n else 0.0 for x in range(n + 3)]
            for y in range(n + 3)
        ]
        rows = [y for y, _ in read]
        assert (
            max(rows) - min(rows) + 1 == n == js_stats["size"]
        )  # the field spans exactly r pixels
        assert js_stats["read"] == len(read) and js_stats["holes"] == n * n - len(read)
    # The random stacks exercised both kinds, and strides and dilations above 1.
    assert len(stacks) == len(FOOTPRINT_STACKS) + 30
    assert {s["holes"] > 0 for s in stats} == {True, False}


def test_gridding_has_holes_and_hybrid_none(run_js):
    footprints = js_map(run_js, "footprint1d", [GRIDDING, HYBRID])
    stats = js_map(run_js, "footprintStats", [GRIDDING, HYBRID])
    # Hand-derived: with dilation 2 everywhere only even offsets are reachable.
    assert footprints[0] == list(range(0, 13, 2))
    assert stats[0] == {"size": 13, "read": 49, "holes": 13 * 13 - 49}
    # 1, 2, 5: offsets a + 2b + 5c (a, b, c in 0..2) cover 0..16.
    assert footprints[1] == list(range(17))
    assert stats[1] == {"size": 17, "read": 17 * 17, "holes": 0}
    for layers, grid_has_holes in [(GRIDDING, True), (HYBRID, False)]:
        n = analysis_size(layers)
        assert bool((gradient(layers, n)[:n, :n] == 0).any()) == grid_has_holes


def test_js_presets_and_ranges_match_python(run_js):
    from cnnlib.widgets import dilated_stack

    js = run_js(
        "dilated_stack",
        "console.log(JSON.stringify({p: w.PRESETS, r: w.RANGES, m: w.MAX_LAYERS}));",
    )
    assert js["p"] == {"gridding": GRIDDING, "hybrid": HYBRID}
    assert {k: tuple(v) for k, v in js["r"].items()} == dilated_stack.RANGES
    assert js["m"] == dilated_stack.MAX_LAYERS == 6


INVALID = [
    [],
    stack([3] * 7, [1] * 7, [1] * 7),
    stack([8], [1], [1]),
    stack([0], [1], [1]),
    stack([3], [4], [1]),
    stack([3], [0], [1]),
    stack([3], [1], [9]),
    stack([3], [1], [0]),
    stack([2.5], [1], [1]),
    [{"kernel": 3, "stride": 1}],
]


def test_js_flags_what_python_rejects(run_js):
    valid = [GRIDDING, HYBRID, stack([1], [1], [1]), stack([7] * 6, [3] * 6, [8] * 6)]
    reasons = js_map(run_js, "invalidReason", INVALID + valid)
    for layers, reason in zip(INVALID, reasons[: len(INVALID)], strict=True):
        assert reason, layers
        with pytest.raises((TypeError, ValueError)):
            DilatedStack(layers=layers)
    assert reasons[len(INVALID) :] == [""] * len(valid)


# --- Python side ----------------------------------------------------------------------


def test_dilated_stack_python_side():
    w = DilatedStack()
    assert w.layers == GRIDDING and {"layers"} <= set(w.keys)
    assert w.receptive_field_size == analysis_size(GRIDDING) == 13
    assert (w.pixels_read, w.holes) == (49, 13 * 13 - 49)
    w = DilatedStack(layers=HYBRID)
    assert w.field_sizes == [(3, 1), (7, 1), (17, 1)]
    assert (w.pixels_read, w.holes) == (17 * 17, 0)
    layers = stack([3, 5], [2, 3], [1, 2])
    w = DilatedStack(layers=tuple(layers))
    assert w.layers == layers and w.receptive_field_size == analysis_size(layers) == 1 + 2 + 8 * 2
    # The browser may store an invalid state: the properties report None, not a wrong number.
    w.layers = [{"kernel": 0, "stride": 1, "dilation": 1}]
    assert w.receptive_field_size is None and w.pixels_read is None and w.holes is None


def test_dilated_stack_validation_errors():
    with pytest.raises(TypeError, match="layers must be a list of dicts"):
        DilatedStack(layers="3,3,3")
    with pytest.raises(ValueError, match="between 1 and 6 layers, got 0"):
        DilatedStack(layers=[])
    with pytest.raises(ValueError, match="between 1 and 6 layers, got 7"):
        DilatedStack(layers=stack([3] * 7, [1] * 7, [1] * 7))
    with pytest.raises(TypeError, match=r"layers\[1\] must be a dict"):
        DilatedStack(layers=[GRIDDING[0], (3, 1, 2)])
    with pytest.raises(
        ValueError, match=r"layers\[0\] must have exactly the keys kernel, stride, dilation"
    ):
        DilatedStack(layers=[{"kernel": 3, "stride": 1}])
    with pytest.raises(ValueError, match=r"layers\[0\] must have exactly the keys"):
        DilatedStack(layers=[{"kernel": 3, "stride": 1, "dilation": 1, "padding": 1}])
    with pytest.raises(ValueError, match=r"layers\[0\]\.kernel must be between 1 and 7, got 8"):
        DilatedStack(layers=stack([8], [1], [1]))
    with pytest.raises(ValueError, match=r"layers\[2\]\.stride must be between 1 and 3, got 4"):
        DilatedStack(layers=stack([3, 3, 3], [1, 1, 4], [1, 1, 1]))
    with pytest.raises(ValueError, match=r"layers\[0\]\.dilation must be between 1 and 8, got 0"):
        DilatedStack(layers=stack([3], [1], [0]))
    with pytest.raises(TypeError, match=r"layers\[0\]\.kernel must be an int, got 2.5"):
        DilatedStack(layers=stack([2.5], [1], [1]))
    with pytest.raises(TypeError, match=r"layers\[0\]\.dilation must be an int, got True"):
        DilatedStack(layers=stack([3], [1], [True]))
    with pytest.raises(TypeError):
        DilatedStack(GRIDDING)  # keyword-only


def test_presets_against_the_hybrid_dilated_convolution_check():
    # The widget's footprint of a stride-1 stack is cnnlib.analysis's.
    for layers in (GRIDDING, HYBRID, stack([3, 3, 3], [1, 1, 1], [2, 3, 5])):
        dilations = [layer["dilation"] for layer in layers]
        assert footprint_1d(layers) == list(analysis.dilated_footprint(dilations, 3))
    # Gridding reads 49 of 169 pixels, though it meets Wang et al.'s goal M_2 <= 3;
    # 1, 2, 5 meets it and starts with dilation 1: no holes.
    gridding, hybrid = (
        analysis.hybrid_dilation([layer["dilation"] for layer in p]) for p in (GRIDDING, HYBRID)
    )
    assert (gridding.pixels_read, gridding.field_size**2, gridding.m2) == (49, 169, 2)
    assert hybrid.meets_design_goal and hybrid.reads_every_pixel
    assert DilatedStack(layers=HYBRID).holes == hybrid.holes == 0
