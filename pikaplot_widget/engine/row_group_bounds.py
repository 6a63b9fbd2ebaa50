"""A first look at a sorted Parquet source from its row-group statistics alone (the file footers).

Each row group's footer holds the min and max of every column. When x rises from one row group to
the next, the y bounds per row group are a coarse M4 envelope of the whole line, read without
decoding a page: about 10 ms for a thousand row groups, where sampled windows decode a row group each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .line import LineColumns
from .runner import NEVER_CANCELLED, QueryCancelled, Reader, Ticket, float_column
from .sql import axis_value_expr

MIN_ROW_GROUPS = 32  # fewer make too coarse a picture; sampled windows decode 8 row groups (0.1 s at 100M)
_PARQUET_READER = "read_parquet("


@dataclass(frozen=True)
class RowGroupBounds:
    """Per row group, sorted by x: the x and y bounds (axis units) and the row count."""

    x_lo: np.ndarray
    x_hi: np.ndarray
    y_lo: np.ndarray
    y_hi: np.ndarray
    rows: np.ndarray

    @property
    def x_sorted(self) -> bool:
        """Every x bound known and finite, and no two row groups' x ranges overlap (ties at their
        edges aside): the rows are sorted by x, or near enough for range filters to skip."""
        finite = bool(np.isfinite(self.x_lo).all() and np.isfinite(self.x_hi).all())
        return finite and bool(np.all(self.x_lo <= self.x_hi) and np.all(self.x_hi[:-1] <= self.x_lo[1:]))

    def reads_over(self, ranges_lo: np.ndarray, ranges_hi: np.ndarray) -> int:
        """How many row groups scans of the x ranges [lo, hi) decode in all: a row group is read by
        every range its x range meets (one with unknown bounds by every range)."""
        lo = np.sort(np.where(np.isfinite(self.x_lo), self.x_lo, -np.inf))
        hi = np.sort(np.where(np.isfinite(self.x_hi), self.x_hi, np.inf))
        starting_below = np.searchsorted(lo, ranges_hi, side="left")  # groups with x_lo < hi
        ending_below = np.searchsorted(hi, ranges_lo, side="left")  # groups with x_hi < lo
        return int(np.sum(starting_below - ending_below))

    def split(self, x_min: float, x_max: float, per_range: int) -> list[tuple[float, float]]:
        """Inclusive x ranges that cover [x_min, x_max] in order, about `per_range` row groups each,
        split only where a row group ends strictly below the next one's start (so no row is in two
        ranges); one range when the bounds are not sorted."""
        if not self.x_sorted or per_range < 1:
            return [(x_min, x_max)]
        gaps = np.flatnonzero(self.x_hi[:-1] < self.x_lo[1:]) + 1  # row groups a range may start at
        starts, last = [], 0
        for start in gaps.tolist():
            if start - last >= per_range:
                starts.append(start)
                last = start
        edges = [x_min, *(float(self.x_lo[i]) for i in starts)]
        ends = [float(self.x_hi[i - 1]) for i in starts] + [x_max]
        return [(lo, hi) for lo, hi in zip(edges, ends, strict=True) if lo <= hi]

    def envelope(self) -> tuple[np.ndarray, np.ndarray]:
        """Points of a line that fills each row group's y range at its middle x: a vertical stroke
        per row group, alternating upward and downward so the strokes join at their ends."""
        mid = (self.x_lo + self.x_hi) / 2
        first = np.where(np.arange(mid.size) % 2 == 0, self.y_lo, self.y_hi)
        second = np.where(np.arange(mid.size) % 2 == 0, self.y_hi, self.y_lo)
        return np.repeat(mid, 2), np.column_stack([first, second]).ravel()


def bounds_sql(cols: LineColumns) -> str | None:
    """SQL for each row group's bounds of x and y (several series: the first y), in axis units;
    params: the x and y column names.
    None when the source is not a plain Parquet reader (SQL, tables, frames, other files)."""
    source = cols.source
    if source.registrations or cols.dialect.aggregates_in_engine:
        return None
    if not source.from_sql.startswith(_PARQUET_READER):
        return None
    d = cols.dialect
    metadata = "parquet_metadata(" + source.from_sql[len(_PARQUET_READER) :]

    def value(side: str, stat: str, type_name: str, log: bool, origin_us: int = 0) -> str:
        raw = f"TRY_CAST({side}.{stat} AS {type_name})"
        return axis_value_expr(raw, type_name, origin_us, log, d)

    return (
        "WITH m AS (SELECT file_name AS f, row_group_id AS g, row_group_num_rows AS n, "
        "path_in_schema AS c, stats_min_value AS lo, stats_max_value AS hi "
        f"FROM {metadata} WHERE row_group_num_rows > 0) "
        f"SELECT a.n AS n, {value('a', 'lo', cols.x_type, cols.log_x, cols.x_origin_us)} AS x_lo, "
        f"{value('a', 'hi', cols.x_type, cols.log_x, cols.x_origin_us)} AS x_hi, "
        f"{value('b', 'lo', cols.y_type, cols.log_y)} AS y_lo, "
        f"{value('b', 'hi', cols.y_type, cols.log_y)} AS y_hi "
        "FROM m AS a JOIN m AS b ON a.f = b.f AND a.g = b.g WHERE a.c = ? AND b.c = ?"
    )


def read_row_group_bounds(
    runner: Reader, cols: LineColumns, ticket: Ticket = NEVER_CANCELLED
) -> RowGroupBounds | None:
    """Every non-empty row group's bounds, sorted by x_lo (NaN where a statistic is missing or not
    finite); None when the source is no plain Parquet reader or its footers cannot be read
    (QueryCancelled is raised)."""
    sql = bounds_sql(cols)
    if sql is None:
        return None
    try:
        table = runner.run(sql, [cols.x, cols.y], ticket=ticket)
    except QueryCancelled:
        raise
    except Exception:  # the footers are a shortcut: any failure means "do without them"
        return None
    x_lo, x_hi = float_column(table, "x_lo"), float_column(table, "x_hi")
    order = np.argsort(x_lo, kind="stable")
    rows = table.column("n").to_numpy(zero_copy_only=False).astype(np.int64)
    y_lo, y_hi = float_column(table, "y_lo"), float_column(table, "y_hi")
    return RowGroupBounds(x_lo[order], x_hi[order], y_lo[order], y_hi[order], rows[order])


def fetch_row_group_bounds(
    runner: Reader, cols: LineColumns, ticket: Ticket = NEVER_CANCELLED
) -> RowGroupBounds | None:
    """The row groups' bounds when they make a faithful envelope: a Parquet source of at least
    MIN_ROW_GROUPS row groups, every bound known and finite, and x ranges that do not overlap
    (sorted data). None otherwise (QueryCancelled is raised)."""
    if cols.series is not None:  # one envelope would mix the series
        return None
    bounds = read_row_group_bounds(runner, cols, ticket)
    if bounds is None or bounds.rows.size < MIN_ROW_GROUPS or not bounds.x_sorted:
        return None
    if not (np.isfinite(bounds.y_lo).all() and np.isfinite(bounds.y_hi).all()):
        return None  # a missing statistic, NaN/inf bounds, or a value the log axis cannot show
    return bounds if bool(np.all(bounds.y_lo <= bounds.y_hi)) else None
