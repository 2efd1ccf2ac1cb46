"""The DilatedStack widget: how a stack of dilated convolutions grows its field, and its holes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anywidget
import traitlets
from torch import nn

from cnnlib.analysis import receptive_field
from cnnlib.widgets.conv_arithmetic import check_range

__all__ = ["DilatedStack", "footprint_1d", "layers_module"]

#: Allowed range of each per-layer setting (what the inputs offer).
RANGES: dict[str, tuple[int, int]] = {"kernel": (1, 7), "stride": (1, 3), "dilation": (1, 8)}
#: Allowed number of layers.
MAX_LAYERS = 6
#: The field of the widest stack allowed (six layers of kernel 7, stride 3, dilation 8):
#: r = 1 + 8·(7 − 1)·(1 + 3 + … + 3⁵). An input this large fits every allowed stack.
MAX_FIELD = 1 + 8 * (7 - 1) * sum(3**i for i in range(MAX_LAYERS))

#: Dilations 2, 2, 2 with kernel 3: the field grows to 13x13, but one output unit reads only
#: 49 of its 169 pixels, the even offsets along each axis ("gridding").
GRIDDING = [{"kernel": 3, "stride": 1, "dilation": d} for d in (2, 2, 2)]
#: Dilations 1, 2, 5 with kernel 3, the example of Wang et al. (2018, "Understanding
#: Convolution for Semantic Segmentation") that meets their design goal M_2 = 2 <= 3: the
#: field has no holes. (No common factor alone does not suffice: 2, 3, 5 leaves holes; see
#: :mod:`cnnlib.analysis.dilation`.)
HYBRID = [{"kernel": 3, "stride": 1, "dilation": d} for d in (1, 2, 5)]


def check_layers(widget: str, layers: object) -> list[dict[str, int]]:
    """Return ``layers`` as a list of fresh dicts if valid, else raise naming the problem.

    Valid: a list or tuple of 1 to :data:`MAX_LAYERS` dicts, each with exactly the
    keys ``kernel``, ``stride`` and ``dilation``, each an int within :data:`RANGES`.
    """
    if not isinstance(layers, (list, tuple)):
        raise TypeError(f"{widget}: layers must be a list of dicts, got {layers!r}")
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise ValueError(
            f"{widget}: layers must hold between 1 and {MAX_LAYERS} layers, got {len(layers)}"
        )
    checked = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise TypeError(
                f"{widget}: layers[{i}] must be a dict with keys kernel, stride, dilation, "
                f"got {layer!r}"
            )
        if set(layer) != set(RANGES):
            raise ValueError(
                f"{widget}: layers[{i}] must have exactly the keys kernel, stride, dilation, "
                f"got {sorted(layer)}"
            )
        checked.append(
            {
                key: check_range(widget, f"layers[{i}].{key}", layer[key], _ranges(i))
                for key in RANGES
            }
        )
    return checked


def _ranges(i: int) -> dict[str, tuple[int, int]]:
    return {f"layers[{i}].{key}": bounds for key, bounds in RANGES.items()}


def layers_module(layers: Sequence[dict[str, int]], device: str = "cpu") -> nn.Sequential:
    """The stack as one-channel ``nn.Conv2d`` layers without padding or bias."""
    return nn.Sequential(
        *(
            nn.Conv2d(
                1,
                1,
                layer["kernel"],
                stride=layer["stride"],
                dilation=layer["dilation"],
                bias=False,
                device=device,
            )
            for layer in layers
        )
    )


def footprint_1d(layers: Sequence[dict[str, int]]) -> list[int]:
    """Sorted offsets, along one axis, of the input pixels one output unit of the stack reads.

    Layer ``l`` (effective stride ``j`` before it) reads offsets ``t·d·j`` for
    ``t < k``; the footprint is the sum set of all layers' offsets. The
    2-D footprint is this set along rows times this set along columns.
    """
    offsets, jump = {0}, 1
    for layer in layers:
        offsets = {
            o + t * layer["dilation"] * jump for o in offsets for t in range(layer["kernel"])
        }
        jump *= layer["stride"]
    return sorted(offsets)


class DilatedStack(anywidget.AnyWidget):
    """A stack of 1 to 6 dilated convolutions: the receptive field, layer by layer, and its holes.

    A table gives each layer's receptive-field size ``r`` and effective stride
    ``j`` (``r ← r + (d(k − 1) + 1 − 1)·j``, ``j ← j·s``); a grid of input
    pixels shows exactly which ones one output unit reads. Dilations 2, 2, 2
    leave holes (gridding); 1, 2, 5 (the "hybrid" preset) leave none.

    Args:
        layers: 1 to 6 dicts ``{"kernel": k, "stride": s, "dilation": d}`` with
            ``k`` in 1..7, ``s`` in 1..3 and ``d`` in 1..8; default :data:`GRIDDING`.

    Raises:
        TypeError: ``layers`` is not a list of dicts, or a setting is not an int.
        ValueError: wrong number of layers, wrong keys, or a setting out of range.
    """

    _esm = Path(__file__).with_suffix(".js")
    layers = traitlets.List(traitlets.Dict(), default_value=GRIDDING).tag(sync=True)

    def __init__(self, *, layers: Sequence[dict[str, int]] | None = None) -> None:
        checked = check_layers("DilatedStack", GRIDDING if layers is None else layers)
        super().__init__(layers=checked)

    def _valid_layers(self) -> list[dict[str, int]] | None:
        try:
            return check_layers("DilatedStack", self.layers)
        except (TypeError, ValueError):
            return None

    @property
    def field_sizes(self) -> list[tuple[int, int]] | None:
        """``(size, effective stride)`` after each layer.

        From :func:`cnnlib.analysis.receptive_field`; None when the layers (as
        edited in the widget) are invalid.
        """
        layers = self._valid_layers()
        if layers is None:
            return None
        # On the meta device: no arithmetic, so an input that fits the widest stack costs nothing.
        rows = receptive_field(
            layers_module(layers, device="meta"), (1, 1, MAX_FIELD, MAX_FIELD)
        ).rows
        return [(row.size[0], row.effective_stride[0]) for row in rows]

    @property
    def receptive_field_size(self) -> int | None:
        """What the widget shows as the last layer's ``r``, or None when the layers are invalid."""
        sizes = self.field_sizes
        return None if sizes is None else sizes[-1][0]

    @property
    def pixels_read(self) -> int | None:
        """Input pixels one output unit reads (the widget's ``pixels-read``), or None if invalid."""
        layers = self._valid_layers()
        return None if layers is None else len(footprint_1d(layers)) ** 2

    @property
    def holes(self) -> int | None:
        """Pixels inside the square field that are never read (the widget's ``holes``), or None."""
        size, read = self.receptive_field_size, self.pixels_read
        return None if size is None or read is None else size * size - read
