"""Axis tick selection and label formatting (pure Python).

* :func:`numeric_ticks` picks "nice" steps ``{1, 2, 2.5, 5} × 10^k`` (Heckbert style) and places the
  ticks on multiples of the step that lie inside ``[lo, hi]``.  Labels are exact decimal renderings of
  the ticks with a common number of decimals; scientific form (``"1.5e6"``, ``"2e-5"``) is used for
  large values or tiny steps unless plain digits are shorter (e.g. ``"1000000002"`` when the span is tiny
  relative to the magnitude).
* :func:`time_ticks` works on seconds since the Unix epoch (UTC) and walks a fixed, calendar-aware ladder
  of steps (microseconds up to days as exact integer microseconds, then calendar months and years), so
  ticks fall on round UTC boundaries.  Labels show only what changes; the shared part (year, date,
  date and minute) goes once into :attr:`Ticks.offset_label`.

Both functions return at least two and at most ``max_ticks`` ticks whenever ``lo < hi`` (``max_ticks`` is
clamped to ``[2, 1000]``).  Steps are tried from fine to coarse and the finest one that fits is used.  In
the rare case where that step leaves fewer than two ticks inside the range (possible only when
``max_ticks`` is below twice the ratio to the previous step: ``max_ticks < 4`` for numbers, up to
``max_ticks <= 8`` between the week and month steps of the time ladder) every k-th tick of the finer step
is used instead, so the spacing stays constant but is a multiple of a ladder step.  Ticks are computed on
exact integers (decimal mantissas, microseconds) and returned as the nearest floats; a call costs some
tens of microseconds.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["Ticks", "max_ticks_for", "numeric_ticks", "time_ticks"]

_MAX_TICKS_CAP = 1000
_FLOAT_MAX = sys.float_info.max
# Spans are widened to at least this fraction of the magnitude (numbers) so labels stay meaningful.
_MIN_REL_SPAN = 1e-12
# ... and to this many times max_ticks, so that steps stay clear of subnormal numbers.
_MIN_ABS_SPAN_PER_TICK = 1e-306
# Mantissas of the nice numeric steps as (integer, decimal shift): 2.5 == 25 × 10^-1.
_MANTISSAS = ((1, 0), (2, 0), (25, -1), (5, 0))

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_US = 1_000_000
_MINUTE_US = 60 * _US
_HOUR_US = 3600 * _US
_DAY_US = 86400 * _US
# 1970-01-05 was the first Monday after the epoch: week ticks are aligned to it.
_MONDAY_OFFSET_US = 4 * _DAY_US
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FIXED_LADDER_US = (
    # Sub-millisecond steps only matter for spans under a few milliseconds.
    *(m * 10**k for k in range(3) for m in (1, 2, 5)),
    # 1, 2, 5 … 500 ms.
    *(m * 10**k for k in range(3, 6) for m in (1, 2, 5)),
    *(s * _US for s in (1, 2, 5, 10, 15, 30)),
    *(m * _MINUTE_US for m in (1, 2, 5, 10, 15, 30)),
    *(h * _HOUR_US for h in (1, 2, 3, 6, 12)),
    *(d * _DAY_US for d in (1, 2, 7)),
)
_MONTH_STEPS = (1, 3, 6)
_YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
# Calendar arithmetic is supported from 0001-01-01 up to 9999-01-01 (outside: plain numeric ticks).
_TIME_MIN = (datetime(1, 1, 1, tzinfo=_UTC) - _EPOCH).total_seconds()
_SUB_MICRO_SPAN = 2e-5  # windows narrower than this (s) get numeric ticks past the origin
_TIME_MAX = (datetime(9999, 1, 1, tzinfo=_UTC) - _EPOCH).total_seconds()


@dataclass(frozen=True)
class Ticks:
    """Tick positions (data units, ascending, inside ``[lo, hi]``) with one label each."""

    values: tuple[float, ...]
    labels: tuple[str, ...]
    # Shown once next to the axis, e.g. the date when the labels are times of day; "" when unused.
    offset_label: str = ""
    minor: tuple[float, ...] = ()  # unlabelled minor ticks (log axes: 2..9 × 10^k), ascending


def max_ticks_for(length_px: float, min_spacing_px: float = 80) -> int:
    """Return how many ticks fit on an axis of ``length_px`` pixels with ``min_spacing_px`` between ticks."""
    if not (math.isfinite(min_spacing_px) and min_spacing_px > 0):
        raise ValueError(f"min_spacing_px must be a positive finite number, got {min_spacing_px!r}")
    if not (math.isfinite(length_px) and length_px > 0):
        return 2
    return max(2, min(_MAX_TICKS_CAP, int(length_px // min_spacing_px) + 1))


# --------------------------------------------------------------------------------------------- helpers


def _check_range(lo: float, hi: float, max_ticks: int) -> tuple[float, float, int]:
    """Validate the inputs; return ``(lo, hi)`` in ascending order and the clamped tick budget."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"tick range must be finite, got lo={lo!r}, hi={hi!r}")
    if lo > hi:
        lo, hi = hi, lo
    return lo, hi, max(2, min(_MAX_TICKS_CAP, int(max_ticks)))


