"""Building blocks shared by several model families.

Blocks built from ``nn.Sequential`` keep positional child names (``0``, ``1``,
``2``) so that their ``state_dict`` keys match torchvision's equivalents
(e.g. ``Conv2dNormActivation``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from cnnlib._checks import positive_int

__all__ = [
    "same_padding",
    "make_divisible",
    "conv1x1",
    "conv3x3",
    "ConvBNAct",
    "ConvBNReLU",
    "TF_BN_EPS",
    "channel_shuffle",
    "channel_unshuffle",
    "ChannelShuffle",
    "SqueezeExcite",
    "CBAM",
    "SeparableConv2d",
    "DepthwiseSeparableConv",
    "SpatiallySeparableConv",
    "separable_factors",
    "DeformableConvBlock",
    "dilation_offsets",
    "deformable_sampling_locations",
]

ActivationFactory = Callable[[], nn.Module]

#: Batch-norm epsilon of TensorFlow's models, kept by torchvision for the Inception family.
TF_BN_EPS = 1e-3


def _positive_ints(owner: str, **values: object) -> None:
    """Check every keyword with :func:`positive_int`; the message names the keyword."""
    for name, value in values.items():
        positive_int(owner, name, value)


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding that keeps the spatial size at stride 1: ``dilation * (kernel_size - 1) / 2``.

    Raises:
        ValueError: the dilated kernel has even extent (no symmetric padding keeps the size).
    """
    positive_int("same_padding", "kernel_size", kernel_size)
    positive_int("same_padding", "dilation", dilation)
    extent = dilation * (kernel_size - 1)
    if extent % 2:
        raise ValueError(
            f"same_padding: dilation*(kernel_size-1) must be even for symmetric padding, "
            f"got kernel_size={kernel_size}, dilation={dilation}"
        )
    return extent // 2


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never going below 90 % of it.

    The rule of the MobileNet reference code (also torchvision's ``_make_divisible``).
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"make_divisible: value must be a positive number, got {value!r}")
    positive_int("make_divisible", "divisor", divisor)
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def conv1x1(in_channels: int, out_channels: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    """A 1x1 convolution (no bias by default: a batch norm usually follows)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=bias)


def conv3x3(
    in_channels: int,
    out_channels: int,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
    bias: bool = False,
) -> nn.Conv2d:
    """A 3x3 convolution with 'same' padding for its dilation."""
    return nn.Conv2d(
        in_channels,
        out_channels,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        dilation=dilation,
        bias=bias,
    )


class ConvBNAct(nn.Sequential):
    """Convolution, batch norm and activation, as children ``0``, ``1``, ``2``.

    Same ``state_dict`` keys as torchvision's ``Conv2dNormActivation``. With
    ``activation=None`` the block ends after the batch norm.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int = 1,
        padding: int | tuple[int, int] | None = None,
        groups: int = 1,
        dilation: int = 1,
        activation: ActivationFactory | None = nn.ReLU,
        eps: float = 1e-5,
    ) -> None:
        if padding is None:
            if isinstance(kernel_size, int):
                padding = same_padding(kernel_size, dilation)
            else:
                padding = tuple(same_padding(k, dilation) for k in kernel_size)  # type: ignore[assignment]
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                groups=groups,
                dilation=dilation,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels, eps=eps),
        ]
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)
        self.out_channels = out_channels


