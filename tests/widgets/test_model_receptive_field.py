"""ModelReceptiveField: its table is cnnlib.analysis's, its JavaScript draws the fields
cnnlib.analysis defines, and those are the pixels a unit's input gradient reaches."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from cnnlib import analysis
from cnnlib.analysis import AxisField
from cnnlib.models import get_model
from cnnlib.widgets.model_receptive_field import IMAGES, ModelReceptiveField, field_span, unit_at

WIDGETS = Path(__file__).resolve().parents[2] / "cnnlib" / "widgets"

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "cnnlib" / "widgets" / "model_receptive_field.js"


@pytest.fixture(scope="module")
def widgets() -> dict[str, ModelReceptiveField]:
    return {
        "resnet18": ModelReceptiveField(torchvision.models.resnet18(weights=None)),
        "lenet5": ModelReceptiveField("lenet5"),
    }


def analysis_axes(
    model: nn.Module, input_size: tuple[int, ...]
) -> dict[str, tuple[AxisField, AxisField]]:
    """Each spatial row of cnnlib.analysis.receptive_field as two AxisFields, by name.

    Where a name occurs more than once, its last call wins.
    """
    rows = analysis.receptive_field(model, input_size).rows
    return {
        r.name: tuple(
            AxisField(size=r.size[a], stride=r.effective_stride[a], start=-r.effective_padding[a])
            for a in range(2)
        )
        for r in rows
        if r.size is not None
    }


def measured_shapes(model: nn.Module, input_size: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    """Spatial output shape of every leaf module, measured by hooks.

    Each leaf module's input shape is recorded too, as "<name> (input)".
    """
    shapes: dict[str, tuple[int, int]] = {}
    hooks = []
    for name, module in model.named_modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(
                lambda m, a, out, name=name: shapes.__setitem__(name, tuple(out.shape[2:]))
            ))  # fmt: skip
            hooks.append(module.register_forward_pre_hook(
                lambda m, a, name=name: shapes.__setitem__(f"{name} (input)", tuple(a[0].shape[2:]))
            ))  # fmt: skip
    model.eval()
    with torch.no_grad():
        model(torch.zeros(input_size))
    for hook in hooks:
        hook.remove()
    return shapes


# --- The layers trait is cnnlib.analysis's table ------------------------------------


@pytest.mark.parametrize(
    "build, input_size",
    [
        (lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224)),
        (lambda: torchvision.models.vgg11(weights=None), (1, 3, 224, 224)),
        (lambda: get_model("lenet5"), (1, 1, 28, 28)),
    ],
    ids=["resnet18", "vgg11", "lenet5"],
)
def test_layers_trait_is_what_receptive_field_and_summary_give(build, input_size):
    model = build()
    w = ModelReceptiveField(model, image_size=input_size[-1])
    field = analysis.receptive_field(model, input_size)
    windows = [r.name for r in field.rows if r.size is not None and r.kernel is not None]
    expected_names = windows + ([field.layer] if field.layer != windows[-1] else [])
    assert [row["name"] for row in w.layers] == expected_names
    axes = analysis_axes(model, input_size)
    out_shapes = {r.name: r.output_shape[2:] for r in analysis.summary(model, input_size).rows}
    hooked = measured_shapes(model, input_size)
    for row in w.layers:
        h, wd = axes[row["name"]]
        assert (row["size_h"], row["stride_h"], row["start_h"]) == (h.size, h.stride, h.start)
        assert (row["size_w"], row["stride_w"], row["start_w"]) == (wd.size, wd.stride, wd.start)
        assert (row["out_h"], row["out_w"]) == hooked[row["name"]]
        if not row["name"].endswith("(input)"):
            assert (row["out_h"], row["out_w"]) == out_shapes[row["name"]]
    assert w.layer == len(w.layers) - 1  # the deepest feature map by default
    assert w.unit == [w.layers[-1]["out_h"] // 2, w.layers[-1]["out_w"] // 2]


def test_layers_trait_hand_derived_values(widgets):
    first, last = widgets["resnet18"].layers[0], widgets["resnet18"].layers[-1]
    # conv1: 7x7, stride 2, padding 3 on 224 -> 112.
    assert [first[k] for k in ("name", "size_h", "stride_h", "start_h", "out_h")] == [
        "conv1",
        7,
        2,
        -3,
        112,
    ]
    # ResNet-18's well-known final field: 435 pixels, stride 32, on a 7x7 map entering global
    # pooling.
    assert [last[k] for k in ("name", "size_w", "stride_w", "start_w", "out_w")] == [
        "avgpool (input)",
        435,
        32,
        -217,
        7,
    ]
    # LeNet-5 (C1 pads 28 to 32): C1 5, S2 5+1=6, C3 6+4*2=14, S4 14+1*2=16, C5 16+4*4=32.
    lenet = {row["name"]: row for row in widgets["lenet5"].layers}
    sizes = [lenet[f"features.{n}"]["size_h"] for n in ("c1", "s2", "c3", "s4", "c5")]
    assert sizes == [5, 6, 14, 16, 32]
    assert [lenet[f"features.{n}"]["out_h"] for n in ("c1", "s2", "c3", "s4", "c5")] == [
        28,
        14,
        10,
        5,
        1,
    ]
    assert all(row["start_h"] == -2 for row in lenet.values())


# --- The JavaScript agrees with cnnlib ------------------------------------------------


def test_js_field_span_and_centre_agree_with_axis_field(run_js, widgets):
    cases = []
    for w in widgets.values():
        for row in w.layers:
            for axis in "hw":
                args = [row[f"start_{axis}"], row[f"stride_{axis}"], row[f"size_{axis}"]]
                cases += [[u, *args] for u in range(row[f"out_{axis}"])]
    js = run_js(
        "model_receptive_field",
        f"const c = {json.dumps(cases)};\n"
        "console.log(JSON.stringify(c.map(([u, s, j, r]) => "
        "[w.fieldSpan(u, s, j, r), w.unitCentre(u, s, j, r)])));",
    )
    assert len(cases) > 1000
    for (u, start, stride, size), (span, centre) in zip(cases, js, strict=True):
        axis = AxisField(size=size, stride=stride, start=start)
        assert (
            tuple(span)
            == field_span(u, axis)
            == (start + u * stride, start + u * stride + size - 1)
        )
        assert centre == axis.center + u * stride


def test_js_unit_at_picks_the_nearest_unit_centre(run_js, widgets):
    cases = []
    for w in widgets.values():
        n = w.image_size
        for row in w.layers:
            for axis in "hw":
                args = [
                    row[f"start_{axis}"],
                    row[f"stride_{axis}"],
                    row[f"size_{axis}"],
                    row[f"out_{axis}"],
                ]
                cases += [[p / 2, *args] for p in range(-10, 2 * n + 10)]
    js = run_js(
        "model_receptive_field",
        f"const c = {json.dumps(cases)};\nconsole.log(JSON.stringify(c.map(a => w.unitAt(...a))));",
    )
    for (pixel, start, stride, size, count), unit in zip(cases, js, strict=True):
        axis = AxisField(size=size, stride=stride, start=start)
        assert unit == unit_at(pixel, axis, count)
        distances = [abs(axis.center + u * stride - pixel) for u in range(count)]
        assert 0 <= unit < count and distances[unit] == min(distances)


def test_js_clip_span_and_extent(run_js):
    cases = [
        ([-5, 3], 10),
        ([2, 7], 10),
        ([-217, 217], 224),
        ([8, 20], 10),
        ([10, 20], 10),
        ([-9, -1], 10),
    ]
    cases.append(([9, 9], 10))
    extents = [(-3, 2, 7, 112, 224), (-217, 32, 435, 7, 224), (0, 1, 1, 10, 10)]
    clipped, covered = run_js(
        "model_receptive_field",
        f"console.log(JSON.stringify([{json.dumps(cases)}.map(([s, n]) => w.clipSpan(s, n)), "
        f"{json.dumps(extents)}.map(a => w.layerExtent(...a))]));",
    )
    assert clipped == [[0, 3], [2, 7], [0, 217], [8, 9], None, None, [9, 9]]
    # conv1 of ResNet-18: unit 111 ends at -3 + 111*2 + 7 = 226; the last layer spans
    # -217 .. -217 + 6*32 + 435.
    assert covered == [[-3, 226], [-217, 410], [0, 10]]


def test_js_layer_labels_name_the_field_and_stay_short(run_js):
    """The layer menu shows name, r and j of every layer, in at most 40 characters (about
    290 px of 12 px monospace), so no entry of ResNet-18 is clipped in the book's column."""
    table = ModelReceptiveField("resnet18").layers
    odd = [{**table[0], "size_w": 5, "stride_w": 3}]
    labels = run_js(
        "model_receptive_field",
        f"console.log(JSON.stringify({json.dumps(table + odd)}.map(w.layerLabel)));",
    )
    for i, (row, label) in enumerate(zip(table, labels[:-1], strict=True)):
        assert label == f"{i}: {row['name']}  r={row['size_h']} j={row['stride_h']}"
        assert len(label) <= 40, label
    assert labels[-1].endswith(f"r={table[0]['size_h']}×5 j={table[0]['stride_h']}×3")


