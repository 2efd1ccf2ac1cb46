"""cnnlib.compare: the closing chapter's table and Pareto fronts, against independent counts."""

from __future__ import annotations

import itertools
import random

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import analysis, compare
from cnnlib.models import get_model, list_models, model_info


def test_imagenet_models_are_exactly_the_224_and_299_pixel_entries():
    names = compare.imagenet_models()
    assert names == sorted(names)
    for name in list_models():
        side = model_info(name).image_shape[1]
        assert (name in names) == (side in (224, 299)), name
    assert {"resnet18", "inception_v3", "xception"} <= set(names)
    assert not {"lenet5", "wrn_28_10", "nin"} & set(names)


def test_a_row_agrees_with_torch_and_the_flop_counter():
    row = compare.measure_model("alexnet")
    model = get_model("alexnet")
    assert row.params == sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 224, 224))
    assert row.macs == counter.get_total_flops() // 2
    assert row.flops == 2 * row.macs
    # Counted on the meta device, the memory traffic equals that of the real model.
    assert row.memory_access == analysis.memory_access_cost(model, (1, 3, 224, 224)).total
    assert row.image_shape == (3, 224, 224) and row.latency is None


def test_receptive_field_of_vgg11_by_hand():
    # conv, pool, conv, pool, 2 conv, pool, 2 conv, pool, 2 conv, pool; 3x3 convs, 2x2 pools.
    layers = [3, 2, 3, 2, 3, 3, 2, 3, 3, 2, 3, 3, 2]
    field, jump = 1, 1
    for k in layers:
        field += (k - 1) * jump
        jump *= 2 if k == 2 else 1
    assert field == 150
    assert compare.measure_model("vgg11").receptive_field == field


def test_builder_arguments_and_image_shape_reach_the_model():
    kwargs = dict(num_classes=10, in_channels=1, small_input=True, width_multiplier=0.25)
    row = compare.measure_model("resnet18", image_shape=(1, 28, 28), **kwargs)
    model = get_model("resnet18", **kwargs)
    assert row.params == sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, 28, 28))
    assert row.macs == counter.get_total_flops() // 2
    assert row.image_shape == (1, 28, 28)


def test_latency_is_measured_on_the_requested_device_and_shape():
    row = compare.measure_model(
        "shufflenet_v2_x0_5", latency_shape=(3, 64, 64), device="cpu", min_run_time=0.01,
        threads=1,
    )  # fmt: skip
    assert row.latency is not None and 0 < row.latency < 5
    assert row.latency_shape == (3, 64, 64) and row.device == "cpu"
    # The counts stay those of the native image.
    assert row.image_shape == (3, 224, 224)


def test_measure_model_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown model"):
        compare.measure_model("resnet_9000")
    with pytest.raises(ValueError, match="image_shape"):
        compare.measure_model("resnet18", image_shape=(3, 224))
    with pytest.raises(TypeError, match="latency_shape"):
        compare.measure_model("resnet18", latency_shape="3x224x224")
    with pytest.raises(ValueError, match="min_run_time"):
        compare.measure_model("resnet18", min_run_time=0)
    with pytest.raises(ValueError, match="threads"):
        compare.measure_model("resnet18", threads=0)


def test_compare_models_keeps_the_order_and_checks_names():
    rows = compare.compare_models(["mobilenet_v1", "alexnet"], latency=False)
    assert [r.name for r in rows] == ["mobilenet_v1", "alexnet"]
    assert all(r.latency is None for r in rows)
    with pytest.raises(ValueError, match="repeat"):
        compare.compare_models(["alexnet", "alexnet"], latency=False)
    with pytest.raises(ValueError, match="empty"):
        compare.compare_models([], latency=False)
    with pytest.raises(TypeError, match="names"):
        compare.compare_models("alexnet", latency=False)
    with pytest.raises(TypeError, match="latency"):
        compare.compare_models(["alexnet"], latency=1)


