"""The three equivalent forms of the ResNeXt block (Xie et al., 2017, Figure 3).

Xie, Girshick, Dollár, Tu and He (2017), "Aggregated Residual Transformations
for Deep Neural Networks", show one block drawn three ways. With cardinality
``C``, bottleneck width ``d``, ``in_channels`` inputs and ``out_channels``
outputs:

* **form (a)** — ``C`` parallel paths, each 1x1 (in → d) → 3x3 (d → d) → 1x1
  (d → out); the path outputs are summed.
* **form (b)** — ``C`` paths of 1x1 (in → d) → 3x3 (d → d); their outputs are
  concatenated (``C·d`` channels) and one 1x1 (C·d → out) follows.
* **form (c)** — one 1x1 (in → C·d) → a grouped 3x3 (C·d → C·d, ``groups=C``)
  → 1x1 (C·d → out). This is the form every ResNeXt uses in practice
  (:class:`cnnlib.models.resnet.Bottleneck`).

Where the batch norms go, so that the three forms are *exactly* equivalent —
in eval mode and in train mode, where BN normalises with batch statistics:

* After the first 1x1 and after the 3x3 every form has a BN followed by a ReLU.
  In forms (a) and (b) each path has its own BN of ``d`` channels; in form (c)
  one BN of ``C·d`` channels. BN is per channel, so path ``g``'s BN *is*
  channels ``g·d … (g+1)·d − 1`` of form (c)'s BN: same statistics, same
  affine parameters, same running averages.
* The last 1x1 is followed by one BN on ``out_channels``, with no ReLU: in form
  (c) after ``conv3``, in form (b) after the 1x1 that follows the
  concatenation, and in form (a) **after the sum of the paths** (one BN after
  the aggregation, not one per path). A BN inside each path of form (a) would
  normalise every path's contribution with its own batch statistics, which no
  single BN of form (c) can reproduce in train mode.
* Then the shortcut is added (identity, or a 1x1 projection + BN when
  ``out_channels != in_channels``, the same module in all forms) and a ReLU
  follows.

The sum of the per-path 1x1 convolutions of form (a) equals one 1x1 over the
concatenation whose weight is the per-path weights side by side, and the
concatenated per-path 3x3 convolutions are a grouped convolution; so
:func:`convert` maps any form onto any other without changing a single output.

Parameters: all forms have the same convolution weights,
``C·(in·d + 9·d² + d·out)`` (70,144 for the paper's ``C=32, d=4``,
``in = out = 256``), and the same BN parameters, ``2·(2·C·d + out)``.

**Blocks of depth 2** (the paper's Figure 4, ``depth=2``): each path is a 3x3
(in → d) and a 3x3 (d → out). Concatenating the paths' first convolutions
gives one 3x3 from ``in`` to ``C·d`` channels — dense, since every path reads
every input channel — and summing their second convolutions one 3x3 from
``C·d`` to ``out``: form (c) of a depth-2 block has no grouped convolution at
all. It is a basic block of width ``C·d``, "trivially wide", which is why
ResNeXt needs blocks of depth ≥ 3.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from cnnlib._checks import one_of, positive_int
from cnnlib.layers import conv1x1, conv3x3

__all__ = ["ResNeXtBlock", "convert", "FORMS"]

Form = Literal["a", "b", "c"]
Depth = Literal[2, 3]

#: The block forms of Xie et al. (2017), Figure 3.
FORMS: tuple[Form, ...] = ("a", "b", "c")


def _check_form(func: str, form: object) -> Form:
    if form not in FORMS:
        raise ValueError(f"{func}: form must be 'a', 'b' or 'c', got {form!r}")
    return form  # type: ignore[return-value]


def _layers(
    in_channels: int, width: int, depth: int, groups: int = 1
) -> list[tuple[str, nn.Module]]:
    """The layers before the last convolution: (conv, BN) pairs, ReLU after each BN.

    Depth 3: 1x1 (in → width), 3x3 (width → width, ``groups``); depth 2: 3x3 (in → width).
    """
    if depth == 2:
        return [("conv1", conv3x3(in_channels, width)), ("bn1", nn.BatchNorm2d(width))]
    return [
        ("conv1", conv1x1(in_channels, width)), ("bn1", nn.BatchNorm2d(width)),
        ("conv2", conv3x3(width, width, groups=groups)), ("bn2", nn.BatchNorm2d(width)),
    ]  # fmt: skip


def _last_conv(width: int, out_channels: int, depth: int) -> nn.Conv2d:
    """The block's last convolution: 1x1 at depth 3, 3x3 at depth 2."""
    return conv1x1(width, out_channels) if depth == 3 else conv3x3(width, out_channels)