def test_js_flags_a_missing_layer(run_js):
    reasons = run_js(
        "model_receptive_field",
        "console.log(JSON.stringify([w.invalidReason(undefined, 224), "
        "w.invalidReason({name: 'x', size_h: 3, size_w: 3, stride_h: 1, stride_w: 1, "
        "out_h: 0, out_w: 4}, 224), "
        "w.invalidReason({name: 'x', size_h: 3, size_w: 3, stride_h: 1, stride_w: 1, "
        "out_h: 2, out_w: 4}, 224)]));",
    )
    assert reasons[0] and "out_h" in reasons[1] and reasons[2] == ""


# --- Against an independent measurement: where the input gradient reaches -----------


def positive_stack() -> nn.Sequential:
    """Convolutions and average pooling with positive weights.

    With them the gradient fills the whole field.
    """
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.Conv2d(2, 2, 3, stride=2, padding=2, dilation=2),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.Conv2d(2, 2, 3),
        nn.Conv2d(2, 1, (3, 1), stride=(1, 2), padding=(1, 0)),
    )
    torch.manual_seed(0)
    for module in model:
        if isinstance(module, nn.Conv2d):
            nn.init.uniform_(module.weight, 0.1, 1.0)
    return model


def test_drawn_field_is_where_the_input_gradient_reaches(run_js):
    n = 33
    model = positive_stack()
    w = ModelReceptiveField(model, image_size=n)
    # Hand-derived (Distill recurrences): sizes 3, 7, 11, 19 and 27x19, strides 1, 2, 4, 4 and 4x8.
    assert [(r["size_h"], r["size_w"], r["stride_h"], r["stride_w"]) for r in w.layers] == [
        (3, 3, 1, 1), (7, 7, 2, 2), (11, 11, 4, 4), (19, 19, 4, 4), (27, 19, 4, 8),
    ]  # fmt: skip
    cases = []
    for index, row in enumerate(w.layers):
        units = {(u, v) for u in range(row["out_h"]) for v in range(row["out_w"])}
        cases += [[index, u, v] for u, v in sorted(units)]
    layers = w.layers
    drawn = run_js(
        "model_receptive_field",
        f"const layers = {json.dumps(layers)};\n"
        f"console.log(JSON.stringify({json.dumps(cases)}"
        ".map(([i, u, v]) => { const l = layers[i];\n"
        f"  return [w.clipSpan(w.fieldSpan(u, l.start_h, l.stride_h, l.size_h), {n}),\n"
        f"          w.clipSpan(w.fieldSpan(v, l.start_w, l.stride_w, l.size_w), {n})]; }})));",
    )
    assert len(cases) > 1000
    x = torch.ones(1, 1, n, n, requires_grad=True)
    outputs = [x]
    for module in model:
        outputs.append(module(outputs[-1]))
    for (index, u, v), (rows, cols) in zip(cases, drawn, strict=True):
        (grad,) = torch.autograd.grad(outputs[index + 1][0, 0, u, v], x, retain_graph=True)
        reached = {tuple(p) for p in (grad[0, 0] != 0).nonzero().tolist()}
        expected = {
            (a, b) for a in range(rows[0], rows[1] + 1) for b in range(cols[0], cols[1] + 1)
        }
        assert reached == expected, (layers[index]["name"], u, v)


