"""Hybrid dilated convolution: the paper's M_i, and holes counted by autograd."""

from __future__ import annotations

import itertools
import random

import pytest
import torch
from torch import nn

from cnnlib import analysis


def read_by_gradient(dilations: list[int], kernel_size: int) -> tuple[int, int]:
    """(field side, pixels whose input gradient of one output unit is non-zero).

    The stack has every weight 1, so no two paths cancel; its input is exactly
    one field wide, so the unit is the only output.
    """
    model = nn.Sequential(
        *(nn.Conv2d(1, 1, kernel_size, dilation=d, bias=False) for d in dilations)
    ).double()
    for conv in model:
        nn.init.ones_(conv.weight)
    side = 1 + (kernel_size - 1) * sum(dilations)
    x = torch.zeros(1, 1, side, side, dtype=torch.float64, requires_grad=True)
    out = model(x)
    assert out.shape[-2:] == (1, 1)
    out.sum().backward()
    return side, int((x.grad != 0).sum())


def test_the_papers_examples_by_hand():
    # Wang et al. (2018): for K = 3, [1, 2, 5] works as M_2 = 2; [1, 2, 9] does not, M_2 = 5.
    # By hand, top down: [1, 2, 5]: M_3 = 5, M_2 = max(5 - 4, 5 - 2*3, 2) = 2,
    # M_1 = max(2 - 2, 2 - 2*1, 1) = 1.
    assert analysis.hdc_max_distances([1, 2, 5]) == (1, 2, 5)
    # [1, 2, 9]: M_3 = 9, M_2 = max(9 - 4, 9 - 14, 2) = 5, M_1 = max(5 - 2, 5 - 8, 1) = 3.
    assert analysis.hdc_max_distances([1, 2, 9]) == (3, 5, 9)
    good, bad = analysis.hybrid_dilation([1, 2, 5]), analysis.hybrid_dilation([1, 2, 9])
    assert (good.m2, good.meets_design_goal) == (2, True)
    assert (bad.m2, bad.meets_design_goal) == (5, False)
    # 1, 2, 5: offsets a + 2b + 5c with a, b, c in 0..2 cover 0..16.
    assert good.footprint == tuple(range(17)) and good.reads_every_pixel
    # 1, 2, 9: a + 2b covers 0..6, so 7 and 8 are missed before 9.
    assert bad.footprint == (*range(7), *range(9, 16), *range(18, 25))
    assert bad.holes == 25 * 25 - 21 * 21


def test_gridding_reads_49_of_169_pixels():
    # Dilation 2 three times: only the even offsets 0, 2, ..., 12 of 13.
    grid = analysis.hybrid_dilation([2, 2, 2])
    assert grid.footprint == tuple(range(0, 13, 2)) and grid.common_factor == 2
    assert (grid.field_size, grid.pixels_read, grid.holes) == (13, 49, 169 - 49)
    assert read_by_gradient([2, 2, 2], 3) == (13, 49)


COUNTEREXAMPLES = [
    # (dilations, kernel, meets the goal, reads every pixel)
    ([2, 3, 5], 3, True, False),  # goal met, no common factor, still holes: not sufficient
    ([1, 4, 2], 3, False, True),  # goal missed, no holes: not necessary
    ([1, 3, 1], 3, False, True),
    ([1, 2, 9], 3, False, False),  # no common factor, holes
    ([3, 4, 5], 3, False, False),  # no common factor, holes
    ([1, 2, 6], 2, True, False),  # kernel 2: goal met with r_1 = 1, still holes
    ([1, 2, 5], 3, True, True),
    ([1, 2, 3], 3, True, True),
]


@pytest.mark.parametrize("dilations, kernel, goal, full", COUNTEREXAMPLES)
def test_counterexamples_against_the_gradient(dilations, kernel, goal, full):
    check = analysis.hybrid_dilation(dilations, kernel)
    side, read = read_by_gradient(dilations, kernel)
    assert check.meets_design_goal == goal
    assert (check.field_size, check.pixels_read) == (side, read)
    assert check.reads_every_pixel == full == (read == side * side)
    assert check.common_factor == 1


def random_stacks(count: int, seed: int, depth: int, largest: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randint(1, largest) for _ in range(rng.randint(2, depth))] for _ in range(count)]


