"""Holes in the field of stacked dilated convolutions: hybrid dilated convolution.

A stack of stride-1 convolutions with kernel size ``K`` and dilations
``r_1 … r_n`` (``r_1`` the first layer, nearest the input) gives one output
unit a field of ``1 + (K − 1)·(r_1 + … + r_n)`` pixels per axis. Along one
axis it reads the offsets ``t_1·r_1 + … + t_n·r_n`` with every ``t_i`` in
``0 … K − 1`` (:func:`dilated_footprint`); an offset of the field that no such
sum reaches is a *hole* ("gridding"). In two dimensions the footprint is this
set along rows times the same set along columns.

Wang et al. (2018, "Understanding Convolution for Semantic Segmentation",
section 3.2) proposed *hybrid dilated convolution* (HDC) to avoid the holes.
They define the "maximum distance between two nonzero values"

    M_i = max[M_{i+1} − 2r_i, M_{i+1} − 2(M_{i+1} − r_i), r_i],  M_n = r_n,

and set the design goal ``M_2 ≤ K`` (:func:`hdc_max_distances`,
:func:`hybrid_dilation`); they also advise against dilations with a common
factor greater than 1.

**What the goal guarantees**, checked against the exact footprint (and, in
the tests, against the input gradient of one output unit):

* ``M_2 ≤ K`` alone is **not sufficient**: ``[2, 3, 5]`` has ``M_2 = 3`` and
  no common factor, yet a first layer of dilation 2 never reads offset 1.
* It is **not necessary**: ``[1, 4, 2]`` reads every pixel although
  ``M_2 = 6``. The recurrence follows one gap from the top layer down; every
  stack the tests find that misses the goal yet reads every pixel has a later
  layer with a smaller dilation than the one before it (the ``2`` after the
  ``4`` here), which appears to fill gaps the recurrence does not track: with
  kernel 3 and non-decreasing dilations (every such stack of 2 to 5 layers
  with dilations 1 to 12), no stack that misses the goal reads every pixel.
* With kernel 3 and a first layer of dilation 1, every stack that meets the
  goal reads every pixel in all the stacks the tests try (every stack of 2 to
  5 layers with dilations 1 to 8, and random deeper ones): there it works as a
  sufficient condition. For kernels other than 3 it does not (``[1, 2, 6]``
  with kernel 2 has ``M_2 = 2`` and holes): the recurrence spreads each tap to
  ``−r, 0, +r``, the geometry of a 3-tap kernel.
* No common factor greater than 1 is necessary for a field without holes
  (a common factor ``g`` reaches only multiples of ``g``) but not sufficient:
  ``[1, 2, 9]``, ``[2, 3, 5]`` and ``[3, 4, 5]`` all leave holes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cnnlib._checks import positive_int, positive_ints

__all__ = ["HybridDilation", "dilated_footprint", "hdc_max_distances", "hybrid_dilation"]


def dilated_footprint(dilations: Sequence[int], kernel_size: int = 3) -> tuple[int, ...]:
    """Offsets, along one axis, of the input pixels one output unit of the stack reads.

    The stack is stride-1 convolutions of ``kernel_size`` taps with the given
    dilations, first layer first. Offsets are sorted and counted from the
    first pixel of the unit's field; the field spans
    ``1 + (kernel_size − 1)·sum(dilations)`` pixels.

    Raises:
        ValueError: ``dilations`` is not a non-empty sequence of positive
            ints, or ``kernel_size`` is not a positive int.
    """
    dilations = positive_ints("dilated_footprint", "dilations", dilations)
    positive_int("dilated_footprint", "kernel_size", kernel_size)
    offsets = {0}
    for r in dilations:
        offsets = {o + t * r for o in offsets for t in range(kernel_size)}
    return tuple(sorted(offsets))


def hdc_max_distances(dilations: Sequence[int]) -> tuple[int, ...]:
    """Wang et al.'s ``M_1 … M_n`` for dilations ``r_1 … r_n`` (first layer first).

    ``M_n = r_n`` and, from the top down,
    ``M_i = max(M_{i+1} − 2r_i, M_{i+1} − 2(M_{i+1} − r_i), r_i)``.

    Raises:
        ValueError: ``dilations`` is not a non-empty sequence of positive ints.
    """
    dilations = positive_ints("hdc_max_distances", "dilations", dilations)
    m = [dilations[-1]]
    for r in reversed(dilations[:-1]):
        top = m[0]
        m.insert(0, max(top - 2 * r, top - 2 * (top - r), r))
    return tuple(m)


@dataclass(frozen=True)
class HybridDilation:
    """A stack of dilated convolutions judged by the HDC design goal and by its footprint.

    Attributes:
        dilations: ``r_1 … r_n``, first layer first.
        kernel_size: ``K``, the kernel of every layer.
        max_distances: Wang et al.'s ``M_1 … M_n``.
        common_factor: the greatest common divisor of the dilations.
        footprint: offsets read along one axis (:func:`dilated_footprint`).
    """

    dilations: tuple[int, ...]
    kernel_size: int
    max_distances: tuple[int, ...]
    common_factor: int
    footprint: tuple[int, ...]

    @property
    def m2(self) -> int:
        """``M_2``, the quantity of the design goal."""
        return self.max_distances[1]

    @property
    def meets_design_goal(self) -> bool:
        """``M_2 ≤ K``: Wang et al.'s design goal (see the module for what it guarantees)."""
        return self.m2 <= self.kernel_size

    @property
    def field_size(self) -> int:
        """Side of the square field of one output unit: ``1 + (K − 1)·Σ r_i``."""
        return 1 + (self.kernel_size - 1) * sum(self.dilations)

    @property
    def pixels_read(self) -> int:
        """Pixels of the square field that one output unit reads."""
        return len(self.footprint) ** 2

    @property
    def holes(self) -> int:
        """Pixels of the square field that one output unit never reads."""
        return self.field_size**2 - self.pixels_read

    @property
    def reads_every_pixel(self) -> bool:
        """True when the field has no holes."""
        return self.holes == 0


def hybrid_dilation(dilations: Sequence[int], kernel_size: int = 3) -> HybridDilation:
    """Check a stack of stride-1 dilated convolutions against HDC and count its holes.

    Args:
        dilations: ``r_1 … r_n`` (at least two layers, as ``M_2`` needs),
            first layer first.
        kernel_size: ``K``, the kernel of every layer.

    Returns:
        ``M_1 … M_n`` and whether ``M_2 ≤ K`` (Wang et al., 2018), the common
        factor, and the exact footprint, from which the holes follow.

    Raises:
        ValueError: ``dilations`` is not a sequence of at least two positive
            ints, or ``kernel_size`` is not a positive int.
    """
    dilations = positive_ints("hybrid_dilation", "dilations", dilations)
    positive_int("hybrid_dilation", "kernel_size", kernel_size)
    if len(dilations) < 2:
        raise ValueError(
            "hybrid_dilation: dilations must hold at least two layers (M_2 needs them), "
            f"got {dilations!r}"
        )
    return HybridDilation(
        dilations=dilations,
        kernel_size=kernel_size,
        max_distances=hdc_max_distances(dilations),
        common_factor=math.gcd(*dilations),
        footprint=dilated_footprint(dilations, kernel_size),
    )