class _Path(nn.Module):
    """A path of form (a) or (b): its layers with ReLUs [and its last convolution in form (a)]."""

    def __init__(self, in_channels: int, width: int, out_channels: int | None, depth: int) -> None:
        super().__init__()
        for name, module in _layers(in_channels, width, depth):
            self.add_module(name, module)
        self.relu = nn.ReLU(inplace=True)
        self.depth = depth
        last = None if out_channels is None else _last_conv(width, out_channels, depth)
        self.add_module(_names(depth)[0], last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        if self.depth == 3:
            x = self.relu(self.bn2(self.conv2(x)))
        last = getattr(self, _names(self.depth)[0])
        return x if last is None else last(x)


def _names(depth: int) -> tuple[str, str]:
    """(last convolution, output BN) of a block of ``depth``: conv3/bn3 or conv2/bn2."""
    return ("conv3", "bn3") if depth == 3 else ("conv2", "bn2")


class ResNeXtBlock(nn.Module):
    """A ResNeXt block (stride 1) in form ``"a"``, ``"b"`` or ``"c"`` (Xie et al., 2017, Fig. 3).

    Modules, by form, for ``depth=3`` (see the module docstring for why the
    norms sit there):

    * ``"a"``: ``paths[g]`` = ``conv1`` (in → d), ``bn1``, ``conv2`` (3x3, d → d),
      ``bn2``, ``conv3`` (d → out), for ``g < C``; then ``bn3`` on their sum.
    * ``"b"``: ``paths[g]`` = ``conv1``, ``bn1``, ``conv2``, ``bn2``; then
      ``conv3`` (C·d → out) on their concatenation and ``bn3``.
    * ``"c"``: ``conv1`` (in → C·d), ``bn1``, ``conv2`` (3x3, C·d → C·d,
      ``groups=C``), ``bn2``, ``conv3`` (C·d → out), ``bn3`` — the names of
      :class:`cnnlib.models.resnet.Bottleneck`, whose state dict (of a block
      with identity shortcut) loads into it.

    With ``depth=2`` (Figure 4) each path is ``conv1`` (3x3, in → d), ``bn1``
    [, ``conv2`` (3x3, d → out) in form (a)]; form (b) applies ``conv2`` (3x3,
    C·d → out) to the concatenation; form (c) is ``conv1`` (3x3, in → C·d,
    not grouped), ``bn1``, ``conv2`` (3x3, C·d → out); the output BN is ``bn2``.

    Every form ends with: add the shortcut (``nn.Identity`` when ``out_channels
    == in_channels``, else ``shortcut`` = 1x1 conv + BN), then ReLU.

    Args:
        in_channels: input channels.
        cardinality: ``C``, the number of paths (groups of the 3x3 in form (c)).
        bottleneck_width: ``d``, the channels of each path.
        form: ``"a"``, ``"b"`` or ``"c"``.
        out_channels: output channels; ``None`` means ``in_channels``.
        depth: convolutions per path, 3 (the bottleneck, Figure 3) or 2 (Figure 4).

    Raises:
        ValueError: a size is not a positive int, or ``form`` or ``depth`` is not allowed.
    """

    def __init__(
        self,
        in_channels: int,
        cardinality: int,
        bottleneck_width: int,
        form: Form,
        out_channels: int | None = None,
        depth: Depth = 3,
    ) -> None:
        super().__init__()
        positive_int("ResNeXtBlock", "in_channels", in_channels)
        positive_int("ResNeXtBlock", "cardinality", cardinality)
        positive_int("ResNeXtBlock", "bottleneck_width", bottleneck_width)
        _check_form("ResNeXtBlock", form)
        one_of("ResNeXtBlock", "depth", depth, (2, 3))
        if out_channels is None:
            out_channels = in_channels
        positive_int("ResNeXtBlock", "out_channels", out_channels)
        self.in_channels = in_channels
        self.cardinality = cardinality
        self.bottleneck_width = bottleneck_width
        self.form: Form = form
        self.out_channels = out_channels
        self.depth = depth
        width = cardinality * bottleneck_width
        last, norm = _names(depth)

        if form == "c":
            for name, module in _layers(in_channels, width, depth, groups=cardinality):
                self.add_module(name, module)
            self.add_module(last, _last_conv(width, out_channels, depth))
        else:
            path_out = out_channels if form == "a" else None
            self.paths = nn.ModuleList(
                _Path(in_channels, bottleneck_width, path_out, depth) for _ in range(cardinality)
            )
            if form == "b":
                self.add_module(last, _last_conv(width, out_channels, depth))
        self.add_module(norm, nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = (
            nn.Identity()
            if out_channels == in_channels
            else nn.Sequential(conv1x1(in_channels, out_channels), nn.BatchNorm2d(out_channels))
        )

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch before the output BN."""
        if self.form == "a":
            return torch.stack([path(x) for path in self.paths]).sum(dim=0)
        # The convolution after the merge: conv3 (depth 3) or conv2 (depth 2).
        last = self.conv3 if self.depth == 3 else self.conv2
        if self.form == "b":
            return last(torch.cat([path(x) for path in self.paths], dim=1))
        out = self.relu(self.bn1(self.conv1(x)))
        if self.depth == 3:
            out = self.relu(self.bn2(self.conv2(out)))
        return last(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = getattr(self, _names(self.depth)[1])
        return self.relu(norm(self._transform(x)) + self.shortcut(x))

    def extra_repr(self) -> str:
        return (
            f"form={self.form!r}, depth={self.depth}, in_channels={self.in_channels}, "
            f"cardinality={self.cardinality}, bottleneck_width={self.bottleneck_width}, "
            f"out_channels={self.out_channels}"
        )


_BN_STATE = ("weight", "bias", "running_mean", "running_var")
_BN_KEYS = (*_BN_STATE, "num_batches_tracked")


def _copy_state(module: nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    return {prefix + key: value.detach().clone() for key, value in module.state_dict().items()}


def _cat_bn(norms: list[nn.BatchNorm2d], prefix: str) -> dict[str, torch.Tensor]:
    """The state of one BN whose channels are those of ``norms``, one after another."""
    state = {
        prefix + key: torch.cat([getattr(bn, key).detach() for bn in norms]) for key in _BN_STATE
    }
    state[prefix + "num_batches_tracked"] = norms[0].num_batches_tracked.detach().clone()
    return state


def _split_bn(
    state: dict[str, torch.Tensor], prefix: str, parts: int
) -> list[dict[str, torch.Tensor]]:
    """Pop the BN state under ``prefix`` and cut it into ``parts`` equal channel slices."""
    bn = {key: state.pop(prefix + key) for key in _BN_KEYS}
    chunks = {key: bn[key].chunk(parts) for key in _BN_STATE}
    return [
        {**{key: chunks[key][g] for key in _BN_STATE},
         "num_batches_tracked": bn["num_batches_tracked"].clone()}
        for g in range(parts)
    ]  # fmt: skip


def _as_form_c(block: ResNeXtBlock) -> dict[str, torch.Tensor]:
    """The block's state dict written in form (c)'s layout."""
    last, norm = _names(block.depth)
    inner = ["conv1", "bn1"] + (["conv2", "bn2"] if block.depth == 3 else [])
    state = {**_copy_state(getattr(block, norm), f"{norm}."),
             **_copy_state(block.shortcut, "shortcut.")}  # fmt: skip
    if block.form == "c":
        for name in (*inner, last):
            state.update(_copy_state(getattr(block, name), f"{name}."))
        return state
    paths = list(block.paths)
    # Per-path convolutions stacked along the output channels: the grouped 3x3
    # weight (C·d, d, 3, 3) is exactly the C path weights (d, d, 3, 3).
    for name in inner:
        if name.startswith("conv"):
            state[f"{name}.weight"] = torch.cat([getattr(p, name).weight.detach() for p in paths])
        else:
            state.update(_cat_bn([getattr(p, name) for p in paths], f"{name}."))
    if block.form == "b":
        state[f"{last}.weight"] = getattr(block, last).weight.detach().clone()
    else:
        # sum over g of W_g · h_g  ==  [W_0 … W_{C-1}] · concat(h_0 … h_{C-1})
        state[f"{last}.weight"] = torch.cat(
            [getattr(p, last).weight.detach() for p in paths], dim=1
        )
    return state


def convert(block: ResNeXtBlock, form: Form) -> ResNeXtBlock:
    """An equivalent :class:`ResNeXtBlock` in ``form``, with every weight mapped.

    Convolution weights, BN affine parameters, running statistics and
    ``num_batches_tracked`` are copied (the per-path tensors of forms (a)/(b)
    are the channel slices of form (c)'s); the new block is on the same
    device, has the same dtype, depth and train/eval mode. Its outputs equal
    the original's up to floating-point rounding, in eval and in train mode.

    Raises:
        TypeError: ``block`` is not a :class:`ResNeXtBlock`.
        ValueError: ``form`` is not ``"a"``, ``"b"`` or ``"c"``.
    """
    if not isinstance(block, ResNeXtBlock):
        raise TypeError(f"convert: block must be a ResNeXtBlock, got {type(block).__name__}")
    _check_form("convert", form)
    last, norm = _names(block.depth)
    reference = getattr(block, norm).weight
    new = ResNeXtBlock(
        block.in_channels, block.cardinality, block.bottleneck_width, form, block.out_channels,
        depth=block.depth,
    ).to(device=reference.device, dtype=reference.dtype)  # fmt: skip
    new.train(block.training)
    state = _as_form_c(block)
    if form != "c":
        cardinality = block.cardinality
        inner = ["conv1", "bn1"] + (["conv2", "bn2"] if block.depth == 3 else [])
        per_path: list[dict[str, torch.Tensor]] = [{} for _ in range(cardinality)]
        for name in inner:
            if name.startswith("conv"):
                for g, weight in enumerate(state.pop(f"{name}.weight").chunk(cardinality)):
                    per_path[g][f"{name}.weight"] = weight
            else:
                for g, bn in enumerate(_split_bn(state, f"{name}.", cardinality)):
                    per_path[g].update({f"{name}.{key}": value for key, value in bn.items()})
        weight = state.pop(f"{last}.weight")
        if form == "b":
            state[f"{last}.weight"] = weight
        else:
            for g, part in enumerate(weight.chunk(cardinality, dim=1)):
                per_path[g][f"{last}.weight"] = part
        for g, path_state in enumerate(per_path):
            state.update({f"paths.{g}.{key}": value for key, value in path_state.items()})
    new.load_state_dict(state, strict=True)
    return new
