"""The figures and helpers of chapter 21 (attention: SE and CBAM)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from cnnlib.plot import attention  # noqa: E402


def test_se_residual_block_draws_the_block_with_its_widths():
    fig = attention.se_residual_block(256, 16)
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    nodes = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(boxes) == 3 + 4  # x, convolutions, y; pool, FC, FC, sigmoid
    assert len(nodes) == 2  # the rescaling and the sum
    texts = [t.get_text() for t in ax.texts]
    assert {"×", "+"} <= set(texts)
    assert "1×1×16" in texts and texts.count("1×1×256") == 3  # 256 / 16 hidden
    plt.close(fig)


def test_se_residual_block_rejects_bad_sizes():
    with pytest.raises(ValueError, match="reduction"):
        attention.se_residual_block(64, 0)
    with pytest.raises(ValueError, match="channels"):
        attention.se_residual_block(64.0, 4)


def test_class_excitations_draws_one_heat_map_per_block_sorted():
    classes = ["a", "b", "c"]
    early = torch.tensor([[0.1, 0.5, 0.9], [0.1, 0.5, 0.1], [0.1, 0.5, 0.5]])
    fig = attention.class_excitations({"early": early, "late": torch.rand(3, 5)}, classes)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2
    assert [len(ax.images) for ax in panels] == [1, 1]
    assert panels[1].images[0].get_array().shape == (3, 5)
    # Channel 2 varies by class, 0 and 1 do not: it comes first, then 0, 1.
    shown = panels[0].images[0].get_array()
    assert shown.tolist() == early[:, [2, 0, 1]].tolist()
    assert [t.get_text() for t in panels[0].get_yticklabels()] == classes
    assert panels[0].images[0].get_clim() == (0.0, 1.0)
    plt.close(fig)
    with pytest.raises(ValueError, match="per_class"):
        attention.class_excitations({"x": torch.rand(2, 8)}, classes)
    with pytest.raises(ValueError, match="empty"):
        attention.class_excitations({}, classes)


def test_spatial_attention_lays_every_map_over_its_image():
    images = torch.randint(0, 256, (4, 1, 12, 12), dtype=torch.uint8)
    maps = {"early": torch.rand(4, 1, 12, 12), "late": torch.rand(4, 1, 3, 3)}
    fig = attention.spatial_attention(images, maps, titles=list("abcd"))
    image_axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][:12]
    counts = [len(ax.images) for ax in image_axes]
    assert counts == [1] * 4 + [2] * 8  # the image; image + map below it
    overlay = image_axes[-1].images[1].get_array()
    assert overlay.shape == (12, 12)  # upsampled to the image
    assert [ax.get_title() for ax in image_axes[:4]] == list("abcd")
    plt.close(fig)
    with pytest.raises(ValueError, match="maps"):
        attention.spatial_attention(images, {"x": torch.rand(3, 1, 4, 4)})
    with pytest.raises(ValueError, match="titles"):
        attention.spatial_attention(images, maps, titles=["a"])


def test_excitations_by_class_against_hand_values():
    labels = torch.tensor([0, 0, 1, 1])
    # Excitations fixed by the class: the class explains everything.
    by_class = torch.tensor([[0.2, 0.8], [0.2, 0.8], [0.6, 0.4], [0.6, 0.4]])
    stats = attention.excitations_by_class(by_class, labels, 2)
    assert stats.class_share == pytest.approx(1.0)
    torch.testing.assert_close(stats.means, torch.tensor([[0.2, 0.8], [0.6, 0.4]]))
    # Equal class means: the class explains nothing.
    same = torch.tensor([[0.1], [0.9], [0.9], [0.1]])
    assert attention.excitations_by_class(same, labels, 2).class_share == pytest.approx(0.0)
    # By hand: values 0, 2 (class 0) and 4, 6 (class 1); mean 3; total SS
    # 9 + 1 + 1 + 9 = 20; class means 1 and 5, between SS 2·4 + 2·4 = 16.
    w = torch.tensor([0.0, 2.0, 4.0, 6.0]).reshape(4, 1, 1, 1)
    assert attention.excitations_by_class(w, labels, 2).class_share == pytest.approx(0.8)


def test_excitations_by_class_rejects_bad_input():
    w, labels = torch.rand(4, 3), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match="every class"):
        attention.excitations_by_class(w, labels, 3)
    with pytest.raises(ValueError, match="labels"):
        attention.excitations_by_class(w, torch.tensor([0, 1, 2, 5]), 3)
    with pytest.raises(ValueError, match="weights"):
        attention.excitations_by_class(torch.rand(4, 3, 2), labels, 2)
    with pytest.raises(TypeError, match="tensors"):
        attention.excitations_by_class([[0.5]], labels, 2)


def test_grey_photos_are_square_uint8_batches():
    photos = attention.grey_photos(["astronaut", "coffee"], 20)
    assert photos.shape == (2, 1, 20, 20) and photos.dtype == torch.uint8
    import skimage.data

    coffee = torch.as_tensor(skimage.data.coffee()).float().mean(-1)
    h, w = coffee.shape
    crop = coffee[:, (w - h) // 2 : (w - h) // 2 + h]
    assert abs(photos[1].float().mean().item() - crop.mean().item()) < 1.0
    with pytest.raises(ValueError, match="names"):
        attention.grey_photos(["not_a_photo"], 8)
