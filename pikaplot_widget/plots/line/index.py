"""A multi-resolution line index: M4 aggregates per bucket over the whole x extent, in DuckDB.

Level 0 holds first, last, min and max of y (with their x), the first invalid x and the row count
for buckets of about ROWS_PER_BUCKET rows, built over the source in chunks of whole buckets
(index_chunks.py; one pass when they fit one); each level above merges FANOUT buckets of the level
below, and the index database is checkpointed after. A viewport whose pixel columns span at least
MIN_BUCKETS_PER_COLUMN buckets of some level is answered from that level: each bucket goes to the
column that holds its centre, so column edges snap to bucket edges (less than 1/(2 *
MIN_BUCKETS_PER_COLUMN) of a pixel away) and every column's first, last, min and max are exact for
the rows between its snapped edges. Deeper zooms query the rows themselves.
"""

from __future__ import annotations

import contextlib
import itertools
import math

import numpy as np
import pyarrow as pa

from ...engine.dialect import Dialect
from ...engine.line import ColumnEdges, Extent, LineColumns, LineData, m4_points
from ...engine.line_points import series_points
from ...engine.line_rows import first_hit
from ...engine.line_series import Series, series_codes
from ...engine.row_group_bounds import read_row_group_bounds
from ...engine.runner import NEVER_CANCELLED, OUT_OF_MEMORY, ProgressCallback, Reader, Ticket
from .index_chunks import (
    BUCKETS_PER_CHUNK,
    BuildProgress,
    checkpoint_index,
    index_invalidated,
    level0_statements,
    may_chunk,
)
from .index_geometry import (
    FANOUT,
    IN_MEMORY_BYTES,
    LEVEL_COLUMNS,
    MIN_ROWS,
    ROWS_PER_BUCKET,
    TOP_LEVEL_BUCKETS,
    Pyramid,
    bucket_count,
    rows_per_bucket_for,
)

_names = itertools.count(1)


def _merge_sql(d: Dialect) -> str:
    """Merging buckets: the first of the firsts, the last of the lasts, the min of the mins, ..."""
    return f"""
    min(x_first) AS x_first, {d.arg_min("y_first", "x_first")} AS y_first,
    {d.arg_min("x_at_min", "y_min")} AS x_at_min, min(y_min) AS y_min,
    {d.arg_max("x_at_max", "y_max")} AS x_at_max, max(y_max) AS y_max,
    max(x_last) AS x_last, {d.arg_max("y_last", "x_last")} AS y_last,
    min(x_gap) AS x_gap, CAST(sum(n) AS BIGINT) AS n"""


def _table_name(index_id: int, level: int) -> str:
    return f"line_{index_id}_level_{level}"


def build_pyramid(
    runner: Reader,
    cols: LineColumns,
    extent: Extent,
    on_progress: ProgressCallback | None = None,
    ticket: Ticket = NEVER_CANCELLED,
    *,
    min_rows: int = MIN_ROWS,
    rows_per_bucket: int | None = None,
    top_level_buckets: int = TOP_LEVEL_BUCKETS,
    buckets_per_chunk: int = BUCKETS_PER_CHUNK,
) -> Pyramid | None:
    """Build the index (None when the data is too small or flat): level 0 in chunks of at most
    `buckets_per_chunk` groups (x ranges on bucket edges; one pass when they fit one), the levels
    above from the level below, then a CHECKPOINT of the index database (DuckDB compresses it).

    One build runs at a time per database (the runner's gate; the others wait, cancellable): the
    GROUP BY's hash tables of builds at once overflow a lean memory_limit. A build that still runs out
    of memory is tried once more after the builds waiting then; a second failure raises
    the engine's out-of-memory error."""
    if extent.empty or extent.rows < min_rows or not extent.x_max > extent.x_min:
        return None
    wide_groups = buckets_per_chunk  # one statement over more groups needs the wider limit
    if rows_per_bucket is None:
        rows_per_bucket = rows_per_bucket_for(extent.rows, cols.series.count if cols.series else 1)
        if rows_per_bucket < ROWS_PER_BUCKET:  # each thread may see every group of a shuffled
            wide_groups //= 8  # source: 2M rows in 64-row buckets need 128-160 MB on 16 threads
    sizes = (rows_per_bucket, top_level_buckets, buckets_per_chunk, wide_groups)
    args = (runner, cols, extent, on_progress, ticket, *sizes)
    try:
        with runner.gate.held(ticket, runner):
            return _build_once(*args)
    except OUT_OF_MEMORY:
        pass
    with runner.gate.held(ticket, runner, after_others=True):
        return _build_once(*args)


