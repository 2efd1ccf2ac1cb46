"""The transposed-convolution figure draws the stamps torch's layer computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cnnlib.plot import convolution  # noqa: E402


@pytest.mark.parametrize("size, k, s, d", [(3, 3, 2, 1), (2, 4, 2, 1), (3, 2, 3, 2), (4, 3, 1, 2)])
def test_stamp_counts_are_a_transposed_convolution_of_ones(size, k, s, d):
    # With every input and weight 1 (and no padding), each output pixel of
    # conv_transpose2d sums one 1 per (input pixel, tap) that writes to it.
    ones = torch.ones(1, 1, size, size, dtype=torch.float64)
    weight = torch.ones(1, 1, k, k, dtype=torch.float64)
    expected = F.conv_transpose2d(ones, weight, stride=s, dilation=d)[0, 0]
    counts = convolution.stamp_counts(size, k, s, d)
    assert torch.equal(counts.double(), expected)
    assert int(counts.sum()) == size * size * k * k


def test_figure_of_a_3x3_input_with_k3_s2():
    fig = convolution.transposed_stamps(3, 3, 2)
    left, right = fig.axes
    # One coloured square per input pixel; one outline per stamp, one dashed output.
    assert sum(isinstance(p, Rectangle) for p in left.patches) == 9
    outlines = [p for p in right.patches if isinstance(p, Rectangle)]
    assert len(outlines) == 9 + 1
    assert [p.get_linestyle() for p in outlines].count("--") == 1
    # (3 - 1)*2 + 3 = 7 pixels per side; per axis 1,1,2,1,2,1,1 stamps land (by hand).
    numbers = [int(t.get_text()) for t in right.texts]
    axis = [1, 1, 2, 1, 2, 1, 1]
    assert numbers == [a * b for a in axis for b in axis]
    dashed = next(p for p in outlines if p.get_linestyle() == "--")
    assert (dashed.get_width(), dashed.get_height()) == (7, 7)
    plt.close(fig)


def test_padding_crops_and_output_padding_extends_the_output():
    # k=3, s=2, p=1, output_padding=1 on a 3x3 input: (3-1)*2 - 2 + 2 + 1 + 1 = 6.
    fig = convolution.transposed_stamps(3, 3, 2, padding=1, output_padding=1)
    _, right = fig.axes
    dashed = next(p for p in right.patches if p.get_linestyle() == "--")
    assert (dashed.get_x(), dashed.get_width()) == (0.5, 6)  # starts at pixel 1
    assert len(right.texts) == 7 * 7
    layer = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
    assert layer(torch.zeros(1, 1, 3, 3)).shape[-1] == 6
    plt.close(fig)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="stride"):
        convolution.stamp_counts(3, 3, 0)
    with pytest.raises(ValueError, match="padding"):
        convolution.transposed_stamps(3, 3, 2, padding=-1)
    with pytest.raises(ValueError, match="output_padding"):
        convolution.transposed_stamps(3, 3, 2, output_padding=2)