# --- Python side ----------------------------------------------------------------------


def test_photo_is_the_image_size(widgets):
    w = widgets["lenet5"]
    header, data = w.image_url.split(",", 1)
    assert header == "data:image/png;base64"
    photo = Image.open(io.BytesIO(base64.b64decode(data)))
    assert photo.size == (28, 28) and photo.mode == "RGB"  # RGB even for a one-channel model
    before = w.image_url
    w.image = "coffee"
    assert w.image_url != before and w.image_url.startswith("data:image/png;base64,")
    with pytest.raises(ValueError, match="image must be one of"):
        w.image = "lena"
    assert w.image == "coffee"
    w.image = "astronaut"
    assert set(IMAGES) == {"astronaut", "coffee", "chelsea"}


def test_field_property_reports_the_drawn_rectangle():
    w = ModelReceptiveField("resnet18", layer="conv1", unit=[0, 5])
    assert w.layers[w.layer]["name"] == "conv1"
    # Unit 0 starts 3 pixels into the padding; unit 5 starts 5*2 pixels further.
    assert w.field == (-3, -3 + 10, -3 + 6, -3 + 10 + 6)
    w.unit = [500, -4]  # the widget clamps to the 112x112 map
    assert w.selected_unit == (111, 0)
    assert w.field == (-3 + 222, -3, -3 + 222 + 6, 3)
    lenet = ModelReceptiveField("lenet5", layer=-2)
    assert lenet.layer == len(lenet.layers) - 2
    assert {"layers", "layer", "unit", "image_url", "image", "image_size", "model_name"} <= set(
        w.keys
    )


