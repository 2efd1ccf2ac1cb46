"""Every architecture of the book, built by name.

Chapters need only :func:`get_model` and :func:`list_models`; a builder joins
the registry (and so the registry-wide tests) the moment it is decorated with
:func:`register_model`.

**One contract for every registered builder.** Builders are thin
(``return _build("resnet18", kwargs)``, as in torchvision and timm) and
keyword-only; the model class checks its arguments once. Every builder accepts:

* ``num_classes`` — outputs of the classifier;
* ``in_channels`` — channels of the input image (1 for Fashion-MNIST, 3 for
  CIFAR-10 and ImageNet);
* ``small_input`` — build the model for 28x28 / 32x32 images (a CIFAR-style
  stem instead of the ImageNet one). Networks designed for small images
  (LeNet, NiN, the CIFAR ResNets, highway networks, ...) accept only ``True``,
  their default;
* ``width_multiplier`` — ``α``: every layer's channels scale by it (how each
  family rounds is in its docstring); 1.0 changes nothing.

So ``get_model(name, num_classes=10, in_channels=1, small_input=True)`` trains
on Fashion-MNIST for every ``name``. Networks whose first layer is fully
connected also take ``image_size``. Other keywords are a family's own
(``dropout`` is always a probability, ``cardinality`` ResNeXt's ``C``, ...).

Sizes are named as everywhere in ``cnnlib`` (see :mod:`cnnlib`): a registry
entry's ``image_shape`` is ``(C, H, W)``.
"""

from __future__ import annotations

from cnnlib.models._registry import (
    ModelInfo,
    build_variant,
    get_model,
    list_models,
    model_info,
    register_model,
)

__all__ = ["ModelInfo", "register_model", "get_model", "list_models", "model_info", "build_variant"]

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
