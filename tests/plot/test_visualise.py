"""cnnlib.plot.visualise draws what it is given: patches, gradient maps, active units."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib.activations import ReluActivity, TopPatches  # noqa: E402
from cnnlib.plot import visualise  # noqa: E402


def top(channels: int, k: int, side: int = 5) -> TopPatches:
    patches = torch.arange(channels * k * side * side, dtype=torch.float32)
    return TopPatches(
        layer="features.0",
        channels=tuple(range(10, 10 + channels)),
        patches=patches.view(channels, k, 1, side, side),
        images=torch.zeros(channels, k, dtype=torch.long),
        positions=torch.zeros(channels, k, 2, dtype=torch.long),
        values=torch.zeros(channels, k),
    )


def test_show_patches_draws_every_patch_on_one_scale():
    given = top(channels=3, k=4)
    fig = visualise.show_patches(given)
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(shown) == 3 * 4
    assert torch.equal(torch.as_tensor(shown[5].get_array().data), given.patches[1, 1, 0])
    assert {image.get_clim() for image in shown} == {(0.0, float(3 * 4 * 25 - 1))}
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["10", "11", "12"]  # each row names its channel
    plt.close(fig)
    with pytest.raises(TypeError, match="top must be a TopPatches"):
        visualise.show_patches(torch.zeros(1))


def test_show_gradient_maps_pairs_each_image_with_its_map():
    images = torch.rand(3, 1, 6, 6)
    maps = torch.rand(3, 6, 6)
    fig = visualise.show_gradient_maps(images, maps, titles=["a", "b", "c"])
    assert len(fig.axes) == 6
    top_row, bottom_row = fig.axes[:3], fig.axes[3:]
    for i, ax in enumerate(bottom_row):
        assert torch.allclose(torch.as_tensor(ax.images[0].get_array().data), maps[i])
        # The brightest colour is the map's 99th percentile (numpy's linear quantile).
        expected = sorted(maps[i].flatten().tolist())
        position = 0.99 * (len(expected) - 1)
        low = int(position)
        quantile = expected[low] + (position - low) * (expected[low + 1] - expected[low])
        assert ax.images[0].get_clim() == pytest.approx((0.0, quantile), rel=1e-5)
    assert [ax.get_title() for ax in top_row] == ["a", "b", "c"]
    colour = visualise.show_gradient_maps(torch.rand(1, 3, 4, 4), torch.rand(1, 4, 4))
    assert colour.axes[0].images[0].get_array().shape == (4, 4, 3)
    plt.close("all")
    with pytest.raises(ValueError, match=r"maps must be \(3, 6, 6\)"):
        visualise.show_gradient_maps(images, torch.rand(3, 5, 5))
    with pytest.raises(ValueError, match="need 3 titles, got 1"):
        visualise.show_gradient_maps(images, maps, titles=["a"])
    with pytest.raises(ValueError, match=r"clip must be a number in \(0, 1\]"):
        visualise.show_gradient_maps(images, maps, clip=0)


def activity(values: list[float]) -> list[ReluActivity]:
    return [ReluActivity(f"r{i}", v, 0, 4) for i, v in enumerate(values)]


def test_active_units_draws_one_bar_per_layer_and_network():
    runs = {"a": activity([0.5, 0.25, 0.1]), "b": activity([0.4, 0.3, 0.2])}
    fig = visualise.active_units(runs)
    (ax,) = fig.axes
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [0.5, 0.25, 0.1, 0.4, 0.3, 0.2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["r0", "r1", "r2"]
    plt.close(fig)
    named = visualise.active_units(runs, names=["conv1", "conv2", "fc"])
    assert [t.get_text() for t in named.axes[0].get_xticklabels()] == ["conv1", "conv2", "fc"]
    plt.close(named)
    with pytest.raises(ValueError, match="names must give 3 captions, got 1"):
        visualise.active_units(runs, names=["conv1"])
    with pytest.raises(ValueError, match="ReLUs differ"):
        visualise.active_units({"a": activity([0.5]), "b": activity([0.5, 0.1])})
    with pytest.raises(TypeError, match="lists of ReluActivity"):
        visualise.active_units({"a": [0.5]})
