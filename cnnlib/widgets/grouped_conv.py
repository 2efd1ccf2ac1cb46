"""The GroupedConv widget: which channels a grouped convolution connects, what it costs,
and why ShuffleNet shuffles channels between two grouped convolutions."""

from __future__ import annotations

from pathlib import Path

import anywidget
import torch
import traitlets

from cnnlib.analysis import conv_macs, conv_params
from cnnlib.layers import channel_shuffle
from cnnlib.widgets.conv_arithmetic import check_range

__all__ = ["GroupedConv", "valid_groups", "nearest_valid_groups"]

#: Allowed range of each integer setting (what the sliders offer).
RANGES: dict[str, tuple[int, int]] = {
    "in_channels": (1, 32),
    "out_channels": (1, 32),
    "kernel_size": (1, 7),
    "output_size": (1, 64),
}


def valid_groups(in_channels: int, out_channels: int) -> list[int]:
    """Numbers of groups that divide both channel counts, ascending (what the widget offers)."""
    return [
        g
        for g in range(1, min(in_channels, out_channels) + 1)
        if in_channels % g == 0 and out_channels % g == 0
    ]


def nearest_valid_groups(in_channels: int, out_channels: int, groups: int) -> int:
    """The valid number of groups closest to ``groups``, the smaller one on a tie.

    The widget switches to it when the channel counts change so that ``groups``
    no longer divides them both.
    """
    return min(valid_groups(in_channels, out_channels), key=lambda g: (abs(g - groups), g))


class GroupedConv(anywidget.AnyWidget):
    """A k×k convolution from ``in_channels`` to ``out_channels`` in ``groups`` groups.

    Draws which input channels feed which output channels (one line per
    connected pair, coloured by group, and the block-diagonal weight matrix),
    from a normal convolution (``groups=1``) through grouped convolutions to a
    depthwise one (``groups = in_channels = out_channels``), with the weight
    count k²·C_in·C_out/g and the MAC count H·W·k²·C_in·C_out/g evaluated live.

    It also stacks a second grouped convolution (same ``groups``,
    ``out_channels`` → ``out_channels``) after the first and shows which input
    groups reach each final output: without a channel shuffle every output stays
    within its own group; with ShuffleNet's shuffle (Zhang et al., 2018;
    :func:`cnnlib.layers.channel_shuffle`) the groups mix.

    Args: the initial settings; the integers within :data:`RANGES`, ``groups``
    a divisor of both channel counts, ``shuffle`` a bool.

    Raises:
        TypeError: a setting has the wrong type.
        ValueError: a setting is outside its range, or ``groups`` does not divide
            both channel counts.
    """

    _esm = Path(__file__).with_suffix(".js")
    in_channels = traitlets.Int(8).tag(sync=True)
    out_channels = traitlets.Int(8).tag(sync=True)
    groups = traitlets.Int(2).tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    #: Spatial size H = W of the output, for the MAC count.
    output_size = traitlets.Int(14).tag(sync=True)
    #: Channel shuffle between the two stacked grouped convolutions.
    shuffle = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        *,
        in_channels: int = 8,
        out_channels: int = 8,
        groups: int = 2,
        kernel_size: int = 3,
        output_size: int = 14,
        shuffle: bool = False,
    ) -> None:
        settings = dict(
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel_size,
            output_size=output_size,
        )
        for name, value in settings.items():
            check_range("GroupedConv", name, value, RANGES)
        if not isinstance(groups, int) or isinstance(groups, bool):
            raise TypeError(f"GroupedConv: groups must be an int, got {groups!r}")
        allowed = valid_groups(in_channels, out_channels)
        if groups not in allowed:
            raise ValueError(
                f"GroupedConv: groups must divide in_channels ({in_channels}) and out_channels "
                f"({out_channels}), one of {allowed}, got {groups}"
            )
        if not isinstance(shuffle, bool):
            raise TypeError(f"GroupedConv: shuffle must be a bool, got {shuffle!r}")
        super().__init__(**settings, groups=groups, shuffle=shuffle)

    @traitlets.observe("in_channels", "out_channels")
    def _keep_groups_valid(self, change: dict) -> None:
        # As the JavaScript does: a channel count that groups no longer divides moves
        # groups to the nearest valid divisor.
        if self.in_channels % self.groups or self.out_channels % self.groups:
            self.groups = nearest_valid_groups(self.in_channels, self.out_channels, self.groups)

    def _valid(self) -> bool:
        return (
            self.groups >= 1
            and self.in_channels % self.groups == 0
            and self.out_channels % self.groups == 0
        )

    @property
    def param_count(self) -> int | None:
        """Weights the widget shows (bias excluded), or None if the settings are invalid.

        Computed by :func:`cnnlib.analysis.conv_params`.
        """
        if not self._valid():
            return None
        return conv_params(
            self.in_channels, self.out_channels, self.kernel_size, groups=self.groups, bias=False
        )

    @property
    def mac_count(self) -> int | None:
        """MACs the widget shows, or None if the settings are invalid.

        Computed by :func:`cnnlib.analysis.conv_macs` at ``output_size``.
        """
        if not self._valid():
            return None
        return conv_macs(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            self.output_size,
            groups=self.groups,
        )

    @property
    def reaching_groups(self) -> list[list[int]] | None:
        """For each final output of the two stacked convolutions, the input groups that reach it.

        Computed by following the channels through :func:`cnnlib.layers.channel_shuffle`
        (when ``shuffle`` is on); None if the settings are invalid.
        """
        if not self._valid():
            return None
        g, c_out = self.groups, self.out_channels
        # The first convolution's output channel o carries input group o // (c_out / g).
        carried = torch.arange(c_out) // (c_out // g)
        if self.shuffle:
            carried = channel_shuffle(carried.view(1, c_out, 1, 1), g).view(c_out)
        per_group = c_out // g
        # Output o of the second convolution reads the channels of its own group.
        windows = [
            carried[(o // per_group) * per_group : (o // per_group + 1) * per_group]
            for o in range(c_out)
        ]
        return [sorted(set(window.tolist())) for window in windows]

    @property
    def mixed_outputs(self) -> int | None:
        """How many final outputs receive information from every input group.

        This is the count the widget shows; None if the settings are invalid.
        """
        reach = self.reaching_groups
        return None if reach is None else sum(len(groups) == self.groups for groups in reach)
