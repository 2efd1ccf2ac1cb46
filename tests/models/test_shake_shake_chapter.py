"""Shake-Shake as chapter 13 uses it: coefficients, gradients, evaluation, counts."""

from __future__ import annotations

import pytest
import torch

from cnnlib.analysis import count_params
from cnnlib.models import shake_shake

F64 = torch.float64


@pytest.mark.parametrize(
    "forward, backward, level",
    [
        ("shake", "shake", "image"),
        ("shake", "keep", "image"),
        ("even", "shake", "batch"),
        ("even", "even", "image"),
        ("shake", "even", "batch"),
    ],
)
def test_coefficients_follow_the_modes(forward, backward, level):
    torch.manual_seed(0)
    block = shake_shake.ShakeBlock(2, 2, 1, forward, backward, level)
    alpha, beta = block.coefficients(64)
    rows = 64 if level == "image" else 1
    assert alpha.shape == beta.shape == (rows, 1, 1, 1)
    assert ((alpha >= 0) & (alpha <= 1) & (beta >= 0) & (beta <= 1)).all()
    if forward == "even":
        assert (alpha == 0.5).all()
    else:
        assert alpha.unique().numel() == rows
    if backward == "keep":
        assert torch.equal(alpha, beta)
    elif backward == "even":
        assert (beta == 0.5).all()
    else:
        assert not torch.equal(alpha, beta)


def test_coefficients_checks_batch_size():
    block = shake_shake.ShakeBlock(2, 2)
    for bad in (0, -1, 2.0):
        with pytest.raises((TypeError, ValueError), match="batch_size"):
            block.coefficients(bad)


def test_gradients_are_scaled_by_beta_not_alpha():
    torch.manual_seed(0)
    a = torch.randn(5, 3, 4, 4, dtype=F64, requires_grad=True)
    b = torch.randn(5, 3, 4, 4, dtype=F64, requires_grad=True)
    alpha = torch.rand(5, 1, 1, 1, dtype=F64)
    beta = torch.rand(5, 1, 1, 1, dtype=F64)
    out = shake_shake.shake_shake(a, b, alpha, beta)
    torch.testing.assert_close(out, alpha * a + (1 - alpha) * b)
    g = torch.randn_like(out)
    grad_a, grad_b = torch.autograd.grad(out, (a, b), g)
    torch.testing.assert_close(grad_a, beta * g)
    torch.testing.assert_close(grad_b, (1 - beta) * g)
    # Plain autograd of the same forward would have used alpha.
    plain_a, _ = torch.autograd.grad(alpha * a + (1 - alpha) * b, (a, b), g)
    torch.testing.assert_close(plain_a, alpha * g)


def test_block_in_training_mixes_branches_with_drawn_alpha():
    torch.manual_seed(0)
    block = shake_shake.ShakeBlock(3, 3, 1, "shake", "keep", "image").double()
    x = torch.randn(4, 3, 6, 6, dtype=F64)
    torch.manual_seed(1)
    out = block(x)  # draws alpha first
    a, b = block.branch1(x), block.branch2(x)  # BN in training: batch statistics
    torch.manual_seed(1)
    alpha = torch.rand(4, 1, 1, 1, dtype=F64)
    torch.testing.assert_close(out, alpha * a + (1 - alpha) * b + x)


def test_evaluation_uses_one_half():
    torch.manual_seed(0)
    block = shake_shake.ShakeBlock(3, 6, 2).double().eval()
    x = torch.randn(2, 3, 8, 8, dtype=F64)
    expected = 0.5 * block.branch1(x) + 0.5 * block.branch2(x) + block.shortcut(x)
    torch.testing.assert_close(block(x), expected)
    torch.testing.assert_close(block(x), block(x))  # deterministic


@pytest.mark.parametrize("c_in, c, stride", [(4, 4, 1), (4, 8, 2), (16, 32, 2)])
def test_block_parameters_by_hand(c_in, c, stride):
    block = shake_shake.ShakeBlock(c_in, c, stride)
    branch = 9 * c_in * c + 9 * c * c + 2 * (2 * c)  # two convs, two BNs
    shortcut = 0 if (c_in == c and stride == 1) else c_in * c + 2 * c
    assert count_params(block) == 2 * branch + shortcut
