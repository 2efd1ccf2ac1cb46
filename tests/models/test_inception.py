"""GoogLeNet, Inception-v3 and Xception against torchvision, the papers and hand counts."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import analysis
from cnnlib.layers import SeparableConv2d, SpatiallySeparableConv
from cnnlib.models import get_model, googlenet, inception, list_models, model_info, xception


def meta(name: str) -> dict:
    return torchvision.models.get_model_weights(name).IMAGENET1K_V1.meta


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def on_meta(model: nn.Module) -> nn.Module:
    """A copy for counting only: shapes without storage or arithmetic."""
    return model.to("meta").eval()


def map_sizes(model: nn.Module, x: torch.Tensor, names: list[str]) -> dict[str, tuple[int, int]]:
    """Spatial size of the *input* of each named submodule during one eval forward pass."""
    sizes: dict[str, tuple[int, int]] = {}
    modules = dict(model.named_modules())

    def recorder(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            sizes.setdefault(name, tuple(inputs[0].shape[-2:]))

        return hook

    handles = [modules[name].register_forward_pre_hook(recorder(name)) for name in names]
    with torch.no_grad():
        model.eval()(x)
    for handle in handles:
        handle.remove()
    return sizes


def test_builders_are_registered_with_their_default_inputs():
    assert {"googlenet", "inception_v3", "xception"} <= set(list_models())
    assert model_info("googlenet").image_shape == (3, 224, 224)
    assert model_info("inception_v3").image_shape == (3, 299, 299)
    assert model_info("xception").image_shape == (3, 299, 299)


# ---------------------------------------------------------------------------
# GoogLeNet
# ---------------------------------------------------------------------------

# Table 1 of Szegedy et al. (2015): (#5x5 reduce, #5x5) per module and the grid it runs on.
PAPER_5X5 = {
    "3a": (16, 32, 28), "3b": (32, 96, 28),
    "4a": (16, 48, 14), "4b": (24, 64, 14), "4c": (24, 64, 14), "4d": (32, 64, 14),
    "4e": (32, 128, 14), "5a": (32, 128, 7), "5b": (48, 128, 7),
}  # fmt: skip
PAPER_GOOGLENET_OPS = 1_502e6  # sum of Table 1's "ops" column


@pytest.mark.parametrize("aux_logits", [False, True])
def test_googlenet_is_torchvisions_twin(aux_logits):
    reference = torchvision.models.googlenet(
        weights=None, aux_logits=aux_logits, init_weights=True, transform_input=False
    )
    ours = get_model("googlenet", aux_logits=aux_logits)
    ours.load_state_dict(reference.state_dict(), strict=True)
    assert analysis.count_params(ours) == params(reference)
    reference.double().eval()
    ours.double().eval()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))
    if aux_logits:
        # Training mode: the same dropout masks (same seed) and batch statistics.
        reference.train()
        ours.train()
        torch.manual_seed(1)
        expected = reference(x)
        torch.manual_seed(1)
        got = ours(x)
        assert isinstance(got, googlenet.GoogLeNetOutputs)
        assert got._fields == ("logits", "aux_logits2", "aux_logits1")
        for a, b in zip(got, expected, strict=True):
            assert torch.equal(a, b)


def test_googlenet_counts_match_torchvision_meta():
    info = meta("googlenet")
    ours = googlenet.googlenet()
    with_aux = googlenet.googlenet(aux_logits=True)
    reference_aux = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True)
    aux_params = params(reference_aux.aux1) + params(reference_aux.aux2)
    # GoogLeNet's meta counts the network without its auxiliary heads.
    assert analysis.count_params(ours) == info["num_params"]
    assert analysis.count_params(with_aux) == info["num_params"] + aux_params
    macs = analysis.count_macs(on_meta(ours), (1, 3, 224, 224))
    assert round(macs / 1e9, 3) == info["_ops"]
    # The paper's total of 1.5 G multiply-adds (Table 1's ops column: 1,502 M).
    assert abs(macs / PAPER_GOOGLENET_OPS - 1) < 0.01


def test_googlenet_paper_5x5_branch_by_hand():
    torchvision_like = googlenet.googlenet()
    paper = googlenet.googlenet(branch3_kernel_size=5)
    assert paper.inception3a.branch3[1].conv.kernel_size == (5, 5)
    assert torchvision_like.inception3a.branch3[1].conv.kernel_size == (3, 3)
    # A 5x5 instead of a 3x3 adds (25 - 9) weights per (input, output) channel pair.
    extra_params = sum(16 * r * n for r, n, _ in PAPER_5X5.values())
    extra_macs = sum(16 * r * n * grid * grid for r, n, grid in PAPER_5X5.values())
    assert extra_params == 380_928
    assert analysis.count_params(paper) - analysis.count_params(torchvision_like) == extra_params
    assert (
        analysis.count_macs(on_meta(paper), (1, 3, 224, 224))
        - analysis.count_macs(on_meta(torchvision_like), (1, 3, 224, 224))
        == extra_macs
    )


def test_googlenet_module_widths_follow_table_1():
    model = googlenet.googlenet()
    # Output depth column of Table 1.
    depths = {"3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528, "4e": 832,
              "5a": 832, "5b": 1024}  # fmt: skip
    for name, depth in depths.items():
        assert getattr(model, f"inception{name}").out_channels == depth
    names = ["inception3a", "inception4a", "inception5a"]
    sizes = map_sizes(model, torch.zeros(1, 3, 224, 224), names)
    assert sizes == {"inception3a": (28, 28), "inception4a": (14, 14), "inception5a": (7, 7)}


@pytest.mark.parametrize(
    ("channels", "size", "grids"), [(1, 28, (28, 14, 7)), (3, 32, (32, 16, 8))]
)
def test_googlenet_small_input(channels, size, grids):
    model = googlenet.googlenet(
        num_classes=10, in_channels=channels, small_input=True, width_multiplier=0.25,
        aux_logits=True,
    )  # fmt: skip
    assert model.conv1.conv.kernel_size == (3, 3) and model.conv1.conv.stride == (1, 1)
    assert isinstance(model.maxpool1, nn.Identity) and isinstance(model.maxpool2, nn.Identity)
    x = torch.randn(2, channels, size, size)
    out = model.train()(x)
    assert isinstance(out, googlenet.GoogLeNetOutputs)
    assert [t.shape for t in out] == [(2, 10)] * 3
    sizes = map_sizes(model, x, ["inception3a", "inception4a", "inception5a"])
    assert [sizes[n][0] for n in ("inception3a", "inception4a", "inception5a")] == list(grids)
    assert model.eval()(x).shape == (2, 10)


def test_googlenet_width_multiplier():
    full = googlenet.googlenet()
    half = googlenet.googlenet(width_multiplier=0.5, aux_logits=True)
    same = googlenet.googlenet(width_multiplier=1.0)
    assert analysis.count_params(same) == analysis.count_params(full)
    assert half.conv1.conv.out_channels == 32 and half.conv3.conv.out_channels == 96
    # 5b's branches: 384, 384, 128, 128 channels, halved.
    assert half.fc.in_features == 192 + 192 + 64 + 64
    assert half.aux1.fc1.in_features == 64 * 4 * 4 and half.aux1.fc1.out_features == 512
    assert half(torch.randn(2, 3, 64, 64)).logits.shape == (2, 1000)


def test_googlenet_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_classes must be a positive int, got 0"):
        googlenet.googlenet(num_classes=0)
    with pytest.raises(ValueError, match="in_channels"):
        googlenet.googlenet(in_channels=2.5)
    with pytest.raises(ValueError, match="width_multiplier"):
        googlenet.googlenet(width_multiplier=-1.0)
    with pytest.raises(TypeError, match="small_input must be a bool"):
        googlenet.googlenet(small_input="yes")
    with pytest.raises(TypeError, match="aux_logits must be a bool"):
        googlenet.googlenet(aux_logits=1)
    with pytest.raises(ValueError, match="branch3_kernel_size must be 3.*or 5.*got 7"):
        googlenet.googlenet(branch3_kernel_size=7)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\), got 1.5"):
        googlenet.googlenet(dropout=1.5)


# ---------------------------------------------------------------------------
# Inception-v3
# ---------------------------------------------------------------------------

# Szegedy et al. (2016), abstract: "5 billion multiply-adds", "less than 25 million parameters".
PAPER_INCEPTION_V3_MACS = 5e9
PAPER_INCEPTION_V3_MAX_PARAMS = 25e6


@pytest.mark.parametrize("aux_logits", [False, True])
def test_inception_v3_is_torchvisions_twin(aux_logits):
    reference = torchvision.models.inception_v3(
        weights=None, aux_logits=aux_logits, init_weights=True, transform_input=False
    )
    ours = get_model("inception_v3", aux_logits=aux_logits)
    ours.load_state_dict(reference.state_dict(), strict=True)
    assert analysis.count_params(ours) == params(reference)
    reference.double().eval()
    ours.double().eval()
    x = torch.randn(2, 3, 75, 75, dtype=torch.float64)  # the smallest input it accepts
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))
        if aux_logits:
            grid17 = torch.randn(2, 768, 17, 17, dtype=torch.float64)
            assert torch.equal(ours.AuxLogits(grid17), reference.AuxLogits(grid17))


def test_inception_v3_training_outputs_match_torchvision():
    reference = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True)
    ours = inception.inception_v3(aux_logits=True)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 299, 299)  # the auxiliary head needs the 17x17 grid of 299x299 inputs
    torch.manual_seed(2)
    expected = reference.train()(x)
    torch.manual_seed(2)
    got = ours.train()(x)
    assert isinstance(got, inception.InceptionOutputs)
    assert got._fields == ("logits", "aux_logits")
    torch.testing.assert_close(got.logits, expected.logits)
    torch.testing.assert_close(got.aux_logits, expected.aux_logits)


def test_inception_v3_counts_match_torchvision_meta_and_the_paper():
    info = meta("inception_v3")
    ours = inception.inception_v3()
    reference_aux = torchvision.models.inception_v3(
        weights=None, aux_logits=True, init_weights=True
    )
    # Inception-v3's meta counts the auxiliary classifier: take its tensors out.
    assert analysis.count_params(ours) == info["num_params"] - params(reference_aux.AuxLogits)
    assert analysis.count_params(inception.inception_v3(aux_logits=True)) == info["num_params"]
    macs = analysis.count_macs(on_meta(ours), (1, 3, 299, 299))
    assert round(macs / 1e9, 3) == info["_ops"]
    assert analysis.count_params(ours) < PAPER_INCEPTION_V3_MAX_PARAMS
    # Not within 1 % of the abstract's round "5 billion": torchvision's (Google's
    # released) model costs 5.713 GMACs, 0.713 G (14.3 %) more; the paper gives no
    # per-layer breakdown to trace the difference to.
    assert round(macs / PAPER_INCEPTION_V3_MACS - 1, 3) == 0.143


def test_inception_v3_factorises_7x7_into_1x7_and_7x1():
    block = inception.inception_v3().Mixed_6e  # channels_7x7 = 192
    assert block.branch7x7_2.conv.kernel_size == (1, 7)
    assert block.branch7x7_3.conv.kernel_size == (7, 1)
    kernels = [getattr(block, f"branch7x7dbl_{i}").conv.kernel_size for i in range(2, 6)]
    assert kernels == [(7, 1), (1, 7), (7, 1), (1, 7)]
    pair = nn.Sequential(block.branch7x7_2, block.branch7x7_3)
    c = 192
    # 7·c·c + 7·c·192 weights (plus 2 BN parameters per channel) instead of 49·c·192.
    weights = 7 * c * c + 7 * c * 192
    assert params(pair) == weights + 2 * (c + 192)
    assert weights / (49 * c * 192) == pytest.approx(2 / 7)
    # Same count as the shared block (which puts the 7x1 first).
    assert params(pair) == params(SpatiallySeparableConv(c, 192, kernel_size=7, mid_channels=c))
    first, second = inception.spatially_separable(8, 4, 6, kernel_size=3, first="nx1")
    assert first.conv.kernel_size == (3, 1) and second.conv.kernel_size == (1, 3)
    x = torch.randn(1, 8, 9, 9)
    assert second(first(x)).shape == (1, 6, 9, 9)


def test_inception_v3_grids_at_299():
    model = inception.inception_v3()
    names = ["Mixed_5b", "Mixed_6b", "Mixed_7b", "avgpool"]
    sizes = map_sizes(model, torch.zeros(1, 3, 299, 299), names)
    assert [sizes[name] for name in names] == [(35, 35), (17, 17), (8, 8), (8, 8)]
    # The paper's Table 1 widths at the three grids' ends: 288, 768, 2048.
    assert model.Mixed_5d.out_channels == 288
    assert model.Mixed_6e.out_channels == 768
    assert model.Mixed_7c.out_channels == 2048


@pytest.mark.parametrize(
    ("channels", "size", "grids"), [(1, 28, (28, 13, 6)), (3, 32, (32, 15, 7))]
)
def test_inception_v3_small_input(channels, size, grids):
    model = inception.inception_v3(
        num_classes=10, in_channels=channels, small_input=True, width_multiplier=0.25,
        aux_logits=True,
    )  # fmt: skip
    assert model.Conv2d_1a_3x3.conv.stride == (1, 1)
    assert isinstance(model.maxpool1, nn.Identity) and isinstance(model.maxpool2, nn.Identity)
    x = torch.randn(2, channels, size, size)
    out = model.train()(x)
    assert isinstance(out, inception.InceptionOutputs)
    assert out.logits.shape == out.aux_logits.shape == (2, 10)
    sizes = map_sizes(model, x, ["Mixed_5b", "Mixed_6b", "Mixed_7b"])
    assert [sizes[n][0] for n in ("Mixed_5b", "Mixed_6b", "Mixed_7b")] == list(grids)


def test_inception_v3_width_multiplier():
    half = inception.inception_v3(width_multiplier=0.5)
    assert half.Conv2d_1a_3x3.conv.out_channels == 16
    # Mixed_7c: 320 + 4·384 + 192 channels, halved.
    assert half.fc.in_features == 160 + 4 * 192 + 96
    # The grid reductions pass their input through a max-pool: 288/2 + 384/2 + 96/2 channels.
    assert half.Mixed_6a.out_channels == 144 + 192 + 48
    assert half.eval()(torch.randn(1, 3, 75, 75)).shape == (1, 1000)


def test_inception_v3_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        inception.inception_v3(num_classes=-3)
    with pytest.raises(ValueError, match="width_multiplier must be a positive finite number"):
        inception.inception_v3(width_multiplier=float("inf"))
    with pytest.raises(TypeError, match="small_input"):
        inception.inception_v3(small_input=None)
    with pytest.raises(TypeError, match="aux_logits must be a bool, got 'no'"):
        inception.inception_v3(aux_logits="no")
    with pytest.raises(ValueError, match="dropout"):
        inception.inception_v3(dropout=-0.1)
    with pytest.raises(ValueError, match="first must be '1xn' or 'nx1'"):
        inception.spatially_separable(4, 4, 4, first="7x7")


# ---------------------------------------------------------------------------
# Xception
# ---------------------------------------------------------------------------

PAPER_XCEPTION_PARAMS = 22_855_952  # Chollet (2017), Table 3


def test_xception_parameters_match_the_paper():
    model = xception.xception()
    assert analysis.count_params(model) == PAPER_XCEPTION_PARAMS


def test_xception_parameters_by_hand():
    # Figure 5 of the paper; conv weights have no bias, BN has 2 parameters per channel.
    def conv(c_in, c_out, k):
        return k * k * c_in * c_out + 2 * c_out

    def sep(c_in, c_out):
        return 9 * c_in + c_in * c_out + 2 * c_out

    total = conv(3, 32, 3) + conv(32, 64, 3)
    for c_in, c_out in ((64, 128), (128, 256), (256, 728)):
        total += sep(c_in, c_out) + sep(c_out, c_out) + conv(c_in, c_out, 1)
    total += 8 * 3 * sep(728, 728)
    total += sep(728, 728) + sep(728, 1024) + conv(728, 1024, 1)
    total += sep(1024, 1536) + sep(1536, 2048) + 2048 * 1000 + 1000
    assert total == PAPER_XCEPTION_PARAMS


def test_xception_structure():
    model = xception.xception()
    # "36 convolutional layers ... structured into 14 modules".
    separable = [m for m in model.modules() if isinstance(m, SeparableConv2d)]
    stem_convs = [m for m in model.stem.modules() if isinstance(m, nn.Conv2d)]
    assert len(separable) + len(stem_convs) == 36
    blocks = [m for m in model.modules() if isinstance(m, xception.XceptionBlock)]
    assert len(blocks) == 12  # + the stem and the last two separable convolutions = 14 modules
    assert all(isinstance(b.shortcut, nn.Identity) for b in model.middle_flow)
    assert [b.out_channels for b in model.entry_flow] == [128, 256, 728]
    sizes = map_sizes(
        on_meta(model), torch.zeros(1, 3, 299, 299, device="meta"),
        ["entry_flow.0", "middle_flow", "exit_flow.1", "avgpool"],
    )  # fmt: skip
    assert sizes == {"entry_flow.0": (147, 147), "middle_flow": (19, 19),
                     "exit_flow.1": (10, 10), "avgpool": (10, 10)}  # fmt: skip


@pytest.mark.parametrize(("channels", "size", "grids"), [(1, 28, (28, 4, 2)), (3, 32, (32, 4, 2))])
def test_xception_small_input(channels, size, grids):
    model = xception.xception(
        num_classes=10, in_channels=channels, small_input=True, width_multiplier=0.25
    )
    assert model.stem[0][0].stride == (1, 1) and model.stem[0][0].padding == (1, 1)
    x = torch.randn(2, channels, size, size)
    assert model.train()(x).shape == (2, 10)
    sizes = map_sizes(model, x, ["entry_flow.0", "middle_flow", "avgpool"])
    assert [sizes[n][0] for n in ("entry_flow.0", "middle_flow", "avgpool")] == list(grids)


def test_xception_width_multiplier_and_middle_blocks():
    assert analysis.count_params(xception.xception(width_multiplier=1.0)) == PAPER_XCEPTION_PARAMS
    half = xception.xception(width_multiplier=0.5, middle_blocks=2)
    assert len(half.middle_flow) == 2
    assert half.fc.in_features == 1024
    assert half.entry_flow[2].out_channels == 364
    # Removing six middle modules removes 6·3 separable convolutions of 728 channels.
    fewer = xception.xception(middle_blocks=2)
    removed = PAPER_XCEPTION_PARAMS - analysis.count_params(fewer)
    assert removed == 18 * (9 * 728 + 728 * 728 + 2 * 728)


def test_xception_rejects_bad_arguments():
    with pytest.raises(ValueError, match="in_channels must be a positive int, got 0"):
        xception.xception(in_channels=0)
    with pytest.raises(ValueError, match="width_multiplier"):
        xception.xception(width_multiplier=0)
    with pytest.raises(TypeError, match="small_input"):
        xception.xception(small_input=1)
    with pytest.raises(ValueError, match="middle_blocks must be a non-negative int, got -1"):
        xception.xception(middle_blocks=-1)
    with pytest.raises(ValueError, match="stride must be 1 or 2, got 3"):
        xception.XceptionBlock(8, [8], stride=3)
    with pytest.raises(ValueError, match="widths"):
        xception.XceptionBlock(8, [])


# ---------------------------------------------------------------------------
# What chapter 08 shows: the module's source, Table 1's ops, the factorisations
# ---------------------------------------------------------------------------

# Szegedy et al. (2015), Table 1, "ops" column (millions), per module.
PAPER_OPS = {"inception3a": 128, "inception3b": 304, "inception4a": 73, "inception4b": 88,
             "inception4c": 100, "inception4d": 119, "inception4e": 170, "inception5a": 54,
             "inception5b": 71}  # fmt: skip


def test_inception_source_shown_in_the_book_fits_80_columns():
    from cnnlib import book

    lines = book.source(googlenet.Inception).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not any("fmt: skip" in line for line in lines)


def test_table_1_ops_are_the_5x5_modules_macs_but_conv1_is_not():
    paper = on_meta(googlenet.googlenet(branch3_kernel_size=5))
    torchvision_like = on_meta(googlenet.googlenet())
    rows = analysis.summary(paper, (1, 3, 224, 224)).rows
    for name, ops in PAPER_OPS.items():
        macs = sum(r.macs for r in rows if r.name.startswith(name + "."))
        # Within 1 M except 4a (74 M) and 5a (51 M); the latter 3 M off.
        assert abs(macs / 1e6 - ops) < (3.5 if name == "inception5a" else 1.5), name
    conv1 = 112 * 112 * 7 * 7 * 3 * 64  # 118 M MACs; the table says 34 M
    assert rows[0].macs == conv1
    saved = analysis.count_macs(paper, (1, 3, 224, 224)) - analysis.count_macs(
        torchvision_like, (1, 3, 224, 224)
    )
    # The coincidence: the 3x3 branches save about what Table 1 omits from conv1.
    assert abs(saved - (conv1 - 34e6)) / saved < 0.02


@pytest.mark.parametrize(
    ("kernel", "factorised", "ratio", "field"),
    [(5, "3x3+3x3", 18 / 25, 5), (3, "1x3+3x1", 6 / 9, 3), (7, "1x7+7x1", 14 / 49, 7)],
)
def test_factorisations_save_weights_and_keep_the_field(kernel, factorised, ratio, field):
    from cnnlib.layers import ConvBNReLU

    c = 16
    whole = ConvBNReLU(c, c, kernel, padding=kernel // 2)
    if factorised == "3x3+3x3":
        parts = nn.Sequential(ConvBNReLU(c, c, 3, padding=1), ConvBNReLU(c, c, 3, padding=1))
    else:
        parts = nn.Sequential(*inception.spatially_separable(c, c, c, kernel_size=kernel))

    def weights(module):
        return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))

    assert weights(whole) == kernel * kernel * c * c
    assert weights(parts) / weights(whole) == pytest.approx(ratio)
    size = (1, c, 15, 15)
    assert analysis.receptive_field(whole, size).size == field
    assert analysis.receptive_field(parts, size).size == field
    x = torch.randn(size)
    assert parts(x).shape == whole(x).shape == size


def test_paper_table_1_constant_matches_the_paper_and_its_widths():
    table = googlenet.PAPER_TABLE_1
    assert {k: v[1] for k, v in table.items() if k.startswith("inception")} == PAPER_OPS
    assert round(1000 * sum(k for k, _ in table.values())) == 6_797_700
    assert sum(m for _, m in table.values()) == 1502  # the paper's "1.5 billion"
    # Module parameters the paper's way (weights plus one bias per output
    # channel), by hand from the widths: 2-4 % above the table, 4c 9 % above,
    # 5a 3 % below.
    channels, deviation = 192, {}
    for name, (a, r3, b, r5, c, p) in googlenet.INCEPTION_CONFIG.items():
        convs = [(1, channels, a), (1, channels, r3), (9, r3, b), (1, channels, r5),
                 (25, r5, c), (1, channels, p)]  # fmt: skip
        params = sum(k * i * o + o for k, i, o in convs)
        deviation[name] = 1000 * table[name][0] / params - 1
        channels = a + b + c + p
    assert deviation["inception3a"] == 159_000 / 163_696 - 1
    others = [d for n, d in deviation.items() if n not in ("inception4c", "inception5a")]
    assert all(-0.045 < d < -0.02 for d in others)
    assert -0.10 < deviation["inception4c"] < -0.085
    assert 0.02 < deviation["inception5a"] < 0.035