def _widen(lo: float, hi: float, min_span: float) -> tuple[float, float]:
    """Widen ``[lo, hi]`` symmetrically about its centre to at least ``min_span`` (within float range)."""
    if hi - lo >= min_span:
        return lo, hi
    centre = lo / 2 + hi / 2
    return max(centre - min_span / 2, -_FLOAT_MAX), min(centre + min_span / 2, _FLOAT_MAX)


def _index_range(value: Callable[[int], float], lo: float, hi: float, i0: int, i1: int) -> tuple[int, int]:
    """Refine approximate bounds to the exact index range with ``lo <= value(i) <= hi`` (rising ``value``)."""
    while value(i0 - 1) >= lo:
        i0 -= 1
    while value(i0) < lo:
        i0 += 1
    while value(i1 + 1) <= hi:
        i1 += 1
    while value(i1) > hi:
        i1 -= 1
    return i0, i1


def _pick(candidates: list[tuple[int, int]], max_ticks: int) -> tuple[int, int, int]:
    """Choose ``(j0, j1, stride)`` from index ranges ordered fine to coarse (the last one is the choice).

    The finest candidate with at most ``max_ticks`` ticks wins; if it has fewer than two, every
    ``stride``-th tick of the finer candidate before it is taken (starting on a multiple of the stride
    when that still leaves two ticks).
    """
    j0, j1 = candidates[-1]
    if j1 - j0 + 1 >= 2 or len(candidates) < 2:
        return j0, j1, 1
    j0, j1 = candidates[-2]
    stride = -(-(j1 - j0) // (max_ticks - 1))
    start = -(-j0 // stride) * stride
    if start + stride > j1:
        start = j0
    return start, j1, stride


# --------------------------------------------------------------------------------------------- numbers


def _dec(n: int, e: int) -> float:
    """Return the float nearest to ``n × 10^e`` (correctly rounded; overflow gives ±inf)."""
    return float(f"{n}e{e}")


def _trailing_zeros(n: int) -> int:
    """Return the number of trailing decimal zeros of a non-zero integer."""
    s = str(abs(n))
    return len(s) - len(s.rstrip("0"))


def _plain_label(n: int, e: int) -> str:
    """Render ``n × 10^e`` as a plain decimal with ``max(0, -e)`` decimals and no ``-0``."""
    sign = "-" if n < 0 else ""
    digits = str(abs(n))
    if e >= 0:
        return sign + digits + "0" * e if n else "0"
    digits = digits.rjust(1 - e, "0")
    return sign + digits[:e] + "." + digits[e:]


def _sci_labels(ns: list[int], e: int) -> list[str]:
    """Render each ``n × 10^e`` as ``d.ddde±x`` with a common number of mantissa decimals (0 as "0")."""
    decimals = max((len(str(abs(n)).rstrip("0")) - 1 for n in ns if n), default=0)
    labels = []
    for n in ns:
        if not n:
            labels.append("0")
            continue
        digits = str(abs(n))
        mantissa = digits[0]
        if decimals:
            mantissa += "." + digits[1:].ljust(decimals, "0")[:decimals]
        labels.append(f"{'-' if n < 0 else ''}{mantissa}e{len(digits) - 1 + e}")
    return labels


def _numeric_labels(ns: list[int], e: int, step: float) -> list[str]:
    """Format the ticks ``n × 10^e`` (exactly) with the shortest sensible consistent style."""
    shift = min((_trailing_zeros(n) for n in ns if n), default=0)
    ns = [n // 10**shift for n in ns]
    e += shift
    plain = [_plain_label(n, e) for n in ns]
    max_exponent = max(len(str(abs(n))) - 1 + e for n in ns if n)
    if max_exponent >= 6 or step < 1e-4:
        sci = _sci_labels(ns, e)
        if max(map(len, sci)) <= max(map(len, plain)):
            return sci
    return plain


def numeric_ticks(lo: float, hi: float, max_ticks: int = 8) -> Ticks:
    """Return 2 to ``max_ticks`` ticks at multiples of a nice step ``{1, 2, 2.5, 5} × 10^k`` in ``[lo, hi]``.

    ``lo > hi`` is swapped, ``lo == hi`` is padded by 1 % of the magnitude (±1 around zero), and spans
    below ``1e-12`` of the magnitude (or below ``max_ticks * 1e-306``) are widened about their centre;
    non-finite input raises ``ValueError``.
    """
    lo, hi, max_ticks = _check_range(lo, hi, max_ticks)
    if lo == hi:
        pad = abs(lo) * 0.01 if lo else 1.0
        lo, hi = max(lo - pad, -_FLOAT_MAX), min(hi + pad, _FLOAT_MAX)
    lo, hi = _widen(lo, hi, max(max(abs(lo), abs(hi)) * _MIN_REL_SPAN, max_ticks * _MIN_ABS_SPAN_PER_TICK))

    # Start one decade below the raw step, where every candidate still has more than max_ticks ticks.
    k = math.floor(math.log10(hi / max_ticks - lo / max_ticks)) - 1
    candidates: list[tuple[int, int]] = []
    steps: list[tuple[int, int]] = []
    mantissa_index = 3
    while True:
        num, e = _MANTISSAS[mantissa_index]
        e += k
        step = _dec(num, e)

        def tick_value(i: int, num: int = num, e: int = e) -> float:
            return _dec(i * num, e)

        i0, i1 = _index_range(tick_value, lo, hi, math.ceil(lo / step), math.floor(hi / step))
        candidates.append((i0, i1))
        steps.append((num, e))
        if i1 - i0 + 1 <= max_ticks:
            break
        mantissa_index += 1
        if mantissa_index == len(_MANTISSAS):
            mantissa_index, k = 0, k + 1

    j0, j1, stride = _pick(candidates, max_ticks)
    num, e = steps[len(candidates) - (1 if stride == 1 else 2)]
    ns = [j * num for j in range(j0, j1 + 1, stride)]
    values = tuple(_dec(n, e) for n in ns)
    labels = _numeric_labels(ns, e, _dec(stride * num, e))
    return Ticks(values, tuple(labels))


# ----------------------------------------------------------------------------------------------- times


def _to_dt(us: int) -> datetime:
    """Return the UTC datetime ``us`` microseconds after the epoch."""
    return _EPOCH + timedelta(microseconds=us)


def _to_us(dt: datetime) -> int:
    """Return the exact number of microseconds from the epoch to ``dt``."""
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * _US + delta.microseconds


def _month_start_us(month_index: int) -> int:
    """Return the epoch microseconds of the first instant of month ``year * 12 + month - 1``."""
    year, month0 = divmod(month_index, 12)
    return _to_us(datetime(year, month0 + 1, 1, tzinfo=_UTC))


def _year_start_us(year: int) -> int:
    """Return the epoch microseconds of January 1 of ``year``."""
    return _to_us(datetime(year, 1, 1, tzinfo=_UTC))


def _iso_date(dt: datetime) -> str:
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"


def _short_date(dt: datetime) -> str:
    return f"{_MONTH_NAMES[dt.month - 1]} {dt.day:02d}"


def _time_labels(dts: list[datetime], step_us: int) -> tuple[list[str], str]:
    """Labels and offset label for ticks ``dts`` on multiples of the fixed step ``step_us``."""
    same_year = len({dt.year for dt in dts}) == 1
    if step_us >= _DAY_US:
        if same_year:
            return [_short_date(dt) for dt in dts], str(dts[0].year)
        return [_iso_date(dt) for dt in dts], ""

    if step_us >= _MINUTE_US:
        clock = [f"{dt.hour:02d}:{dt.minute:02d}" for dt in dts]
    elif step_us >= _US:
        clock = [f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}" for dt in dts]
    else:
        decimals = 6 - min(_trailing_zeros(step_us), 5)
        unit = 10 ** (6 - decimals)
        seconds = [f"{dt.second:02d}.{dt.microsecond // unit:0{decimals}d}" for dt in dts]
        first = dts[0]
        if all(dt.replace(second=0, microsecond=0) == first.replace(second=0, microsecond=0) for dt in dts):
            return seconds, f"{_iso_date(first)} {first.hour:02d}:{first.minute:02d}"
        clock = [f"{dt.hour:02d}:{dt.minute:02d}:{s}" for dt, s in zip(dts, seconds, strict=True)]

    if len({dt.date() for dt in dts}) == 1:
        return clock, _iso_date(dts[0])
    if same_year:
        return [f"{_short_date(dt)} {c}" for dt, c in zip(dts, clock, strict=True)], str(dts[0].year)
    return [f"{_iso_date(dt)} {c}" for dt, c in zip(dts, clock, strict=True)], ""


def time_ticks(lo: float, hi: float, max_ticks: int = 8, origin_us: int = 0) -> Ticks:
    """Return 2 to ``max_ticks`` ticks on round UTC calendar boundaries in ``[lo, hi]``: seconds since
    ``origin_us`` (microseconds since the epoch; computed in integer microseconds past it, so ticks
    stay exact in windows far narrower than float64 epoch seconds resolve). Tick values come back
    in the same units.

    Steps come from a fixed ladder (1 µs … 500 ms, 1 … 30 s, 1 … 30 min, 1 … 12 h, 1, 2, 7 days with weeks
    starting on Monday, 1, 3, 6 calendar months, 1, 2, 5, 10 … years).  ``lo > hi`` is swapped, ``lo == hi``
    is padded by ±1 s, and spans below 20 µs (or a few float ulps) are widened; non-finite input raises
    ``ValueError``.  Ranges outside the years 1–9999 fall back to :func:`numeric_ticks`.
    """
    lo, hi, max_ticks = _check_range(lo, hi, max_ticks)
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    origin = origin_us / _US
    if origin_us and hi - lo < _SUB_MICRO_SPAN and _TIME_MIN < lo + origin < _TIME_MAX:
        # Below the calendar ladder's reach: seconds past the origin, down to nanoseconds.
        numeric = numeric_ticks(lo, hi, max_ticks)
        base = _to_dt(origin_us)
        return Ticks(numeric.values, numeric.labels, f"s after {_iso_date(base)} {base:%H:%M:%S}")
    lo, hi = _widen(lo, hi, max(2e-5, 64 * math.ulp(max(abs(lo), abs(hi)))))
    if lo + origin < _TIME_MIN or hi + origin > _TIME_MAX:
        return numeric_ticks(lo, hi, max_ticks)
    lo_us, hi_us = origin_us + lo * 1e6, origin_us + hi * 1e6  # relative first: exact near the origin

    span_us = (hi - lo) * 1e6
    # Candidates whose rough tick count exceeds this cannot be chosen, nor can the one after them
    # be short of ticks (consecutive ladder steps differ by at most ~4.4x), so they are skipped.
    skip_above = 10 * (max_ticks + 1)
    candidates: list[tuple[int, int]] = []
    kinds: list[tuple[str, int]] = []

    for step in _FIXED_LADDER_US:
        if span_us / step > skip_above:
            continue
        offset = _MONDAY_OFFSET_US if step == 7 * _DAY_US else 0

        def tick_seconds(i: int, step: int = step, offset: int = offset) -> float:
            return (offset + i * step - origin_us) / _US

        i0, i1 = _index_range(
            tick_seconds,
            lo,
            hi,
            math.ceil((lo_us - offset) / step),
            math.floor((hi_us - offset) / step),
        )
        candidates.append((i0, i1))
        kinds.append(("us", step))
        if i1 - i0 + 1 <= max_ticks:
            break
    else:
        dt_lo, dt_hi = _to_dt(math.floor(lo_us)), _to_dt(math.floor(hi_us))
        # First month start >= lo and last month start <= hi, as month indices year * 12 + month - 1.
        m_lo = dt_lo.year * 12 + dt_lo.month - 1
        if (_month_start_us(m_lo) - origin_us) / _US < lo:
            m_lo += 1
        m_hi = dt_hi.year * 12 + dt_hi.month - 1
        if (_month_start_us(m_hi) - origin_us) / _US > hi:
            m_hi -= 1
        y_lo = dt_lo.year + ((_year_start_us(dt_lo.year) - origin_us) / _US < lo)
        y_hi = dt_hi.year - ((_year_start_us(dt_hi.year) - origin_us) / _US > hi)
        ladder = [("month", n) for n in _MONTH_STEPS] + [("year", n) for n in _YEAR_STEPS]
        for kind, n in ladder:
            first, last = (m_lo, m_hi) if kind == "month" else (y_lo, y_hi)
            if span_us / (n * (31 if kind == "month" else 366) * _DAY_US) > skip_above:
                continue
            j0, j1 = -(-first // n), last // n
            candidates.append((j0, j1))
            kinds.append((kind, n))
            if j1 - j0 + 1 <= max_ticks:
                break

    j0, j1, stride = _pick(candidates, max_ticks)
    kind, n = kinds[len(candidates) - (1 if stride == 1 else 2)]
    indices = range(j0, j1 + 1, stride)
    if kind == "us":
        offset = _MONDAY_OFFSET_US if n == 7 * _DAY_US else 0
        us = [offset + j * n for j in indices]
        dts = [_to_dt(u) for u in us]
        labels, offset_label = _time_labels(dts, n)
    elif kind == "month":
        us = [_month_start_us(j * n) for j in indices]
        dts = [_to_dt(u) for u in us]
        labels, offset_label = [f"{_MONTH_NAMES[dt.month - 1]} {dt.year}" for dt in dts], ""
    else:
        us = [_year_start_us(j * n) for j in indices]
        labels, offset_label = [str(j * n) for j in indices], ""
    return Ticks(tuple((u - origin_us) / _US for u in us), tuple(labels), offset_label)
