"""The model registry: every architecture of the book is built by name.

Chapters only need :func:`get_model` and :func:`list_models`; a builder joins
the registry (and therefore the registry-wide tests) the moment it is decorated
with :func:`register_model`. Each entry records the input shape the model is
built for by default (``(channels, height, width)``), so tools and tests can run
any registered model without knowing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Callable, TypeVar, overload

from torch import nn

__all__ = ["ModelInfo", "register_model", "get_model", "list_models", "model_info", "build_variant"]

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])
Model = TypeVar("Model", bound=nn.Module)


@dataclass(frozen=True)
class ModelInfo:
    """A registered builder and the input shape ``(C, H, W)`` its defaults expect."""

    name: str
    builder: Callable[..., nn.Module]
    input_size: tuple[int, int, int]


_REGISTRY: dict[str, ModelInfo] = {}


def _register(builder: Builder, input_size: tuple[int, int, int]) -> Builder:
    if not callable(builder):
        raise TypeError(f"register_model: builder must be callable, got {builder!r}")
    if (
        not isinstance(input_size, tuple)
        or len(input_size) != 3
        or not all(isinstance(v, int) and v >= 1 for v in input_size)
    ):
        raise ValueError(
            f"register_model: input_size must be a (channels, height, width) tuple of "
            f"positive ints, got {input_size!r}"
        )
    name = builder.__name__
    existing = _REGISTRY.get(name)
    if existing is not None and existing.builder is not builder:
        raise ValueError(
            f"register_model: the name {name!r} is already registered "
            f"(by {existing.builder.__module__}.{existing.builder.__qualname__})"
        )
    _REGISTRY[name] = ModelInfo(name=name, builder=builder, input_size=input_size)
    return builder


@overload
def register_model(builder: Builder) -> Builder: ...
@overload
def register_model(
    *, input_size: tuple[int, int, int] = (3, 224, 224)
) -> Callable[[Builder], Builder]: ...
def register_model(
    builder: Builder | None = None, *, input_size: tuple[int, int, int] = (3, 224, 224)
) -> Builder | Callable[[Builder], Builder]:
    """Register ``builder`` under its function name and return it unchanged.

    Use as ``@register_model`` (default input ``(3, 224, 224)``) or
    ``@register_model(input_size=(1, 28, 28))``.

    Raises:
        TypeError: ``builder`` is not callable.
        ValueError: a different builder is already registered under that name,
            or ``input_size`` is not a ``(C, H, W)`` tuple of positive ints.
    """
    if builder is None:
        return lambda b: _register(b, input_size)
    return _register(builder, input_size)


def model_info(name: str) -> ModelInfo:
    """The registry entry of ``name``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: no model of that name is registered (the message lists them).
    """
    if not isinstance(name, str):
        raise TypeError(f"get_model: name must be a str, got {type(name).__name__} {name!r}")
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"get_model: unknown model name {name!r}; registered models are {list_models()}"
        ) from None


def get_model(name: str, **kwargs: object) -> nn.Module:
    """Build the registered model ``name``, passing ``kwargs`` to its builder.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: no model of that name is registered (the message lists them).
    """
    return model_info(name).builder(**kwargs)


def list_models() -> list[str]:
    """The names of all registered models, sorted."""
    return sorted(_REGISTRY)


def build_variant(
    family: Callable[..., Model],
    variant: str,
    config: Mapping[str, object],
    arguments: Mapping[str, object],
) -> Model:
    """``family(**config, **arguments)``: a named variant of a family, e.g. ``resnet50`` of ``ResNet``.

    ``config`` is what makes the variant (its layers, widths, ...);
    ``arguments`` are the builder's keyword arguments, which may not override it.

    Raises:
        TypeError: ``arguments`` sets a key of ``config``.
    """
    fixed = sorted(set(arguments) & set(config))
    if fixed:
        raise TypeError(
            f"{variant}: {', '.join(fixed)} is fixed by this variant ({dict(config)}); "
            f"build {family.__name__}(...) directly to change it"
        )
    return family(**config, **arguments)


# Importing the family modules registers their builders.
from cnnlib.models import (  # noqa: E402,F401
    alexnet,
    conv_zoo,
    densenet,
    googlenet,
    highway,
    inception,
    lenet,
    mobilenet,
    nin,
    pyramidnet,
    resnet,
    shake_shake,
    shufflenet,
    vgg,
    wrn,
    xception,
)
