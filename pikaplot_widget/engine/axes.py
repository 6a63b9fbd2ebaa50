"""Axis facts the engine answers: the checked log and time-zone arguments of a plot, the rows a log
axis cannot show (counted once per plot, for the in-plot note and `Plot.stats`), and the time zone
the session shows TIMESTAMPTZ values in."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..core.scale import UTC_NAME, AxisScale, checked_zone
from .line_series import Series
from .runner import NEVER_CANCELLED, Reader, Ticket
from .sources import Source
from .sql import is_temporal_type, valid_value_expr


class ZoneSource(Protocol):
    """An engine session that knows the zone it shows time-zone-aware values in."""

    def time_zone(self) -> str: ...


class LogColumns(Protocol):
    """What a plot's columns tell about its axes (LineColumns, ScatterColumns)."""

    @property
    def source(self) -> Source: ...
    @property
    def x(self) -> str: ...
    @property
    def y(self) -> str: ...
    @property
    def x_type(self) -> str: ...
    @property
    def y_type(self) -> str: ...
    @property
    def log_x(self) -> bool: ...
    @property
    def log_y(self) -> bool: ...


def count_not_positive(
    runner: Reader, cols: LogColumns, ticket: Ticket = NEVER_CANCELLED, series: Series | None = None
) -> dict[str, int]:
    """Per log axis ("x", "y"), the values that are valid (not NULL, NaN or inf) but zero or
    negative, in one scan; {} when no axis is log (no query then). With a list of y columns
    (`series`), "y" is their total and "y:<column>" each column's own count."""
    y_columns: tuple[tuple[str, str], ...] = ((cols.y, cols.y_type),)
    if series is not None and series.y_columns:
        y_columns = tuple(zip(series.y_columns, series.y_types, strict=True))
    counted: list[tuple[str, str, str]] = []  # (key, column, type)
    if cols.log_x:
        counted.append(("x", cols.x, cols.x_type))
    if cols.log_y:
        several = len(y_columns) > 1
        counted.extend((f"y:{column}" if several else "y", column, kind) for column, kind in y_columns)
    if not counted:
        return {}
    parts, d = [], cols.source.dialect
    for number, (_, column, type_name) in enumerate(counted):
        name = d.ident(column)
        valid = valid_value_expr(name, type_name, dialect=d)
        parts.append(f"{d.count_where(f'{valid} AND {name} <= 0')} AS n{number}")
    sql = f"SELECT {', '.join(parts)} FROM {cols.source.from_sql}"
    row = runner.run(sql, ticket=ticket).to_pylist()[0]
    counts = {key: int(n or 0) for (key, _, _), n in zip(counted, row.values(), strict=True)}
    per_column = {key: n for key, n in counts.items() if key.startswith("y:")}
    if not per_column:
        return counts
    axes = {"x": counts["x"]} if "x" in counts else {}
    return {**axes, "y": sum(per_column.values()), **per_column}


def axis_scale(
    x_type: str, y_type: str, session: ZoneSource, log_x: object, log_y: object, tz: object
) -> AxisScale:
    """The checked `log_x`, `log_y` and `tz` arguments of `line`/`scatter` for columns of these
    types. `tz` defaults to the session's TimeZone for TIMESTAMPTZ x and to UTC otherwise (naive
    times are taken as UTC and shown in `tz`); a DATE x refuses any zone but UTC (ValueError)."""
    for name, flag, type_name in (("log_x", log_x, x_type), ("log_y", log_y, y_type)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
        if flag and is_temporal_type(type_name):
            raise ValueError(f"{name} needs a numeric column; dates and times have no log axis")
    if tz is None:
        zone = session.time_zone() if x_type == "TIMESTAMP WITH TIME ZONE" else UTC_NAME
    else:
        zone = checked_zone(tz)
        if not is_temporal_type(x_type):
            raise ValueError(f"tz applies to a date or time x; this x is {x_type}")
        if x_type == "DATE" and zone != UTC_NAME:
            raise ValueError(
                f"tz={tz!r} does not apply to a DATE x: a date has no time zone (days are drawn as "
                "they are); cast x to TIMESTAMP or TIMESTAMPTZ to show it in a zone"
            )
    return AxisScale(bool(log_x), bool(log_y), zone)
