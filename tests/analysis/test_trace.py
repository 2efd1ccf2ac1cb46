"""The shared trace: its per-call records are what forward hooks see, one forward pass serves
every analysis and the widget, windows have one source of truth, and a model and an input
that do not fit raise a ValueError that says what to change."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import analysis
from cnnlib.analysis import FlopReport, MemoryAccessReport, ReceptiveField, Summary
from cnnlib.models import get_model
from cnnlib.widgets.model_receptive_field import layer_table

SIZE = (1, 3, 64, 64)


@pytest.fixture(scope="module")
def resnet18() -> nn.Module:
    return torchvision.models.resnet18(weights=None)


def hooked_calls(model: nn.Module, input_size: tuple[int, ...]) -> list[tuple[str, tuple, tuple]]:
    """(name, input shape, output shape) of every leaf-module call, from forward hooks."""
    calls: list[tuple[str, tuple, tuple]] = []

    def record(name: str, args: tuple, out: torch.Tensor) -> None:
        calls.append((name, tuple(args[0].shape), tuple(out.shape)))

    handles = [
        module.register_forward_hook(lambda _, args, out, name=name: record(name, args, out))
        for name, module in model.named_modules()
        if next(module.children(), None) is None
    ]
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(input_size))
    finally:
        for handle in handles:
            handle.remove()
    return calls


def count_forwards(model: nn.Module) -> list[int]:
    """A list that grows by one at every call of ``model`` itself."""
    calls: list[int] = []
    model.register_forward_hook(lambda *_: calls.append(1))
    return calls


# --- The trace's per-call records ------------------------------------------------------


def test_calls_are_what_forward_hooks_see(resnet18):
    traced = analysis.trace(resnet18, SIZE)
    recorded = [(c.name, c.input_shape, c.output_shape) for c in traced.calls]
    assert recorded == hooked_calls(resnet18, SIZE)
    assert traced.input_size == SIZE and traced.model is resnet18
    # ResNet-18 downsamples by 32: global pooling gets 512 maps of 64/32 = 2x2 pixels.
    (pool,) = [c for c in traced.calls if c.name == "avgpool"]
    assert pool.input_shape == (1, 512, 2, 2) and pool.output_shape == (1, 512, 1, 1)


def test_calls_carry_windows_and_fields(resnet18):
    traced = analysis.trace(resnet18, SIZE)
    calls = {c.name: c for c in traced.calls}
    # conv1 is 7x7, stride 2, padding 3; the max pool 3x3, stride 2, padding 1.
    assert calls["conv1"].window == ((7, 7), (2, 2), (3, 3), (1, 1))
    assert calls["maxpool"].window == ((3, 3), (2, 2), (1, 1), (1, 1))
    assert calls["fc"].window is None and calls["bn1"].window is None
    # conv1's field: 7 pixels, stride 2, from 3 pixels into the padding; the image's own
    # field, entering conv1, is one pixel.
    field = calls["conv1"].output_field.axes[0]
    assert (field.size, field.stride, field.start) == (7, 2, -3)
    entering = calls["conv1"].input_field.axes[0]
    assert (entering.size, entering.stride, entering.start) == (1, 1, 0)
    assert calls["fc"].output_field.axes is None


def test_the_input_row_of_global_pooling_is_a_feature_map_that_enters_it(resnet18):
    maps = analysis.feature_maps(analysis.trace(resnet18, SIZE))
    (entering,) = [m for m in maps if m.entering]
    hooked = {name: shape_in for name, shape_in, _ in hooked_calls(resnet18, SIZE)}
    assert entering.call.name == "avgpool" and entering.shape == hooked["avgpool"]
    assert entering.row.name == "avgpool (input)" and entering.row.kernel is None
    rows = analysis.receptive_field(resnet18, SIZE).rows
    assert [m.row for m in maps] == rows


# --- One forward pass serves everything -----------------------------------------------


def test_one_trace_serves_every_analysis():
    model = torchvision.models.resnet18(weights=None)
    forwards = count_forwards(model)
    traced = analysis.trace(model, SIZE)
    summary = Summary.from_trace(traced)
    field = ReceptiveField.from_trace(traced)
    layer = ReceptiveField.from_trace(traced, layer="layer2.0.conv1")
    flops = FlopReport.from_trace(traced)
    memory = MemoryAccessReport.from_trace(traced)
    assert len(forwards) == 1  # reading the trace runs nothing
    assert summary == analysis.summary(model, SIZE)
    assert field == analysis.receptive_field(model, SIZE)
    assert layer == analysis.receptive_field(model, SIZE, layer="layer2.0.conv1")
    assert flops == analysis.count_flops(model, SIZE)
    assert memory == analysis.memory_access_cost(model, SIZE)
    assert traced.macs == analysis.count_macs(model, SIZE) == summary.total_macs
    assert len(forwards) == 1 + 6  # one forward pass per public function


def test_layer_table_runs_the_model_once():
    model = torchvision.models.resnet18(weights=None)
    forwards = count_forwards(model)
    table = layer_table(model, SIZE)
    assert len(forwards) == 1
    # Its last row is the map entering global pooling, 2x2 at 64x64 (see above).
    hooked = {name: shape_in for name, shape_in, _ in hooked_calls(model, SIZE)}
    assert table[-1]["name"] == "avgpool (input)"
    assert (table[-1]["out_h"], table[-1]["out_w"]) == hooked["avgpool"][2:] == (2, 2)


# --- One source of truth for windows ---------------------------------------------------


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@pytest.mark.parametrize("kernel, dilation", [(3, 2), ((3, 5), (2, 1)), (5, 1)])
def test_same_padding_reports_the_padding_torch_applies(kernel, dilation):
    same = nn.Conv2d(2, 2, kernel, padding="same", dilation=dilation, bias=False)
    padding = tuple(d * (k - 1) // 2 for k, d in zip(pair(kernel), pair(dilation), strict=True))
    twin = nn.Conv2d(2, 2, kernel, padding=padding, dilation=dilation, bias=False)
    with torch.no_grad():
        twin.weight.copy_(same.weight)
    x = torch.randn(1, 2, 16, 16)
    torch.testing.assert_close(same(x), twin(x))  # torch pads d(k-1)/2 on each side
    size = (1, 2, 16, 16)
    rows = [analysis.receptive_field(nn.Sequential(c), size).rows[0] for c in (same, twin)]
    assert rows[0].padding == padding
    assert rows[0] == rows[1]
    tables = [layer_table(nn.Sequential(c), size) for c in (same, twin)]
    assert tables[0] == tables[1]


def test_same_padding_with_dilation_2_by_hand():
    conv = nn.Conv2d(1, 1, 3, padding="same", dilation=2)
    (row,) = analysis.receptive_field(nn.Sequential(conv), (1, 1, 16, 16)).rows
    # dilation*(kernel-1)//2 = 2*2//2 = 2 rows and columns of padding; the field spans
    # 2*(3-1)+1 = 5 pixels and starts those 2 pixels into the padding.
    assert row.padding == (2, 2) and row.size == (5, 5) and row.effective_padding == (2, 2)


def test_valid_padding_is_zero():
    size = (1, 1, 8, 8)
    valid = analysis.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, padding="valid")), size)
    zero = analysis.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, padding=0)), size)
    assert valid.rows[0].padding == (0, 0) and valid.rows == zero.rows


def test_lp_pooling_uses_its_kernel_size():
    # F.lp_pool2d(input, norm_type, kernel_size, stride, ...): the window is kernel_size.
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.LPPool2d(2, 3, stride=2), nn.Conv2d(1, 1, 1))
    rf = analysis.receptive_field(model, (1, 1, 16, 16))
    # The 3x3 conv sees 3 pixels; a 3-wide, stride-2 window on it: 3 + (3-1)*1 = 5, stride 2.
    assert (rf.size, rf.stride, rf.padding) == (5, 2, 0)
    # 16 -> 14 -> (14-3)//2+1 = 6; every output reads a 3x3 window.
    assert analysis.count_flops(model, (1, 1, 16, 16)).elementwise["pooling"] == 6 * 6 * 9


# --- A model and an input that do not fit ----------------------------------------------


@pytest.mark.parametrize(
    "function",
    [analysis.count_macs, analysis.summary, analysis.receptive_field, analysis.trace],
    ids=lambda f: f.__name__,
)
def test_three_channels_into_lenet5_names_in_channels(function):
    with pytest.raises(ValueError, match=rf"^{function.__name__}: .*in_channels=3") as error:
        function(get_model("lenet5"), (1, 3, 28, 28))
    assert isinstance(error.value.__cause__, RuntimeError)


def test_a_small_image_into_alexnet_names_small_input():
    with pytest.raises(ValueError, match="small_input=True") as error:
        analysis.count_macs(get_model("alexnet"), (1, 3, 28, 28))
    assert isinstance(error.value.__cause__, RuntimeError)


def test_bad_arguments_name_the_parameter(resnet18):
    with pytest.raises(TypeError, match="trace: model must be a torch.nn.Module"):
        analysis.trace("resnet18", SIZE)
    with pytest.raises(ValueError, match="trace: input_size"):
        analysis.trace(resnet18, (3, 64.0, 64))
    flat = analysis.trace(nn.Linear(4, 2), (1, 4))
    with pytest.raises(ValueError, match=r"input_size must be \(N, C, H, W\)"):
        ReceptiveField.from_trace(flat)
    with pytest.raises(TypeError, match="layer"):
        analysis.feature_maps(analysis.trace(resnet18, SIZE), layer=3)
