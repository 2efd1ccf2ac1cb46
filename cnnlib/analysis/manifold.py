"""ReLU on a low-dimensional manifold: MobileNetV2's Figure 1, computed.

Sandler et al. (2018) embed a 2-D spiral in ``n`` dimensions with a random
matrix ``T`` (``n x 2``), apply a ReLU, and map the result back to the plane
with the pseudo-inverse ``T⁺``. For small ``n`` the ReLU zeroes most
coordinates of many points and the spiral collapses; for large ``n`` almost
every point keeps at least two positive coordinates whose rows of ``T`` span
the plane, and the spiral comes back nearly whole. This module computes the
spiral, the embedding and the round trip; :mod:`cnnlib.plot.mobilenet_v2`
draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cnnlib._checks import positive_int, positive_number

__all__ = ["spiral", "embedding", "relu_round_trip", "reconstruction_error"]


def spiral(points: int = 400, turns: float = 2.0) -> torch.Tensor:
    """An Archimedean spiral around the origin, ``(points, 2)``, radius 0 to 1.

    Point ``i`` lies at radius ``s = i / (points - 1)`` and angle
    ``2π · turns · s``.

    Args:
        points: number of points, at least 2.
        turns: number of turns around the origin, positive.

    Returns:
        A float32 tensor of shape ``(points, 2)``.

    Raises:
        ValueError, TypeError: ``points`` is not an int ≥ 2 or ``turns`` is
            not a positive number (the message names it).
    """
    positive_int("spiral", "points", points)
    if points < 2:
        raise ValueError(f"spiral: points must be at least 2, got {points}")
    positive_number("spiral", "turns", turns)
    s = torch.linspace(0.0, 1.0, points, dtype=torch.float64)
    angle = 2 * torch.pi * turns * s
    return torch.stack([s * torch.cos(angle), s * torch.sin(angle)], 1).float()


def embedding(dim: int, seed: int = 0) -> torch.Tensor:
    """The random matrix ``T`` (``dim x 2``, standard normal) for ``seed``.

    Raises:
        ValueError, TypeError: ``dim`` is not an int ≥ 2 (the message names it).
    """
    positive_int("embedding", "dim", dim)
    if dim < 2:
        raise ValueError(f"embedding: dim must be at least 2 to span the plane, got {dim}")
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(dim, 2, generator=generator, dtype=torch.float64)


def relu_round_trip(
    points: torch.Tensor, dim: int, seed: int = 0, *, relu: bool = True
) -> torch.Tensor:
    """``T⁺ · ReLU(T · x)`` for every row ``x`` of ``points``.

    Args:
        points: ``(N, 2)`` points in the plane.
        dim: the embedding dimension ``n`` (≥ 2).
        seed: seeds ``T`` (see :func:`embedding`).
        relu: apply the ReLU; without it the round trip is the identity.

    Returns:
        The reconstructed points, ``(N, 2)``, in the dtype of ``points``.

    Raises:
        TypeError: ``points`` is not a tensor.
        ValueError: ``points`` is not of shape ``(N, 2)``, or ``dim`` < 2.
    """
    if not isinstance(points, torch.Tensor):
        raise TypeError(f"relu_round_trip: points must be a tensor, got {type(points).__name__}")
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"relu_round_trip: points must have shape (N, 2), got {tuple(points.shape)}"
        )
    t = embedding(dim, seed)
    lifted = points.double() @ t.T
    if relu:
        lifted = torch.relu(lifted)
    return (lifted @ torch.linalg.pinv(t).T).to(points.dtype)


def reconstruction_error(points: torch.Tensor, dim: int, seeds: Sequence[int] = range(10)) -> float:
    """The share of the points' power that no linear map can bring back after the round trip.

    For each seed, the reconstruction ``x̂`` is mapped back by the affine map
    ``A`` that fits ``x`` best in least squares (so a round trip that only
    shrinks, rotates or shifts the spiral, which loses nothing, scores 0),
    and the error is ``mean ‖Ax̂ − x‖² / mean ‖x − x̄‖²``: 0 when the spiral
    comes back up to an affine map, 1 when nothing of it is left (every
    point collapsed to one). The result is the mean over ``seeds``.

    Raises:
        ValueError: ``seeds`` is empty, or as :func:`relu_round_trip`.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("reconstruction_error: seeds must not be empty")
    x = points.double()
    spread = (x - x.mean(0)).pow(2).sum(1).mean()
    errors = []
    for seed in seeds:
        back = relu_round_trip(x, dim, seed)
        design = torch.cat([back, torch.ones(len(x), 1, dtype=x.dtype)], 1)
        fitted = design @ torch.linalg.lstsq(design, x).solution
        errors.append((fitted - x).pow(2).sum(1).mean() / spread)
    return float(torch.stack(errors).mean())
