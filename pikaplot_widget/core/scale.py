"""How the axes map data to axis units: linear or log10, and the time zone times are shown in.

On a log axis the axis unit is ``log10(value)``: the engine computes it in SQL, so binning, M4,
indexes and viewports work in axis units unchanged; only the edges (ticks, labels, hover, the
ranges users read and set) convert back to data units with :func:`to_data`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

__all__ = ["LINEAR", "UTC_NAME", "AxisScale", "checked_zone", "not_shown_note", "to_axis", "to_data"]

UTC_NAME = "UTC"
_UTC_ALIASES = frozenset({"UTC", "ETC/UTC", "ETC/UCT", "UCT", "ETC/UNIVERSAL", "UNIVERSAL", "ETC/ZULU"})
_NOT_IN_BROWSERS = frozenset({"localtime", "posixrules", "Factory"})  # Intl.DateTimeFormat refuses
_LOG_LIMIT = 308.25  # log10 of the largest float, nearly: past it 10**x overflows


@dataclass(frozen=True)
class AxisScale:
    """Log or linear x and y, and the IANA zone a time x is shown in (wall-clock ticks, hover)."""

    log_x: bool = False
    log_y: bool = False
    tz: str = UTC_NAME

    @property
    def zoned(self) -> bool:
        """Whether times are shown in a zone other than UTC."""
        return self.tz != UTC_NAME


LINEAR = AxisScale()  # linear axes, times in UTC


@cache
def _known_zones() -> frozenset[str]:
    """IANA zone names both zoneinfo and browsers (Intl.DateTimeFormat) know: zoneinfo's list
    without the system files and the posix/ and right/ copies."""
    return frozenset(
        z
        for z in available_timezones()
        if z not in _NOT_IN_BROWSERS and not z.startswith(("posix/", "right/"))
    )


def checked_zone(tz: object, name: str = "tz") -> str:
    """The IANA zone name `tz` (e.g. "Europe/Berlin"), one of `zoneinfo.available_timezones()`
    that browsers also show (not "localtime", "posixrules", "Factory", "posix/..." or "right/...");
    ValueError naming the argument (with close names) otherwise, TypeError for non-strings."""
    if not isinstance(tz, str):
        raise TypeError(f"{name} must be an IANA time zone name such as 'Europe/Berlin', got {tz!r}")
    if tz.upper() in _UTC_ALIASES:
        return UTC_NAME
    known = _known_zones()
    if tz not in known:
        key = tz.lower().removeprefix("posix/").removeprefix("right/")
        close = sorted(z for z in known if key in z.lower())[:5]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"{name}: unknown time zone {tz!r}{hint}")
    return tz


def not_shown_note(counts: dict[str, int]) -> str:
    """The in-plot note for rows a log axis leaves out, e.g. "1,234 rows with y <= 0 not shown on
    the log axis" ("" when there are none). Keys "x" and "y" are totals; "y:<column>" keys (a list
    of y columns) name the columns that have some: "... y <= 0 (b: 500) not shown ..."."""
    parts = []
    for axis in ("x", "y"):
        n = counts.get(axis, 0)
        if not n:
            continue
        columns = [f"{key[2:]}: {c:,}" for key, c in counts.items() if key.startswith(f"{axis}:") and c]
        named = f" ({', '.join(columns)})" if columns else ""
        parts.append(f"{n:,} {'row' if n == 1 else 'rows'} with {axis} <= 0{named}")
    if not parts:
        return ""
    axes = "log axes" if len(parts) > 1 else "log axis"
    return f"{' and '.join(parts)} not shown on the {axes}"


def to_axis(value: float, log: bool) -> float:
    """A data value in axis units (log10 on a log axis; NaN for a non-positive value there)."""
    if not log:
        return value
    return math.log10(value) if value > 0 else math.nan


def to_data(value: float, log: bool) -> float:
    """An axis value in data units (10**value on a log axis, saturating instead of overflowing)."""
    if not log:
        return value
    if value > _LOG_LIMIT:
        return math.inf
    return 0.0 if value < -400 else float(10.0**value)