@pytest.mark.parametrize("kernel", [2, 3, 4, 5])
def test_footprint_is_where_the_input_gradient_is_nonzero(kernel):
    for dilations in random_stacks(40, seed=kernel, depth=4, largest=7):
        check = analysis.hybrid_dilation(dilations, kernel)
        model = nn.Sequential(
            *(nn.Conv2d(1, 1, kernel, dilation=d, bias=False) for d in dilations)
        ).double()
        for conv in model:
            nn.init.ones_(conv.weight)
        side = check.field_size
        x = torch.zeros(1, 1, side, side, dtype=torch.float64, requires_grad=True)
        model(x).sum().backward()
        read = {tuple(p) for p in (x.grad[0, 0] != 0).nonzero().tolist()}
        assert read == {(y, z) for y in check.footprint for z in check.footprint}
        # The field of cnnlib.analysis.receptive_field is the same square.
        assert analysis.receptive_field(model, (1, 1, side, side)).size == side


def test_the_goal_is_neither_necessary_nor_sufficient_over_random_stacks():
    """Over random stacks, by the gradient count: both kinds of failure occur."""
    met_with_holes = missed_without_holes = 0
    for dilations in random_stacks(300, seed=7, depth=4, largest=9):
        goal = analysis.hybrid_dilation(dilations).meets_design_goal
        side, read = read_by_gradient(dilations, 3)
        full = read == side * side
        met_with_holes += goal and not full
        missed_without_holes += full and not goal
        if goal and dilations[0] == 1:  # with a first layer of dilation 1 it suffices
            assert full, dilations
    assert met_with_holes > 0 and missed_without_holes > 0


def test_with_kernel_3_and_a_first_dilation_of_1_the_goal_suffices():
    """Every stack of 2 to 5 layers with dilations 1..8 (footprints checked against
    autograd above), and random deeper ones."""
    stacks = (
        list(rates)
        for depth in range(2, 6)
        for rates in itertools.product(range(1, 9), repeat=depth)
        if rates[0] == 1
    )
    deeper = random_stacks(3000, seed=11, depth=8, largest=16)
    met = 0
    for dilations in itertools.chain(stacks, ([1, *d[1:]] for d in deeper)):
        check = analysis.hybrid_dilation(dilations)
        if check.meets_design_goal:
            met += 1
            assert check.reads_every_pixel, dilations
    assert met > 1000


def test_a_common_factor_always_leaves_holes():
    for dilations in itertools.product(range(1, 9), repeat=3):
        check = analysis.hybrid_dilation(dilations)
        if check.common_factor > 1:
            assert not check.reads_every_pixel
            assert all(o % check.common_factor == 0 for o in check.footprint)


def test_footprint_of_one_layer_is_its_taps():
    assert analysis.dilated_footprint([3], kernel_size=4) == (0, 3, 6, 9)
    assert analysis.hdc_max_distances([4]) == (4,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: analysis.hybrid_dilation([2]), "at least two layers"),
        (lambda: analysis.hybrid_dilation([]), "dilations must be"),
        (lambda: analysis.hybrid_dilation([1, 0]), "dilations must be"),
        (lambda: analysis.hybrid_dilation("125"), "dilations must be"),
        (lambda: analysis.hybrid_dilation([1, True]), "dilations must be"),
        (lambda: analysis.hybrid_dilation([1, 2], kernel_size=0), "kernel_size"),
        (lambda: analysis.dilated_footprint([1, 2], kernel_size=2.5), "kernel_size"),
        (lambda: analysis.hdc_max_distances([1.5, 2]), "dilations"),
    ],
)
def test_bad_arguments_are_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_with_non_decreasing_dilations_and_kernel_3_the_goal_is_necessary():
    """Every stack that fills its field while missing M_2 <= 3 has a later layer with a
    smaller dilation than the one before it: with non-decreasing dilations none does."""
    checked = 0
    for depth in range(2, 6):
        for dilations in itertools.combinations_with_replacement(range(1, 13), depth):
            check = analysis.hybrid_dilation(dilations)
            if check.reads_every_pixel:
                assert check.meets_design_goal, dilations
                checked += 1
    assert checked > 100
    # And a decrease is what the counterexamples have.
    assert not analysis.hybrid_dilation([1, 4, 2]).meets_design_goal
    assert analysis.hybrid_dilation([1, 4, 2]).reads_every_pixel