class Upsampler(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.up = nn.Upsample(scale_factor=2)
        self.head = nn.Conv2d(4, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.up(self.conv(x)))


def test_validation_errors():
    with pytest.raises(ValueError, match="image must be one of .*'astronaut'.*got 'lena'"):
        ModelReceptiveField("lenet5", image="lena")
    with pytest.raises(ValueError, match="image_size must be between 8 and 512, got 4"):
        ModelReceptiveField("resnet18", image_size=4)
    with pytest.raises(ValueError, match="image_size must be between 8 and 512, got 1000"):
        ModelReceptiveField("resnet18", image_size=1000)
    with pytest.raises(TypeError, match="image_size must be an int"):
        ModelReceptiveField("resnet18", image_size=224.0)
    with pytest.raises(ValueError, match="does not accept an input of shape \\(1, 1, 64, 64\\)"):
        ModelReceptiveField("lenet5", image_size=64)  # its classifier expects 28x28
    with pytest.raises(
        ValueError, match="cannot show the receptive fields of Upsampler: .*cannot follow"
    ):
        ModelReceptiveField(Upsampler(), image_size=32)
    with pytest.raises(ValueError, match="unknown model name 'resnet9000'"):
        ModelReceptiveField("resnet9000")
    with pytest.raises(
        TypeError, match="model must be a model name \\(str\\) or a torch.nn.Module, got 42"
    ):
        ModelReceptiveField(42)
    with pytest.raises(ValueError, match="layer 'fc' is not one of the layers shown"):
        ModelReceptiveField("lenet5", layer="fc")
    with pytest.raises(ValueError, match="layer must be between 0 and 5, got 6"):
        ModelReceptiveField("lenet5", layer=6)
    with pytest.raises(
        ValueError, match="unit must lie on the 28x28 feature map of features.c1, got \\(28, 0\\)"
    ):
        ModelReceptiveField("lenet5", layer="features.c1", unit=(28, 0))
    with pytest.raises(TypeError, match="unit must be a \\(row, col\\) pair of ints"):
        ModelReceptiveField("lenet5", unit=(1.5, 0))
    with pytest.raises(ValueError, match="cannot tell how many input channels"):
        ModelReceptiveField(nn.Sequential(nn.AvgPool2d(2)), image_size=16)


def test_js_render_does_not_shadow_the_exported_helpers():
    """A local variable named like an exported helper (e.g. ``const layerLabel = ...``
    inside ``render``) hides the helper there and leaves the layer menu empty."""
    source = (WIDGETS / "model_receptive_field.js").read_text()
    exported = re.findall(r"^export function (\w+)", source, flags=re.M)
    assert "layerLabel" in exported
    for name in exported:
        assert not re.search(rf"\b(?:const|let|var)\s+{name}\b", source), name