def _build_once(
    runner: Reader,
    cols: LineColumns,
    extent: Extent,
    on_progress: ProgressCallback | None,
    ticket: Ticket,
    rows_per_bucket: int,
    top_level_buckets: int,
    buckets_per_chunk: int,
    wide_groups: int,
) -> Pyramid | None:
    index_id = next(_names)
    first_table = runner.index_table(_table_name(index_id, 0))
    if first_table is None:  # nowhere to keep it (a read-only database): views read the rows
        return None
    buckets = bucket_count(extent.rows, rows_per_bucket, top_level_buckets)
    width = (extent.x_max - extent.x_min) / buckets
    tables, d, series = [first_table], runner.dialect, cols.series
    chunked = may_chunk(cols, extent, buckets, width, buckets_per_chunk, d)
    row_groups = read_row_group_bounds(runner, cols, ticket) if chunked else None  # is x sorted enough?
    level0 = level0_statements(cols, extent, first_table, buckets, width, buckets_per_chunk, d, row_groups)
    s, progress = ("s, " if series is not None else ""), BuildProgress(on_progress)
    groups = buckets * (series.count if series is not None else 1)
    # One statement over more groups than `wide_groups`: its hash table needs the wider limit.
    one_table = len(level0) == 1 and groups > wide_groups
    wide = runner.gate.widened() if one_table else contextlib.nullcontext()
    try:
        with wide:
            for statement in level0:  # in key order; the ticket stops it between and within them
                runner.run(statement.sql, statement.params, progress.of(statement), ticket)
        count = buckets
        while count > top_level_buckets:
            below, level = tables[-1], len(tables)
            table = runner.index_table(_table_name(index_id, level))
            assert table is not None  # level 0's storage holds every level
            tables.append(table)
            k = d.int_div("k", FANOUT)
            merged = f"SELECT {s}{k} AS k, {_merge_sql(d)} FROM {below} GROUP BY {s}{k} ORDER BY {s}k"
            runner.run(d.create_table(table, merged), ticket=ticket)
            count = math.ceil(count / FANOUT)
        pyramid = Pyramid(tuple(tables), extent.x_min, width, buckets, series)
        load_levels(runner, pyramid, ticket=ticket)
        checkpoint_index(runner, ticket)
    except BaseException:  # cancelled or failed half way: leave no tables behind
        with contextlib.suppress(Exception):
            drop_pyramid(runner, Pyramid(tuple(tables), extent.x_min, width, buckets))
        index_invalidated(runner)  # a write of its file failed: DETACH it
        raise
    return pyramid


def load_levels(
    runner: Reader, pyramid: Pyramid, budget: int = IN_MEMORY_BYTES, ticket: Ticket = NEVER_CANCELLED
) -> None:
    """Keep the coarsest levels as numpy arrays too (merging them in numpy skips a query)."""
    series = pyramid.series
    for level in range(len(pyramid.tables) - 1, -1, -1):
        rows = math.ceil(pyramid.buckets / FANOUT**level) * (series.count if series else 1)
        budget -= rows * 8 * (len(LEVEL_COLUMNS) + 1)
        if budget < 0:
            break
        table = runner.run(f"SELECT * FROM {pyramid.tables[level]} ORDER BY k", ticket=ticket)
        arrays = {
            name: table.column(name)
            .to_numpy(zero_copy_only=False)
            .astype(np.int64 if name in ("k", "n") else np.float64, copy=False)
            for name in LEVEL_COLUMNS
        }
        if series is not None:  # by series, then k: each series a contiguous run
            codes = series_codes(series, table)
            order = np.lexsort((arrays["k"], codes))
            arrays = {name: values[order] for name, values in arrays.items()}
            arrays["s"] = codes[order]
        if level == 0:  # rows before each bucket: the rows of a range at once
            _count_rows(arrays, series)
        pyramid.arrays[level] = arrays


