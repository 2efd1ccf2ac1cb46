"""The three ResNeXt block forms (Xie et al., 2017, Figure 3) are one function."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from cnnlib import analysis
from cnnlib.models import resnet
from cnnlib.models.resnext import FORMS, ResNeXtBlock, convert

# The paper's Table 2: (cardinality C, bottleneck width d) of the conv2-stage
# templates (in = out = 256) that keep the complexity at about 70k parameters.
TABLE_2 = [(1, 64), (2, 40), (4, 24), (8, 14), (32, 4)]
PAPER_TEMPLATE_PARAMS = 70_144  # §3.3: C·(256·d + 3·3·d·d + d·256) at C=32, d=4


def conv_weights(c: int, d: int, c_in: int = 256, c_out: int = 256) -> int:
    """Weights of the block's convolutions by hand: 1x1 in→d, 3x3 d→d, 1x1 d→out, per path."""
    return c * (c_in * d + 9 * d * d + d * c_out)


def randomise(block: nn.Module, generator: torch.Generator) -> None:
    """Random conv weights, BN affine parameters and running statistics."""
    with torch.no_grad():
        for module in block.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator, dtype=torch.float64)
                    * (2.0 / fan_in) ** 0.5
                )
            elif isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                options = {"generator": generator, "dtype": torch.float64}
                module.weight.copy_(1 + 0.5 * torch.randn(n, **options))
                module.bias.copy_(0.5 * torch.randn(n, **options))
                module.running_mean.copy_(torch.randn(n, **options))
                module.running_var.copy_(0.5 + torch.rand(n, **options))


CASES = [  # (C, d, in, out)
    (32, 4, 256, 256),
    (1, 64, 256, 256),
    (4, 24, 256, 256),
    (3, 5, 16, 16),
    (4, 3, 12, 20),  # projection shortcut
]


def three_forms(c: int, d: int, c_in: int, c_out: int) -> dict[str, ResNeXtBlock]:
    generator = torch.Generator().manual_seed(c * 1000 + d)
    block = ResNeXtBlock(c_in, c, d, "c", out_channels=c_out).double()
    randomise(block, generator)
    return {"c": block, "a": convert(block, "a"), "b": convert(block, "b")}


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize(("c", "d", "c_in", "c_out"), CASES)
def test_forms_give_the_same_output(c, d, c_in, c_out, mode):
    blocks = three_forms(c, d, c_in, c_out)
    x = torch.randn(4, c_in, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    outputs = {}
    for form, block in blocks.items():
        block.train(mode == "train")
        with torch.no_grad():
            outputs[form] = block(x)
        assert outputs[form].shape == (4, c_out, 6, 6)
    for f, g in itertools.combinations(FORMS, 2):
        assert (outputs[f] - outputs[g]).abs().max().item() <= 1e-12, (f, g)
    if mode == "train":
        # Train mode also updated the running statistics identically, channel by channel.
        states = {form: convert(block, "c").state_dict() for form, block in blocks.items()}
        for key, value in states["c"].items():
            for form in "ab":
                difference = states[form][key].double() - value.double()
                assert difference.abs().max().item() <= 1e-12, (form, key)
    # Not a trivial identity: the residual branch changes the output.
    with torch.no_grad():
        assert not torch.allclose(outputs["c"], torch.relu(blocks["c"].shortcut(x)))


def test_gradients_agree_across_forms():
    blocks = three_forms(4, 3, 12, 12)
    x = torch.randn(3, 12, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    grads = {}
    for form, block in blocks.items():
        xi = x.clone().requires_grad_(True)
        block.train()(xi).square().sum().backward()
        grads[form] = xi.grad
    for f, g in itertools.combinations(FORMS, 2):
        assert (grads[f] - grads[g]).abs().max().item() <= 1e-12


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(FORMS, 2)))
def test_convert_round_trips_exactly(source, target):
    block = three_forms(4, 3, 12, 20)[source]
    back = convert(convert(block, target), source)
    assert back.form == source and convert(block, target).form == target
    original, restored = block.state_dict(), back.state_dict()
    assert original.keys() == restored.keys()
    assert all(torch.equal(original[k], restored[k]) for k in original)


def test_convert_keeps_mode_dtype_and_rejects_bad_arguments():
    block = ResNeXtBlock(8, 2, 4, "c").double().eval()
    converted = convert(block, "a")
    assert not converted.training and converted.bn3.weight.dtype == torch.float64
    with pytest.raises(ValueError, match=r"form must be 'a', 'b' or 'c', got 'd'"):
        convert(block, "d")
    with pytest.raises(TypeError, match="ResNeXtBlock"):
        convert(nn.Conv2d(1, 1, 1), "a")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"in_channels": 0}, "in_channels must be a positive int, got 0"),
        ({"cardinality": 2.0}, "cardinality must be a positive int, got 2.0"),
        ({"bottleneck_width": -1}, "bottleneck_width must be a positive int, got -1"),
        ({"form": "C"}, "form must be 'a', 'b' or 'c', got 'C'"),
        ({"out_channels": 0}, "out_channels must be a positive int, got 0"),
    ],
)
def test_block_rejects_bad_arguments(kwargs, message):
    arguments = {"in_channels": 8, "cardinality": 2, "bottleneck_width": 4, "form": "a", **kwargs}
    with pytest.raises(ValueError, match=message):
        ResNeXtBlock(**arguments)


@pytest.mark.parametrize(("c", "d"), TABLE_2)
@pytest.mark.parametrize("form", FORMS)
def test_table_2_templates_keep_about_70k_parameters(c, d, form):
    by_formula = conv_weights(c, d)
    # The paper chose these (C, d) pairs to keep the template at about 70k
    # parameters: four are within 1 % of 70,144, (8, 14) is 1.9 % above (71,456).
    assert abs(by_formula - PAPER_TEMPLATE_PARAMS) / PAPER_TEMPLATE_PARAMS <= 0.02
    block = ResNeXtBlock(256, c, d, form)
    convs = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    assert convs == by_formula
    assert all(m.bias is None for m in block.modules() if isinstance(m, nn.Conv2d))
    # Batch norms: a weight and a bias per channel, C·d after each of the first
    # two convolutions and 256 after the last.
    norms = sum(
        p.numel() for m in block.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    )
    assert norms == 2 * (2 * c * d + 256)
    assert analysis.count_params(block) == by_formula + norms


def test_paper_section_3_3_number():
    assert conv_weights(32, 4) == 70_144 == PAPER_TEMPLATE_PARAMS


@pytest.mark.parametrize(("c", "d"), [(32, 4), (4, 24)])
def test_forms_have_the_same_macs(c, d):
    # Every weight of the three convolutions is used once per pixel (stride 1, 8x8).
    macs = {
        form: analysis.count_macs(ResNeXtBlock(256, c, d, form), (1, 256, 8, 8)) for form in FORMS
    }
    assert set(macs.values()) == {64 * conv_weights(c, d)}


def test_form_c_is_resnext50_bottleneck():
    # A non-first block of ResNeXt-50 (32x4d)'s first stage is form (c) with
    # C=32, d=4, in = out = 256: its state dict loads and the outputs agree.
    stage_block = resnet.resnext50_32x4d().layer1[1].double().eval()
    block = ResNeXtBlock(256, 32, 4, "c").double().eval()
    randomise(stage_block, torch.Generator().manual_seed(1))
    block.load_state_dict(stage_block.state_dict(), strict=True)
    x = torch.randn(2, 256, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(block(x), stage_block(x))
