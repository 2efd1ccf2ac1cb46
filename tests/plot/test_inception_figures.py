"""cnnlib.plot.inception draws the block it is given: one box per layer, sums of channels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib.layers import ConvBNReLU  # noqa: E402
from cnnlib.models import googlenet, inception  # noqa: E402
from cnnlib.plot import inception as figures  # noqa: E402

INCEPTION_3A = (64, 96, 128, 16, 32, 32)  # Szegedy et al. (2015), Table 1


def parts(fig):
    (ax,) = fig.axes
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    return boxes, arrows, [t.get_text() for t in ax.texts]


def test_inception_3a_has_four_branches_and_their_channels():
    fig = figures.inception_block(googlenet.Inception(192, *INCEPTION_3A), title="3a")
    boxes, arrows, texts = parts(fig)
    # The input, 1 + 2 + 2 + 2 layers, the concatenation.
    assert len(boxes) == 1 + 7 + 1
    # Into every layer one arrow, and one from each branch into the concatenation.
    assert len(arrows) == 7 + 4
    assert texts[0] == "input: 192 channels"
    assert "concatenate: 256 channels" in texts and 64 + 128 + 32 + 32 == 256
    labels = [t for t in texts if "\n" in t or "pool" in t]
    assert labels == ["1x1 conv\n64", "1x1 conv\n96", "3x3 conv\n128", "1x1 conv\n16",
                      "3x3 conv\n32", "3x3 max-pool", "1x1 conv\n32"]  # fmt: skip
    # The channels each branch hands to the concatenation.
    assert [t for t in texts if t.isdigit()] == ["64", "128", "32", "32"]
    assert fig.axes[0].get_title() == "3a"
    plt.close(fig)


def test_naive_block_passes_the_pooled_input_through():
    block = googlenet.Inception(192, *INCEPTION_3A, branch3_kernel_size=5, reductions=False)
    fig = figures.inception_block(block)
    boxes, arrows, texts = parts(fig)
    assert len(boxes) == 1 + 4 + 1 and len(arrows) == 4 + 4
    assert "5x5 conv\n32" in texts
    assert [t for t in texts if t.isdigit()] == ["64", "128", "32", "192"]
    assert f"concatenate: {64 + 128 + 32 + 192} channels" in texts
    plt.close(fig)


def test_inception_resnet_block_concatenates_then_projects_and_adds():
    fig = figures.inception_block(inception.InceptionResNetA(384))
    boxes, arrows, texts = parts(fig)
    # Input, 1 + 2 + 3 layers, concatenation, the linear 1x1, ReLU.
    assert len(boxes) == 1 + 6 + 1 + 1 + 1
    # 6 layers + 3 into the concatenation + concat→1x1, 1x1→+, shortcut→+, +→ReLU.
    assert len(arrows) == 6 + 3 + 4
    assert "concatenate: 128 channels" in texts and 32 + 32 + 64 == 128
    assert "1x1 linear\n384" in texts and "+" in texts
    assert "shortcut: 384" in texts
    assert len(fig.axes[0].lines) == 1  # the shortcut's line from the input
    plt.close(fig)


def test_branch_layers_reads_strides_and_pools():
    branch = nn.Sequential(ConvBNReLU(8, 4, 1), ConvBNReLU(4, 6, 3, stride=2), nn.ReLU())
    boxes = figures.branch_layers(branch, 8)
    assert [b.label for b in boxes] == ["1x1 conv\n4", "3x3 conv/2\n6"]
    assert [b.kind for b in boxes] == ["1x1", "conv"]
    pooled = figures.branch_layers(nn.AvgPool2d(3, stride=2), 5)
    assert pooled == [figures.Box("3x3 avg-pool/2", "pool", 5)]


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="block must be an nn.Module"):
        figures.inception_block("inception3a")
    with pytest.raises(ValueError, match="no child named 'branch"):
        figures.inception_block(nn.Sequential(nn.Conv2d(1, 1, 1)))
    with pytest.raises(ValueError, match="no convolution or pooling"):
        figures.branch_layers(nn.ReLU(), 3)
    with pytest.raises(TypeError, match="branch must be an nn.Module"):
        figures.branch_layers(3, 3)
