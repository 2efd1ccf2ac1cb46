"""Figures of the Shake-Shake chapter: the coefficients each mode draws."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

__all__ = ["coefficient_draws"]


def coefficient_draws(
    draws: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    title: str | None = None,
) -> Figure:
    """One square panel per mode: each draw's forward ``α`` against backward ``β``.

    Every pair ``(α_i, β_i)`` is one dot (α across, β up, both axes from 0 to
    1), so Shake-Shake fills the square, Shake-Keep lies on the diagonal,
    Even-Shake on the vertical line ``α = 0.5`` and Even-Even is one point.
    The dashed diagonal marks ``β = α``, what plain autograd would use.

    Args:
        draws: panel title → ``(alpha, beta)``, two tensors with the same
            number of elements (any shape, e.g. ``(N, 1, 1, 1)`` as drawn by
            :meth:`cnnlib.models.shake_shake.ShakeBlock.coefficients`).
        title: optional figure title.

    Raises:
        TypeError: ``draws`` is not a mapping of pairs of tensors.
        ValueError: ``draws`` is empty, or a pair's tensors differ in size.
    """
    if not isinstance(draws, Mapping):
        raise TypeError(f"coefficient_draws: draws must be a mapping, got {type(draws).__name__}")
    if not draws:
        raise ValueError("coefficient_draws: draws must not be empty")
    pairs = {}
    for label, pair in draws.items():
        if not (
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(t, torch.Tensor) for t in pair)
        ):
            raise TypeError(f"coefficient_draws: draws[{label!r}] must be (alpha, beta) tensors")
        alpha, beta = (t.detach().flatten().cpu().float() for t in pair)
        if alpha.numel() != beta.numel():
            raise ValueError(
                f"coefficient_draws: draws[{label!r}] has {alpha.numel()} alphas "
                f"and {beta.numel()} betas"
            )
        pairs[label] = (alpha, beta)

    n = len(pairs)
    fig, axes = plt.subplots(1, n, figsize=(min(7.5, 1.9 * n), 2.3), squeeze=False)
    for ax, (label, (alpha, beta)) in zip(axes[0], pairs.items(), strict=True):
        ax.plot([0, 1], [0, 1], linestyle="--", color="0.6", linewidth=0.8)
        ax.scatter(alpha.numpy(), beta.numpy(), s=9, color="tab:blue", alpha=0.7)
        ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03), aspect="equal")
        ax.set_xticks([0, 0.5, 1])
        ax.set_yticks([0, 0.5, 1])
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("forward α", fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0][0].set_ylabel("backward β", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
