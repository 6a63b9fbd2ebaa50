"""The points a line view draws: M4 rows (one per pixel column, per series) turned into polylines."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .runner import float_column


@dataclass(frozen=True)
class LineData:
    """Points to draw, sorted by x; a NaN y breaks the line. x is in axis units."""

    x: np.ndarray
    y: np.ndarray
    kind: str  # "raw" or "m4"; first looks: "sample" (rows) or "bounds" (row-group statistics)
    rows_in_view: int
    y_min_in_view: float
    y_max_in_view: float
    x_range: tuple[float, float]
    columns: int
    # Where to draw each point, in pixel-column units (0 = left edge of the plot), when the
    # columns were snapped to index buckets: keeps every row of a column inside its pixel.
    column_x: np.ndarray | None = None
    # The pixel column each point belongs to, and what every column stands for (hover).
    point_column: np.ndarray | None = None
    column_stats: ColumnStats | None = None
    # Several series: the series number of each point (points sorted by series, then x), the
    # names, and each series' min and max y in view (NaN where it has none); None for one series.
    series: np.ndarray | None = None
    series_names: tuple[str, ...] = ()
    series_bounds: np.ndarray | None = None


@dataclass(frozen=True)
class ColumnStats:
    """Per pixel column of a view (sorted by column): its rows and their first, last, min, max y."""

    column: np.ndarray
    rows: np.ndarray
    first: np.ndarray
    last: np.ndarray
    low: np.ndarray
    high: np.ndarray
    series: np.ndarray | None = None  # several series: the series of each column row

    def of(self, column: int) -> dict[str, float | int] | None:
        """The stats of one column, or None when no row fell into it."""
        at = int(np.searchsorted(self.column, column))
        if at >= self.column.size or self.column[at] != column:
            return None
        return {
            "rows": int(self.rows[at]),
            "first": float(self.first[at]),
            "last": float(self.last[at]),
            "min": float(self.low[at]),
            "max": float(self.high[at]),
        }


# The value columns of an M4 row, after its column number (`col`) and before its row count (`n`).
M4_COLUMNS = ("x_first", "y_first", "x_at_min", "y_min", "x_at_max", "y_max", "x_last", "y_last", "x_gap")

ColumnEdges = Callable[[np.ndarray], np.ndarray]  # column index -> x of its left edge


def _empty(x_range: tuple[float, float], columns: int) -> LineData:
    nothing = np.empty(0, np.float64)
    return LineData(nothing, nothing, "raw", 0, math.nan, math.nan, x_range, columns)


def _finite_bounds(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    return float(finite.min()), float(finite.max())


def m4_points(
    table: pa.Table,
    x_range: tuple[float, float],
    columns: int,
    kind: str = "m4",
    edges: ColumnEdges | None = None,
) -> LineData:
    """Turn M4 rows (one per pixel column) into the points to draw, in x order, NaN at gaps.

    With `edges` (the columns' snapped left edges), each point also gets its place in
    pixel-column units, inside the column it was aggregated in.
    """
    col = table.column("col").to_numpy()
    v = {name: float_column(table, name) for name in M4_COLUMNS}
    xs, ys, per_column = _ordered_points(v)
    # Absent points (NaN x, last in their row) go, and so do consecutive duplicates (first ==
    # min, say), which add nothing to the drawing; no x is in two columns, so rows never tie.
    keep = ~np.isnan(xs)
    keep[1:] &= (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])
    xs, ys, cs = xs[keep], ys[keep], np.repeat(col, per_column)[keep]
    column_x = None
    if edges is not None:
        left, right = edges(cs), edges(cs + 1)
        fraction = np.clip((xs - left) / np.maximum(right - left, 1e-300), 0.0, 1.0 - 1e-6)
        column_x = cs + fraction
    inside = (col >= 0) & (col < columns)
    y_lo, y_hi = _bounds_in_view(v, inside, col == columns, x_range[1])
    counts = table.column("n").to_numpy()
    rows = int(counts[inside].sum())
    stats = ColumnStats(
        col.astype(np.int64), counts.astype(np.int64), v["y_first"], v["y_last"], v["y_min"], v["y_max"]
    )
    return LineData(xs, ys, kind, rows, y_lo, y_hi, x_range, columns, column_x, cs.astype(np.int64), stats)


def _ordered_points(v: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """Each M4 row's points in x order (on equal x: first, lowest, highest, last, gap), row after
    row, with NaN x where a point is absent; and how many points each row has.

    first <= lowest, highest <= last always hold, so without gaps only the lowest and highest may
    swap: a sort per row is needed only where a gap (NaN y) falls among them."""
    if np.isnan(v["x_gap"]).all():
        low_first = ~(v["x_at_max"] < v["x_at_min"])
        xs = np.stack(
            [v["x_first"], np.where(low_first, v["x_at_min"], v["x_at_max"]),
             np.where(low_first, v["x_at_max"], v["x_at_min"]), v["x_last"]],
            axis=1,
        )  # fmt: skip
        ys = np.stack(
            [v["y_first"], np.where(low_first, v["y_min"], v["y_max"]),
             np.where(low_first, v["y_max"], v["y_min"]), v["y_last"]],
            axis=1,
        )  # fmt: skip
        return xs.ravel(), ys.ravel(), 4
    names = ("x_first", "x_at_min", "x_at_max", "x_last", "x_gap")
    xs = np.stack([v[n] for n in names], axis=1)
    gap_y = np.full(xs.shape[0], np.nan)
    ys = np.stack([v["y_first"], v["y_min"], v["y_max"], v["y_last"], gap_y], axis=1)
    # Order each column's points by x; absent points (NaN x) sort last and are dropped.
    order = np.argsort(xs, axis=1, kind="stable")
    return np.take_along_axis(xs, order, axis=1).ravel(), np.take_along_axis(ys, order, axis=1).ravel(), 5


def _bounds_in_view(
    v: dict[str, np.ndarray], inside: np.ndarray, right_edge: np.ndarray, x1: float
) -> tuple[float, float]:
    """Min and max y of the rows in [x0, x1]: the columns inside, plus those points of the column
    right of the view that lie exactly on its right edge (x == x1 falls into that column)."""
    lows = [v["y_min"][inside]]
    highs = [v["y_max"][inside]]
    if right_edge.any():
        for x_name, y_name in (("x_first", "y_first"), ("x_at_min", "y_min"), ("x_at_max", "y_max")):
            on_edge = right_edge & (v[x_name] <= x1)
            value = v[y_name][on_edge]
            lows.append(value)
            highs.append(value)
    return _finite_bounds(np.concatenate(lows))[0], _finite_bounds(np.concatenate(highs))[1]


def series_points(
    table: pa.Table,
    codes: np.ndarray,
    names: tuple[str, ...],
    x_range: tuple[float, float],
    columns: int,
    kind: str = "m4",
    edges: ColumnEdges | None = None,
    shared_rows: bool = False,
) -> LineData:
    """`m4_points` for each series of M4 rows with series numbers `codes` (ordered by series, then
    column), joined into one `LineData`. `shared_rows`: every series counts the same rows (y columns)."""
    if codes.size == 0 or bool(np.all(codes[1:] >= codes[:-1])):  # series in order: slices
        starts = np.searchsorted(codes, np.arange(len(names) + 1))
        tables = [table.slice(int(a), int(b - a)) for a, b in itertools.pairwise(starts)]
    else:
        tables = [table.filter(pa.array(codes == s)) for s in range(len(names))]
    parts = [m4_points(part, x_range, columns, kind, edges) for part in tables]
    lengths = [part.x.size for part in parts]
    series = np.repeat(np.arange(len(names), dtype=np.int64), lengths)
    bounds = np.array([[part.y_min_in_view, part.y_max_in_view] for part in parts], np.float64).reshape(-1, 2)
    lo, hi = _finite_bounds(bounds.ravel())
    rows = [part.rows_in_view for part in parts]
    stats = [part.column_stats for part in parts if part.column_stats is not None]
    column_stats = ColumnStats(
        np.concatenate([s.column for s in stats]), np.concatenate([s.rows for s in stats]),
        np.concatenate([s.first for s in stats]), np.concatenate([s.last for s in stats]),
        np.concatenate([s.low for s in stats]), np.concatenate([s.high for s in stats]),
        np.repeat(np.arange(len(names), dtype=np.int64), [s.column.size for s in stats]),
    )  # fmt: skip

    def joined(name: str) -> np.ndarray | None:
        values = [getattr(part, name) for part in parts]
        return None if any(v is None for v in values) else np.concatenate(values)

    return LineData(
        np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]), kind,
        max(rows, default=0) if shared_rows else sum(rows), lo, hi, x_range, columns,
        joined("column_x"), joined("point_column"), column_stats, series, names, bounds,
    )  # fmt: skip
