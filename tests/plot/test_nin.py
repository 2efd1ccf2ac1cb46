"""NiN's class-map figure draws every map it is given, with its mean and the best one framed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from cnnlib.plot import nin as nin_plot  # noqa: E402

CLASSES = ("cat", "dog", "ankle boot")


def framed(ax) -> str | None:
    """The colour of an axes' visible frame, or None."""
    spines = [s for s in ax.spines.values() if s.get_visible()]
    return spines[0].get_edgecolor() if spines else None


def example() -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.arange(2 * 1 * 4 * 4, dtype=torch.uint8).view(2, 1, 4, 4)
    maps = torch.zeros(2, 3, 2, 2)
    maps[0, 1] = torch.tensor([[4.0, 0.0], [0.0, 0.0]])  # mean 1.00, the best
    maps[0, 2] = 0.5  # mean 0.50
    maps[1, 0] = torch.tensor([[0.0, 1.0], [1.0, 1.0]])  # mean 0.75
    maps[1, 2] = torch.tensor([[2.0, 0.0], [0.0, 0.0]])  # mean 0.50
    return images, maps


def test_every_image_and_map_is_drawn_with_its_mean_under_it():
    images, maps = example()
    fig = nin_plot.class_maps(images, maps, CLASSES, labels=torch.tensor([1, 2]), title="t")
    axes = fig.axes
    assert len(axes) == 2 * (1 + 3)
    drawn = [[im for im in ax.get_children() if isinstance(im, AxesImage)] for ax in axes]
    assert all(len(images_in) == 1 for images_in in drawn)
    # Row-major: image, then the maps of cat, dog and ankle boot.
    assert torch.equal(torch.tensor(drawn[2][0].get_array()), maps[0, 1])
    means = [ax.get_xlabel() for ax in axes]
    assert means == ["", "0.00", "1.00", "0.50", "", "0.75", "0.00", "0.50"]
    assert [axes[0].get_ylabel(), axes[4].get_ylabel()] == ["dog", "ankle boot"]
    titles = [ax.get_title() for ax in axes[:4]]
    assert titles == ["image", "cat", "dog", "ankle\nboot"]
    assert fig._suptitle.get_text() == "t"
    plt.close(fig)


def test_the_best_map_is_framed_green_when_right_and_red_when_wrong():
    images, maps = example()
    fig = nin_plot.class_maps(images, maps, CLASSES, labels=torch.tensor([1, 2]))
    frames = [framed(ax) for ax in fig.axes]
    # Row 0: dog scores highest and is the label; row 1: cat, but the label is ankle boot.
    assert frames == [None, None, to_rgba("tab:green"), None, None, to_rgba("tab:red"), None, None]
    plt.close(fig)
    fig = nin_plot.class_maps(images, maps, CLASSES)
    frames = [framed(ax) for ax in fig.axes]
    assert frames.count(to_rgba("black")) == 2 and frames.count(None) == 6
    assert fig.axes[0].get_ylabel() == ""
    plt.close(fig)


def test_a_row_shares_one_colour_scale():
    images, maps = example()
    fig = nin_plot.class_maps(images, maps, CLASSES)
    row = fig.axes[1:4]
    limits = {im.get_clim() for ax in row for im in ax.get_images()}
    assert limits == {(0.0, 4.0)}  # the row's lowest and highest values
    plt.close(fig)


def test_ten_classes_fit_a_book_column():
    classes = tuple(f"class {i}" for i in range(10))
    fig = nin_plot.class_maps(torch.zeros(3, 1, 28, 28), torch.rand(3, 10, 7, 7), classes)
    assert fig.get_size_inches()[0] <= 7.5
    sizes = [ax.title.get_fontsize() for ax in fig.axes] + [
        ax.xaxis.label.get_fontsize() for ax in fig.axes
    ]
    assert min(sizes) >= 9
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(images=torch.zeros(2, 2, 4, 4)), ValueError, "images must be"),
        (dict(maps=torch.zeros(2, 3, 2)), ValueError, "maps must be"),
        (dict(maps=torch.zeros(1, 3, 2, 2)), ValueError, "one entry per image"),
        (dict(classes=("a", "b")), ValueError, "name each of the 3 maps"),
        (dict(classes="abc"), TypeError, "classes must be"),
        (dict(labels=torch.tensor([0, 3])), ValueError, "labels must be"),
        (dict(labels=torch.tensor([0.0, 1.0])), ValueError, "labels must be"),
    ],
)
def test_bad_input_is_refused(kwargs, error, match):
    images, maps = example()
    arguments = dict(images=images, maps=maps, classes=CLASSES) | kwargs
    with pytest.raises(error, match=match):
        nin_plot.class_maps(**arguments)


def small_block(k: int = 3) -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 6, k, padding=k // 2),
        torch.nn.ReLU(),
        torch.nn.Conv2d(6, 3, 1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(3, 2, 1),
        torch.nn.ReLU(),
    )


def test_mlpconv_block_draws_each_layer_and_every_connection():
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Rectangle

    fig = nin_plot.mlpconv_block(small_block(), shown=4)
    conv, block = fig.axes
    circles = [[p for p in ax.patches if isinstance(p, Circle)] for ax in fig.axes]
    # Convolution: conv 0's 6 units, 4 drawn. Block: 4, 3 and 2 units drawn.
    assert [len(c) for c in circles] == [4, 4 + 3 + 2]
    lines = [len([a for a in ax.get_children() if isinstance(a, Line2D)]) for ax in fig.axes]
    # patch -> units, all-to-all between layers, units -> the output position
    assert lines == [4 + 4, 4 + 4 * 3 + 3 * 2 + 2]
    for ax in fig.axes:  # 7x7 input + 3x3 patch, 5x5 output + one position
        rectangles = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(rectangles) == 49 + 1 + 25 + 1
        assert any(p.get_width() == p.get_height() == 3 * 0.45 for p in rectangles)
    texts = [t.get_text() for t in block.texts]
    assert {"0\n6", "2\n3", "4\n2", "input\n3x3 patch"} <= set(texts)
    assert texts.count("⋮") == 1  # only the 6-unit layer is cut
    assert [t.get_text() for t in conv.texts].count("0\n6") == 1
    plt.close(fig)


def test_mlpconv_block_rejects_what_is_not_an_mlpconv_block():
    with pytest.raises(TypeError, match="block"):
        nin_plot.mlpconv_block([torch.nn.Conv2d(1, 1, 3)])
    with pytest.raises(ValueError, match="block"):
        nin_plot.mlpconv_block(torch.nn.Sequential(torch.nn.ReLU()))
    two_big = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(2, 2, 3))
    with pytest.raises(ValueError, match="1x1"):
        nin_plot.mlpconv_block(two_big)
    with pytest.raises(ValueError, match="shown"):
        nin_plot.mlpconv_block(small_block(), shown=0)