class ConvBNReLU(nn.Module):
    """Convolution (no bias), batch norm (eps 1e-3) and ReLU as ``conv``, ``bn``, ``relu``.

    torchvision's ``BasicConv2d``, the unit of GoogLeNet and Inception-v3: the
    child names give the same ``state_dict`` keys. (:class:`ConvBNAct` computes
    the same with eps 1e-5 but names its children ``0``, ``1``, ``2``.)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=TF_BN_EPS)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle: view (N, g, c), transpose, flatten.

    After it, channel ``i`` of group ``j`` (``c`` channels per group) sits at
    position ``i * groups + j``: position ``m`` holds a channel of group
    ``m % groups``. Each group of a following grouped convolution with
    ``groups`` groups reads ``c`` consecutive positions, so it reads from
    ``min(c, groups)`` groups of the previous one: ``c / groups`` channels from
    every group when ``groups`` divides ``c`` (one from each when
    ``c == groups``), but only ``c`` of the groups when ``c < groups``.

    Raises:
        ValueError: ``groups`` is not a positive int or does not divide the
            number of channels.
    """
    n, channels, height, width = x.shape
    _check_groups("channel_shuffle", groups, channels)
    x = x.view(n, groups, channels // groups, height, width)
    return x.transpose(1, 2).contiguous().view(n, channels, height, width)


def _check_groups(owner: str, groups: int, channels: int) -> None:
    """Refuse ``groups`` unless it is a positive int that divides ``channels``.

    Raises:
        ValueError: it is not (the message names ``groups``).
    """
    positive_int(owner, "groups", groups)
    if channels % groups:
        message = f"groups ({groups}) must divide the channels ({channels})"
        raise ValueError(f"{owner}: {message}")


def channel_unshuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """The inverse of :func:`channel_shuffle`: ``channel_unshuffle(channel_shuffle(x, g), g) == x``.

    Shuffling views the ``C`` channels as a ``(g, C/g)`` grid and reads it by
    columns; reading the result by columns of a ``(C/g, g)`` grid puts every
    channel back, so the inverse is the shuffle with ``C/g`` groups.

    Raises:
        ValueError: ``groups`` is not a positive int or does not divide the
            number of channels.
    """
    channels = x.shape[1]
    _check_groups("channel_unshuffle", groups, channels)
    return channel_shuffle(x, channels // groups)


class ChannelShuffle(nn.Module):
    """Module form of :func:`channel_shuffle`."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = positive_int("ChannelShuffle", "groups", groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2018): rescale channels by a learned gate.

    Global average pool → 1x1 conv to ``channels // reduction`` → ReLU → 1x1 conv
    back → sigmoid → multiply. The 1x1 convolutions on a 1x1 map are the paper's
    fully connected layers: ``2 * channels * hidden + hidden + channels`` parameters.
    After a forward pass, :attr:`channel_weights` holds the gate of the last
    batch, ``(N, channels, 1, 1)`` in [0, 1] (detached).
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        positive_int("SqueezeExcite", "channels", channels)
        positive_int("SqueezeExcite", "reduction", reduction)
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1)
        self.gate = nn.Sigmoid()
        self.channel_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))
        self.channel_weights = weights.detach()
        return x * weights


class CBAM(nn.Module):
    """Convolutional Block Attention Module (Woo et al., 2018).

    Channel attention: a shared MLP (as 1x1 convolutions) on the average- and
    max-pooled descriptors, summed, sigmoid. Then spatial attention: a
    ``spatial_kernel`` x ``spatial_kernel`` convolution (with batch norm, as in
    the authors' code) on the channel-wise average and max maps, sigmoid.
    After a forward pass, :attr:`channel_weights` ``(N, C, 1, 1)`` and
    :attr:`spatial_weights` ``(N, 1, H, W)`` hold the last batch's two
    attention maps, in [0, 1] (detached).
    """

    def __init__(self, channels: int, reduction: int = 16, spatial_kernel: int = 7) -> None:
        super().__init__()
        positive_int("CBAM", "channels", channels)
        positive_int("CBAM", "reduction", reduction)
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, kernel_size=1),
        )
        self.spatial = nn.Sequential(
            nn.Conv2d(2, 1, spatial_kernel, padding=same_padding(spatial_kernel), bias=False),
            nn.BatchNorm2d(1),
        )
        self.channel_weights: torch.Tensor | None = None
        self.spatial_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = torch.mean(x, dim=(2, 3), keepdim=True)
        peak = torch.amax(x, dim=(2, 3), keepdim=True)
        channel = torch.sigmoid(self.mlp(avg) + self.mlp(peak))
        x = x * channel
        mean_map = torch.mean(x, dim=1, keepdim=True)
        max_map = torch.amax(x, dim=1, keepdim=True)
        spatial = torch.sigmoid(self.spatial(torch.cat([mean_map, max_map], dim=1)))
        self.channel_weights = channel.detach()
        self.spatial_weights = spatial.detach()
        return x * spatial


class SeparableConv2d(nn.Module):
    """Xception's separable convolution: depthwise k x k, then pointwise 1x1.

    Nothing sits between the two by default, as in Xception (Chollet, 2017,
    Figure 10 compares no activation, ReLU and ELU there and finds none best);
    ``activation`` (e.g. ``nn.ReLU``) inserts one to repeat that experiment.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        bias: bool = False,
        activation: ActivationFactory | None = None,
    ) -> None:
        super().__init__()
        if padding is None:
            padding = same_padding(kernel_size, dilation)
        c_in = in_channels
        self.depthwise = nn.Conv2d(
            c_in, c_in, kernel_size, stride=stride, padding=padding,
            dilation=dilation, groups=c_in, bias=bias,
        )  # fmt: skip
        self.activation = nn.Identity() if activation is None else activation()
        self.pointwise = nn.Conv2d(c_in, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.activation(self.depthwise(x)))


class DepthwiseSeparableConv(nn.Sequential):
    """MobileNet's block: depthwise 3x3 conv-BN-act, then pointwise 1x1 conv-BN-act."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernel_size: int = 3,
        activation: ActivationFactory = nn.ReLU,
    ) -> None:
        c, k, act = in_channels, kernel_size, activation
        depthwise = ConvBNAct(c, c, k, stride, groups=c, activation=act)
        pointwise = ConvBNAct(c, out_channels, 1, activation=act)
        super().__init__(depthwise, pointwise)


class SpatiallySeparableConv(nn.Sequential):
    """A k x k convolution factorised into k x 1 then 1 x k (Inception-v3), each conv-BN-act.

    Parameters drop from ``k² C_in C_out`` to ``k C_in C_mid + k C_mid C_out``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 7,
        mid_channels: int | None = None,
        activation: ActivationFactory = nn.ReLU,
    ) -> None:
        mid = mid_channels if mid_channels is not None else out_channels
        pad = same_padding(kernel_size)
        super().__init__(
            ConvBNAct(in_channels, mid, (kernel_size, 1), padding=(pad, 0), activation=activation),
            ConvBNAct(mid, out_channels, (1, kernel_size), padding=(0, pad), activation=activation),
        )


def separable_factors(kernel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The column ``u`` and row ``v`` whose product ``u @ v`` is the closest rank-1 kernel.

    A ``k_h x k_w`` kernel equals a ``k_h x 1`` convolution followed by a
    ``1 x k_w`` one exactly when it has rank 1 (e.g. Sobel's
    ``[1, 2, 1]ᵀ [1, 0, -1]``). For any kernel, the best rank-1 approximation in
    the Frobenius norm keeps the largest singular value ``σ₁`` and its singular
    vectors (Eckart–Young): ``u = √σ₁·u₁``, ``v = √σ₁·v₁ᵀ``, and its error
    ``‖K − u v‖`` is ``√(σ₂² + σ₃² + …)``. The sign is fixed so that the
    entry of ``u`` largest in magnitude is positive.

    Args:
        kernel: a 2-D floating-point tensor ``(k_h, k_w)``.

    Returns:
        ``u`` of shape ``(k_h, 1)`` and ``v`` of shape ``(1, k_w)``.

    Raises:
        TypeError: ``kernel`` is not a floating-point tensor.
        ValueError: ``kernel`` is not 2-D or is empty.
    """
    if not isinstance(kernel, torch.Tensor) or not kernel.is_floating_point():
        raise TypeError(
            f"separable_factors: kernel must be a floating-point tensor, got {kernel!r}"
        )
    if kernel.dim() != 2 or kernel.numel() == 0:
        raise ValueError(
            f"separable_factors: kernel must be a non-empty 2-D tensor, got shape "
            f"{tuple(kernel.shape)}"
        )
    left, sigma, right = torch.linalg.svd(kernel, full_matrices=False)
    u, v = left[:, :1] * sigma[0].sqrt(), right[:1, :] * sigma[0].sqrt()
    if u[u.abs().argmax()] < 0:
        u, v = -u, -v
    return u, v


class DeformableConvBlock(nn.Module):
    """Deformable convolution (Dai et al., 2017) followed by batch norm and ReLU.

    A plain convolution (``offset``) predicts a 2-D offset for each of the
    ``k²`` taps at every output position; ``torchvision.ops.DeformConv2d``
    (``conv``) samples the input bilinearly at the shifted taps. The offsets
    start at zero, so at initialisation the block computes an ordinary
    convolution. Where the taps land depends on the input, so its receptive
    field does too: :func:`cnnlib.analysis.receptive_field` reports the field
    at zero offsets, the regular ``k x k`` grid (see
    :func:`deformable_sampling_locations` for the actual positions).

    Raises:
        ValueError: a size is not a positive int, or ``kernel_size`` is even.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
    ) -> None:
        super().__init__()
        k, pad = _deform_sizes(in_channels, out_channels, kernel_size, stride)
        self.offset = nn.Conv2d(in_channels, 2 * k * k, k, stride, pad)
        nn.init.zeros_(self.offset.weight)  # zero offsets: a plain convolution
        nn.init.zeros_(self.offset.bias)
        self.conv = _deform_conv2d(in_channels, out_channels, k, stride, pad)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x, self.offset(x))))


