"""Figures of the MobileNet v1 chapter: a convolution beside its separable
replacement, and measured latency against MACs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import nn

from cnnlib.plot._diagram import Diagram

__all__ = ["layer_label", "block_pair", "latency_vs_macs"]

_COLOURS = {"conv": "#8fb8e0", "dw": "#f6d776", "BatchNorm2d": "#d9d9d9", "act": "#b9e0a5"}
_BOX_W, _BOX_H, _STEP = 2.0, 0.5, 0.75


def layer_label(module: nn.Module) -> str:
    """A box label: ``"3x3 depthwise\\n32→32"``, ``"1x1 conv\\n32→64"``, ``"BN"``, ``"ReLU"``.

    Raises:
        TypeError: ``module`` is not an ``nn.Module``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"layer_label: module must be an nn.Module, got {type(module).__name__}")
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        depthwise = module.groups > 1 and module.groups == module.in_channels
        kind = "depthwise" if depthwise else "conv"
        if module.groups > 1 and not depthwise:
            kind = f"conv, g={module.groups}"
        return f"{kh}x{kw} {kind}\n{module.in_channels}→{module.out_channels}"
    if isinstance(module, nn.BatchNorm2d):
        return "BN"
    return type(module).__name__


def _colour(module: nn.Module) -> str:
    if isinstance(module, nn.Conv2d):
        return _COLOURS["dw" if module.groups > 1 else "conv"]
    return _COLOURS.get(type(module).__name__, _COLOURS["act"])


def block_pair(
    blocks: Mapping[str, nn.Module], *, notes: Mapping[str, str] | None = None
) -> Figure:
    """Draw blocks side by side, one box per leaf layer, top to bottom.

    Each panel shows the input, then every leaf module of the block in order
    (labelled by :func:`layer_label`), then the output, joined by arrows.

    Args:
        blocks: panel title → block (e.g. a standard convolution and its
            depthwise separable replacement).
        notes: panel title → a line written under the panel (e.g. its MACs).

    Returns:
        The figure, one axis per block.

    Raises:
        ValueError: ``blocks`` is empty, or ``notes`` names a panel that is not
            in ``blocks``.
        TypeError: a block is not an ``nn.Module``.
    """
    if not blocks:
        raise ValueError("block_pair: blocks must name at least one block")
    notes = dict(notes or {})
    unknown = set(notes) - set(blocks)
    if unknown:
        raise ValueError(f"block_pair: notes names panels not in blocks: {sorted(unknown)}")
    layers = {}
    for title, block in blocks.items():
        if not isinstance(block, nn.Module):
            raise TypeError(f"block_pair: block {title!r} must be an nn.Module")
        layers[title] = [m for m in block.modules() if not list(m.children())]
    rows = max(len(ls) for ls in layers.values()) + 2
    fig, axes = plt.subplots(1, len(blocks), figsize=(2.6 * len(blocks), 0.5 + 0.52 * rows))
    axes = [axes] if len(blocks) == 1 else list(axes)
    for ax, (title, leaves) in zip(axes, layers.items(), strict=True):
        d = Diagram(ax, fontsize=8.5, linewidth=0.7)
        first = next((m for m in leaves if isinstance(m, nn.Conv2d)), None)
        last = next((m for m in reversed(leaves) if isinstance(m, nn.Conv2d)), None)
        ins = f"input: {first.in_channels} ch" if first else "input"
        outs = f"output: {last.out_channels} ch" if last else "output"
        texts = [ins, *(layer_label(m) for m in leaves), outs]
        colours = ["white", *(_colour(m) for m in leaves), "white"]
        for i, (text, colour) in enumerate(zip(texts, colours, strict=True)):
            y = -i * _STEP
            d.box(0, y, _BOX_W, _BOX_H, text, colour)
            if i:
                d.arrow([(0, y + _STEP - _BOX_H / 2), (0, y + _BOX_H / 2)])
        bottom = -(rows - 1) * _STEP - _BOX_H
        if title in notes:
            ax.text(0, bottom - 0.05, notes[title], ha="center", va="top", fontsize=8.5)
        d.finish((-1.3, 1.3), (bottom - 0.45, _BOX_H), title=title)
    fig.tight_layout()
    return fig


def latency_vs_macs(
    series: Mapping[str, Sequence[tuple[float, float, str]]],
    *,
    proportional: bool = True,
    title: str | None = None,
) -> Figure:
    """Measured latency against MACs on log-log axes, one marked line per series.

    Args:
        series: name → points ``(MACs, seconds, label)``; each point is
            annotated with its label (``""`` for none).
        proportional: also draw, per series, a dashed line through its point
            with the most MACs along which time would be proportional to MACs.
        title: the figure title.

    Returns:
        The figure.

    Raises:
        ValueError: ``series`` is empty, a series has no points, or a MAC count
            or time is not positive.
    """
    if not series:
        raise ValueError("latency_vs_macs: series must hold at least one series")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (name, points) in enumerate(series.items()):
        if not points:
            raise ValueError(f"latency_vs_macs: series {name!r} has no points")
        if any(macs <= 0 or seconds <= 0 for macs, seconds, _ in points):
            raise ValueError(f"latency_vs_macs: series {name!r} needs positive MACs and times")
        ordered = sorted(points)
        xs = [p[0] for p in ordered]
        ys = [p[1] * 1e3 for p in ordered]
        colour = f"C{i}"
        ax.plot(xs, ys, "o-", color=colour, label=name)
        for x, y, (_, _, label) in zip(xs, ys, ordered, strict=True):
            if label:
                offset = (5, -11) if i % 2 == 0 else (-6, 5)  # series apart
                ax.annotate(label, (x, y), textcoords="offset points", xytext=offset,
                            ha="left" if i % 2 == 0 else "right", fontsize=8,
                            color=colour)  # fmt: skip
        if proportional and len(ordered) > 1:
            x_max, y_max = xs[-1], ys[-1]
            ax.plot([xs[0], x_max], [y_max * xs[0] / x_max, y_max], "--", color=colour,
                    linewidth=0.8, alpha=0.7)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, top * 1.3)  # headroom for the labels at the top
    ax.set_xlabel("MACs per forward pass")
    ax.set_ylabel("median latency (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