def _count_rows(arrays: dict[str, np.ndarray], series: Series | None) -> None:
    """Level 0's rows per bucket (all series; y columns share their rows) and their running sum."""
    k, n = arrays["k"], arrays["n"]
    if series is not None and series.by is None:
        first = arrays["s"] == 0
        k, n = k[first], n[first]
    elif series is not None:
        k, inverse = np.unique(k, return_inverse=True)
        n = np.bincount(inverse, weights=n, minlength=k.size).astype(np.int64)
    arrays["rows_k"] = k
    arrays["rows_before"] = np.r_[0, np.cumsum(n)]


def rows_between(pyramid: Pyramid, lo: float, hi: float) -> int | None:
    """At least the rows with x in [lo, hi], counted from level 0 when it is kept in memory;
    None when it is not."""
    arrays = pyramid.arrays.get(0)
    if arrays is None:
        return None
    first = math.floor((lo - pyramid.origin) / pyramid.bucket_width) - 1
    last = math.floor((hi - pyramid.origin) / pyramid.bucket_width) + 1
    start = int(np.searchsorted(arrays["rows_k"], first, side="left"))
    stop = int(np.searchsorted(arrays["rows_k"], last, side="right"))
    before = arrays["rows_before"]
    return int(before[stop] - before[start])


def _bucket_span(
    pyramid: Pyramid, level: int, x_range: tuple[float, float], columns: int
) -> tuple[float, float, int, int]:
    """Column width, bucket width and the first and last bucket a view (plus a column each side) needs."""
    x0, x1 = x_range
    column_width = (x1 - x0) / columns
    bucket = pyramid.width(level)
    first = math.floor((x0 - column_width - pyramid.origin) / bucket) - 1
    last = math.ceil((x1 + column_width - pyramid.origin) / bucket) + 1
    return column_width, bucket, first, last


def pyramid_m4(
    runner: Reader,
    pyramid: Pyramid,
    level: int,
    x_range: tuple[float, float],
    columns: int,
    on_progress: ProgressCallback | None = None,
    ticket: Ticket = NEVER_CANCELLED,
) -> pa.Table:
    """M4 rows per pixel column (-1..columns), merged from the buckets whose centres fall in it."""
    x0 = x_range[0]
    column_width, bucket, first, last = _bucket_span(pyramid, level, x_range, columns)
    s = "s, " if pyramid.series is not None else ""
    sql = f"""
SELECT {s}col, {_merge_sql(runner.dialect)}
FROM (
    SELECT CAST(floor(((k + 0.5) * ? + ? - ?) / ?) AS BIGINT) AS col, *
    FROM {pyramid.tables[level]} WHERE k BETWEEN ? AND ?
)
WHERE col BETWEEN -1 AND ?
GROUP BY {s}col ORDER BY {s}col"""
    params: list[object] = [bucket, pyramid.origin, x0, column_width, first, last, columns]
    return runner.run(sql, params, on_progress, ticket)


def fetch_from_pyramid(
    runner: Reader,
    pyramid: Pyramid,
    level: int,
    x_range: tuple[float, float],
    columns: int,
    on_progress: ProgressCallback | None = None,
    ticket: Ticket = NEVER_CANCELLED,
) -> LineData:
    """The points to draw for a viewport, answered from one level of the index."""
    in_memory = level in pyramid.arrays
    if in_memory:
        table = merge_in_memory(pyramid, level, x_range, columns)
    else:
        table = pyramid_m4(runner, pyramid, level, x_range, columns, on_progress, ticket)
    edges = column_edges(pyramid, level, x_range, columns)
    kind, series = f"index level {level}", pyramid.series
    if series is None:
        return m4_points(table, x_range, columns, kind=kind, edges=edges)
    # Levels kept in memory already carry series numbers; the tables keep `by` values.
    codes = table.column("s").to_numpy() if in_memory else series_codes(series, table)
    return series_points(table, codes, series.names, x_range, columns, kind, edges, series.by is None)


def merge_in_memory(pyramid: Pyramid, level: int, x_range: tuple[float, float], columns: int) -> pa.Table:
    """The same result as `pyramid_m4`, merged in numpy from a level kept in memory."""
    arrays = pyramid.arrays[level]
    if pyramid.series is None:
        return _merge_arrays(pyramid, level, arrays, x_range, columns)
    tables = []
    bounds = np.searchsorted(arrays["s"], np.arange(pyramid.series.count + 1))
    for code, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        part = {name: arrays[name][lo:hi] for name in LEVEL_COLUMNS}
        table = _merge_arrays(pyramid, level, part, x_range, columns)
        tables.append(table.add_column(0, "s", pa.array(np.full(len(table), code, np.int64))))
    return pa.concat_tables(tables)


