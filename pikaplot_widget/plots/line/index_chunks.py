"""Level 0 of the line index as statements over chunks of whole buckets (x ranges).

One GROUP BY over every row keeps a hash table of every bucket at once (about 950 MiB for the 3.9M
buckets of 1B rows); a chunk of about BUCKETS_PER_CHUNK groups holds only its own. Chunk edges are
bucket keys, so every bucket is built once, by one statement, exactly as in one pass: the first chunk
is open below (rows with x under the extent, which only invalid rows have), the last open above (the
key's clamp puts rows at x_max in the last bucket). A loose filter on x (a bucket of slack each side)
lets sorted sources skip the row groups of other chunks; the exact filter is on the key itself. A
Parquet source whose footers show x unsorted (each chunk would decode most row groups) keeps one pass.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

from ...engine.dialect import Dialect
from ...engine.line import Extent, LineColumns
from ...engine.line_m4_sql import m4_grouped_sql
from ...engine.line_series import wide_m4_sql
from ...engine.row_group_bounds import RowGroupBounds
from ...engine.runner import INDEX_SCHEMA, ProgressCallback, QueryCancelled, Reader, Ticket

BUCKETS_PER_CHUNK = 1 << 18  # groups (buckets x series) one level-0 statement aggregates at most
# Chunking needs buckets far wider than the rounding of x (the loose x filter has a bucket of slack).
MIN_RELATIVE_WIDTH = 1e-9
# Unsorted Parquet: every chunk decodes the row groups its x range meets. Chunks whose scans would
# decode more than this many times the row groups of one scan give way to one statement.
CHUNK_READS_LIMIT = 2.0
KEY = "LEAST(CAST(floor((x - ?) / ?) AS BIGINT), ?)"


@dataclass(frozen=True)
class Statement:
    """One level-0 statement: its SQL, its parameters and its buckets (its share of the progress)."""

    sql: str
    params: list[object]
    first: int  # its first bucket
    size: int  # its buckets
    buckets: int  # of all statements


@dataclass
class CheckpointStats:
    """CHECKPOINTs of the index database after builds: run, and failed (ignored)."""

    run: int = 0
    failed: int = 0


CHECKPOINTS = CheckpointStats()


def chunk_ranges(buckets: int, groups_per_bucket: int, buckets_per_chunk: int) -> list[tuple[int, int]]:
    """First and last bucket key (inclusive) of each chunk, in key order, covering 0..buckets-1."""
    if buckets_per_chunk < 1:
        raise ValueError(f"buckets_per_chunk must be at least 1, got {buckets_per_chunk}")
    chunks = max(1, min(buckets, math.ceil(buckets * groups_per_bucket / buckets_per_chunk)))
    return [(buckets * i // chunks, buckets * (i + 1) // chunks - 1) for i in range(chunks)]


def level0_statements(
    cols: LineColumns,
    extent: Extent,
    table: str,
    buckets: int,
    width: float,
    buckets_per_chunk: int,
    dialect: Dialect | None = None,
    row_groups: RowGroupBounds | None = None,
) -> list[Statement]:
    """The statements building level 0 into `table` in the reader's `dialect` (default: the
    source's): CREATE for the first chunk, INSERT for the rest in key order. One statement (the
    whole source) when the buckets fit one chunk, when the engine takes no INSERT into its index
    tables (Spark's cached views), when each chunk would read the whole source again (CSV, SQL
    text, registered frames), when the Parquet footers in `row_groups` show the chunks would decode
    more than CHUNK_READS_LIMIT times the row groups of one scan (x not sorted), or when buckets are
    too narrow for the rounding of x."""
    d, series = dialect or cols.dialect, cols.series
    groups = series.count if series is not None else 1
    ranges = chunk_ranges(buckets, groups, buckets_per_chunk)
    if not may_chunk(cols, extent, buckets, width, buckets_per_chunk, d):
        ranges = [(0, buckets - 1)]
    elif row_groups is not None and row_groups.rows.size:
        reads = row_groups.reads_over(*_chunk_x_ranges(ranges, extent.x_min, width))
        if reads > CHUNK_READS_LIMIT * row_groups.rows.size:
            ranges = [(0, buckets - 1)]
    statements = []
    key_params: list[object] = [extent.x_min, width, buckets - 1]
    for i, (first, last) in enumerate(ranges):
        x_bounds, key_bounds = [], []
        x_params: list[object] = []
        key_filter_params: list[object] = []
        if i > 0:  # the first chunk is open below
            x_bounds.append(f"{cols.x_value} >= ?")
            x_params.append(extent.x_min + (first - 1) * width)
            key_bounds.append("k >= ?")
            key_filter_params.append(first)
        if i < len(ranges) - 1:  # the last is open above
            x_bounds.append(f"{cols.x_value} < ?")
            x_params.append(extent.x_min + (last + 2) * width)
            key_bounds.append("k <= ?")
            key_filter_params.append(last)
        where = " AND ".join([cols.x_valid, *x_bounds])
        key_filter = " AND ".join(key_bounds) or "TRUE"
        if series is not None and series.by is None:
            select = wide_m4_sql(cols, KEY, "k", where, key_filter)
        else:
            gaps = extent.may_be_invalid or series is not None
            select = m4_grouped_sql(cols, KEY, "k", where, with_gaps=gaps, key_filter=key_filter)
        sql = d.create_table(table, select) if i == 0 else f"INSERT INTO {table} {select}"
        params = [*x_params, *cols.series_params(), *key_params, *key_filter_params]
        statements.append(Statement(sql, params, first, last - first + 1, buckets))
    return statements


def may_chunk(
    cols: LineColumns, extent: Extent, buckets: int, width: float, buckets_per_chunk: int, dialect: Dialect
) -> bool:
    """Whether level 0 may be built in more than one statement, before any footer is read (the
    footers of a wide Parquet file take seconds to list: only worth it when they decide)."""
    groups = cols.series.count if cols.series is not None else 1
    if not dialect.chunked_index_builds or not cols.source.skips_by_range:
        return False
    scale = max(abs(extent.x_min), abs(extent.x_max))
    return len(chunk_ranges(buckets, groups, buckets_per_chunk)) > 1 and width > MIN_RELATIVE_WIDTH * scale


def _chunk_x_ranges(
    ranges: list[tuple[int, int]], x_min: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """The x range [lo, hi) each chunk's statement filters on (a bucket of margin each side; the
    first is open below, the last above), as in `level0_statements`."""
    lo = np.array([x_min + (first - 1) * width for first, _ in ranges])
    hi = np.array([x_min + (last + 2) * width for _, last in ranges])
    lo[0], hi[-1] = -np.inf, np.inf
    return lo, hi


class BuildProgress:
    """Progress of the whole level-0 build from its statements' progress: a statement's buckets after
    those before it (the end of one is the start of the next), never going back (a late report of a
    statement that ended is dropped)."""

    def __init__(self, on_progress: ProgressCallback | None) -> None:
        self._report = on_progress
        self._done = 0.0

    def of(self, statement: Statement) -> ProgressCallback | None:
        """The callback a statement's query reports its own progress (0..1) to."""
        if self._report is None:
            return None
        report = self._report

        def part(fraction: float) -> None:
            done = (statement.first + statement.size * min(max(fraction, 0.0), 1.0)) / statement.buckets
            if done >= self._done:
                self._done = done
                report(done)

        return part


