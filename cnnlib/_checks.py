"""Argument checks shared across cnnlib.

Each raises with a message naming the owner (the class or function being
called), the parameter, the value received and what is allowed, so bad input
never turns into a silently wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


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


def non_negative_int(owner: str, name: str, value: object) -> int:
    """``value`` if it is an int ≥ 0 (not a bool), else ValueError."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative int, got {value!r}")
    return value


def positive_ints(
    owner: str, name: str, value: object, length: int | None = None
) -> tuple[int, ...]:
    """``value`` as a tuple if it is a non-empty sequence of ints ≥ 1 (of ``length``, if given).

    Raises:
        ValueError: anything else (a string, an empty sequence, a bool, a wrong length).
    """
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or len(value) == 0
        or (length is not None and len(value) != length)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        size = f"{length} " if length is not None else "a non-empty sequence of "
        raise ValueError(f"{owner}: {name} must be {size}positive ints, got {value!r}")
    return tuple(value)


def one_of(owner: str, name: str, value: object, allowed: Sequence[object]) -> object:
    """``value`` if it is one of ``allowed``, else ValueError.

    A match must also have the same type: ``True`` is not 1.
    """
    if not any(value == a and type(value) is type(a) for a in allowed):
        names = [repr(a) for a in allowed]
        choices = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise ValueError(f"{owner}: {name} must be {choices}, got {value!r}")
    return value


def model_arguments(
    owner: str,
    *,
    num_classes: object,
    in_channels: object,
    small_input: object,
    width_multiplier: object = 1.0,
) -> float:
    """Check the keywords every registered model accepts; return ``width_multiplier`` as a float.

    Raises:
        ValueError: ``num_classes`` or ``in_channels`` is not a positive int, or
            ``width_multiplier`` is not a positive finite number.
        TypeError: ``small_input`` is not a bool.
    """
    positive_int(owner, "num_classes", num_classes)
    positive_int(owner, "in_channels", in_channels)
    boolean(owner, "small_input", small_input)
    return positive_number(owner, "width_multiplier", width_multiplier)
