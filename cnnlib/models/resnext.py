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
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from cnnlib._checks import positive_int
from cnnlib.layers import conv1x1, conv3x3

__all__ = ["ResNeXtBlock", "convert", "FORMS"]

Form = Literal["a", "b", "c"]

#: The block forms of Xie et al. (2017), Figure 3.
FORMS: tuple[Form, ...] = ("a", "b", "c")


def _check_form(func: str, form: object) -> Form:
    if form not in FORMS:
        raise ValueError(f"{func}: form must be 'a', 'b' or 'c', got {form!r}")
    return form  # type: ignore[return-value]


class _Path(nn.Module):
    """A path of form (a) or (b): 1x1 → BN → ReLU → 3x3 → BN → ReLU [→ 1x1 in form (a)]."""

    def __init__(self, in_channels: int, width: int, out_channels: int | None) -> None:
        super().__init__()
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv3 = None if out_channels is None else conv1x1(width, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return x if self.conv3 is None else self.conv3(x)


class ResNeXtBlock(nn.Module):
    """A ResNeXt block (stride 1) in form ``"a"``, ``"b"`` or ``"c"`` (Xie et al., 2017, Fig. 3).

    Modules, by form (see the module docstring for why the norms sit there):

    * ``"a"``: ``paths[g]`` = ``conv1`` (in → d), ``bn1``, ``conv2`` (3x3, d → d),
      ``bn2``, ``conv3`` (d → out), for ``g < C``; then ``bn3`` on their sum.
    * ``"b"``: ``paths[g]`` = ``conv1``, ``bn1``, ``conv2``, ``bn2``; then
      ``conv3`` (C·d → out) on their concatenation and ``bn3``.
    * ``"c"``: ``conv1`` (in → C·d), ``bn1``, ``conv2`` (3x3, C·d → C·d,
      ``groups=C``), ``bn2``, ``conv3`` (C·d → out), ``bn3`` — the names of
      :class:`cnnlib.models.resnet.Bottleneck`, whose state dict (of a block
      with identity shortcut) loads into it.

    Every form ends with: add the shortcut (``nn.Identity`` when ``out_channels
    == in_channels``, else ``shortcut`` = 1x1 conv + BN), then ReLU.

    Args:
        in_channels: input channels.
        cardinality: ``C``, the number of paths (groups of the 3x3 in form (c)).
        bottleneck_width: ``d``, the channels of each path.
        form: ``"a"``, ``"b"`` or ``"c"``.
        out_channels: output channels; ``None`` means ``in_channels``.

    Raises:
        ValueError: a size is not a positive int, or ``form`` is not one of the three.
    """

    def __init__(
        self,
        in_channels: int,
        cardinality: int,
        bottleneck_width: int,
        form: Form,
        out_channels: int | None = None,
    ) -> None:
        super().__init__()
        positive_int("ResNeXtBlock", "in_channels", in_channels)
        positive_int("ResNeXtBlock", "cardinality", cardinality)
        positive_int("ResNeXtBlock", "bottleneck_width", bottleneck_width)
        _check_form("ResNeXtBlock", form)
        if out_channels is None:
            out_channels = in_channels
        positive_int("ResNeXtBlock", "out_channels", out_channels)
        self.in_channels = in_channels
        self.cardinality = cardinality
        self.bottleneck_width = bottleneck_width
        self.form: Form = form
        self.out_channels = out_channels
        width = cardinality * bottleneck_width

        if form == "c":
            self.conv1 = conv1x1(in_channels, width)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = conv3x3(width, width, groups=cardinality)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = conv1x1(width, out_channels)
        else:
            path_out = out_channels if form == "a" else None
            self.paths = nn.ModuleList(
                _Path(in_channels, bottleneck_width, path_out) for _ in range(cardinality)
            )
            if form == "b":
                self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = (
            nn.Identity()
            if out_channels == in_channels
            else nn.Sequential(conv1x1(in_channels, out_channels), nn.BatchNorm2d(out_channels))
        )

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch before ``bn3``."""
        if self.form == "a":
            return torch.stack([path(x) for path in self.paths]).sum(dim=0)
        if self.form == "b":
            return self.conv3(torch.cat([path(x) for path in self.paths], dim=1))
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.conv3(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn3(self._transform(x)) + self.shortcut(x))

    def extra_repr(self) -> str:
        return (
            f"form={self.form!r}, in_channels={self.in_channels}, cardinality={self.cardinality}, "
            f"bottleneck_width={self.bottleneck_width}, out_channels={self.out_channels}"
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
    state = {**_copy_state(block.bn3, "bn3."), **_copy_state(block.shortcut, "shortcut.")}
    if block.form == "c":
        for name in ("conv1", "bn1", "conv2", "bn2", "conv3"):
            state.update(_copy_state(getattr(block, name), f"{name}."))
        return state
    paths = list(block.paths)
    # Per-path 1x1 and 3x3 convolutions stacked along the output channels: the
    # grouped 3x3 weight (C·d, d, 3, 3) is exactly the C path weights (d, d, 3, 3).
    state["conv1.weight"] = torch.cat([p.conv1.weight.detach() for p in paths])
    state["conv2.weight"] = torch.cat([p.conv2.weight.detach() for p in paths])
    state.update(_cat_bn([p.bn1 for p in paths], "bn1."))
    state.update(_cat_bn([p.bn2 for p in paths], "bn2."))
    if block.form == "b":
        state["conv3.weight"] = block.conv3.weight.detach().clone()
    else:
        # sum over g of W_g · h_g  ==  [W_0 … W_{C-1}] · concat(h_0 … h_{C-1})
        state["conv3.weight"] = torch.cat([p.conv3.weight.detach() for p in paths], dim=1)
    return state


def convert(block: ResNeXtBlock, form: Form) -> ResNeXtBlock:
    """An equivalent :class:`ResNeXtBlock` in ``form``, with every weight mapped.

    Convolution weights, BN affine parameters, running statistics and
    ``num_batches_tracked`` are copied (the per-path tensors of forms (a)/(b)
    are the channel slices of form (c)'s); the new block is on the same
    device, has the same dtype and the same train/eval mode. Its outputs equal
    the original's up to floating-point rounding, in eval and in train mode.

    Raises:
        TypeError: ``block`` is not a :class:`ResNeXtBlock`.
        ValueError: ``form`` is not ``"a"``, ``"b"`` or ``"c"``.
    """
    if not isinstance(block, ResNeXtBlock):
        raise TypeError(f"convert: block must be a ResNeXtBlock, got {type(block).__name__}")
    _check_form("convert", form)
    reference = block.bn3.weight
    new = ResNeXtBlock(
        block.in_channels, block.cardinality, block.bottleneck_width, form, block.out_channels
    ).to(device=reference.device, dtype=reference.dtype)
    new.train(block.training)
    state = _as_form_c(block)
    if form != "c":
        cardinality = block.cardinality
        conv1 = state.pop("conv1.weight").chunk(cardinality)
        conv2 = state.pop("conv2.weight").chunk(cardinality)
        bn1 = _split_bn(state, "bn1.", cardinality)
        bn2 = _split_bn(state, "bn2.", cardinality)
        conv3 = state.pop("conv3.weight")
        for g in range(cardinality):
            prefix = f"paths.{g}."
            state[prefix + "conv1.weight"] = conv1[g]
            state[prefix + "conv2.weight"] = conv2[g]
            state.update({f"{prefix}bn1.{key}": value for key, value in bn1[g].items()})
            state.update({f"{prefix}bn2.{key}": value for key, value in bn2[g].items()})
        if form == "b":
            state["conv3.weight"] = conv3
        else:
            for g, weight in enumerate(conv3.chunk(cardinality, dim=1)):
                state[f"paths.{g}.conv3.weight"] = weight
    new.load_state_dict(state, strict=True)
    return new