def _deform_sizes(
    in_channels: int, out_channels: int, kernel_size: int, stride: int
) -> tuple[int, int]:
    """:class:`DeformableConvBlock`'s sizes checked; returns the kernel size and its padding.

    Raises:
        ValueError: a size is not a positive int, or ``kernel_size`` is even
            (the message names it).
    """
    owner = "DeformableConvBlock"
    _positive_ints(owner, in_channels=in_channels, out_channels=out_channels)
    _positive_ints(owner, kernel_size=kernel_size, stride=stride)
    return kernel_size, same_padding(kernel_size)


def _deform_conv2d(
    in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int
) -> nn.Module:
    """``torchvision.ops.DeformConv2d`` without bias (torchvision imported only when needed)."""
    from torchvision.ops import DeformConv2d

    return DeformConv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)


def dilation_offsets(kernel_size: int, dilation: int) -> torch.Tensor:
    """Offsets that make a deformable ``k x k`` convolution (padding ``(k−1)/2``) a dilated one.

    Tap ``(i, j)`` of a dilated convolution sits ``d·(i − c, j − c)`` from the
    centre ``c = (k − 1)/2``; the ordinary grid puts it at ``(i − c, j − c)``;
    so the offset is ``(d − 1)·(i − c, j − c)``. Returned in torchvision's
    layout, ``(Δrow, Δcolumn)`` for each tap in row-major order: shape ``(2k²,)``.
    As the bias of :class:`DeformableConvBlock`'s ``offset`` convolution (with
    zero weight), they make the block compute the same as a ``dilation``-dilated
    convolution with the same weights.

    Raises:
        ValueError: ``kernel_size`` or ``dilation`` is not a positive int, or
            ``kernel_size`` is even.
    """
    positive_int("dilation_offsets", "kernel_size", kernel_size)
    positive_int("dilation_offsets", "dilation", dilation)
    if kernel_size % 2 == 0:
        raise ValueError(f"dilation_offsets: kernel_size must be odd, got {kernel_size}")
    taps = torch.arange(kernel_size, dtype=torch.float32) - (kernel_size - 1) / 2
    rows, columns = torch.meshgrid(taps, taps, indexing="ij")
    return (dilation - 1) * torch.stack([rows.flatten(), columns.flatten()], dim=1).flatten()


