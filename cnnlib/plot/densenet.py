"""Figures of the DenseNet chapter: one dense block's connections and channel growth."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlib._checks import positive_int
from cnnlib.plot._diagram import Diagram

__all__ = ["dense_block"]


def dense_block(layer_inputs: Sequence[int], growth_rate: int) -> Figure:
    """A dense block's concatenations (left) and the channels each layer reads (right).

    Left: the block's input ``x0`` and its layers ``H1 … HL`` as boxes; every
    feature map runs along its own coloured line and enters, by one arrow each,
    every later layer and the block's output (the concatenation the
    transition reads): ``L(L+1)/2`` arrows into layers and ``L + 1`` into the
    output. Right: one stacked bar per layer, the height of each segment the
    channels that one source contributes to the layer's input (``x0``'s
    ``k0``, then ``growth_rate`` per earlier layer), so the bar's height is
    what the layer's first convolution reads.

    Args:
        layer_inputs: the input channels of layers ``1 … L`` of a built block
            (``conv1.in_channels`` of each dense layer), at least one.
        growth_rate: ``k``, the channels each layer adds.

    Raises:
        ValueError: ``layer_inputs`` is empty or holds something other than
            positive ints, ``growth_rate`` is not a positive int, or the
            inputs do not grow by ``growth_rate`` per layer.
    """
    positive_int("dense_block", "growth_rate", growth_rate)
    inputs = list(layer_inputs)
    if not inputs:
        raise ValueError("dense_block: layer_inputs must not be empty")
    for value in inputs:
        positive_int("dense_block", "layer_inputs", value)
    k0 = inputs[0]
    if any(c != k0 + growth_rate * j for j, c in enumerate(inputs)):
        raise ValueError(
            f"dense_block: layer_inputs must grow by growth_rate={growth_rate} per layer, "
            f"got {inputs}"
        )
    layers = len(inputs)
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(layers + 1)]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [1.7, 1]}
    )
    d = Diagram(left, fontsize=8)
    step, width = 2.0, 1.3
    names = ["x0", *[f"H{j}" for j in range(1, layers + 1)], "concat"]
    for i, name in enumerate(names):
        label = name if i else f"x0\n{k0} ch"
        if 0 < i <= layers:
            label = f"{name}\nreads {inputs[i - 1]}"
        elif i > layers:
            label = f"concat\n{k0 + layers * growth_rate} ch"
        d.box(i * step, 0, width, 0.9, label, "white" if i > layers else "0.9")
    for source in range(layers + 1):
        height = 0.8 + 0.35 * (layers - source)
        x0 = source * step + 0.2
        xs = [
            t * step - 0.45 + 0.9 * source / max(layers, 1) for t in range(source + 1, layers + 2)
        ]
        d.line([(x0, 0.45), (x0, height), (xs[-1], height)], colour=colours[source])
        for x in xs:
            d.arrow([(x, height), (x, 0.45)], colour=colours[source])
    d.finish((-1, (layers + 1) * step + 1), (-0.8, 1.2 + 0.35 * layers),
             title="every layer reads all earlier feature maps")  # fmt: skip
    for j in range(layers):
        bottom = 0
        for source in range(j + 1):
            height = k0 if source == 0 else growth_rate
            right.bar(j + 1, height, bottom=bottom, color=colours[source], edgecolor="white")
            bottom += height
    right.set_xticks(range(1, layers + 1), [f"H{j}" for j in range(1, layers + 1)])
    right.set_ylabel("input channels")
    right.set_title(f"k0 = {k0}, k = {growth_rate}: k0 + k(l - 1)", fontsize=9)
    fig.tight_layout()
    return fig
