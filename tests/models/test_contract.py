"""The builder contract: every registered model takes the same shared keywords.

So a chapter can train any model on 28x28 grey or 32x32 colour images with
``get_model(name, num_classes=10, in_channels=c, small_input=True)`` and no
special case, and count it at full size without allocating its weights.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import analysis
from cnnlib.models import get_model, list_models, model_info

SMALL_IMAGES = [(1, 28), (3, 32)]  # Fashion-MNIST, CIFAR-10


def small_model(name: str, channels: int, side: int) -> nn.Module:
    kwargs = dict(num_classes=10, in_channels=channels, small_input=True)
    model = get_model(name, **kwargs)
    if "image_size" in inspect.signature(type(model)).parameters:
        # A fully connected first layer reads every pixel: it must know the size.
        model = get_model(name, image_size=side, **kwargs)
    return model


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("channels, side", SMALL_IMAGES)
def test_every_model_trains_on_small_images_with_the_shared_keywords(name, channels, side):
    torch.manual_seed(0)
    model = small_model(name, channels, side)
    assert (model.num_classes, model.in_channels, model.small_input) == (10, channels, True)
    logits = model(torch.randn(2, channels, side, side))
    assert logits.shape == (2, 10)
    nn.functional.cross_entropy(logits, torch.tensor([0, 9])).backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, missing


@pytest.mark.parametrize("name", list_models())
def test_every_model_is_counted_at_full_size_on_the_meta_device(name):
    shape = (1, *model_info(name).image_shape)
    with torch.device("meta"):
        model = get_model(name)
    assert all(p.is_meta for p in model.parameters())
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(shape, device="meta"))
    assert analysis.count_macs(model, shape) == counter.get_total_flops() // 2 > 0
    assert analysis.count_params(model) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", list_models())
def test_every_model_scales_its_width(name):
    kwargs = dict(small_input=True, in_channels=3)
    if name == "highway_fc_mnist":
        kwargs.update(in_channels=1)
    full = get_model(name, **kwargs)
    thin = get_model(name, width_multiplier=0.5, **kwargs)
    assert thin.width_multiplier == 0.5
    assert analysis.count_params(thin) < analysis.count_params(full)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(num_classes=0), ValueError, "num_classes must be a positive int, got 0"),
        (dict(in_channels=2.5), ValueError, "in_channels must be a positive int, got 2.5"),
        (dict(small_input="yes"), TypeError, "small_input must be a bool, got 'yes'"),
        (dict(width_multiplier=0), ValueError, "width_multiplier must be a positive"),
    ],
)
def test_every_model_checks_the_shared_keywords(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        get_model(name, **kwargs)


def test_models_for_small_images_refuse_the_imagenet_stem():
    for name in ("lenet5", "nin", "wrn_16_8", "shake_shake_26_2x32d", "pyramidnet_110_a48",
                 "highway_conv_cifar", "conv_zoo_net"):  # fmt: skip
        with pytest.raises(ValueError, match="small_input must be True"):
            get_model(name, small_input=False)


def test_variant_configuration_cannot_be_overridden():
    with pytest.raises(TypeError, match="layers is fixed by this variant"):
        get_model("resnet18", layers=(1, 1, 1, 1))
    with pytest.raises(TypeError, match="activation is fixed by this variant"):
        get_model("lenet5", activation="relu")