def deformable_sampling_locations(
    offset: torch.Tensor,
    kernel_size: int,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> torch.Tensor:
    """Where a deformable convolution reads its input, in input pixel coordinates.

    Tap ``(i, j)`` of output unit ``(y, x)`` samples the input (bilinearly) at
    row ``y·s − p + i·d + Δy`` and column ``x·s − p + j·d + Δx``, where
    ``(Δy, Δx)`` are channels ``2(i·k + j)`` and ``2(i·k + j) + 1`` of
    ``offset`` (torchvision's layout for one offset group). With zero offsets
    these are the positions of an ordinary convolution.

    Args:
        offset: ``(N, 2k², H_out, W_out)``, as given to
            ``torchvision.ops.deform_conv2d``.
        kernel_size: ``k``, the side of the square kernel.
        stride, padding, dilation: those of the convolution.

    Returns:
        ``(N, H_out, W_out, k², 2)``: ``(row, column)`` of every tap of every
        output unit, taps in row-major order.

    Raises:
        TypeError: ``offset`` is not a floating-point tensor.
        ValueError: ``offset`` is not 4-D with ``2k²`` channels, or a size is
            not a positive int (``padding`` a non-negative one).
    """
    owner = "deformable_sampling_locations"
    positive_int(owner, "kernel_size", kernel_size)
    positive_int(owner, "stride", stride)
    positive_int(owner, "dilation", dilation)
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise ValueError(f"{owner}: padding must be a non-negative int, got {padding!r}")
    if not isinstance(offset, torch.Tensor) or not offset.is_floating_point():
        raise TypeError(f"{owner}: offset must be a floating-point tensor, got {offset!r}")
    taps = kernel_size * kernel_size
    if offset.dim() != 4 or offset.shape[1] != 2 * taps:
        raise ValueError(
            f"{owner}: offset must have shape (N, 2*kernel_size**2 = {2 * taps}, H_out, "
            f"W_out), got {tuple(offset.shape)}"
        )
    n, _, height, width = offset.shape
    grid = torch.arange(kernel_size, dtype=offset.dtype, device=offset.device) * dilation
    tap_rows, tap_columns = (t.flatten() for t in torch.meshgrid(grid, grid, indexing="ij"))
    rows = torch.arange(height, dtype=offset.dtype, device=offset.device) * stride - padding
    columns = torch.arange(width, dtype=offset.dtype, device=offset.device) * stride - padding
    shift = offset.view(n, taps, 2, height, width).permute(0, 3, 4, 1, 2)
    base = torch.stack(
        [
            (rows.view(height, 1, 1) + tap_rows.view(1, 1, taps)).expand(height, width, taps),
            (columns.view(1, width, 1) + tap_columns.view(1, 1, taps)).expand(height, width, taps),
        ],
        dim=-1,
    )
    return base + shift
