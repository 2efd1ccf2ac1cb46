"""PyramidNet as the chapter uses it: matched widening factors, shortcuts, sizes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnlib.models import pyramidnet


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_matched_alpha_matches_the_additive_size():
    kw = dict(in_channels=1, width_multiplier=0.5)
    a = pyramidnet.matched_alpha(20, 48, **kw)
    additive = _params(pyramidnet.PyramidNet(20, 48, **kw))
    matched = _params(pyramidnet.PyramidNet(20, a, widening="multiplicative", **kw))
    # The same end width (8 -> 32, ratio 4) has fewer parameters: a convex
    # schedule lies below the straight one, so the match needs alpha > 4.
    same_end = _params(pyramidnet.PyramidNet(20, 4, widening="multiplicative", **kw))
    assert same_end < additive and a > 4
    assert abs(matched / additive - 1) < 0.01


@pytest.mark.parametrize(
    "kwargs, match",
    [({"widening": "additive"}, "widening"), ({"depth": 21}, "depth"), ({"alpha": -1}, "alpha")],
)
def test_matched_alpha_bad_input(kwargs, match):
    arguments = {"depth": 20, "alpha": 48} | kwargs
    depth, alpha = arguments.pop("depth"), arguments.pop("alpha")
    with pytest.raises(ValueError, match=match):
        pyramidnet.matched_alpha(depth, alpha, **arguments)


def test_every_shortcut_is_the_pooled_zero_padded_input():
    torch.manual_seed(0)
    model = pyramidnet.PyramidNet(14, 30, in_channels=1).eval()
    h = model.bn1(model.conv1(torch.randn(2, 1, 28, 28)))
    for unit in [m for m in model.modules() if isinstance(m, pyramidnet.PyramidBlock)]:
        branch = unit.bn3(unit.conv2(unit.relu(unit.bn2(unit.conv1(unit.bn1(h))))))
        out = unit(h)
        shortcut = out - branch
        c = h.shape[1]
        pooled = h if unit.downsample is None else F.avg_pool2d(h, 2, ceil_mode=True)
        assert torch.allclose(shortcut[:, :c], pooled, atol=1e-5)
        if shortcut.shape[1] > c:  # the added channels are zeros
            assert shortcut[:, c:].abs().max().item() < 1e-5
        h = out


def test_multiplicative_widths_by_a_running_product():
    # 16 * 2**(k/4) for k = 1..4: 19.03, 22.63, 26.91, 32 (floored).
    assert pyramidnet.pyramidal_widths(4, 2, widening="multiplicative") == [19, 22, 26, 32]


def test_alpha_270_size_is_within_one_percent_of_the_paper():
    with torch.device("meta"):
        model = pyramidnet.PyramidNet(110, 270)
    # The paper's Table 4 prints 28.3 M; widths are 16 + 5k exactly.
    assert 0 < _params(model) / 28.3e6 - 1 < 0.01
