"""cnnlib.analysis.manifold: MobileNetV2's Figure 1 against hand expectations."""

from __future__ import annotations

import math

import pytest
import torch

from cnnlib.analysis import manifold


def test_spiral_has_the_radius_and_angle_it_promises():
    x = manifold.spiral(5, turns=1.0)
    assert x.shape == (5, 2)
    # Point i: radius i/4, angle 2π·i/4 (a quarter turn per step).
    expected = [(0, 0), (0, 0.25), (-0.5, 0), (0, -0.75), (1, 0)]
    assert torch.allclose(x, torch.tensor(expected, dtype=torch.float32), atol=1e-6)
    assert math.isclose(float(x.norm(dim=1).max()), 1.0, abs_tol=1e-6)


@pytest.mark.parametrize("dim", [2, 3, 15, 30])
def test_without_relu_the_round_trip_is_the_identity(dim):
    x = manifold.spiral(200)
    back = manifold.relu_round_trip(x, dim, seed=3, relu=False)
    assert torch.allclose(back, x, atol=1e-5)


@pytest.mark.parametrize("dim", [2, 3])
def test_points_with_all_coordinates_positive_come_back_exactly(dim):
    # ReLU is the identity on them, and T⁺T = I. (In many dimensions few
    # points, if any, have every coordinate positive.)
    x = manifold.spiral(400).double()
    found = 0
    for seed in range(5):
        t = manifold.embedding(dim, seed=seed)
        positive = (x @ t.T > 0).all(1)
        back = manifold.relu_round_trip(x, dim, seed=seed)
        assert torch.allclose(back[positive], x[positive], atol=1e-9)
        found += int(positive.sum())
    assert found > 0


def test_in_two_dimensions_points_with_no_positive_coordinate_collapse_to_zero():
    x = manifold.spiral(400).double()
    t = manifold.embedding(2, seed=0)
    dead = (x @ t.T <= 0).all(1)
    assert dead.any()
    assert torch.equal(
        manifold.relu_round_trip(x, 2, seed=0)[dead], torch.zeros(int(dead.sum()), 2, dtype=x.dtype)
    )


def test_information_loss_falls_as_the_dimension_grows():
    x = manifold.spiral(300)
    errors = [manifold.reconstruction_error(x, n, range(30)) for n in (2, 3, 5, 15, 30)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert errors[0] > 5 * errors[-1]


def test_the_error_is_a_share_between_zero_and_one():
    x = manifold.spiral(50)
    for n in (2, 3, 100):
        assert 0 <= manifold.reconstruction_error(x, n, range(3)) <= 1


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: manifold.spiral(1), "points"),
        (lambda: manifold.spiral(10, turns=0), "turns"),
        (lambda: manifold.embedding(1), "dim"),
        (lambda: manifold.relu_round_trip(torch.zeros(4, 3), 5), "points"),
        (lambda: manifold.reconstruction_error(torch.zeros(4, 2), 5, []), "seeds"),
    ],
)
def test_bad_arguments_are_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_points_must_be_a_tensor():
    with pytest.raises(TypeError, match="points"):
        manifold.relu_round_trip([[0.0, 1.0]], 3)