def _brute_force(points, maximise):
    sign = [-1 if m else 1 for m in maximise]
    costs = [[s * v for s, v in zip(sign, p, strict=True)] for p in points]

    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b, strict=True)) and any(
            x < y for x, y in zip(a, b, strict=True)
        )

    return [i for i, c in enumerate(costs) if not any(dominates(d, c) for d in costs)]


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("seed", range(20))
def test_pareto_front_matches_a_brute_force_check(dims, seed):
    rng = random.Random(seed)
    n = rng.randint(1, 30)
    # Small integer coordinates, so that ties occur often.
    points = [tuple(rng.randint(0, 6) for _ in range(dims)) for _ in range(n)]
    for maximise in itertools.product([False, True], repeat=dims):
        expected = _brute_force(points, maximise)
        assert compare.pareto_front(points, maximise=maximise) == expected


def test_pareto_front_hand_cases():
    assert compare.pareto_front([]) == []
    assert compare.pareto_front([(1, 1), (1, 1)]) == [0, 1]  # equal points both stay
    assert compare.pareto_front([(1, 2), (2, 1), (2, 2)]) == [0, 1]
    assert compare.pareto_front([(1, 1), (1, 2)]) == [0]  # a tie in x, better in y
    assert compare.pareto_front([(1, 1), (1, 2)], maximise=(False, True)) == [1]
    # Cheaper and more accurate wins; a costlier, less accurate model is dominated.
    macs_accuracy = [(1.0, 0.7), (2.0, 0.9), (3.0, 0.8), (0.5, 0.6)]
    assert compare.pareto_front(macs_accuracy, maximise=(False, True)) == [0, 1, 3]


def test_pareto_front_rejects_bad_points():
    with pytest.raises(TypeError, match="points"):
        compare.pareto_front("12")
    with pytest.raises(TypeError, match="real numbers"):
        compare.pareto_front([(1, "a")])
    with pytest.raises(ValueError, match="finite"):
        compare.pareto_front([(1, float("nan"))])
    with pytest.raises(ValueError, match="same length"):
        compare.pareto_front([(1, 2), (1, 2, 3)])
    with pytest.raises(ValueError, match="maximise"):
        compare.pareto_front([(1, 2)], maximise=(True,))
    with pytest.raises(TypeError, match="maximise"):
        compare.pareto_front([(1, 2)], maximise=(1, 0))


def test_latency_macs_are_counted_at_the_timed_shape_with_the_timing_stats():
    row = compare.measure_model(
        "shufflenet_v2_x0_5", latency_shape=(3, 64, 64), device="cpu",
        min_run_time=0.01, threads=1, clock="thread_cpu",
    )  # fmt: skip
    with torch.device("meta"):
        model = get_model("shufflenet_v2_x0_5")
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 64, 64, device="meta"))
    assert row.latency_macs == counter.get_total_flops() // 2 < row.macs
    assert row.clock == "thread_cpu" and row.latency_measurements >= 1
    assert row.latency_iqr >= 0
    with pytest.raises(ValueError, match="clock"):
        compare.measure_model("resnet18", latency_shape=(3, 32, 32), clock="gpu")


def test_torchvision_top1_reads_the_published_accuracies():
    # torchvision's documentation table: ResNet50_Weights.IMAGENET1K_V1 76.130,
    # IMAGENET1K_V2 80.858, AlexNet 56.522.
    assert compare.torchvision_top1("resnet50") == pytest.approx(76.13)
    assert compare.torchvision_top1("resnet50", "IMAGENET1K_V2") == pytest.approx(80.858)
    assert compare.torchvision_top1("alexnet") == pytest.approx(56.522)
    assert compare.torchvision_top1("xception") is None
    assert compare.torchvision_top1("resnet50", "IMAGENET1K_V9") is None
    with pytest.raises(TypeError, match="name"):
        compare.torchvision_top1(50)
