"""The ConvArithmetic widget: output size and taps of one convolution."""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from cnnlib.analysis import conv_output_size

__all__ = ["ConvArithmetic"]

#: Allowed range of each setting (what the sliders offer).
RANGES: dict[str, tuple[int, int]] = {
    "size": (1, 16),
    "kernel_size": (1, 7),
    "stride": (1, 4),
    "padding": (0, 4),
    "dilation": (1, 4),
}


def check_range(widget: str, name: str, value: object, ranges: dict[str, tuple[int, int]]) -> int:
    """Return ``value`` if it is an int within ``ranges[name]``, else raise naming it."""
    low, high = ranges[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{widget}: {name} must be an int, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{widget}: {name} must be between {low} and {high}, got {value}")
    return value


class ConvArithmetic(anywidget.AnyWidget):
    """Input size, kernel, stride, padding and dilation of a square convolution.

    The settings are named as :func:`cnnlib.analysis.conv_output_size`'s
    arguments: ``size`` is the side ``i`` of the (square) input.

    Draws the (padded) input grid and the output grid; pointing at an output
    unit highlights the input pixels it reads, dilation's holes included. The
    output-size formula is shown evaluated, and an invalid combination (a
    dilated kernel larger than the padded input) is flagged, not drawn.

    Args: the initial settings, each within :data:`RANGES`.

    Raises:
        TypeError: a setting is not an int.
        ValueError: a setting is outside its range.
    """

    _esm = Path(__file__).with_suffix(".js")
    #: The side ``i`` of the square input (``conv_output_size``'s ``size``).
    size = traitlets.Int(7).tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)
    #: The output unit (row, column) whose taps are highlighted.
    selected = traitlets.List(traitlets.Int(), default_value=[0, 0], minlen=2, maxlen=2).tag(
        sync=True
    )

    def __init__(
        self,
        *,
        size: int = 7,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
    ) -> None:
        settings = dict(
            size=size, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
        )
        for name, value in settings.items():
            check_range("ConvArithmetic", name, value, RANGES)
        super().__init__(**settings)

    @property
    def output_size(self) -> int | None:
        """What the widget shows: :func:`cnnlib.analysis.conv_output_size`, or None if invalid."""
        try:
            return conv_output_size(
                self.size, self.kernel_size, self.stride, self.padding, self.dilation
            )
        except ValueError:
            return None
