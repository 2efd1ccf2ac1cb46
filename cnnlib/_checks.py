"""Argument checks shared across cnnlib.

Each raises with a message naming the owner (the class or function being
called), the parameter, the value received and what is allowed, so bad input
never turns into a silently wrong number.
"""

from __future__ import annotations

import math


def positive_int(owner: str, name: str, value: object) -> int:
    """``value`` if it is an int ≥ 1 (not a bool), else ValueError."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return value


def boolean(owner: str, name: str, value: object) -> bool:
    """``value`` if it is a bool, else TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return value


def positive_number(owner: str, name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number > 0 (not a bool), else ValueError."""
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{owner}: {name} must be a positive finite number, got {value!r}")
    return float(value)


def non_negative_number(owner: str, name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number ≥ 0 (not a bool), else ValueError."""
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def probability(owner: str, name: str, value: object) -> float:
    """``value`` as a float if it is a real number in [0, 1) (not a bool), else ValueError."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be a number in [0, 1), got {value!r}")
    return float(value)