def _merge_arrays(
    pyramid: Pyramid, level: int, arrays: dict[str, np.ndarray], x_range: tuple[float, float], columns: int
) -> pa.Table:
    """Buckets of one series (sorted by k) merged per pixel column."""
    x0 = x_range[0]
    column_width, bucket, first, last = _bucket_span(pyramid, level, x_range, columns)
    lo, hi = np.searchsorted(arrays["k"], [first, last + 1])
    centre = (arrays["k"][lo:hi] + 0.5) * bucket + pyramid.origin
    col = np.floor((centre - x0) / column_width).astype(np.int64)
    # col rises with k: columns -1..columns are one run of buckets, sliced (no copies: masks of
    # 11 arrays took 2.6-3.2 ms of a 47k-bucket merge, the slices 0.01)
    start, stop = (lo + int(i) for i in np.searchsorted(col, [-1, columns + 1]))
    col = col[start - lo : stop - lo]
    part = {name: arrays[name][start:stop] for name in LEVEL_COLUMNS}
    if col.size == 0:
        return pa.table({"col": col, **{name: part[name] for name in LEVEL_COLUMNS[1:]}})
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    counts = np.diff(np.r_[starts, col.size])
    valid = ~np.isnan(part["x_first"])
    has_valid: np.ndarray | None = None  # None: every bucket holds a valid row (the common case)
    if bool(valid.all()):
        first_row, last_row = starts, starts + counts - 1
    else:
        index = np.arange(col.size)
        first_row = np.minimum.reduceat(np.where(valid, index, col.size), starts)
        last_row = np.maximum.reduceat(np.where(valid, index, -1), starts)
        has_valid = last_row >= 0
        first_row, last_row = np.minimum(first_row, col.size - 1), np.maximum(last_row, 0)
    # Per group the first bucket holding its min (max); NaN counts as no value (a group of NaN
    # only picks its first bucket, whose values are then not used).
    low, high = part["y_min"], part["y_max"]
    if has_valid is not None or bool(np.isnan(low).any() or np.isnan(high).any()):
        low, high = np.where(np.isnan(low), np.inf, low), np.where(np.isnan(high), -np.inf, high)
    by_min = first_hit(low == np.repeat(np.minimum.reduceat(low, starts), counts), starts)
    by_max = first_hit(high == np.repeat(np.maximum.reduceat(high, starts), counts), starts)

    def pick(name: str, rows: np.ndarray) -> np.ndarray:
        picked = part[name][rows]
        return picked if has_valid is None else np.where(has_valid, picked, np.nan)

    return pa.table(
        {
            "col": col[starts],
            "x_first": pick("x_first", first_row),
            "y_first": pick("y_first", first_row),
            "x_at_min": pick("x_at_min", by_min),
            "y_min": pick("y_min", by_min),
            "x_at_max": pick("x_at_max", by_max),
            "y_max": pick("y_max", by_max),
            "x_last": pick("x_last", last_row),
            "y_last": pick("y_last", last_row),
            "x_gap": np.fmin.reduceat(part["x_gap"], starts),
            "n": np.add.reduceat(part["n"], starts),
        }
    )


def column_edges(pyramid: Pyramid, level: int, x_range: tuple[float, float], columns: int) -> ColumnEdges:
    """Left edges of the snapped pixel columns: bucket k is in column c when its centre is."""
    x0, x1 = x_range
    column_width = (x1 - x0) / columns
    bucket = pyramid.width(level)

    def edges(col: np.ndarray) -> np.ndarray:
        first_bucket = np.ceil((x0 + col * column_width - pyramid.origin) / bucket - 0.5)
        return pyramid.origin + first_bucket * bucket

    return edges


def drop_pyramid(runner: Reader, pyramid: Pyramid) -> None:
    """Drop the index tables, coarsest first (on Spark a level is a view over the level below it),
    every one even when another fails; the first failure is raised after."""
    failure: Exception | None = None
    for table in reversed(pyramid.tables):
        for statement in runner.dialect.drop_table(table):
            try:
                runner.run(statement)
            except Exception as error:
                failure = failure or error
    if failure is not None:
        raise failure
