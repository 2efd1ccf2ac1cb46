"""The Wide ResNet chapter's additions to cnnlib.models.wrn."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib.models import wrn


@pytest.mark.parametrize(
    "label, kernels, blocks", [(40, (1, 3, 1), 6), (40, (3, 1), 6), (22, (3, 1, 3), 3),
                               (28, (3, 3), 4), (10, (3,), 1)],
)  # fmt: skip
def test_depth_of_table_2_builds_the_authors_blocks_per_group(label, kernels, blocks):
    depth = wrn.depth_of_table_2(label, kernels)
    model = wrn.WideResNet(depth, 2, block_kernels=kernels)
    assert len(model.layer1) == len(model.layer2) == len(model.layer3) == blocks


def test_table_1_sizes_by_hand():
    # B(1,3,1), 6 blocks per group at k = 2: weights of every convolution,
    # two BN parameters per input channel, 1x1 projections, the classifier.
    total, c_in = 9 * 3 * 16, 16
    for width in (32, 64, 128):
        for _ in range(6):
            total += 2 * c_in + c_in * width + 2 * width + 9 * width * width
            total += 2 * width + width * width
            if c_in != width:
                total += c_in * width
            c_in = width
    total += 2 * 128 + 128 * 10 + 10
    model = wrn.WideResNet(wrn.depth_of_table_2(40, (1, 3, 1)), 2, block_kernels=(1, 3, 1))
    assert sum(p.numel() for p in model.parameters()) == total
    assert round(total / 1e6, 1) == 1.4  # the paper's Table 1


@pytest.mark.parametrize(
    "label, kernels", [(38, (3, 3)), (4, (3, 3)), (0, (3, 3)), (40, ()), (40, (0, 3)), ("40", (3,))]
)
def test_depth_of_table_2_rejects_bad_input(label, kernels):
    with pytest.raises(ValueError, match="label|block_kernels"):
        wrn.depth_of_table_2(label, kernels)


def test_variance_shift_of_dropout_alone_is_one_minus_p():
    # BN directly after dropout: the second moment of (mask * a / (1 - p)) is
    # E[a^2] / (1 - p), so the test/training variance ratio of a zero-mean
    # input is about 1 - p.
    torch.manual_seed(0)
    p = 0.4
    model = nn.Sequential(nn.Dropout(p), nn.BatchNorm2d(8))
    images = torch.randn(400, 8, 6, 6)
    ratio = wrn.variance_shift(model, images)["1"]
    assert abs(ratio - (1 - p)) < 0.03
    twin = nn.Sequential(nn.Identity(), nn.BatchNorm2d(8))
    assert abs(wrn.variance_shift(twin, images)["1"] - 1) < 1e-3


def test_variance_shift_leaves_the_model_alone():
    model = wrn.WideResNet(10, 1, dropout=0.3, in_channels=1, width_multiplier=0.5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    wrn.variance_shift(model, torch.randn(20, 1, 28, 28), batch_size=10)
    assert model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


@pytest.mark.parametrize(
    "model, images, batch_size, error",
    [("x", torch.zeros(4, 1, 8, 8), 2, TypeError),
     (nn.BatchNorm2d(1), [1, 2], 2, TypeError),
     (nn.BatchNorm2d(1), torch.zeros(4, 8, 8), 2, ValueError),
     (nn.BatchNorm2d(1), torch.zeros(4, 1, 8, 8), 1, ValueError),
     (nn.BatchNorm2d(1), torch.zeros(4, 1, 8, 8), 5, ValueError)],
)  # fmt: skip
def test_variance_shift_rejects_bad_input(model, images, batch_size, error):
    with pytest.raises(error, match="model|images|batch_size"):
        wrn.variance_shift(model, images, batch_size=batch_size)
