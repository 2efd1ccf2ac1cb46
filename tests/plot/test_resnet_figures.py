"""The figures and the gradient-norm helper of chapter 10 (ResNet)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib.models import resnet  # noqa: E402
from cnnlib.plot import resnet as resnet_plot  # noqa: E402
from cnnlib.train import History  # noqa: E402


def _history(accuracies):
    h = History()
    h.train_accuracy = list(accuracies)
    h.train_loss = [1.0] * len(accuracies)
    return h


def test_gradient_norms_match_autograd_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 3, 3),
                          nn.Flatten(), nn.Linear(3 * 2 * 2, 4))  # fmt: skip
    x, y = torch.randn(5, 1, 6, 6), torch.tensor([0, 1, 2, 3, 0])
    norms = resnet_plot.gradient_norms(model, x, y)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    expected = [model[0].weight.grad.norm().item(), model[2].weight.grad.norm().item()]
    assert norms == pytest.approx(expected)


def test_gradient_norms_leave_out_projection_shortcuts():
    model = resnet.cifar_resnet(8)
    x, y = torch.randn(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)
    assert len(resnet_plot.gradient_norms(model, x, y)) == 7  # stem + 6 block convs
    assert len(resnet_plot.gradient_norms(model, x, y, skip="")) == 9


def test_gradient_norms_reject_bad_input():
    model = resnet.cifar_resnet(8)
    with pytest.raises(ValueError, match="images"):
        resnet_plot.gradient_norms(model, torch.zeros(1, 28, 28), torch.zeros(1))
    with pytest.raises(ValueError, match="labels"):
        resnet_plot.gradient_norms(model, torch.zeros(2, 1, 28, 28), torch.zeros(3))
    with pytest.raises(TypeError, match="model"):
        resnet_plot.gradient_norms("net", torch.zeros(2, 1, 28, 28), torch.zeros(2))
    with pytest.raises(ValueError, match="no convolution"):
        resnet_plot.gradient_norms(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)),
                                   torch.zeros(2, 1, 2, 2), torch.zeros(2).long())  # fmt: skip


def test_degradation_draws_one_line_per_run_and_per_norm_sequence():
    histories = {"a": _history([0.2, 0.5, 0.7]), "b": _history([0.1, 0.3])}
    norms = {"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5] * 6, "c": [0.1, 0.2]}
    fig = resnet_plot.degradation(histories, norms, title="t")
    left, right = fig.axes
    assert [len(line.get_xdata()) for line in left.get_lines()] == [3, 2]
    assert list(left.get_lines()[0].get_ydata()) == pytest.approx([0.8, 0.5, 0.3])
    assert [len(line.get_xdata()) for line in right.get_lines()] == [4, 6, 2]
    assert right.get_yscale() == "log"
    # A label shared by both panels has one colour.
    assert left.get_lines()[0].get_color() == right.get_lines()[0].get_color()
    plt.close(fig)


def test_degradation_colours_by_the_label_before_the_comma():
    fig = resnet_plot.degradation(
        {"p": _history([0.5])}, {"p, start": [1.0, 2.0], "p, trained": [1.0, 1.0]}
    )
    left, right = fig.axes
    colours = {line.get_color() for line in [*left.get_lines(), *right.get_lines()]}
    assert len(colours) == 1
    assert [line.get_linestyle() for line in right.get_lines()] == ["-", "--"]
    plt.close(fig)


def test_degradation_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        resnet_plot.degradation({}, {"a": [1.0]})
    with pytest.raises(TypeError, match="History"):
        resnet_plot.degradation({"a": [0.5]}, {"a": [1.0]})
    with pytest.raises(ValueError, match="positive"):
        resnet_plot.degradation({"a": _history([0.5])}, {"a": [0.0]})
    with pytest.raises(ValueError, match="no epoch"):
        resnet_plot.degradation({"a": _history([])}, {"a": [1.0]})
