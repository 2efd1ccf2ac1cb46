"""Boxes, round nodes and arrows for the block diagrams the chapters draw.

Every block diagram in the book (AlexNet's two towers, a highway layer, an
Inception block, ResNeXt's three forms, ...) is made of the same few marks: a
labelled rectangle for a layer, a small circle for an operation such as "+" or
"×", and a polyline ending in an arrowhead for the data flow. :class:`Diagram`
draws them on one matplotlib axis in data coordinates (y grows upwards) with
one look, so a figure module only places them.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

from cnnlib._checks import one_of

__all__ = ["Diagram", "Point"]

Point = tuple[float, float]
_ANCHORS = ("centre", "lower left")


class Diagram:
    """Draws labelled boxes, operation nodes and arrows on one axis.

    Args:
        ax: the axis to draw on.
        fontsize: the size of box and node labels (a call may override it).
        linewidth: the width of box outlines and arrows.
        line_colour: the colour of arrows and plain lines.
        arrow_size: the arrowhead's ``mutation_scale``.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots()
        >>> d = Diagram(ax)
        >>> _ = d.box(0, 0, 1, 0.5, "conv", "tab:blue")
        >>> _ = d.arrow([(0, -1), (0, -0.25)])
    """

    def __init__(
        self,
        ax: Axes,
        *,
        fontsize: float = 10,
        linewidth: float = 0.8,
        line_colour: str = "0.3",
        arrow_size: float = 9,
    ) -> None:
        self.ax = ax
        self.fontsize = fontsize
        self.linewidth = linewidth
        self.line_colour = line_colour
        self.arrow_size = arrow_size

    def box(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        text: str,
        colour: str,
        *,
        anchor: str = "centre",
        fontsize: float | None = None,
    ) -> Rectangle:
        """A rectangle with ``text`` in its middle.

        Args:
            x, y: the box's centre (``anchor="centre"``) or its lower-left
                corner (``anchor="lower left"``).
            width, height: the box's size in data units.
            text: the label, which may span several lines.
            colour: the fill colour.
            anchor: which point ``x, y`` names.
            fontsize: the label's size (default: the diagram's).

        Returns:
            The rectangle added to the axis.

        Raises:
            ValueError: if ``anchor`` is not "centre" or "lower left".
        """
        one_of("Diagram.box", "anchor", anchor, _ANCHORS)
        if anchor == "centre":
            x, y = x - width / 2, y - height / 2
        patch = Rectangle((x, y), width, height, facecolor=colour, edgecolor="black",
                          linewidth=self.linewidth)  # fmt: skip
        self.ax.add_patch(patch)
        self.ax.text(x + width / 2, y + height / 2, text, ha="center", va="center",
                     fontsize=fontsize or self.fontsize, linespacing=1.1)  # fmt: skip
        return patch

    def node(self, x: float, y: float, text: str, *, radius: float = 0.2) -> Circle:
        """A small white circle centred on ``(x, y)`` holding ``text`` ("+", "×", ...)."""
        patch = Circle((x, y), radius, facecolor="white", edgecolor="black",
                       linewidth=self.linewidth)  # fmt: skip
        self.ax.add_patch(patch)
        self.ax.text(x, y, text, ha="center", va="center", fontsize=self.fontsize + 2)
        return patch

    def line(self, points: Sequence[Point], *, colour: str | None = None) -> Line2D:
        """A polyline through ``points``, without an arrowhead."""
        xs, ys = zip(*points, strict=True)
        line = Line2D(xs, ys, color=colour or self.line_colour, linewidth=self.linewidth)
        self.ax.add_line(line)
        return line

    def arrow(
        self, points: Sequence[Point], label: str = "", *, colour: str | None = None
    ) -> FancyArrowPatch:
        """A polyline through ``points`` whose last segment ends in an arrowhead.

        Args:
            points: two or more points; the arrow points at the last one.
            label: text written above the middle of the last segment.
            colour: the line's colour (default: the diagram's).

        Returns:
            The arrowhead's patch (the last segment).

        Raises:
            ValueError: if fewer than two points are given.
        """
        if len(points) < 2:
            raise ValueError(f"Diagram.arrow: points needs at least 2 points, got {len(points)}")
        colour = colour or self.line_colour
        if len(points) > 2:
            self.line(points[:-1], colour=colour)
        patch = FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>",
                                mutation_scale=self.arrow_size, linewidth=self.linewidth,
                                color=colour)  # fmt: skip
        self.ax.add_patch(patch)
        if label:
            (x0, y0), (x1, y1) = points[-2], points[-1]
            self.ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, label, ha="center",
                         va="bottom", fontsize=self.fontsize)  # fmt: skip
        return patch

    def finish(
        self,
        xlim: tuple[float, float],
        ylim: tuple[float, float],
        *,
        title: str | None = None,
        equal: bool = True,
    ) -> None:
        """Sets the limits, hides the axes and adds the title."""
        self.ax.set_xlim(*xlim)
        self.ax.set_ylim(*ylim)
        if equal:
            self.ax.set_aspect("equal")
        self.ax.axis("off")
        if title:
            self.ax.set_title(title, fontsize=self.fontsize + 1)
