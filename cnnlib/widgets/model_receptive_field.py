"""The ModelReceptiveField widget: where on a photo one unit of a model's feature map looks."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from pathlib import Path

import anywidget
import traitlets
from torch import nn

from cnnlib.analysis import AxisField, ReceptiveField, Trace, feature_maps, trace
from cnnlib.widgets.conv_arithmetic import check_range

__all__ = ["ModelReceptiveField", "IMAGES", "field_span", "unit_at"]

WIDGET = "ModelReceptiveField"
#: The photos of :mod:`skimage.data` the widget can show.
IMAGES = ("astronaut", "coffee", "chelsea")
#: Allowed range of the side of the square image, in pixels.
RANGES: dict[str, tuple[int, int]] = {"image_size": (8, 512)}
#: Image side for a model given as a module (registered models use their own).
DEFAULT_IMAGE_SIZE = 224


def field_span(unit: int, axis: AxisField) -> tuple[int, int]:
    """First and last input pixel of unit ``unit``'s field along one axis.

    Unit ``u`` sees pixels ``start + u·j`` to ``start + u·j + r − 1`` (``r`` the
    field size, ``j`` the effective stride); they may lie outside the image
    (negative, or beyond its size) where padding reaches. The widget's
    ``fieldSpan`` computes the same.
    """
    first = axis.start + unit * axis.stride
    return first, first + axis.size - 1


def unit_at(pixel: float, axis: AxisField, count: int) -> int:
    """The unit (of ``count`` along one axis) whose field centre is nearest to ``pixel``.

    ``pixel`` is an input pixel index (fractional between pixels); unit ``u``'s
    centre is ``AxisField.center + u·j``. Ties go to the larger unit. The
    widget's ``unitAt`` computes the same when the photo is clicked.
    """
    unit = math.floor((pixel - axis.center) / axis.stride + 0.5)
    return min(max(unit, 0), count - 1)


def image_data_url(name: str, size: int) -> str:
    """The :mod:`skimage.data` photo ``name`` as a PNG data URL.

    Centre-cropped to a square and resized to ``size`` × ``size`` pixels (RGB,
    whatever the model's input channels).
    """
    if name not in IMAGES:
        raise ValueError(f"{WIDGET}: image must be one of {list(IMAGES)}, got {name!r}")
    import skimage.data
    from PIL import Image

    pixels = getattr(skimage.data, name)()
    height, width = pixels.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    photo = Image.fromarray(pixels[top : top + side, left : left + side]).convert("RGB")
    photo = photo.resize((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    photo.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _input_channels(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            return module.in_channels
    raise ValueError(
        f"{WIDGET}: cannot tell how many input channels {type(model).__name__} takes "
        "(it has no convolution); pass in_channels"
    )


def layer_table(model: nn.Module, input_size: Sequence[int]) -> list[dict[str, object]]:
    """The feature maps the widget offers, with their receptive fields, in execution order.

    Every sliding-window layer (convolution, pooling) whose output has spatial
    extent, then the last feature map with spatial extent (the input of global
    pooling or flattening, when there is one). Each entry holds ``name``,
    ``type``, the field size ``size_h``/``size_w`` (``r``), effective stride
    ``stride_h``/``stride_w`` (``j``), the first input pixel of unit 0's field
    ``start_h``/``start_w`` (minus the effective padding) and the feature map's
    size ``out_h``/``out_w``, all from one :func:`cnnlib.analysis.trace`.

    Raises:
        ValueError: as :func:`cnnlib.analysis.receptive_field`.
    """
    return _layer_table(trace(model, input_size))


def _layer_table(traced: Trace) -> list[dict[str, object]]:
    """:func:`layer_table` of a model already traced."""
    field = ReceptiveField.from_trace(traced)
    maps = feature_maps(traced)  # field.rows[i] is maps[i].row
    last = max(i for i, feature in enumerate(maps) if feature.name == field.layer)
    table: list[dict[str, object]] = []
    for index, feature in enumerate(maps[: last + 1]):
        row = feature.row
        if row.size is None or (row.kernel is None and index != last):
            continue
        stride, padding = row.effective_stride, row.effective_padding
        assert stride is not None and padding is not None  # set wherever size is
        table.append({
            "name": row.name, "type": row.type,
            "size_h": row.size[0], "size_w": row.size[1],
            "stride_h": stride[0], "stride_w": stride[1],
            "start_h": -padding[0], "start_w": -padding[1],
            "out_h": feature.shape[-2], "out_w": feature.shape[-1],
        })  # fmt: skip
    return table


class ModelReceptiveField(anywidget.AnyWidget):
    """The theoretical receptive field of one unit of a model's feature map, on a photo.

    Pick a layer (a convolution or pooling, or the last feature map) and a unit
    of its feature map, by clicking the photo or with the row and column
    sliders: the widget draws the input pixels the unit's value can depend on,
    ``start + u·j`` to ``start + u·j + r − 1`` per axis, with the part that
    lies in the padding outside the photo dashed. Python computes the
    per-layer table once (:func:`layer_table`); the drawing and the arithmetic
    happen in the browser, so the widget works without a kernel.

    Args:
        model: a registered model's name (see :func:`cnnlib.models.list_models`)
            or a module.
        image_size: height and width of the square image the model sees,
            within :data:`RANGES`; default: the registered model's image
            size (:attr:`cnnlib.models.ModelInfo.image_shape`), or 224 for a
            module.
        in_channels: input channels; default: the registered model's, or the
            first convolution's ``in_channels`` for a module.
        image: one of :data:`IMAGES`, the :mod:`skimage.data` photo shown
            (centre-cropped and resized to ``image_size`` × ``image_size``).
        layer: index into :attr:`layers` or a layer's name; default: the last.
        unit: ``(row, col)`` of the selected unit; default: the centre of the map.

    Raises:
        TypeError: ``model`` is neither a string nor a module, or an argument
            has the wrong type.
        ValueError: an unknown model or image name, ``image_size`` out of range
            or not accepted by the model, a field that cannot be followed
            (transposed convolution, upsampling, ...), or ``layer``/``unit``
            outside the table or the feature map.
    """

    _esm = Path(__file__).with_suffix(".js")
    #: The model's name (registry name, or the module's class name).
    model_name = traitlets.Unicode("").tag(sync=True)
    #: The side of the square image the model sees, in pixels.
    image_size = traitlets.Int(224).tag(sync=True)
    #: Which :data:`IMAGES` photo is shown; setting it from Python swaps the photo.
    image = traitlets.Unicode("astronaut").tag(sync=True)
    #: The photo, ``image_size`` × ``image_size``, as a PNG data URL.
    image_url = traitlets.Unicode("").tag(sync=True)
    #: Per-layer receptive fields and feature-map sizes (see :func:`layer_table`).
    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: Index into :attr:`layers` of the selected feature map.
    layer = traitlets.Int(0).tag(sync=True)
    #: The selected unit (row, column) of that feature map.
    unit = traitlets.List(traitlets.Int(), default_value=[0, 0], minlen=2, maxlen=2).tag(sync=True)

    def __init__(
        self,
        model: str | nn.Module = "resnet18",
        *,
        image_size: int | None = None,
        in_channels: int | None = None,
        image: str = "astronaut",
        layer: int | str | None = None,
        unit: Sequence[int] | None = None,
    ) -> None:
        if isinstance(model, str):
            from cnnlib.models import model_info

            info = model_info(model)  # ValueError for an unknown name
            module, model_name = info.builder(), model
            default_channels, default_size = info.image_shape[0], info.image_shape[1]
        elif isinstance(model, nn.Module):
            module, model_name = model, type(model).__name__
            default_channels, default_size = None, DEFAULT_IMAGE_SIZE
        else:
            raise TypeError(
                f"{WIDGET}: model must be a model name (str) or a torch.nn.Module, got {model!r}"
            )
        size = (
            default_size
            if image_size is None
            else check_range(WIDGET, "image_size", image_size, RANGES)
        )
        if in_channels is None:
            in_channels = (
                default_channels if default_channels is not None else _input_channels(module)
            )
        elif not isinstance(in_channels, int) or isinstance(in_channels, bool) or in_channels < 1:
            raise ValueError(f"{WIDGET}: in_channels must be a positive int, got {in_channels!r}")
        if not isinstance(image, str):
            raise TypeError(f"{WIDGET}: image must be a str, one of {list(IMAGES)}, got {image!r}")
        image_url = image_data_url(image, size)
        shape = (1, in_channels, size, size)
        try:  # tracing runs the forward pass, where the model may reject the input
            traced = trace(module, shape)
        except (ValueError, RuntimeError) as error:
            raise ValueError(
                f"{WIDGET}: {model_name} does not accept an input of shape {shape} "
                f"(image_size={size}): {str(error).splitlines()[0]}"
            ) from error
        try:
            table = _layer_table(traced)
        except ValueError as error:
            raise ValueError(
                f"{WIDGET}: cannot show the receptive fields of {model_name}: {error}"
            ) from error
        index = self._layer_index(layer, table)
        chosen = table[index]
        if unit is None:
            unit = [chosen["out_h"] // 2, chosen["out_w"] // 2]  # type: ignore[operator]
        if (
            not isinstance(unit, Sequence)
            or len(unit) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in unit)
        ):
            raise TypeError(f"{WIDGET}: unit must be a (row, col) pair of ints, got {unit!r}")
        if not (0 <= unit[0] < chosen["out_h"] and 0 <= unit[1] < chosen["out_w"]):  # type: ignore[operator]
            raise ValueError(
                f"{WIDGET}: unit must lie on the {chosen['out_h']}x{chosen['out_w']} feature map "
                f"of {chosen['name']}, got {tuple(unit)}"
            )
        super().__init__(
            model_name=model_name, image_size=size, image=image, image_url=image_url,
            layers=table, layer=index, unit=list(unit),
        )  # fmt: skip

    @staticmethod
    def _layer_index(layer: int | str | None, table: list[dict[str, object]]) -> int:
        if layer is None:
            return len(table) - 1
        if isinstance(layer, str):
            matches = [i for i, row in enumerate(table) if row["name"] == layer]
            if not matches:
                raise ValueError(
                    f"{WIDGET}: layer {layer!r} is not one of the layers shown: "
                    f"{[row['name'] for row in table]}"
                )
            return matches[-1]
        if not isinstance(layer, int) or isinstance(layer, bool):
            raise TypeError(
                f"{WIDGET}: layer must be an int index, a layer name or None, got {layer!r}"
            )
        if not -len(table) <= layer < len(table):
            raise ValueError(f"{WIDGET}: layer must be between 0 and {len(table) - 1}, got {layer}")
        return layer % len(table)

    @traitlets.validate("image")
    def _check_image(self, proposal: dict) -> str:
        if proposal["value"] not in IMAGES:
            raise ValueError(
                f"{WIDGET}: image must be one of {list(IMAGES)}, got {proposal['value']!r}"
            )
        return proposal["value"]

    @traitlets.observe("image")
    def _swap_image(self, change: dict) -> None:
        self.image_url = image_data_url(change["new"], self.image_size)

    def _axes(self) -> tuple[AxisField, AxisField]:
        row = self.layers[self.layer]
        return (
            AxisField(size=row["size_h"], stride=row["stride_h"], start=row["start_h"]),
            AxisField(size=row["size_w"], stride=row["stride_w"], start=row["start_w"]),
        )

    @property
    def selected_unit(self) -> tuple[int, int]:
        """The unit the widget shows: :attr:`unit` clamped to the selected feature map."""
        row = self.layers[self.layer]
        return (
            min(max(self.unit[0], 0), row["out_h"] - 1),
            min(max(self.unit[1], 0), row["out_w"] - 1),
        )

    @property
    def field(self) -> tuple[int, int, int, int]:
        """The drawn field of the selected unit.

        ``(top, left, bottom, right)``, in input pixels, all inclusive.
        """
        axis_h, axis_w = self._axes()
        row, col = self.selected_unit
        (top, bottom), (left, right) = field_span(row, axis_h), field_span(col, axis_w)
        return top, left, bottom, right
