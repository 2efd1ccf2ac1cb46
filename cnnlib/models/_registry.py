"""The model registry: every architecture of the book is built by name.

Its own module (like timm's ``_registry.py`` and torchvision's ``_api.py``), so
that a model file imports it without importing its package back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar, overload

from torch import nn

__all__ = ["ModelInfo", "register_model", "get_model", "list_models", "model_info", "build_variant"]

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])
Model = TypeVar("Model", bound=nn.Module)


@dataclass(frozen=True)
class ModelInfo:
    """A registered builder and the shape ``(C, H, W)`` of one image its defaults expect."""

    name: str
    builder: Callable[..., nn.Module]
    image_shape: tuple[int, int, int]


_REGISTRY: dict[str, ModelInfo] = {}


def _register(builder: Builder, image_shape: tuple[int, int, int]) -> Builder:
    if not callable(builder):
        raise TypeError(f"register_model: builder must be callable, got {builder!r}")
    if (
        not isinstance(image_shape, tuple)
        or len(image_shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in image_shape)
    ):
        raise ValueError(
            "register_model: image_shape must be a (channels, height, width) tuple of "
            f"positive ints, got {image_shape!r}"
        )
    name = builder.__name__
    existing = _REGISTRY.get(name)
    if existing is not None and existing.builder is not builder:
        raise ValueError(
            f"register_model: the name {name!r} is already registered "
            f"(by {existing.builder.__module__}.{existing.builder.__qualname__})"
        )
    _REGISTRY[name] = ModelInfo(name=name, builder=builder, image_shape=image_shape)
    return builder


@overload
def register_model(builder: Builder) -> Builder: ...
@overload
def register_model(
    *, image_shape: tuple[int, int, int] = (3, 224, 224)
) -> Callable[[Builder], Builder]: ...
def register_model(
    builder: Builder | None = None, *, image_shape: tuple[int, int, int] = (3, 224, 224)
) -> Builder | Callable[[Builder], Builder]:
    """Register ``builder`` under its function name and return it unchanged.

    Use as ``@register_model`` (images of ``(3, 224, 224)`` by default) or
    ``@register_model(image_shape=(3, 32, 32))``.

    Raises:
        TypeError: ``builder`` is not callable.
        ValueError: a different builder is already registered under that name,
            or ``image_shape`` is not a ``(C, H, W)`` tuple of positive ints.
    """
    if builder is None:
        return lambda b: _register(b, image_shape)
    return _register(builder, image_shape)


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
    variants: Mapping[str, Mapping[str, object]],
    name: str,
    arguments: Mapping[str, object],
) -> Model:
    """``family(**variants[name], **arguments)``: a named variant, e.g. ``resnet50`` of ``ResNet``.

    ``variants[name]`` is what makes the variant (its layers, widths, ...);
    ``arguments`` are the builder's keyword arguments, which may not override it.

    Raises:
        TypeError: ``arguments`` sets a key of the variant's configuration.
    """
    config = variants[name]
    fixed = sorted(set(arguments) & set(config))
    if fixed:
        raise TypeError(
            f"{name}: {', '.join(fixed)} is fixed by this variant ({dict(config)}); "
            f"build {family.__name__}(...) directly to change it"
        )
    return family(**config, **arguments)
