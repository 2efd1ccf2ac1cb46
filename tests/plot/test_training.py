"""cnnlib.plot draws what it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib import plot  # noqa: E402
from cnnlib.train import History  # noqa: E402


def history(offset: float) -> History:
    return History(
        train_loss=[1.0 + offset, 0.5 + offset],
        train_accuracy=[0.6, 0.8],
        test_loss=[1.1 + offset, 0.7 + offset],
        test_accuracy=[0.55, 0.75],
        seconds=[1.0, 1.0],
        samples_per_second=[100.0, 100.0],
    )


def test_plot_history_draws_train_and_test_for_every_run():
    fig = plot.plot_history({"a": history(0.0), "b": history(1.0)}, title="t")
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 4 and len(acc_ax.lines) == 4
    assert list(loss_ax.lines[2].get_ydata()) == [2.0, 1.5]  # run b, train
    assert list(acc_ax.lines[1].get_ydata()) == [0.55, 0.75]  # run a, test
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()][:2] == ["a train", "a test"]
    plt.close(fig)


def test_plot_history_fits_a_book_column_with_readable_text():
    fig = plot.plot_history({"a": history(0.0), "b": history(1.0), "c": history(2.0)}, title="t")
    assert fig.get_size_inches()[0] <= 7.5
    loss_ax, acc_ax = fig.axes
    legend = acc_ax.get_legend()
    assert len(legend.get_texts()) == 6 and legend._ncols == 3  # one column per run
    sizes = [t.get_fontsize() for t in legend.get_texts()]
    for ax in (loss_ax, acc_ax):
        sizes += [ax.xaxis.label.get_fontsize(), ax.yaxis.label.get_fontsize()]
        sizes += [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert min(sizes) >= 9
    plt.close(fig)


def test_plot_history_single_and_errors():
    fig = plot.plot_history(history(0.0))
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
    with pytest.raises(TypeError, match="History"):
        plot.plot_history([1, 2])
    with pytest.raises(ValueError, match="no epochs"):
        plot.plot_history({"empty": History()})


def test_show_images_titles_with_class_names():
    images = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    fig = plot.show_images(images, torch.tensor([0, 2, 1]), ["x", "y", "z"], columns=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["x", "z", "y"] and len(fig.axes) == 4
    assert min(ax.title.get_fontsize() for ax in fig.axes) >= 9
    plt.close(fig)
    fig = plot.show_images(torch.zeros(16, 1, 4, 4), torch.zeros(16, dtype=torch.long), ["x"])
    assert fig.get_size_inches()[0] == pytest.approx(8 * 0.9)  # eight columns of 0.9 inches
    plt.close(fig)
    with pytest.raises(ValueError, match="size"):
        plot.show_images(images, torch.tensor([0, 2, 1]), ["x", "y", "z"], size=0)
    with pytest.raises(ValueError, match="labels must index"):
        plot.show_images(images, torch.tensor([0, 5, 1]), ["x", "y", "z"])
    with pytest.raises(ValueError, match="shape"):
        plot.show_images(torch.zeros(3, 4, 4), torch.tensor([0, 1, 2]), ["x", "y", "z"])
