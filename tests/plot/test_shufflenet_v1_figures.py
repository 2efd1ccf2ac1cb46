"""The ShuffleNet V1 chapter's information-flow figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.collections import PathCollection

from cnnlib.plot import shufflenet_v1 as sn_plot


def blocks(g: int, n: int) -> torch.Tensor:
    """A grouped layer's pattern: g diagonal blocks of n x n."""
    return torch.block_diag(*[torch.ones(n, n, dtype=torch.bool)] * g)


def test_reached_groups_by_hand() -> None:
    # 4 inputs in 2 groups; layer 1 keeps them apart, layer 2's output 0 reads 1 and 2.
    first = blocks(2, 2)
    second = torch.tensor([[0, 1, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)
    rows = sn_plot.reached_groups([first, second], 2)
    assert rows[0] == [{0}, {0}, {1}, {1}]
    assert rows[1] == [{0}, {0}, {1}, {1}]
    assert rows[2] == [{0, 1}, {1}]


def test_information_flow_draws_one_line_per_connection() -> None:
    panels = {
        "a": [blocks(3, 2), blocks(3, 2)],
        "b": [blocks(3, 2), torch.ones(4, 6, dtype=torch.bool)],
    }
    fig = sn_plot.information_flow(panels, 3, row_labels=["in", "mid", "out"])
    for ax, matrices in zip(fig.axes, panels.values(), strict=True):
        lines = [line for line in ax.get_lines()]
        assert len(lines) == 12 + sum(int(m.sum()) for m in matrices[1:])
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert [len(d.get_offsets()) for d in dots] == [6, 6, matrices[1].shape[0]]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["in", "mid", "out"]
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    plt.close(fig)


def test_information_flow_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="panels"):
        sn_plot.information_flow({}, 2)
    with pytest.raises(ValueError, match="matrix 1"):
        sn_plot.information_flow({"x": [blocks(2, 2), blocks(2, 3)]}, 2)
    with pytest.raises(TypeError, match="bool"):
        sn_plot.information_flow({"x": [torch.ones(4, 4)]}, 2)
    with pytest.raises(ValueError, match="groups"):
        sn_plot.information_flow({"x": [blocks(2, 2)]}, 3)
    with pytest.raises(ValueError, match="row_labels"):
        sn_plot.information_flow({"x": [blocks(2, 2)]}, 2, row_labels=["a"])
