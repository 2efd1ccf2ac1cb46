"""Convolution arithmetic: output sizes of convolutions, transposed convolutions and pooling.

Every function takes an int or one int per spatial axis for each argument and
checks them the way PyTorch's layers do (see :mod:`cnnlib.analysis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

__all__ = ["IntOrPair", "conv_output_size", "conv_transpose_output_size", "pool_output_size"]

IntOrPair = int | Sequence[int]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _per_axis(func: str, arg: str, value: IntOrPair, axes: int) -> tuple[int, ...]:
    """Broadcast an int to ``axes`` axes, or check a sequence has that many ints."""
    if _is_int(value):
        return (int(value),) * axes  # type: ignore[arg-type]
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == axes and all(_is_int(v) for v in value):
            return tuple(int(v) for v in value)
    raise TypeError(f"{func}: {arg} must be an int or a sequence of {axes} ints, got {value!r}")


def _axes(func: str, **args: object) -> tuple[list[tuple[int, ...]], bool]:
    """Validate per-axis arguments: same length, ints, ≥ 0 for paddings and ≥ 1 otherwise.

    Returns, for every spatial axis, the tuple of the arguments' values on it
    (in the order given), and whether every argument was an int.
    """
    lengths = {len(v) for v in args.values() if isinstance(v, Sequence) and not isinstance(v, str)}
    if len(lengths) > 1:
        raise TypeError(
            f"{func}: per-axis arguments must all have the same length, got "
            + ", ".join(f"{k}={v!r}" for k, v in args.items())
        )
    axes = lengths.pop() if lengths else 1
    if axes == 0:
        raise TypeError(f"{func}: per-axis arguments must not be empty, got {args!r}")
    per_axis = {k: _per_axis(func, k, v, axes) for k, v in args.items()}  # type: ignore[arg-type]
    for name, values in per_axis.items():
        low = 0 if name.endswith("padding") else 1
        if any(value < low for value in values):
            raise ValueError(f"{func}: {name} must be >= {low}, got {args[name]!r}")
    return list(zip(*per_axis.values(), strict=True)), all(_is_int(v) for v in args.values())


def _result(per_axis: list[int], all_ints: bool) -> int | tuple[int, ...]:
    """An int when every argument was an int, else one int per axis."""
    return per_axis[0] if all_ints else tuple(per_axis)


@overload
def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int: ...
@overload
def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> int | tuple[int, ...]: ...
def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> int | tuple[int, ...]:
    r"""Spatial output size of a convolution, per axis.

    .. math:: o = \left\lfloor \frac{i + 2p - d(k-1) - 1}{s} \right\rfloor + 1

    Each argument is an int or a sequence with one int per spatial axis (ints
    are broadcast). Returns an int when every argument is an int, else a tuple.

    Raises:
        TypeError: an argument is not an int or a sequence of ints of
            matching length.
        ValueError: an argument is out of range (``size``, ``kernel_size``,
            ``stride`` and ``dilation`` must be ≥ 1, ``padding`` ≥ 0), or the
            dilated kernel ``d(k-1)+1`` is larger than the padded input
            ``i + 2p`` — the cases where :class:`torch.nn.Conv2d` raises.
    """
    axes, ints = _conv_axes(size, kernel_size, stride, padding, dilation)
    out = [(i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in axes]
    return out[0] if ints else tuple(out)


def _conv_axes(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair,
    padding: IntOrPair,
    dilation: IntOrPair,
) -> tuple[list[tuple[int, ...]], bool]:
    """:func:`conv_output_size`'s arguments per axis, checked as :class:`torch.nn.Conv2d` does.

    Returns ``(i, k, s, p, d)`` for every spatial axis and whether every
    argument was an int.

    Raises:
        TypeError: as :func:`conv_output_size`.
        ValueError: as :func:`conv_output_size`; the message names the
            argument (``kernel_size`` when the dilated kernel does not fit).
    """
    func = "conv_output_size"
    per_axis, all_ints = _axes(
        func, size=size, kernel_size=kernel_size, stride=stride,
        padding=padding, dilation=dilation,
    )  # fmt: skip
    for i, k, _, p, d in per_axis:
        extent = d * (k - 1) + 1
        if extent > i + 2 * p:
            raise ValueError(
                f"{func}: kernel_size {k} with dilation {d} spans {extent} "
                f"pixels, more than the padded input size {i} + 2*{p} = "
                f"{i + 2 * p}; kernel_size must satisfy "
                "dilation*(kernel_size-1)+1 <= size + 2*padding"
            )
    return per_axis, all_ints


def conv_transpose_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> int | tuple[int, ...]:
    r"""Spatial output size of a transposed convolution, per axis.

    .. math:: o = (i - 1)s - 2p + d(k - 1) + p_{out} + 1

    Raises:
        TypeError: an argument is not an int or a sequence of ints of matching length.
        ValueError: an argument is out of range, ``output_padding`` is not
            smaller than ``stride`` or ``dilation``, or the output would be
            empty. :class:`torch.nn.ConvTranspose2d` raises in the same cases,
            except that for an output of exactly 0 pixels some of its kernels
            return an empty tensor instead.
    """
    func = "conv_transpose_output_size"
    per_axis, all_ints = _axes(
        func, size=size, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )  # fmt: skip
    result = []
    for i, k, s, p, op, d in per_axis:
        if op >= max(s, d):
            raise ValueError(
                f"{func}: output_padding must be smaller than stride or dilation, got "
                f"output_padding={op}, stride={s}, dilation={d}"
            )
        out = (i - 1) * s - 2 * p + d * (k - 1) + op + 1
        if out < 1:
            raise ValueError(
                f"{func}: padding {p} leaves no output ({out} pixels): padding must satisfy "
                f"2*padding <= (size-1)*stride + dilation*(kernel_size-1) + output_padding"
            )
        result.append(out)
    return _result(result, all_ints)


def pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> int | tuple[int, ...]:
    r"""Spatial output size of max or average pooling, per axis.

    .. math::

        o = \left\lfloor \text{or} \left\lceil \frac{i + 2p - d(k-1) - 1}{s}
            \right\rceil \right. + 1

    ``stride`` defaults to ``kernel_size`` (as in PyTorch). With ``ceil_mode``
    the division rounds up, but a last window that would start in the right
    padding is dropped. Average pooling has no dilation (leave it at 1).

    Raises:
        TypeError: an argument is malformed, or ``ceil_mode`` is not a bool.
        ValueError: an argument is out of range, ``padding`` exceeds half the
            kernel size, or the output would be empty — the cases where
            :class:`torch.nn.MaxPool2d` raises.
    """
    func = "pool_output_size"
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{func}: ceil_mode must be a bool, got {ceil_mode!r}")
    per_axis, all_ints = _axes(
        func, size=size, kernel_size=kernel_size, stride=kernel_size if stride is None else stride,
        padding=padding, dilation=dilation,
    )  # fmt: skip
    result = []
    for i, k, s, p, d in per_axis:
        if p > k // 2:
            raise ValueError(
                f"{func}: padding must be at most half the kernel size, got padding={p}, "
                f"kernel_size={k}"
            )
        span = i + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= i + p:
            out -= 1
        if out < 1:
            raise ValueError(
                f"{func}: kernel_size {k} with dilation {d} does not fit the padded input "
                f"{i} + 2*{p}: the output would be empty"
            )
        result.append(out)
    return _result(result, all_ints)
