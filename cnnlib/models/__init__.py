"""The model registry: every architecture of the book is built by name.

Chapters only need two entry points, :func:`get_model` and :func:`list_models`;
a new builder joins the registry (and therefore the registry-wide tests) the
moment it is decorated with :func:`register_model`.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from torch import nn

__all__ = ["register_model", "get_model", "list_models"]

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(builder: Builder) -> Builder:
    """Register ``builder`` under its function name and return it unchanged.

    Raises:
        TypeError: ``builder`` is not callable.
        ValueError: a different builder is already registered under that name.
    """
    if not callable(builder):
        raise TypeError(f"register_model: builder must be callable, got {builder!r}")
    name = builder.__name__
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not builder:
        raise ValueError(
            f"register_model: the name {name!r} is already registered "
            f"(by {existing.__module__}.{existing.__qualname__})"
        )
    _REGISTRY[name] = builder
    return builder


def get_model(name: str, **kwargs: object) -> nn.Module:
    """Build the registered model ``name``, passing ``kwargs`` to its builder.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: no model of that name is registered (the message lists them).
    """
    if not isinstance(name, str):
        raise TypeError(f"get_model: name must be a str, got {type(name).__name__} {name!r}")
    try:
        builder = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"get_model: unknown model name {name!r}; registered models are {list_models()}"
        ) from None
    return builder(**kwargs)


def list_models() -> list[str]:
    """The names of all registered models, sorted."""
    return sorted(_REGISTRY)


# Importing the family modules registers their builders.
from cnnlib.models import lenet  # noqa: E402,F401
