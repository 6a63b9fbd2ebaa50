"""What users give and read as axis ranges (data units; datetimes for time axes) against the worker's
axis units (seconds since the plot's time origin; log10 on log axes)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import traitlets

from .core.scale import LINEAR, UTC_NAME, AxisScale, to_axis, to_data
from .core.viewport import LIMIT, Range

RangeEnd = float | dt.date | np.datetime64  # what a range end may be (datetime and Timestamp are dates)
_SMALLEST = 5e-324  # the smallest positive float: what a log axis's range can reach down to


_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=dt.timezone.utc)
_NS = 1_000_000_000
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": _NS}


def _wall_clock(instant_s: int, zone: ZoneInfo) -> dt.datetime:
    """The naive wall time in `zone` at `instant_s` seconds since the epoch."""
    return (_EPOCH_UTC + dt.timedelta(seconds=instant_s)).astimezone(zone).replace(tzinfo=None)


def wall_to_instant(wall_s: int, tz: str) -> tuple[int, bool]:
    """Seconds since the epoch of a naive wall time (`wall_s`: seconds since 1970-01-01 00:00 on
    the wall clock) in zone `tz`, and whether it fell in a DST gap. A repeated wall time (a fold)
    is its first occurrence; a skipped one (a gap) is shifted forward to the instant the gap ends."""
    if tz == UTC_NAME:
        return wall_s, False
    zone, naive = ZoneInfo(tz), _EPOCH + dt.timedelta(seconds=wall_s)
    offsets = [naive.replace(tzinfo=zone, fold=fold).utcoffset() or dt.timedelta() for fold in (0, 1)]
    first = wall_s - int(offsets[0].total_seconds())  # fold=0: the first occurrence of a fold
    if _wall_clock(first, zone) == naive:
        return first, False
    lo, hi = wall_s - int(offsets[1].total_seconds()), first  # a gap: its end lies in (lo, hi]
    while hi - lo > 1:
        middle = (lo + hi) // 2
        lo, hi = (lo, middle) if _wall_clock(middle, zone) >= naive else (middle, hi)
    return hi, True


def _naive_to_seconds(wall: np.datetime64, tz: str) -> float:
    """A naive numpy time read on the wall clock of `tz`, as seconds since the epoch (any unit,
    no nanosecond overflow past 2262)."""
    unit = np.datetime_data(wall.dtype)[0]
    if unit not in _PER_SECOND:
        wall, unit = wall.astype("datetime64[s]"), "s"
    whole, fraction = divmod(int(wall.astype(np.int64)), _PER_SECOND[unit])
    instant, in_gap = wall_to_instant(whole, tz)
    if in_gap:
        return float(instant)  # exactly where the gap ends
    return instant + fraction * (_NS // _PER_SECOND[unit]) / 1e9


def to_seconds(value: object, tz: str, name: str) -> float:
    """One range end as a float: numbers as they are; `datetime.datetime`, `numpy.datetime64`
    and pandas `Timestamp` as seconds since the epoch (aware: converted; naive: wall time in `tz`,
    a DST fold's first occurrence, a DST gap's end); `datetime.date` as midnight in `tz`.
    TypeError for anything else; ValueError for a time outside years 1..9999 of a zone."""
    try:
        return _seconds(value, tz, name)
    except OverflowError:
        raise ValueError(f"{name}: {value!r} lies outside the dates a time zone can place") from None


def _seconds(value: object, tz: str, name: str) -> float:
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError(f"{name} must not hold NaT, got {value!r}")
        return _naive_to_seconds(value, tz)
    if isinstance(value, dt.datetime) and hasattr(value, "tz_localize"):  # a pandas Timestamp
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)  # type: ignore[attr-defined]
            tz = UTC_NAME
        return _naive_to_seconds(value.asm8, tz)  # type: ignore[attr-defined]  # the numpy form
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None:
            value, tz = value.astimezone(dt.timezone.utc), UTC_NAME
        return _naive_to_seconds(np.datetime64(value.replace(tzinfo=None), "us"), tz)
    if isinstance(value, dt.date):
        return float(wall_to_instant((value - _EPOCH.date()).days * 86_400, tz)[0])
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{name} ends must be numbers, datetime, date, numpy.datetime64 or pandas.Timestamp, "
            f"got {type(value).__name__}"
        )
    return float(value)


@dataclass(frozen=True)
class AxisUnits:
    """Converts ranges between what users see (data units) and the worker's axis units."""

    x_origin: float = 0.0  # seconds: the worker's x values count from here (time axes)
    scale: AxisScale = field(default=LINEAR)

    def checked(self, value: object, name: str) -> tuple[float, float]:
        """A user's (lo, hi) as floats in data units; ValueError/TypeError naming `name` for a bad
        pair, NaN, an empty range, or (log axes) ends that are not positive."""
        ends: tuple[object, ...] = ()
        if isinstance(value, Iterable):
            ends = tuple(value)
        if len(ends) != 2 or isinstance(value, (str, bytes)):
            raise ValueError(f"{name} must be a pair (lo, hi), got {value!r}")
        pair = (to_seconds(ends[0], self.scale.tz, name), to_seconds(ends[1], self.scale.tz, name))
        checked = Range.checked(pair, name).as_tuple()
        if self._log(name) and checked[0] <= 0:
            raise ValueError(f"{name} must be positive on a log axis, got {value!r}")
        return checked

    def _log(self, name: str) -> bool:
        return self.scale.log_x if name.startswith("x") else self.scale.log_y

    def to_axis(self, value: object, name: str) -> tuple[float, float]:
        """A user's range (checked) in the worker's axis units."""
        lo, hi = self.checked(value, name)
        log = self._log(name)
        shift = self.x_origin if name.startswith("x") else 0.0
        return to_axis(lo, log) - shift, to_axis(hi, log) - shift

    def to_user(self, axis: Range, name: str) -> tuple[float, float]:
        """A worker range as the traitlet shows it: data units, kept a valid (lo < hi) range."""
        log = self._log(name)
        shift = self.x_origin if name.startswith("x") else 0.0
        lo, hi = to_data(axis.lo + shift, log), to_data(axis.hi + shift, log)
        if log:
            lo, hi = min(max(lo, _SMALLEST), LIMIT), min(max(hi, _SMALLEST), LIMIT)
        # A window narrower than float64 resolves at this magnitude keeps a width of one ulp.
        return lo, max(hi, math.nextafter(lo, math.inf))

    def selection_ends(self, value: object, name: str) -> object:
        """A selection's (lo, hi) with its time ends (datetime, date, numpy.datetime64, pandas
        Timestamp) as seconds, read as `x_range` reads them; anything else as given (checked later)."""
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return value
        times = (dt.date, np.datetime64)
        return tuple(to_seconds(v, self.scale.tz, name) if isinstance(v, times) else v for v in value)

    def bound_to_axis(self, value: float, axis: str) -> float:
        """One selection bound (data units) in worker units; on a log axis a bound <= 0 stands for
        "from the smallest positive value"."""
        if self._log(axis):
            return to_axis(max(value, _SMALLEST), True)
        return value - (self.x_origin if axis == "x" else 0.0)

    def value_to_user(self, value: float, axis: str) -> float:
        """One axis value (worker units) in data units, e.g. for `Plot.pick`."""
        shift = self.x_origin if axis == "x" else 0.0
        return to_data(value + shift, self._log(axis))

    def shown_to_user(self, shown: dict[str, object]) -> dict[str, object]:
        """Selection bounds as the front end and `selection_bounds` show them (time x already
        absolute): on log axes, back from log10 to data units."""
        lx, ly = self.scale.log_x, self.scale.log_y
        if not (lx or ly):
            return shown
        out = dict(shown)
        for key, log in (("x", lx), ("y", ly)):
            bounds = shown.get(key)
            if log and isinstance(bounds, list):
                out[key] = [to_data(float(v), True) for v in bounds]
        polygon = shown.get("polygon")
        if isinstance(polygon, list):
            out["polygon"] = [[to_data(float(vx), lx), to_data(float(vy), ly)] for vx, vy in polygon]
        return out

    def record_to_user(self, record: dict[str, object]) -> dict[str, object]:
        """A picked record with its x and y-like values (y, a line column's first/last/min/max)
        in data units."""
        for key, axis in (("x", "x"), ("y", "y"), ("first", "y"), ("last", "y"), ("min", "y"), ("max", "y")):
            value = record.get(key)
            if isinstance(value, float):
                record[key] = self.value_to_user(value, axis)
        return record


class UserRange(traitlets.TraitType[tuple[float, float], object]):
    """A (lo, hi) range trait: floats when read; accepts datetimes (for time axes) when set,
    converted in the zone of the plot that owns it (its `_units`)."""

    default_value = (0.0, 1.0)
    info_text = "a (lo, hi) pair of numbers or datetimes"

    def validate(self, obj: object, value: object) -> tuple[float, float]:
        units = getattr(obj, "_units", None) or AxisUnits()
        try:
            return units.checked(value, str(self.name))
        except (TypeError, ValueError) as error:
            raise traitlets.TraitError(str(error)) from None
