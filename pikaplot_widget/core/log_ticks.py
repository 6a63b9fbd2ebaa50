"""Ticks of a log10 axis: decades, the 1-2-5 and 1-3 steps between them, every n-th decade, and
minor ticks at 2..9 × 10^k.

Ranges and tick values are in axis units (``log10`` of the data value). With three decades or more
in view the major ticks are the decades, or every n-th decade (n = 2, 3, 5, 10, 20, 25, 50, …, the
smallest that fits ``max_ticks``). With fewer, the finest of 1..9 × 10^k, 1, 2, 5 × 10^k and
1, 3 × 10^k that gives 2 to ``max_ticks`` ticks.
A view too narrow for any of them (less than about one step of 1..9) gets plain linear ticks of
the data values (:func:`numeric_ticks`), placed at their log10.

Labels use one style per axis: plain decimals (``0.01``, ``200``, ``1000``) while every label's
exponent lies in −3..4, else ``1e-5``, ``2e6``, ``1e300`` (mantissa ``e`` exponent) for all.
"""

from __future__ import annotations

import math

from .ticks import Ticks, numeric_ticks

__all__ = ["log_ticks"]

_MANTISSA_SETS: tuple[tuple[int, ...], ...] = ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1, 3), (1,))


def _decade_strides(span: float, max_ticks: int) -> list[int]:
    """Strides 2, 3, 5, 10, 20, 25, 50, 100, … from the first that can fit `max_ticks` ticks."""
    smallest = span / (max_ticks + 1)
    strides = [2, 3, 5]
    scale = 10 ** max(0, int(math.log10(max(smallest, 1.0))) - 1)
    while True:
        strides += [10 * scale, 20 * scale, 25 * scale, 50 * scale]
        if 10 * scale > 10 * smallest:
            return [s for s in strides if s * (max_ticks + 1) >= span * 0.5] or strides[-4:]
        scale *= 10


_PLAIN_EXPONENTS = range(-3, 5)
_MIN_DECADES = 3  # with this many decades in view, the major ticks are the decades
_FLOAT_DECADES = (-323.0, 308.0)  # data values of these decades are representable as floats
_MAX_TICKS_CAP = 1000
# Minor ticks need this many pixels per decade, measured in max_ticks (one per ~80 px): 2..9
# between decades while a decade spans at least ~2/3 of a tick slot, decades while it spans ~1/8.
_MINOR_DECADES_PER_TICK = 1.5
_DECADE_MINOR_DECADES_PER_TICK = 8.0


def _label(mantissa: int, exponent: int, plain: bool) -> str:
    if not plain:
        return f"{mantissa}e{exponent}"
    if exponent >= 0:
        return str(mantissa * 10**exponent)
    return f"{mantissa / 10**-exponent:.{-exponent}f}"


def _decade_ticks(lo: float, hi: float, mantissas: tuple[int, ...], stride: int = 1) -> list[tuple[int, int]]:
    """(mantissa, exponent) pairs in [lo, hi] (axis units), ascending."""
    first, last = math.floor(lo), math.floor(hi)
    ticks: list[tuple[int, int]] = []
    start = -(-first // stride) * stride if stride > 1 else first
    for exponent in range(start, last + 1, stride):
        for mantissa in mantissas:
            value = exponent + math.log10(mantissa)
            if lo <= value <= hi:
                ticks.append((mantissa, exponent))
    return ticks


def _count(lo: float, hi: float, mantissas: tuple[int, ...], stride: int) -> int:
    """Roughly how many ticks `_decade_ticks` gives (without building huge lists)."""
    return int((hi - lo) / stride * len(mantissas)) + 2


def _minor(lo: float, hi: float, major: list[tuple[int, int]], mantissas: tuple[int, ...],
           stride: int, max_ticks: int) -> tuple[float, ...]:  # fmt: skip
    """Minor tick positions: 2..9 × 10^k between decades, or the skipped decades."""
    decades = hi - lo
    taken = set(major)
    if stride == 1 and mantissas != _MANTISSA_SETS[0] and decades <= _MINOR_DECADES_PER_TICK * max_ticks:
        ticks = _decade_ticks(lo, hi, _MANTISSA_SETS[0])
    elif stride > 1 and decades <= _DECADE_MINOR_DECADES_PER_TICK * max_ticks:
        ticks = _decade_ticks(lo, hi, (1,))
    else:
        return ()
    return tuple(e + math.log10(m) for m, e in ticks if (m, e) not in taken)


def log_ticks(lo: float, hi: float, max_ticks: int = 8) -> Ticks:
    """Ticks of a log10 axis over [lo, hi] (axis units: log10 of the values; ``lo > hi`` is
    swapped). Values are axis units; labels show the data values; ``minor`` holds minor ticks.
    Non-finite input raises ``ValueError``."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"tick range must be finite, got lo={lo!r}, hi={hi!r}")
    lo, hi = min(lo, hi), max(lo, hi)
    max_ticks = max(2, min(_MAX_TICKS_CAP, int(max_ticks)))
    choice: tuple[list[tuple[int, int]], tuple[int, ...], int] | None = None
    decades = math.floor(hi) - math.ceil(lo) + 1  # decade ticks in view
    if decades > max_ticks:  # every n-th decade
        for stride in _decade_strides(hi - lo, max_ticks):
            if _count(lo, hi, (1,), stride) > 4 * max_ticks + 8:
                continue
            ticks = _decade_ticks(lo, hi, (1,), stride)
            if 2 <= len(ticks) <= max_ticks:
                choice = (ticks, (1,), stride)
                break
    elif decades >= _MIN_DECADES:
        choice = (_decade_ticks(lo, hi, (1,)), (1,), 1)
    else:  # few decades in view: the finest of 1..9, 1-2-5, 1-3 that fits
        for mantissas in _MANTISSA_SETS:
            ticks = _decade_ticks(lo, hi, mantissas)
            if len(ticks) <= max_ticks:
                if len(ticks) >= 2:
                    choice = (ticks, mantissas, 1)
                break
    if choice is None:
        return _linear_ticks(lo, hi, max_ticks)
    ticks, mantissas, stride = choice
    plain = all(e in _PLAIN_EXPONENTS for _, e in ticks)
    values = tuple(e + math.log10(m) for m, e in ticks)
    labels = tuple(_label(m, e, plain) for m, e in ticks)
    return Ticks(values, labels, minor=_minor(lo, hi, ticks, mantissas, stride, max_ticks))


def _linear_ticks(lo: float, hi: float, max_ticks: int) -> Ticks:
    """A view narrower than the 1..9 steps: linear ticks of the data values, placed at their log10."""
    if lo < _FLOAT_DECADES[0] or hi > _FLOAT_DECADES[1]:
        # Past what floats hold (a view panned off the data): ticks of the exponent itself.
        exponent = numeric_ticks(lo, hi, max_ticks)
        return Ticks(exponent.values, tuple(f"1e{label}" for label in exponent.labels))
    linear = numeric_ticks(10.0**lo, 10.0**hi, max_ticks)
    kept = [(math.log10(v), label) for v, label in zip(linear.values, linear.labels, strict=True) if v > 0]
    return Ticks(tuple(v for v, _ in kept), tuple(label for _, label in kept))
