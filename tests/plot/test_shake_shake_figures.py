"""cnnlib.plot.shake_shake draws what it is given: one panel, one dot per draw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib.plot import shake_shake as figures  # noqa: E402


def test_coefficient_draws_one_panel_per_mode_one_dot_per_draw():
    alpha = torch.tensor([0.1, 0.4, 0.9]).reshape(3, 1, 1, 1)
    beta = torch.tensor([0.7, 0.2, 0.3]).reshape(3, 1, 1, 1)
    half = torch.full((1, 1, 1, 1), 0.5)
    fig = figures.coefficient_draws({"shake": (alpha, beta), "even": (half, half)})
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["shake", "even"]
    (dots,) = fig.axes[0].collections
    np.testing.assert_allclose(dots.get_offsets(), [[0.1, 0.7], [0.4, 0.2], [0.9, 0.3]])
    assert len(fig.axes[1].collections[0].get_offsets()) == 1
    for ax in fig.axes:  # the dashed diagonal beta = alpha, and the unit square
        (line,) = ax.get_lines()
        assert list(line.get_xdata()) == list(line.get_ydata()) == [0, 1]
        assert line.get_linestyle() == "--"
        assert ax.get_xlim()[0] < 0 and ax.get_xlim()[1] > 1
    assert fig.axes[0].get_ylabel() == "backward β"
    plt.close(fig)


def test_coefficient_draws_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        figures.coefficient_draws({})
    with pytest.raises(TypeError, match="mapping"):
        figures.coefficient_draws([(torch.ones(2), torch.ones(2))])
    with pytest.raises(TypeError, match="draws\\['a'\\]"):
        figures.coefficient_draws({"a": torch.ones(2)})
    with pytest.raises(ValueError, match="2 alphas and 3 betas"):
        figures.coefficient_draws({"a": (torch.ones(2), torch.ones(3))})
