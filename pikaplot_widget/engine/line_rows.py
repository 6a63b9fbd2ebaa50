"""M4 of a view with few rows in numpy: read the rows of the range, aggregate per pixel column.

For a narrow view DuckDB's GROUP BY with arg_min/arg_max costs more than the rows themselves
(10M rows in memory, 2-core machine: 3.7 ms for 2k rows in view, 9 ms for 100k, against
1.3 and 3.6 ms to read the rows and aggregate them here). The result has the columns and
meaning of `LineColumns.m4_grouped_sql` (one series).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

FAST_ROWS = 1_000_000  # views expected to hold more rows than this go to DuckDB's M4

M4_COLUMNS = ("x_first", "y_first", "x_at_min", "y_min", "x_at_max", "y_max", "x_last", "y_last", "x_gap")


def rows_sql(x_value: str, y_value: str, y_valid: str, from_sql: str, where: str) -> str:
    """x and y (NULL where y is not valid) of the rows in a range; params: the range."""
    return f"SELECT {x_value} AS x, CASE WHEN {y_valid} THEN {y_value} END AS y FROM {from_sql} WHERE {where}"


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
    bounds -= bounds[0]
    filled = np.flatnonzero(bounds[1:] > bounds[:-1])
    starts, counts = bounds[filled], bounds[filled + 1] - bounds[filled]
    col = filled.astype(np.int64) - 1
    if col.size == 0:
        empty = np.empty(0)
        return pa.table({"col": col, **dict.fromkeys(M4_COLUMNS, empty), "n": np.empty(0, np.int64)})
    size = x.size
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
        gap = np.minimum.reduceat(np.where(valid, np.inf, x), starts)
        gap[np.isinf(gap)] = np.nan
    y_min = np.minimum.reduceat(y_low, starts)
    y_max = np.maximum.reduceat(y_high, starts)
    at_min = _first_hit(y_low == np.repeat(y_min, counts), starts)
    at_max = _first_hit(y_high == np.repeat(y_max, counts), starts)

    def pick(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.where(has, values[rows], np.nan)

    return pa.table(
        {
            "col": col,
            "x_first": pick(x, first),
            "y_first": pick(y, first),
            "x_at_min": pick(x, at_min),
            "y_min": pick(y, at_min),
            "x_at_max": pick(x, at_max),
            "y_max": pick(y, at_max),
            "x_last": pick(x, last),
            "y_last": pick(y, last),
            "x_gap": gap,
            "n": counts.astype(np.int64),
        }
    )


def _first_hit(hit: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group (groups start at `starts`), the first row where `hit` is true (the group's
    first row where none is: a group without a valid y, whose values are not used)."""
    rows = np.flatnonzero(hit)
    if rows.size == 0:
        return starts.copy()
    at = np.minimum(np.searchsorted(rows, starts), rows.size - 1)
    found = rows[at]
    ends = np.r_[starts[1:], hit.size]
    return np.where((found >= starts) & (found < ends), found, starts)