def checkpoint_index(runner: Reader, ticket: Ticket) -> None:
    """CHECKPOINT the index database where the engine has one (DuckDB compresses its tables then);
    a failure is counted and ignored (the index works uncompressed), unless it left the database
    invalidated (its file could not be written: disk full), which is raised."""
    statement = runner.dialect.checkpoint(INDEX_SCHEMA)
    if statement is None:
        return
    try:
        runner.run(statement, ticket=ticket)
        CHECKPOINTS.run += 1
    except QueryCancelled:
        raise
    except Exception:
        CHECKPOINTS.failed += 1
        if index_invalidated(runner):
            raise


def index_invalidated(runner: Reader) -> bool:
    """Whether DuckDB invalidated the index database (a failed write of its file, at a checkpoint);
    then it is DETACHed, else the session's catalog (duckdb_tables(), information_schema) fails too,
    and the next index is kept in memory (`IndexFiles.location`). Its tables are lost."""
    if runner.dialect.checkpoint(INDEX_SCHEMA) is None:  # an engine without one (Spark)
        return False
    try:
        runner.run("SELECT count(*) FROM duckdb_tables()")
        return False
    except Exception as error:
        if "invalidated" not in str(error).lower():
            return False
    with contextlib.suppress(Exception):
        runner.run(f"DETACH {runner.dialect.ident(INDEX_SCHEMA)}")
    return True
