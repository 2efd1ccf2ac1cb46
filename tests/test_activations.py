"""cnnlib.activations against hand-built networks whose answers are known in advance."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import activations
from cnnlib.data import ImageDataset
from cnnlib.train import _normalise


def dataset(channels: int = 1) -> ImageDataset:
    images = torch.arange(2 * channels * 4 * 4, dtype=torch.uint8).view(2, channels, 4, 4)
    labels = torch.zeros(2, dtype=torch.long)
    return ImageDataset(
        "toy", images, labels, images, labels, ("a",),
        mean=(0.2,) * channels, std=(0.5,) * channels, source="test",
    )  # fmt: skip


def box_filter(size: int = 3, padding: int = 1, stride: int = 1, centre: float = 1.0) -> nn.Conv2d:
    """A convolution that sums its window (``centre`` times the middle pixel)."""
    conv = nn.Conv2d(1, 1, size, stride=stride, padding=padding, bias=False)
    nn.init.ones_(conv.weight)
    with torch.no_grad():
        conv.weight[0, 0, size // 2, size // 2] = centre
    return conv


# --- model_inputs --------------------------------------------------------------


def test_model_inputs_normalise_as_fit_does():
    data = dataset(channels=2)
    expected = (data.test_images.double() / 255 - 0.2) / 0.5  # by hand
    ours = activations.model_inputs(data.test_images, data)
    assert torch.allclose(ours.double(), expected, atol=1e-6)
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    fit = _normalise(data.test_images, mean, std, torch.contiguous_format)
    assert torch.allclose(ours, fit)


def test_model_inputs_rejects_what_it_cannot_normalise():
    data = dataset()
    with pytest.raises(TypeError, match="images must be uint8"):
        activations.model_inputs(data.test_images.float(), data)
    with pytest.raises(ValueError, match="have 3 channels, toy has 1"):
        activations.model_inputs(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), data)
    with pytest.raises(ValueError, match=r"non-empty batch \(N, C, H, W\)"):
        activations.model_inputs(torch.zeros(4, 4, dtype=torch.uint8), data)
    with pytest.raises(TypeError, match="data must be an ImageDataset"):
        activations.model_inputs(data.test_images, "toy")


# --- record_activations ---------------------------------------------------------


def test_records_outputs_before_an_inplace_relu_changes_them():
    conv = box_filter()
    model = nn.Sequential(conv, nn.ReLU(inplace=True))
    x = torch.randn(2, 1, 5, 5)
    seen = activations.record_activations(model, x, ["0", "1"])
    expected = torch.nn.functional.conv2d(x, conv.weight, padding=1)
    assert torch.allclose(seen["0"], expected)  # negatives kept
    assert (seen["0"] < 0).any()
    assert torch.allclose(seen["1"], expected.clamp_min(0))
    assert list(seen) == ["0", "1"]
    assert not model._forward_hooks and not conv._forward_hooks  # hooks removed


def test_record_runs_in_eval_mode_and_restores_the_mode():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.9))
    model.train()
    x = torch.ones(3, 1, 4, 4)
    seen = activations.record_activations(model, x, ["1"])
    assert torch.equal(seen["1"], torch.ones(3, 16))  # dropout off
    assert model.training


def test_record_names_a_missing_layer():
    model = nn.Sequential(nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match=r"layer 'features.9' is not a module.*\['0'\]"):
        activations.record_activations(model, torch.zeros(1, 1, 5, 5), ["features.9"])
    with pytest.raises(ValueError, match="non-empty sequence"):
        activations.record_activations(model, torch.zeros(1, 1, 5, 5), "0")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        activations.record_activations("model", torch.zeros(1, 1, 5, 5), ["0"])


# --- relu_activity ----------------------------------------------------------------


def test_relu_activity_counts_positive_outputs_and_dead_channels():
    conv = nn.Conv2d(1, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0, 1.0]).view(3, 1, 1, 1))
        conv.bias.copy_(torch.tensor([0.0, 0.0, -10.0]))
    linear = nn.Linear(3 * 2 * 2, 4)
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.copy_(torch.tensor([1.0, -1.0, 2.0, 0.0]))
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), linear, nn.ReLU())
    x = torch.rand(5, 1, 2, 2) + 0.1  # positive pixels below 10
    first, second = activations.relu_activity(model, x)
    # Channel 0 passes every pixel, channel 1 none (negative), channel 2 none (bias -10).
    assert (first.name, first.dead_channels, first.channels) == ("1", 2, 3)
    assert first.active == pytest.approx(1 / 3)
    # Biases 1 and 2 are positive; -1 and 0 are not.
    assert (second.name, second.active, second.dead_channels, second.channels) == ("4", 0.5, 2, 4)


def test_relu_activity_needs_a_relu():
    with pytest.raises(ValueError, match="no nn.ReLU module"):
        activations.relu_activity(nn.Sequential(nn.Tanh()), torch.zeros(1, 1, 2, 2))


# --- top_patches --------------------------------------------------------------------


def test_top_patches_find_the_brightest_images_and_cut_their_fields():
    images = torch.zeros(4, 1, 9, 9)
    spots = {0: (4, 4, 1.0), 1: (0, 8, 3.0), 2: (6, 2, 2.0), 3: (2, 3, 0.5)}
    for i, (row, col, value) in spots.items():
        images[i, 0, row, col] = value
    # The unit centred on a bright pixel sees it at weight 2, its neighbours at 1.
    model = nn.Sequential(box_filter(centre=2.0))
    top = activations.top_patches(model, images, "0", [0], k=3)
    # The strongest images in order, the unit centred on the bright pixel, a 3x3 field.
    assert top.images.tolist() == [[1, 2, 0]]
    assert top.values.tolist() == [[6.0, 4.0, 2.0]]
    assert top.patches.shape == (1, 3, 1, 3, 3)
    for j, image in enumerate(top.images[0].tolist()):
        row, col, value = spots[image]
        assert top.positions[0, j].tolist() == [row, col]
        assert top.patches[0, j, 0, 1, 1] == value  # the pixel at the field's centre
        assert top.patches[0, j].sum() == value  # nothing else is bright
    # Image 1's spot sits in the top-right corner: the field's outer row and column
    # lie outside the image and are zero.
    corner = top.patches[0, 0, 0]
    assert corner[0].sum() == 0 and corner[:, 2].sum() == 0


def test_top_patches_follow_strides_and_padding():
    # Field of the second layer: 3 + (3 - 1)·2 = 7 pixels, effective stride 2,
    # effective padding 1 + 1·2 = 3 (Araujo et al.'s recurrences, by hand).
    model = nn.Sequential(box_filter(stride=2), box_filter())
    images = torch.zeros(2, 1, 12, 12)
    images[1, 0, 5, 7] = 1.0
    top = activations.top_patches(model, images, "1", [0], k=1)
    (row, col) = top.positions[0, 0].tolist()
    assert top.patches.shape[-2:] == (7, 7)
    start_row, start_col = 2 * row - 3, 2 * col - 3
    assert start_row <= 5 < start_row + 7 and start_col <= 7 < start_col + 7
    assert top.patches[0, 0, 0, 5 - start_row, 7 - start_col] == 1.0
    assert top.patches.sum() == 1.0


def test_top_patches_check_their_arguments():
    model = nn.Sequential(box_filter(), nn.Flatten())
    x = torch.zeros(2, 1, 5, 5)
    with pytest.raises(ValueError, match=r"channels must lie in \[0, 1\), got 1"):
        activations.top_patches(model, x, "0", [1], k=1)
    with pytest.raises(ValueError, match="k must be at most the 2 inputs"):
        activations.top_patches(model, x, "0", [0], k=3)
    with pytest.raises(ValueError, match="no spatial output"):
        activations.top_patches(model, x, "1", [0], k=1)
    with pytest.raises(ValueError, match="channels must be a non-empty sequence"):
        activations.top_patches(model, x, "0", [], k=1)
    with pytest.raises(ValueError, match="k must be a positive int"):
        activations.top_patches(model, x, "0", [0], k=0)


# --- gradient_maps ------------------------------------------------------------------


def test_gradient_map_of_a_linear_model_is_its_weights():
    torch.manual_seed(0)
    linear = nn.Linear(2 * 3 * 3, 4)
    model = nn.Sequential(nn.Flatten(), linear)
    x = torch.randn(2, 2, 3, 3)
    maps, classes = activations.gradient_maps(model, x, torch.tensor([1, 3]))
    # dS_c/dx = row c of the weight matrix; the map takes |.| and the max over channels.
    for i, c in enumerate([1, 3]):
        expected = linear.weight[c].detach().view(2, 3, 3).abs().amax(dim=0)
        assert torch.allclose(maps[i], expected)
    assert classes.tolist() == [1, 3]
    predicted = model(x).argmax(dim=1)
    _, chosen = activations.gradient_maps(model, x)
    assert torch.equal(chosen, predicted)


def test_gradient_map_checks_classes():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    x = torch.zeros(2, 1, 2, 2)
    with pytest.raises(ValueError, match=r"classes must be \(2,\) ints in \[0, 3\)"):
        activations.gradient_maps(model, x, torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="classes must be a tensor"):
        activations.gradient_maps(model, x, [0, 1])


# --- aliased_energy -------------------------------------------------------------------


def test_an_impulse_has_a_flat_spectrum():
    weight = torch.zeros(1, 1, 5, 5)
    weight[0, 0, 2, 2] = 1.0
    for stride, size in [(1, 64), (2, 64), (4, 64), (4, 32)]:
        # Frequencies m / size, |m| ≤ size / 2; kept where |m| / size ≤ 1 / (2·stride).
        kept = sum(1 for m in range(-size // 2, size // 2) if abs(m) * 2 * stride <= size)
        expected = 1 - (kept / size) ** 2
        share = activations.aliased_energy(weight, stride, size=size)
        assert share.item() == pytest.approx(expected, abs=1e-6)


def test_a_cosine_is_aliased_exactly_when_it_is_above_nyquist():
    size = 8
    x = torch.arange(size, dtype=torch.float64)
    rows = []
    for m in (1, 3):  # frequencies 1/8 and 3/8 cycles per pixel
        wave = torch.cos(2 * torch.pi * m * x / size)
        rows.append(wave.view(1, -1).expand(size, size))  # varies along x only
    weight = torch.stack(rows).unsqueeze(1)  # (2, 1, 8, 8)
    # Stride 2: Nyquist 1/4, so the 1/8 wave is kept and the 3/8 wave aliased.
    assert activations.aliased_energy(weight, 2, size=size).tolist() == pytest.approx([0, 1])
    assert activations.aliased_energy(weight, 1, size=size).tolist() == pytest.approx([0, 0])
    # A constant filter has all its energy at frequency 0.
    constant = torch.ones(1, 3, size, size)
    assert activations.aliased_energy(constant, 4, size=size).item() == 0.0
    assert activations.aliased_energy(torch.zeros(1, 1, 3, 3), 2).item() == 0.0


def test_aliased_energy_checks_its_arguments():
    with pytest.raises(ValueError, match=r"weight must be \(C_out, C_in, k, k\)"):
        activations.aliased_energy(torch.zeros(2, 3, 3), 2)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        activations.aliased_energy(torch.zeros(1, 1, 3, 3), 0)
    with pytest.raises(ValueError, match="size must be at least the kernel's 7"):
        activations.aliased_energy(torch.zeros(1, 1, 7, 7), 2, size=4)
    with pytest.raises(TypeError, match="weight must be a torch.Tensor"):
        activations.aliased_energy([[1.0]], 2)
