"""cnnlib.analysis against hand derivations and against PyTorch itself."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import analysis


def torch_conv_output(size, kernel_size, stride, padding, dilation):
    """What torch.nn.Conv2d produces, or the exception it raises."""
    conv = nn.Conv2d(1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation)
    return tuple(conv(torch.zeros(1, 1, *size)).shape[2:])


def flop_counter_macs(model: nn.Module, shape: tuple[int, ...]) -> int:
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(shape))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


class TestConvOutputSize:
    @pytest.mark.parametrize(
        "args, expected",
        [
            # Hand derivations of floor((i + 2p - d(k-1) - 1)/s) + 1.
            ((28, 5), 24),
            ((28, 5, 1, 2), 28),
            ((224, 11, 4, 2), 55),  # AlexNet's first layer
            ((224, 7, 2, 3), 112),  # ResNet's stem
            ((7, 3, 1, 2, 2), 7),  # dilation 2 spans 5 pixels
            ((5, 3, 2, 0), 2),  # floor((5 - 3) / 2) + 1
            ((4, 2, 3, 0), 1),  # floor((4 - 2) / 3) + 1
        ],
    )
    def test_hand_derivations(self, args, expected):
        assert analysis.conv_output_size(*args) == expected

    def test_pairs_per_axis(self):
        assert analysis.conv_output_size((28, 32), (5, 3), stride=(1, 2), padding=(2, 1)) == (
            28,
            16,
        )
        assert analysis.conv_output_size((10, 12), 3) == (8, 10)

    def test_random_configurations_against_torch(self):
        rng = random.Random(1234)
        valid = invalid = 0
        for _ in range(1200):
            size = (rng.randint(1, 20), rng.randint(1, 20))
            kernel = (rng.randint(1, 7), rng.randint(1, 7))
            stride = (rng.randint(1, 4), rng.randint(1, 4))
            padding = (rng.randint(0, 3), rng.randint(0, 3))
            dilation = (rng.randint(1, 3), rng.randint(1, 3))
            try:
                expected = torch_conv_output(size, kernel, stride, padding, dilation)
            except RuntimeError:
                invalid += 1
                with pytest.raises(ValueError, match="kernel_size"):
                    analysis.conv_output_size(size, kernel, stride, padding, dilation)
            else:
                valid += 1
                assert (
                    analysis.conv_output_size(size, kernel, stride, padding, dilation) == expected
                )
        # Both kinds of configuration were exercised.
        assert valid > 300 and invalid > 150

    @pytest.mark.parametrize(
        "kwargs, name",
        [
            (dict(size=0, kernel_size=1), "size"),
            (dict(size=5, kernel_size=0), "kernel_size"),
            (dict(size=5, kernel_size=3, stride=0), "stride"),
            (dict(size=5, kernel_size=3, padding=-1), "padding"),
            (dict(size=5, kernel_size=3, dilation=0), "dilation"),
        ],
    )
    def test_out_of_range_arguments_are_named(self, kwargs, name):
        with pytest.raises(ValueError, match=rf"{name} must be >= "):
            analysis.conv_output_size(**kwargs)

    def test_torch_also_rejects_those(self):
        for kwargs in (dict(stride=0), dict(padding=-1), dict(dilation=0)):
            with pytest.raises(RuntimeError):
                nn.Conv2d(1, 1, 3, **kwargs)(torch.zeros(1, 1, 5, 5))

    @pytest.mark.parametrize(
        "kwargs",
        [
            dict(size=5.0, kernel_size=3),
            dict(size=5, kernel_size=True),
            dict(size=(5, 5), kernel_size=(3, 3, 3)),
        ],
    )
    def test_malformed_arguments(self, kwargs):
        with pytest.raises(TypeError):
            analysis.conv_output_size(**kwargs)


class TestTransposedAndPoolingSizes:
    def test_transposed_hand_derivations(self):
        # o = (i - 1)s - 2p + d(k - 1) + output_padding + 1
        assert (
            analysis.conv_transpose_output_size(7, 4, stride=2, padding=1) == 14
        )  # DCGAN upsampling
        assert analysis.conv_transpose_output_size(3, 3, 2, 1, 1) == 6
        assert analysis.conv_transpose_output_size((3, 5), (3, 1), stride=(2, 1)) == (7, 5)

    def test_transposed_random_configurations_against_torch(self):
        rng = random.Random(99)
        valid = invalid = 0
        for _ in range(1200):
            size, kernel = rng.randint(1, 12), rng.randint(1, 6)
            stride, padding = rng.randint(1, 4), rng.randint(0, 6)
            output_padding, dilation = rng.randint(0, 3), rng.randint(1, 3)
            args = (size, kernel, stride, padding, output_padding, dilation)
            try:
                layer = nn.ConvTranspose2d(
                    1, 1, kernel, stride, padding, output_padding, dilation=dilation
                )
                expected = layer(torch.zeros(1, 1, size, size)).shape[-1]
                assert expected > 0  # an empty output counts as invalid (see below)
            except (RuntimeError, AssertionError):
                # PyTorch raises, or (for some kernels, at exactly 0 pixels) returns
                # an empty tensor; we raise in both cases.
                invalid += 1
                with pytest.raises(ValueError, match="output_padding|padding"):
                    analysis.conv_transpose_output_size(*args)
            else:
                valid += 1
                assert analysis.conv_transpose_output_size(*args) == expected
        assert valid > 300 and invalid > 150

    def test_pool_hand_derivations(self):
        assert analysis.pool_output_size(112, 3, 2, 1) == 56  # ResNet's max-pool
        assert analysis.pool_output_size(112, 3, 2, ceil_mode=True) == 56  # GoogLeNet's
        assert analysis.pool_output_size(111, 3, 2, ceil_mode=False) == 55
        assert analysis.pool_output_size(6, 2) == 3  # stride defaults to the kernel
        # ceil mode drops a window that would start in the right padding: floor 3 -> ceil 4 -> 3.
        assert analysis.pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3

    @pytest.mark.parametrize("ceil_mode", [False, True])
    def test_pool_random_configurations_against_torch(self, ceil_mode):
        rng = random.Random(7 + ceil_mode)
        valid = invalid = 0
        for _ in range(1000):
            size, kernel = rng.randint(1, 16), rng.randint(1, 6)
            stride, padding, dilation = rng.randint(1, 4), rng.randint(0, 3), rng.randint(1, 3)
            args = (size, kernel, stride, padding, dilation, ceil_mode)
            try:
                pool = nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
                expected = pool(torch.zeros(1, 1, size, size)).shape[-1]
            except RuntimeError:
                invalid += 1
                with pytest.raises(ValueError, match="padding|kernel_size"):
                    analysis.pool_output_size(*args)
            else:
                valid += 1
                assert analysis.pool_output_size(*args) == expected
        assert valid > 300 and invalid > 150

    def test_pool_matches_avg_pool(self):
        for size, kernel, stride, padding, ceil_mode in [
            (7, 3, 2, 1, True),
            (9, 2, 2, 0, False),
            (10, 3, 3, 1, True),
        ]:
            pool = nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil_mode)
            expected = pool(torch.zeros(1, 1, size, size)).shape[-1]
            assert (
                analysis.pool_output_size(size, kernel, stride, padding, ceil_mode=ceil_mode)
                == expected
            )

    def test_pool_argument_errors(self):
        with pytest.raises(ValueError, match="padding must be at most half"):
            analysis.pool_output_size(8, 3, padding=2)
        with pytest.raises(TypeError, match="ceil_mode"):
            analysis.pool_output_size(8, 3, ceil_mode=1)
        with pytest.raises(ValueError, match="size must be >= 1"):
            analysis.pool_output_size(-3, 3)
        with pytest.raises(ValueError, match="stride must be >= 1"):
            analysis.conv_transpose_output_size(4, 3, stride=0)


class TestClosedForms:
    def test_conv_params_matches_torch(self):
        rng = random.Random(7)
        for _ in range(50):
            groups = rng.choice([1, 2, 4])
            c_in, c_out = groups * rng.randint(1, 6), groups * rng.randint(1, 6)
            kernel = (rng.randint(1, 5), rng.randint(1, 5))
            bias = rng.random() < 0.5
            conv = nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias)
            expected = sum(p.numel() for p in conv.parameters())
            assert analysis.conv_params(c_in, c_out, kernel, groups=groups, bias=bias) == expected

    def test_hand_counts(self):
        assert analysis.conv_params(3, 64, 3) == 3 * 3 * 3 * 64 + 64
        assert analysis.conv_params(32, 32, 3, groups=32, bias=False) == 9 * 32  # depthwise
        assert analysis.linear_params(4096, 1000) == 4096 * 1000 + 1000
        assert analysis.conv_macs(3, 64, 7, 112) == 112 * 112 * 7 * 7 * 3 * 64
        assert analysis.conv_macs(64, 64, 3, 56, groups=64) == 56 * 56 * 9 * 64
        assert analysis.linear_macs(120, 84) == 10_080

    def test_groups_must_divide_channels(self):
        with pytest.raises(ValueError, match="groups must divide"):
            analysis.conv_params(6, 4, 3, groups=4)
        with pytest.raises(ValueError, match="groups must divide"):
            analysis.conv_macs(8, 6, 3, 5, groups=4)

    def test_bad_values(self):
        with pytest.raises(ValueError, match="in_channels"):
            analysis.conv_params(0, 4, 3)
        with pytest.raises(ValueError, match="kernel_size"):
            analysis.conv_params(1, 4, 0)
        with pytest.raises(ValueError, match="output_size"):
            analysis.conv_macs(1, 4, 3, 0)
        with pytest.raises(TypeError, match="bias"):
            analysis.linear_params(3, 4, bias=1)


class TestCounts:
    def test_count_params_against_torch(self):
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 6 * 6, 5)
        )
        assert analysis.count_params(model) == sum(p.numel() for p in model.parameters())
        # By hand: conv 3*3*3*8 + 8, batch norm 2*8, linear 288*5 + 5.
        assert analysis.count_params(model) == 224 + 16 + 1445

    def test_shared_parameters_counted_once_and_trainable_only(self):
        linear = nn.Linear(4, 4)
        model = nn.Sequential(linear, nn.ReLU(), linear)
        assert analysis.count_params(model) == 20
        linear.bias.requires_grad_(False)
        assert analysis.count_params(model, trainable_only=True) == 16

    @pytest.mark.parametrize(
        "model, shape",
        [
            (
                nn.Conv2d(4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
                (2, 4, 17, 13),
            ),
            (nn.Conv2d(16, 16, 3, padding=1, groups=16), (1, 16, 9, 9)),
            (nn.Conv1d(6, 9, 4, stride=2, groups=3), (3, 6, 20)),
            (
                nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                (2, 4, 7, 5),
            ),
            (nn.Linear(7, 3), (5, 4, 7)),
            (
                nn.Sequential(
                    nn.Conv2d(3, 8, 3, padding=1),
                    nn.BatchNorm2d(8),
                    nn.ReLU(),
                    nn.MaxPool2d(2),
                    nn.Flatten(),
                    nn.Linear(8 * 8 * 8, 10),
                ),
                (2, 3, 16, 16),
            ),
        ],
    )
    def test_count_macs_equals_flop_counter_half(self, model, shape):
        assert analysis.count_macs(model, shape) == flop_counter_macs(model, shape)

    def test_count_macs_by_hand(self):
        conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        # Output 8 x 8 x 8, each a dot product of 3*3*3 = 27; batch of 2.
        assert analysis.count_macs(conv, (2, 3, 16, 16)) == 2 * 8 * 8 * 8 * 27

    def test_torchvision_resnet18_matches_published_ops(self):
        from torchvision.models import ResNet18_Weights, resnet18

        model = resnet18(weights=None)
        macs = analysis.count_macs(model, (1, 3, 224, 224))
        assert macs == flop_counter_macs(model, (1, 3, 224, 224))
        # torchvision publishes GMACs rounded to 3 decimals (ResNet18_Weights meta "_ops").
        assert round(macs / 1e9, 3) == ResNet18_Weights.IMAGENET1K_V1.meta["_ops"]
        assert analysis.count_params(model) == ResNet18_Weights.IMAGENET1K_V1.meta["num_params"]

    def test_model_mode_is_restored(self):
        model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
        model.train()
        analysis.count_macs(model, (1, 3))  # batch of 1 works because it runs in eval mode
        assert model.training

    def test_unknown_module_with_parameters_is_an_error(self):
        with pytest.raises(ValueError, match="GRU"):
            analysis.count_macs(nn.GRU(3, 4, batch_first=True), (1, 5, 3))

    @pytest.mark.parametrize("bad", [(3, 32, 32)[:1], (1, 0, 4), "1,3,4,4", (1, 3.0, 4, 4), None])
    def test_bad_input_size(self, bad):
        with pytest.raises(ValueError, match="input_size"):
            analysis.count_macs(nn.Conv2d(3, 3, 1), bad)

    @pytest.mark.parametrize("func", [analysis.count_params, analysis.count_macs, analysis.summary])
    def test_not_a_module(self, func):
        args = ((1, 3, 8, 8),) if func is not analysis.count_params else ()
        with pytest.raises(TypeError, match="torch.nn.Module"):
            func("resnet18", *args)


class TestSummary:
    def test_rows_follow_a_real_forward_pass(self):
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
        table = analysis.summary(model, (3, 1, 8, 8))
        x = torch.zeros(3, 1, 8, 8)
        shapes = []
        for layer in model:
            x = layer(x)
            shapes.append(tuple(x.shape))
        assert [row.output_shape for row in table.rows] == shapes
        assert [row.type for row in table.rows] == ["Conv2d", "ReLU", "Flatten", "Linear"]
        assert [row.params for row in table.rows] == [40, 0, 0, 290]
        assert table.total_params == 330
        assert [row.macs for row in table.rows] == [3 * 4 * 6 * 6 * 9, 0, 0, 3 * 144 * 2]
        assert [row.receptive_field for row in table.rows] == [(3, 3), (3, 3), None, None]

    def test_renders_as_text_and_html(self):
        table = analysis.summary(nn.Sequential(nn.Linear(1000, 1000)), (1, 1000))
        text = str(table)
        assert "1,001,000" in text and "Linear" in text and text.splitlines()[0].startswith("layer")
        html = table._repr_html_()
        assert html.startswith("<table") and html.count("<tr>") == 3  # header, one layer, total
        assert ">0</td>" in html and ">Linear</td>" in html and "1,000,000" in html

    @pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "alexnet", "densenet121"])
    def test_totals_agree_with_torchinfo(self, name):
        import torchinfo
        import torchvision

        model = torchvision.models.get_model(name, weights=None).eval()
        table = analysis.summary(model, (1, 3, 224, 224))
        info = torchinfo.summary(model, (1, 3, 224, 224), verbose=0)
        assert table.total_params == info.total_params
        # torchinfo's mult-adds also count one addition per bias per output element
        # and, for a batch norm, its parameter count; count those independently.
        extra = []

        def hook(module, inputs, output):
            if isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
                extra.append(output.numel())
            if isinstance(module, nn.BatchNorm2d):
                extra.append(sum(p.numel() for p in module.parameters()))

        handles = [m.register_forward_hook(hook) for m in model.modules()]
        with torch.no_grad():
            model(torch.zeros(1, 3, 224, 224))
        for h in handles:
            h.remove()
        assert info.total_mult_adds == table.total_macs + sum(extra)
