"""Time ticks on the wall clock of a time zone (midnights, hours, months), right across DST changes.

The ticks are chosen on local wall time as if it were UTC (:func:`time_ticks` does the calendar
work and the labels), then each local tick is mapped back to the instants that show that wall
time: none in a spring-forward gap (02:30 on 2026-03-29 in Berlin does not exist, so an hourly
axis reads 01:00, 03:00), two in an autumn fold (02:00 happens twice on 2026-10-25: both are
ticks, one hour apart, labelled "02:00 CEST" and "02:00 CET"), one otherwise. A day on the axis
may so be 23 or 25 hours long; a view across a fold gets a coarser step when the repeated wall
times would exceed ``max_ticks``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from .ticks import Ticks, time_ticks

__all__ = ["local_offset_us", "zoned_time_ticks"]

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_US = 1_000_000
# Inside these instants (years 2..9998) a wall time and its instants are both datetimes.
_SAFE_US = (-62104060800 * _US, 253370764800 * _US)
_SUB_MICRO_SPAN = 2e-5  # narrower windows keep the plain (UTC) ticks: seconds past the origin


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _to_us(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * _US + delta.microseconds


def local_offset_us(instant_us: int, tz: str) -> int:
    """The zone's UTC offset (microseconds) at an instant (epoch microseconds)."""
    offset = (_EPOCH + timedelta(microseconds=instant_us)).astimezone(_zone(tz)).utcoffset()
    return _to_us(offset) if offset is not None else 0


def _instants(wall_us: int, tz: str) -> list[int]:
    """The instants (epoch microseconds) whose wall time in `tz` is `wall_us` (naive epoch
    microseconds): 0, 1 or 2 of them."""
    naive = _NAIVE_EPOCH + timedelta(microseconds=wall_us)
    found: set[int] = set()
    for fold in (0, 1):
        instant = _to_us(naive.replace(tzinfo=_zone(tz), fold=fold).astimezone(_UTC) - _EPOCH)
        if instant + local_offset_us(instant, tz) == wall_us:
            found.add(instant)
    return sorted(found)


def _wall_bounds(lo_us: int, hi_us: int, tz: str) -> tuple[int, int]:
    """The earliest and latest wall time (naive epoch microseconds) of the instants in
    [lo_us, hi_us]: at the ends, or at an offset change inside (found by bisection)."""
    off_lo, off_hi = local_offset_us(lo_us, tz), local_offset_us(hi_us, tz)
    walls = [lo_us + off_lo, hi_us + off_hi]
    if off_lo != off_hi:
        before, after = lo_us, hi_us  # the offset changes somewhere in (before, after]
        while after - before > 1:
            middle = (before + after) // 2
            if local_offset_us(middle, tz) == off_lo:
                before = middle
            else:
                after = middle
        walls += [before + off_lo, after + local_offset_us(after, tz)]
    return min(walls), max(walls)


def zoned_time_ticks(lo: float, hi: float, max_ticks: int, origin_us: int, tz: str) -> Ticks:
    """Like :func:`time_ticks` (seconds since `origin_us`, UTC instants), with ticks and labels
    on the wall clock of the IANA zone `tz`. Ranges outside the years 2..9998 or narrower than
    20 µs keep UTC ticks. Non-finite input raises ``ValueError``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"tick range must be finite, got lo={lo!r}, hi={hi!r}")
    lo, hi = min(lo, hi), max(lo, hi)
    lo_us, hi_us = origin_us + lo * 1e6, origin_us + hi * 1e6
    if hi - lo < _SUB_MICRO_SPAN or lo_us < _SAFE_US[0] or hi_us > _SAFE_US[1]:
        return time_ticks(lo, hi, max_ticks, origin_us)
    wall_lo, wall_hi = _wall_bounds(math.floor(lo_us), math.ceil(hi_us), tz)
    budget = max(2, int(max_ticks))
    while True:  # a fold shows up to an hour of wall times twice: fewer, coarser ticks then
        wall = time_ticks((wall_lo - origin_us) / _US, (wall_hi - origin_us) / _US, budget, origin_us)
        ticks = sorted(
            ((instant - origin_us) / _US, label)
            for value, label in zip(wall.values, wall.labels, strict=True)
            for instant in _instants(origin_us + round(value * _US), tz)
            if lo <= (instant - origin_us) / _US <= hi
        )
        if len(ticks) <= max_ticks or budget <= 2:
            break
        budget -= 1
    values = [v for v, _ in ticks]
    labels = [label for _, label in ticks]
    # A wall time shown twice (an autumn fold) names its zone abbreviation: "02:00 CEST", "02:00 CET".
    repeated = {label for label in labels if labels.count(label) > 1}
    labels = [
        f"{label} {_tzname(origin_us + round(value * _US), tz)}" if label in repeated else label
        for value, label in zip(values, labels, strict=True)
    ]
    return Ticks(tuple(values), tuple(labels), wall.offset_label)


def _tzname(instant_us: int, tz: str) -> str:
    """The zone's abbreviation at an instant (e.g. "CEST"), or its UTC offset where it has none."""
    local = (_EPOCH + timedelta(microseconds=instant_us)).astimezone(_zone(tz))
    return local.tzname() or local.strftime("%z")
