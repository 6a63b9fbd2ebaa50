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

from .core.scale import LINEAR, AxisScale, to_axis, to_data
from .core.viewport import LIMIT, Range

_SMALLEST = 5e-324  # the smallest positive float: what a log axis's range can reach down to


def to_seconds(value: object, tz: str, name: str) -> float:
    """One range end as a float: numbers as they are; `datetime.datetime` (naive: wall time in
    `tz`; aware: converted), `datetime.date` (midnight in `tz`), `numpy.datetime64` and pandas
    `Timestamp` as seconds since the epoch. TypeError for anything else."""
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError(f"{name} must not hold NaT, got {value!r}")
        return float(value.astype("datetime64[ns]").astype(np.int64)) / 1e9
    if isinstance(value, dt.datetime) and hasattr(value, "tz_localize"):  # a pandas Timestamp
        if value.tzinfo is None:
            value = value.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        nanos: int = value.value  # type: ignore[attr-defined]  # nanoseconds since the epoch
        return float(nanos) / 1e9
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=ZoneInfo(tz))
        whole = value.astimezone(dt.timezone.utc).replace(microsecond=0).timestamp()
        return whole + value.microsecond / 1e6
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=ZoneInfo(tz)).timestamp()
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
