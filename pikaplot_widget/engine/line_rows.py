"""M4 of a view with few rows in numpy: read the rows of the range, aggregate per pixel column.

For a narrow view DuckDB's GROUP BY with arg_min/arg_max costs more than the rows themselves
(10M rows in memory, 2-core machine: 3.7 ms for 2k rows in view, 9 ms for 100k, against
1.3 and 3.6 ms to read the rows and aggregate them here). The result has the columns and
meaning of `line_m4_sql.m4_grouped_sql` (one series).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from .even_x import EvenX
from .line_points import M4_COLUMNS
from .line_series import Series, series_codes
from .runner import float_column
from .sql import range_filter_sql

if TYPE_CHECKING:
    from .line import LineColumns

FAST_ROWS = 1_000_000  # views expected to hold more rows than this go to DuckDB's M4


def row_limit(series: Series | None, fast_rows: int) -> int:
    """The most rows a view may hold to be read whole: `fast_rows`, fewer for many y columns (at
    most 6 * `fast_rows` values read: 48 MB at the default; 545k rows of 10 y columns, where
    DuckDB's side-by-side M4 takes ~100 ms against ~45 ms here)."""
    if series is None or series.by is not None:
        return fast_rows
    return min(fast_rows, fast_rows * 6 // (1 + len(series.y_columns)))


def rows_sql(cols: LineColumns) -> str:
    """x and each series' y (NULL where not valid) of the rows in a range (a `by` column as `s`);
    params: the range, then `cols.series_params()`."""
    series = cols.series
    if series is None:
        ys = [f"CASE WHEN {cols.y_valid} THEN {cols.y_value} END AS y"]
    elif series.by is None:
        pairs = zip(series.y_columns, series.y_types, strict=True)
        one = [replace(cols, y=name, y_type=kind, series=None) for name, kind in pairs]
        ys = [f"CASE WHEN {c.y_valid} THEN {c.y_value} END AS y{i}" for i, c in enumerate(one)]
    else:
        ys = [
            f"{cols.dialect.ident(series.by)} AS s",
            f"CASE WHEN {cols.y_valid} THEN {cols.y_value} END AS y",
        ]
    d = cols.dialect
    where = range_filter_sql(d.ident(cols.x), cols.x_type, d) + (series.filter_sql(d) if series else "")
    return f"SELECT {cols.x_value} AS x, {', '.join(ys)} FROM {cols.source.from_sql} WHERE {where}"


def rows_m4(
    rows: pa.Table, series: Series | None, x0: float, scale: float, columns: int
) -> tuple[pa.Table, np.ndarray | None]:
    """M4 per pixel column of the rows of `rows_sql`; several series: ordered by series, then
    column, with their series numbers."""
    x = float_column(rows, "x")
    if series is None:
        return m4_of_rows(x, float_column(rows, "y"), x0, scale, columns), None
    if series.by is None:
        parts = [m4_of_rows(x, float_column(rows, f"y{i}"), x0, scale, columns) for i in range(series.count)]
    else:
        codes, y = series_codes(series, rows), float_column(rows, "y")
        order = np.argsort(codes, kind="stable")  # each series' rows together, in their own order
        bounds = np.searchsorted(codes[order], np.arange(series.count + 1))
        parts = []
        for i in range(series.count):
            at = order[bounds[i] : bounds[i + 1]]
            parts.append(m4_of_rows(x[at], y[at], x0, scale, columns))
    lengths = [len(part) for part in parts]
    return pa.concat_tables(parts), np.repeat(np.arange(series.count, dtype=np.int64), lengths)


def m4_of_rows(x: np.ndarray, y: np.ndarray, x0: float, scale: float, columns: int) -> pa.Table:
    """M4 per pixel column `floor((x - x0) * scale)` in -1..columns of rows (x, y); NaN y is a
    row without a valid y (it counts in `n` and its x is a gap candidate)."""
    if x.size and not bool(np.all(x[1:] >= x[:-1])):  # the source is not sorted by x
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    # (x - x0) * scale rises with x, so the first row of column c is the first with a value >= c:
    # the same float operations as the SQL, without a floor per row.
    position = (x - x0) * scale
    bounds = np.searchsorted(position, np.arange(-1, columns + 2), side="left")
    x, y = x[bounds[0] : bounds[-1]], y[bounds[0] : bounds[-1]]
    return _m4_table(y, bounds - bounds[0], lambda rows: x[rows])


def m4_of_even_rows(
    first_row: int, even: EvenX, y: np.ndarray, x0: float, scale: float, columns: int
) -> pa.Table:
    """`m4_of_rows` of the rows first_row.. whose x `even` computes: the column bounds found
    without computing every x (what searchsorted over them would give), x only where picked."""
    stop = first_row + y.size
    bounds = even.first_rows(np.arange(-1, columns + 2, dtype=np.float64), first_row, stop, x0, scale)
    if bounds is None:
        return m4_of_rows(even.values(first_row, stop), y, x0, scale, columns)
    low, high = int(bounds[0]), int(bounds[-1])
    return _m4_table(y[low - first_row : high - first_row], bounds - low, lambda rows: even.at(rows + low))


def _m4_table(y: np.ndarray, bounds: np.ndarray, x_at: Callable[[np.ndarray], np.ndarray]) -> pa.Table:
    """M4 of rows sorted by x, column c (-1..columns) being rows bounds[c + 1]..bounds[c + 2];
    `x_at` gives the x of rows (indices into `y`)."""
    filled = np.flatnonzero(bounds[1:] > bounds[:-1])
    starts, counts = bounds[filled], bounds[filled + 1] - bounds[filled]
    col = filled.astype(np.int64) - 1
    if col.size == 0:
        empty = np.empty(0)
        return pa.table({"col": col, **dict.fromkeys(M4_COLUMNS, empty), "n": np.empty(0, np.int64)})
    size = y.size
    valid = None if not np.isnan(y.sum()) else ~np.isnan(y)
    if valid is None:  # every y valid: the common case, a few passes fewer
        first, last, has = starts, starts + counts - 1, np.ones(starts.size, bool)
        y_low = y_high = y
        gap = np.full(starts.size, np.nan)
    else:
        index = np.arange(size)
        first = np.minimum.reduceat(np.where(valid, index, size), starts)
        last = np.maximum.reduceat(np.where(valid, index, -1), starts)
        has = last >= 0
        first, last = np.minimum(first, size - 1), np.maximum(last, 0)
        y_low, y_high = np.where(valid, y, np.inf), np.where(valid, y, -np.inf)
        # x rises: a column's least x without a valid y is that of its first such row
        invalid = first_hit(~valid, starts)
        gap = np.where(~valid[invalid], x_at(invalid), np.nan)
    y_min = np.minimum.reduceat(y_low, starts)
    y_max = np.maximum.reduceat(y_high, starts)
    at_min = first_hit(y_low == np.repeat(y_min, counts), starts)
    at_max = first_hit(y_high == np.repeat(y_max, counts), starts)
    picked = x_at(np.concatenate([first, at_min, at_max, last]))
    x_first, x_at_min, x_at_max, x_last = np.split(picked, 4)

    def pick(values: np.ndarray) -> np.ndarray:
        return np.where(has, values, np.nan)

    return pa.table(
        {
            "col": col,
            "x_first": pick(x_first),
            "y_first": pick(y[first]),
            "x_at_min": pick(x_at_min),
            "y_min": pick(y[at_min]),
            "x_at_max": pick(x_at_max),
            "y_max": pick(y[at_max]),
            "x_last": pick(x_last),
            "y_last": pick(y[last]),
            "x_gap": gap,
            "n": counts.astype(np.int64),
        }
    )


def empty_m4() -> pa.Table:
    """M4 rows of nothing (with the series column `s`)."""
    no_rows, no_values = np.empty(0, np.int64), np.empty(0)
    return pa.table({"s": no_rows, "col": no_rows, **dict.fromkeys(M4_COLUMNS, no_values), "n": no_rows})


def first_hit(hit: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group (groups start at `starts`), the first row where `hit` is true (the group's
    first row where none is: a group without a valid y, whose values are not used)."""
    rows = np.flatnonzero(hit)
    if rows.size == 0:
        return starts.copy()
    at = np.minimum(np.searchsorted(rows, starts), rows.size - 1)
    found = rows[at]
    ends = np.r_[starts[1:], hit.size]
    return np.where((found >= starts) & (found < ends), found, starts)
