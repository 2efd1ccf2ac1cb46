"""The widgets in the built book: they render and respond in headless Chromium with the
network cut off, exactly as cnnlib.analysis computes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

from cnnlib import analysis
from cnnlib.models import get_model
from cnnlib.widgets import ModelReceptiveField

pytestmark = [pytest.mark.book, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve().parent / "browser" / "drive_widgets.mjs"


# --- The built book, in headless Chromium, with the network cut off -----------------

# Console messages of the book theme that are not about widgets.
THEME_NOISE = ("THEBE_JS_URL", "invalid theme mode")


def drive(page: Path, plan: list[dict], tmp_path: Path, shots: Path | None = None) -> dict:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    args = ["node", str(DRIVER), page.as_uri(), str(plan_file)] + ([str(shots)] if shots else [])
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def conv_taps(row: int, col: int, k: int, s: int, p: int, d: int) -> set[tuple[int, int]]:
    """Input pixels (padding included) read by output (row, col).

    Taken from the convolution's definition.
    """
    return {(row * s - p + a * d, col * s - p + b * d) for a in range(k) for b in range(k)}


CHAPTER_WIDGETS = {
    "cnnlib-conv-arithmetic": 1,
    "cnnlib-grouped-conv": 1,
    "cnnlib-dilated-stack": 1,
    "cnnlib-model-receptive-field": 1,
}
# The layer of ResNet-18 the browser test selects in ModelReceptiveField.
RF_LAYER = "layer2.0.conv1"


def rf_layer_index() -> int:
    """The option value of RF_LAYER in the widget's layer menu (the widget's own table)."""
    names = [row["name"] for row in ModelReceptiveField("resnet18").layers]
    return names.index(RF_LAYER)


def conv_plan() -> list[dict]:
    widget = "cnnlib-conv-arithmetic"
    return [
        {"widget": widget, "read": {"size": ".output-size"}, "count": {"outputs": ".output-cell"}},
        {
            "widget": widget,
            "set": {"dilation": 2},
            "read": {"size": ".output-size"},
            "count": {"outputs": ".output-cell"},
        },
        {
            "widget": widget,
            "hover": '.output-cell[data-row="1"][data-col="2"]',
            "attributes": {
                "rows": [".tap", "data-row"],
                "cols": [".tap", "data-col"],
                "selected": [".selected", "data-row"],
            },
            "screenshot": "conv_arithmetic.png",
        },
        {
            "widget": widget,
            "set": {"size": 2, "dilation": 4},
            "read": {"invalid": ".invalid"},
            "count": {"outputs": ".output-cell"},
        },
    ]


def grouped_plan() -> list[dict]:
    widget = "cnnlib-grouped-conv"
    read = {"params": ".param-count", "macs": ".mac-count", "mixed": ".mixed-outputs"}
    count = {
        "connected": ".matrix-cell.connected",
        "edges": "line.edge",
        "options": 'select[data-param="groups"] option',
    }
    return [
        {"widget": widget, "read": read, "count": count},
        {"widget": widget, "select": {"groups": 16}, "read": read, "count": count},
        {
            "widget": widget,
            "select": {"groups": 4},
            "set": {"shuffle": True},
            "read": read,
            "count": count,
            "screenshot": "grouped_conv.png",
        },
        {"widget": widget, "set": {"in_channels": 12}, "read": read, "count": count},
    ]


def dilated_plan() -> list[dict]:
    widget = "cnnlib-dilated-stack"
    read = {"sizes": ".rf-size", "read": ".pixels-read", "holes": ".holes"}
    count = {"read": "rect.read", "hole": "rect.hole"}
    return [
        {
            "widget": widget,
            "read": read,
            "count": count,
            "screenshot": "dilated_stack_gridding.png",
        },
        {
            "widget": widget,
            "click": 'button[data-param="preset-hybrid"]',
            "read": read,
            "count": count,
            "screenshot": "dilated_stack_hybrid.png",
        },
        {"widget": widget, "set": {"dilation-2": 3}, "read": read, "count": count},
        {
            "widget": widget,
            "set": {"kernel-0": 9},
            "read": {**read, "invalid": ".invalid"},
            "count": count,
        },
    ]


def field_plan(layer_index: int) -> list[dict]:
    widget = "cnnlib-model-receptive-field"
    read = {
        "layer": ".layer-name",
        "size": ".rf-size-h",
        "stride": ".rf-stride-h",
        "row": ".unit-row",
        "col": ".unit-col",
        "top": ".rf-top",
        "left": ".rf-left",
    }
    return [
        {"widget": widget, "read": read, "count": {"outline": ".field-outline"}},
        {
            "widget": widget,
            "select": {"layer": layer_index},
            "read": read,
            "count": {"outline": ".field-outline"},
        },
        {
            "widget": widget,
            "set": {"unit-row": 3, "unit-col": 5},
            "read": read,
            "count": {"outline": ".field-outline"},
        },
        {
            "widget": widget,
            "click": ".photo",
            "force": True,
            "read": read,
            "count": {"outline": ".field-outline"},
            "screenshot": "model_receptive_field.png",
        },
    ]


@pytest.fixture(scope="module")
def chapter01(built_book, tmp_path_factory, request):
    html, result = built_book
    assert result.returncode == 0, result.stdout[-3000:]
    page = html / "chapters" / "01_conv_arithmetic.html"
    plans = {
        "conv": conv_plan(),
        "grouped": grouped_plan(),
        "dilated": dilated_plan(),
        "field": field_plan(rf_layer_index()),
    }
    plan = [step for steps in plans.values() for step in steps]
    # CNNLIB_SCREENSHOTS=<folder> keeps the screenshots for a person to look at.
    shots = Path(os.environ.get("CNNLIB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    report = drive(page, plan, tmp_path_factory.mktemp("plan"), shots)
    steps = iter(report["steps"])
    report["by_widget"] = {
        name: [next(steps) for _ in plan_steps] for name, plan_steps in plans.items()
    }
    report["shots"] = shots
    return report


def test_widgets_render_offline_without_errors(chapter01):
    assert chapter01["blocked"] == [], "the page tried to reach the network"
    assert chapter01["missing"] == [], "the page refers to files the build did not produce"
    errors = [e for e in chapter01["errors"] if not any(noise in e for noise in THEME_NOISE)]
    assert errors == []
    assert chapter01["error_boxes"] == []
    assert chapter01["widgets"] == CHAPTER_WIDGETS
    for name in (
        "conv_arithmetic",
        "grouped_conv",
        "dilated_stack_gridding",
        "dilated_stack_hybrid",
        "model_receptive_field",
    ):
        shot = chapter01["shots"] / f"{name}.png"
        assert shot.stat().st_size > 5000, f"{shot} is (nearly) blank"


def test_conv_arithmetic_responds_like_cnnlib(chapter01):
    start, dilated, hovered, invalid = chapter01["by_widget"]["conv"]
    # The chapter creates ConvArithmetic(size=7, kernel_size=3, stride=2, padding=1).
    size = analysis.conv_output_size(7, 3, 2, 1, 1)
    assert start["read"]["size"] == [str(size)] and start["count"]["outputs"] == size * size
    size = analysis.conv_output_size(7, 3, 2, 1, 2)
    assert dilated["read"]["size"] == [str(size)] and dilated["count"]["outputs"] == size * size
    drawn = set(
        zip(
            map(int, hovered["attributes"]["rows"]),
            map(int, hovered["attributes"]["cols"]),
            strict=True,
        )
    )
    assert hovered["attributes"]["selected"] == ["1"]
    assert drawn == conv_taps(1, 2, 3, 2, 1, 2)
    with pytest.raises(ValueError):
        analysis.conv_output_size(2, 3, 2, 1, 4)
    assert invalid["read"]["invalid"] and invalid["count"]["outputs"] == 0


def outputs_seeing_all_groups(channels: int, groups: int, shuffle: bool) -> int:
    """How many outputs of conv → (shuffle) → conv have a gradient reaching every input group.

    Both convolutions are grouped.
    """
    from cnnlib.layers import channel_shuffle

    convs = [torch.nn.Conv2d(channels, channels, 1, groups=groups, bias=False) for _ in range(2)]
    for conv in convs:
        torch.nn.init.ones_(conv.weight)
    mixed = 0
    for o in range(channels):
        x = torch.ones(1, channels, 1, 1, requires_grad=True)
        y = convs[0](x)
        convs[1](channel_shuffle(y, groups) if shuffle else y)[0, o].sum().backward()
        reached = {
            i // (channels // groups) for i in x.grad[0, :, 0, 0].nonzero().flatten().tolist()
        }
        mixed += len(reached) == groups
    return mixed


def test_grouped_conv_responds_like_cnnlib(chapter01):
    start, depthwise, shuffled, fewer_inputs = chapter01["by_widget"]["grouped"]
    # The chapter creates GroupedConv(in_channels=16, out_channels=16, groups=4, kernel_size=3,
    # output_size=14).
    for step, c_in, g, shuffle in [
        (start, 16, 4, False),
        (depthwise, 16, 16, False),
        (shuffled, 16, 4, True),
    ]:
        conv = torch.nn.Conv2d(c_in, 16, 3, groups=g, bias=False)
        assert step["read"]["params"] == [str(conv.weight.numel())]
        assert step["read"]["params"] == [
            str(analysis.conv_params(c_in, 16, 3, groups=g, bias=False))
        ]
        assert step["read"]["macs"] == [str(analysis.conv_macs(c_in, 16, 3, 14, groups=g))]
        assert step["count"]["connected"] == step["count"]["edges"] == c_in * 16 // g
        assert step["read"]["mixed"] == [str(outputs_seeing_all_groups(16, g, shuffle))]
    assert start["read"]["mixed"] == ["0"] and shuffled["read"]["mixed"] == ["16"]
    # 12 input channels: the groups offered are the common divisors of 12 and 16, 4 stays valid.
    assert fewer_inputs["count"]["options"] == 3  # 1, 2, 4
    assert fewer_inputs["read"]["params"] == [
        str(analysis.conv_params(12, 16, 3, groups=4, bias=False))
    ]


def stack_read(dilations: list[int], kernels: list[int]) -> tuple[list[int], int]:
    """Field sizes by cnnlib.analysis and the pixels one output reads, by autograd."""
    model = torch.nn.Sequential(
        *(
            torch.nn.Conv2d(1, 1, k, dilation=d, bias=False)
            for k, d in zip(kernels, dilations, strict=True)
        )
    )
    for conv in model:
        torch.nn.init.ones_(conv.weight)
    sizes = [row.size[0] for row in analysis.receptive_field(model, (1, 1, 64, 64)).rows]
    x = torch.ones(1, 1, sizes[-1], sizes[-1], requires_grad=True)
    model(x)[0, 0, 0, 0].backward()
    return sizes, int((x.grad != 0).sum())


def test_dilated_stack_responds_like_cnnlib(chapter01):
    gridding, hybrid, edited, invalid = chapter01["by_widget"]["dilated"]
    for step, dilations in [(gridding, [2, 2, 2]), (hybrid, [1, 2, 5]), (edited, [1, 2, 3])]:
        sizes, read = stack_read(dilations, [3, 3, 3])
        assert step["read"]["sizes"] == [str(s) for s in sizes]
        assert step["read"]["read"] == [str(read)] and step["count"]["read"] == read
        holes = sizes[-1] ** 2 - read
        assert step["read"]["holes"] == [str(holes)] and step["count"]["hole"] == holes
    assert gridding["read"]["holes"] != ["0"] and hybrid["read"]["holes"] == ["0"]
    # A kernel of 9 is outside the widget's range (1..7): flagged, nothing drawn.
    assert invalid["read"]["invalid"] and invalid["count"]["read"] == 0


def test_model_receptive_field_responds_like_cnnlib(chapter01):
    from cnnlib.widgets.model_receptive_field import unit_at

    start, selected, chosen, clicked = chapter01["by_widget"]["field"]
    field = analysis.receptive_field(get_model("resnet18"), (1, 3, 224, 224))
    rows = {row.name: row for row in field.rows}
    assert start["read"]["layer"] == [field.layer]
    assert start["read"]["size"] == [str(field.size)] and start["read"]["stride"] == [
        str(field.stride)
    ]
    row = rows[RF_LAYER]
    size, stride, padding = row.size[0], row.effective_stride[0], row.effective_padding[0]
    # By hand for layer2.0.conv1 (conv1 7/2, max-pool 3/2, four 3x3 convs, then this 3x3 stride 2):
    assert (size, stride) == (1 + 6 + 2 * 2 + 4 * 2 * 4 + 2 * 4, 8)
    assert selected["read"]["layer"] == chosen["read"]["layer"] == [RF_LAYER]
    assert selected["read"]["size"] == [str(size)]
    assert chosen["read"]["size"] == [str(size)] and chosen["read"]["stride"] == [str(stride)]
    assert chosen["read"]["row"] == ["3"] and chosen["read"]["col"] == ["5"]
    assert chosen["read"]["top"] == [str(3 * stride - padding)]
    assert chosen["read"]["left"] == [str(5 * stride - padding)]
    # A click in the middle of the 224-pixel photo (pixel 111.5) picks the unit whose field
    # centre is nearest: (u·j − p_eff) + (r − 1)/2 closest to 111.5.
    units = 224
    for k, s, p in [(7, 2, 3), (3, 2, 1), (3, 2, 1)]:  # conv1, max-pool, layer2.0.conv1
        units = analysis.conv_output_size(units, k, s, p)
    axis = analysis.AxisField(size=size, stride=stride, start=-padding)
    expected = unit_at(111.5, axis, units)
    assert (
        min(range(units), key=lambda u: abs(u * stride - padding + (size - 1) / 2 - 111.5))
        == expected
    )
    assert clicked["read"]["row"] == [str(expected)] and clicked["read"]["col"] == [str(expected)]
    assert clicked["count"]["outline"] == 1
