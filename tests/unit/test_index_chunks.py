"""Level 0 of the line index built in chunks of buckets: every bucket (and series) equals a brute-force
numpy M4 over the rows, and the one-statement build; rows tied on chunk edges, at x_min and x_max, under
and over the extent with invalid y, NaN/NULL y and NaN x, unsorted. Progress runs once over the whole
build; a cancelled chunked build leaves no tables; the CHECKPOINT after the build is counted, and one
that fails does not fail the build."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.core.scale import AxisScale
from pikaplot_widget.engine.dialect import DUCKDB, SPARK, Dialect
from pikaplot_widget.engine.line import Extent, LineColumns, fetch_extent
from pikaplot_widget.engine.line_m4_sql import m4_grouped_sql
from pikaplot_widget.engine.line_series import by_series, y_list_series
from pikaplot_widget.engine.runner import NEVER_CANCELLED, QueryCancelled, QueryRunner, Ticket
from pikaplot_widget.engine.sources import Source, resolve_source
from pikaplot_widget.plots.line import index_chunks
from pikaplot_widget.plots.line.index import build_pyramid, drop_pyramid
from pikaplot_widget.plots.line.index_chunks import BuildProgress, Statement, chunk_ranges, level0_statements
from pikaplot_widget.plots.line.index_geometry import bucket_count

N = 30_000
SMALL = {"min_rows": 0, "rows_per_bucket": 8, "top_level_buckets": 64}
CHUNK = 300  # groups per chunk: 3750 buckets -> 13 chunks (one series), 38 (three)


def _table(session, columns: dict[str, pa.Array]) -> None:
    session.connection.register("frame_in", pa.table(columns))
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")


def _y(rng, n: int, nan: float, null: float) -> pa.Array:
    """A random walk with NaN and NULL rows."""
    y = np.cumsum(rng.normal(size=n))
    y[rng.random(n) < nan] = np.nan
    return pa.array(y, mask=rng.random(n) < null)


def _make(session, runner, rng, kind: str) -> tuple[LineColumns, dict[str, np.ndarray]]:
    """A table of N unsorted rows; rows with invalid y below and above the extent, rows at x_min
    and x_max, NaN x; then rows tied on (and a hair under) the chunk edges of the build."""
    x = rng.uniform(0.0, 1000.0, N)
    x[:4], x[4:8] = 0.0, 1000.0  # at x_min and x_max (valid y, set below)
    x[8:10], x[10:12] = -3.0, 1003.0  # outside the extent: only with invalid y
    x[12:14] = np.nan
    names = np.array(["alpha", "beta", "gamma"])
    columns: dict[str, pa.Array] = {"x": pa.array(x)}
    y_names = ("a", "b") if kind == "wide" else ("y",)
    for name in y_names:
        y = _y(rng, N, 0.01, 0.01).to_numpy(zero_copy_only=False)
        mask = rng.random(N) < 0.01
        y[:8] = rng.normal(size=8)
        mask[:8] = False
        y[8:12], mask[10:12] = np.nan, True  # NaN under the extent, NULL over it
        columns[name] = pa.array(y, mask=mask)
    if kind == "by":
        columns["sym"] = pa.array(names[rng.choice(3, N, p=[0.6, 0.3, 0.1])])
    _table(session, columns)
    cols = _columns(session, runner, kind)
    extent = fetch_extent(runner, cols)
    buckets = bucket_count(extent.rows, SMALL["rows_per_bucket"], SMALL["top_level_buckets"])
    width = (extent.x_max - extent.x_min) / buckets
    groups = cols.series.count if cols.series is not None else 1
    edges = [first for first, _ in chunk_ranges(buckets, groups, CHUNK)[1:]]
    assert len(edges) >= 10
    at = extent.x_min + np.array(edges, dtype=np.float64) * width
    tied = np.concatenate([np.repeat(at, 3), np.nextafter(at, -np.inf), at + width * 1e-12])
    x[20 : 20 + tied.size] = tied  # three rows on each edge (their y differ), and rows beside it
    order = rng.permutation(N)
    columns = {name: column.take(pa.array(order)) for name, column in columns.items()}
    columns["x"] = pa.array(x[order])
    _table(session, columns)
    assert fetch_extent(runner, cols) == extent
    return cols, {name: col.to_numpy(zero_copy_only=False) for name, col in columns.items()}


def _columns(session, runner, kind: str) -> LineColumns:
    source = resolve_source("t", session)
    if kind == "wide":
        cols = LineColumns.checked(source, "x", "a")
        return replace(cols, series=y_list_series(cols, ("a", "b")))
    cols = LineColumns.checked(source, "x", "y")
    return replace(cols, series=by_series(runner, cols, "sym")) if kind == "by" else cols


def _reference(x, y, member, origin, width, buckets):
    """Brute-force M4 per bucket of the rows in `member`: exact values, and the admissible values
    where rows tie (several rows at the first x, say)."""
    keep = member & np.isfinite(x)
    x, y = x[keep], y[keep].astype(np.float64)
    k = np.minimum(np.floor((x - origin) / width), buckets - 1).astype(np.int64)
    out = {}
    for key in np.unique(k):
        xs, ys = x[k == key], y[k == key]
        ok = np.isfinite(ys)
        row: dict[str, object] = {"n": int(xs.size)}
        row["x_gap"] = float(xs[~ok].min()) if (~ok).any() else None
        if ok.any():
            xv, yv = xs[ok], ys[ok]
            row.update(x_first=xv.min(), x_last=xv.max(), y_min=yv.min(), y_max=yv.max())
            row["y_first"] = set(yv[xv == xv.min()])
            row["y_last"] = set(yv[xv == xv.max()])
            row["x_at_min"] = set(xv[yv == yv.min()])
            row["x_at_max"] = set(xv[yv == yv.max()])
        else:
            row.update(dict.fromkeys(("x_first", "x_last", "y_min", "y_max")))
            row.update({name: {None} for name in ("y_first", "y_last", "x_at_min", "x_at_max")})
        out[int(key)] = row
    return out


def _level0(runner, pyramid) -> dict[tuple[object, int], dict[str, object]]:
    s = "s, " if pyramid.series is not None else ""
    rows = runner.run(f"SELECT * FROM {pyramid.tables[0]} ORDER BY {s}k").to_pylist()
    return {(r.get("s"), r["k"]): r for r in rows}


def _expected(data, kind, cols, pyramid):
    """The reference for every (series, bucket) the level-0 table should hold."""
    geometry = (pyramid.origin, pyramid.bucket_width, pyramid.buckets)
    everyone = np.ones(N, dtype=bool)
    if kind == "one":
        parts = [(None, data["y"], everyone)]
    elif kind == "wide":
        parts = [(i, data[name], everyone) for i, name in enumerate(("a", "b"))]
    else:
        parts = [(name, data["y"], data["sym"] == name) for name in cols.series.names]
    expected = {}
    for s, y, member in parts:
        for k, row in _reference(data["x"], y.astype(np.float64), member, *geometry).items():
            expected[(s, k)] = row
    return expected


def _check(got, expected):
    assert set(got) == set(expected)
    for key, want in expected.items():
        row = got[key]
        for name in ("n", "x_gap", "x_first", "x_last", "y_min", "y_max"):
            assert row[name] == want[name], (key, name)
        for name in ("y_first", "y_last", "x_at_min", "x_at_max"):
            assert row[name] in want[name], (key, name)


class Recording(QueryRunner):
    """A runner that keeps the statements it ran, and can cancel a ticket before the nth."""

    def __init__(self, cursor, cancel_before: int | None = None, ticket: Ticket | None = None) -> None:
        super().__init__(cursor)
        self.statements: list[str] = []
        self._cancel_before, self._ticket_to_cancel = cancel_before, ticket

    def run(self, sql, params=None, on_progress=None, ticket=NEVER_CANCELLED):
        level0 = sql.startswith("CREATE OR REPLACE TABLE") and '_level_0" AS' in sql
        if level0 or sql.startswith("INSERT INTO"):
            self.statements.append(sql)
            if len(self.statements) == self._cancel_before and self._ticket_to_cancel is not None:
                self._ticket_to_cancel.cancel()
            if on_progress is not None:  # what the poller would report as the statement runs
                for fraction in (0.0, 0.5, 1.0):
                    on_progress(fraction)
        return super().run(sql, params, on_progress, ticket)


def _index_tables(runner) -> int:
    sql = "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'pikaplot_index'"
    return int(runner.run(sql).column(0)[0].as_py())


@pytest.mark.parametrize("kind", ["one", "by", "wide"])
def test_chunked_level0_equals_numpy_and_one_pass(session, rng, kind):
    chunked_runner = Recording(session.cursor())
    one_runner = Recording(session.cursor())
    try:
        cols, data = _make(session, chunked_runner, rng, kind)
        extent = fetch_extent(chunked_runner, cols)
        chunked = build_pyramid(chunked_runner, cols, extent, **SMALL, buckets_per_chunk=CHUNK)
        one = build_pyramid(one_runner, cols, extent, **SMALL)
        assert chunked is not None and one is not None
        assert len(chunked_runner.statements) >= 11 and len(one_runner.statements) == 1
        assert (
            sum("INSERT INTO" in sql for sql in chunked_runner.statements)
            == len(chunked_runner.statements) - 1
        )
        assert (chunked.buckets, chunked.bucket_width) == (one.buckets, one.bucket_width)
        expected = _expected(data, kind, cols, chunked)
        got_chunked, got_one = _level0(chunked_runner, chunked), _level0(one_runner, one)
        _check(got_chunked, expected)
        _check(got_one, expected)
        for key, row in got_one.items():  # row for row, up to the picks among tied rows
            other = got_chunked[key]
            for name, value in row.items():
                ties = expected[key].get(name)
                if isinstance(ties, set) and len(ties) > 1:
                    assert other[name] in ties
                else:
                    assert other[name] == value, (key, name)
        for level in range(1, len(one.tables)):  # the levels above agree as well
            sql = "SELECT sum(n), count(*), min(x_first), max(x_last), min(y_min), max(y_max) FROM {}"
            assert chunked_runner.run(sql.format(chunked.tables[level])) == one_runner.run(
                sql.format(one.tables[level])
            )
        drop_pyramid(chunked_runner, chunked)
        drop_pyramid(one_runner, one)
    finally:
        chunked_runner.close()
        one_runner.close()


def test_progress_runs_once_over_all_chunks(session, rng):
    runner = Recording(session.cursor())
    try:
        cols, _ = _make(session, runner, rng, "one")
        seen: list[float] = []
        pyramid = build_pyramid(
            runner, cols, fetch_extent(runner, cols), seen.append, **SMALL, buckets_per_chunk=CHUNK
        )
        assert pyramid is not None
        chunks = len(runner.statements)
        assert chunks >= 11 and len(seen) >= 3 * chunks
        assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == pytest.approx(1.0)
        assert max(np.diff(seen)) <= 1.0 / chunks  # no chunk jumps over another
        drop_pyramid(runner, pyramid)
    finally:
        runner.close()


def test_build_progress_never_goes_back():
    seen: list[float] = []
    progress = BuildProgress(seen.append)
    first, second = Statement("", [], 0, 30, 100), Statement("", [], 30, 70, 100)
    first_part, second_part = progress.of(first), progress.of(second)
    assert first_part is not None and second_part is not None
    first_part(0.5)
    first_part(2.0)  # clamped to its end
    second_part(0.5)
    first_part(0.9)  # a late report of the statement before: dropped
    second_part(1.0)
    assert seen == [0.15, 0.3, 0.65, 1.0]
    assert BuildProgress(None).of(first) is None


@pytest.mark.parametrize("before", [2, 7])
def test_a_chunked_build_cancelled_between_chunks_leaves_no_tables(session, rng, before):
    ticket = Ticket()
    runner = Recording(session.cursor(), cancel_before=before, ticket=ticket)
    try:
        cols, _ = _make(session, runner, rng, "by")
        with pytest.raises(QueryCancelled):
            build_pyramid(
                runner, cols, fetch_extent(runner, cols), ticket=ticket, **SMALL, buckets_per_chunk=CHUNK
            )
        assert len(runner.statements) == before
        assert _index_tables(runner) == 0
    finally:
        runner.close()


def test_a_chunked_build_cancelled_while_it_runs_leaves_no_tables(session, runner, rng):
    n = 3_000_000
    _table(session, {"x": pa.array(rng.uniform(0, 1, n)), "y": pa.array(rng.normal(size=n))})
    cols = LineColumns.checked(resolve_source("t", session), "x", "y")
    extent = fetch_extent(runner, cols)
    ticket, outcome = Ticket(), []

    def build() -> None:
        try:
            outcome.append(build_pyramid(runner, cols, extent, ticket=ticket, buckets_per_chunk=64))
        except QueryCancelled as error:
            outcome.append(error)

    checker = session.cursor()
    sql = "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'pikaplot_index'"
    thread = threading.Thread(target=build)
    thread.start()
    while checker.execute(sql).fetchone()[0] == 0 and thread.is_alive():
        time.sleep(0.002)  # the first chunk made the table: the build is in its chunks
    time.sleep(0.05)
    assert thread.is_alive() and outcome == []  # still in its chunks
    ticket.cancel()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled)
    assert checker.execute(sql).fetchone()[0] == 0


def test_one_statement_when_the_buckets_fit_a_chunk_or_the_engine_cannot_insert(session, runner, rng):
    cols, _ = _make(session, runner, rng, "one")
    extent = fetch_extent(runner, cols)
    args = (cols, extent, "t0", 3750, (extent.x_max - extent.x_min) / 3750)
    assert len(level0_statements(*args, 3750)) == 1
    assert len(level0_statements(*args, 3749)) == 2
    assert len(level0_statements(*args, CHUNK, SPARK)) == 1  # no INSERT into a cached view
    narrow = replace(extent, x_min=1e12, x_max=1e12 + 1e-4)  # buckets under the rounding of x
    assert len(level0_statements(cols, narrow, "t0", 3750, 1e-4 / 3750, CHUNK)) == 1
    assert DUCKDB.chunked_index_builds and not SPARK.chunked_index_builds
    assert SPARK.checkpoint("pikaplot_index") is None
    assert DUCKDB.checkpoint("pikaplot_index") == 'CHECKPOINT "pikaplot_index"'
    for buckets, groups, per_chunk in ((1, 1, 1), (10, 3, 7), (390_625, 1, 1 << 18), (3_906_250, 1, 1 << 18)):
        ranges = chunk_ranges(buckets, groups, per_chunk)
        assert ranges[0][0] == 0 and ranges[-1][1] == buckets - 1
        assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
        assert all((last - first + 1) * groups <= per_chunk or first == last for first, last in ranges)
    assert len(chunk_ranges(390_625, 1, 1 << 18)) == 2 and len(chunk_ranges(3_906_250, 1, 1 << 18)) == 15
    with pytest.raises(ValueError, match="buckets_per_chunk"):
        chunk_ranges(10, 1, 0)


class FailingCheckpoint(Dialect):
    def checkpoint(self, database: str) -> str | None:
        return "CHECKPOINT no_such_database"


def test_the_checkpoint_is_counted_and_a_failing_one_does_not_fail_the_build(
    session, runner, rng, monkeypatch
):
    cols, _ = _make(session, runner, rng, "one")
    extent = fetch_extent(runner, cols)
    before = replace(index_chunks.CHECKPOINTS)
    pyramid = build_pyramid(runner, cols, extent, **SMALL, buckets_per_chunk=CHUNK)
    assert pyramid is not None and index_chunks.CHECKPOINTS.run == before.run + 1
    compressed = _level0(runner, pyramid)
    monkeypatch.setattr(runner, "dialect", FailingCheckpoint())
    failed = build_pyramid(runner, cols, extent, **SMALL, buckets_per_chunk=CHUNK)
    assert failed is not None and index_chunks.CHECKPOINTS.failed == before.failed + 1
    assert {key: row["n"] for key, row in _level0(runner, failed).items()} == {
        key: row["n"] for key, row in compressed.items()
    }
    drop_pyramid(runner, pyramid)
    drop_pyramid(runner, failed)


class SparkLike:
    """Stands in for the Spark reader: its dialect, and what it was asked to run."""

    dialect = SPARK

    def __init__(self) -> None:
        self.statements: list[str] = []

    def run(self, sql: str, params: object = None, on_progress: object = None, ticket: object = None) -> None:
        self.statements.append(sql)


def test_spark_builds_level0_in_the_one_statement_of_before_and_never_checkpoints():
    cols = LineColumns.checked(Source("t", {"x": "DOUBLE", "y": "DOUBLE"}, dialect=SPARK), "x", "y")
    extent = Extent(0.0, 1000.0, -1.0, 1.0, 10**9, 5)
    buckets = bucket_count(extent.rows)
    width = 1000.0 / buckets
    statements = level0_statements(cols, extent, "`l0`", buckets, width, 1 << 18, SPARK)
    assert len(level0_statements(cols, extent, "`l0`", buckets, width, 1 << 18, DUCKDB)) == 15
    assert len(statements) == 1
    before = m4_grouped_sql(cols, index_chunks.KEY, "k", cols.x_valid, with_gaps=True)
    assert statements[0].sql == f"CACHE TABLE `l0` AS {before}"
    assert statements[0].params == [0.0, width, buckets - 1]
    spark = SparkLike()
    index_chunks.checkpoint_index(spark, NEVER_CANCELLED)  # type: ignore[arg-type]
    assert spark.statements == []


@pytest.mark.parametrize("axis", ["log", "time"])
def test_chunked_level0_equals_one_pass_on_log_and_time_axes(session, runner, rng, axis):
    """x on a log axis (zero and negative x: invalid there) or as timestamps: every column of every
    bucket equals the one-statement build's (distinct x and y: no ties to pick between)."""
    n = 20_000
    micros = rng.choice(10**12, n, replace=False) + 1_700_000_000 * 10**6
    y = rng.permutation(n).astype(np.float64)
    if axis == "log":
        x = np.exp(rng.normal(0, 3, n))
        x[:200] = rng.choice([0.0, -2.0], 200)
        _table(session, {"x": pa.array(x), "y": pa.array(y)})
        source = resolve_source("t", session)
        cols = LineColumns(source, "x", "y", "DOUBLE", "DOUBLE", scale=AxisScale(log_x=True))
    else:
        _table(session, {"x": pa.array(micros, pa.timestamp("us")), "y": pa.array(y)})
        cols = LineColumns.checked(resolve_source("t", session), "x", "y", x_origin_us=int(micros.min()))
    extent = fetch_extent(runner, cols)
    chunked = build_pyramid(runner, cols, extent, **SMALL, buckets_per_chunk=CHUNK)
    one = build_pyramid(runner, cols, extent, **SMALL)
    assert chunked is not None and one is not None
    got, want = _level0(runner, chunked), _level0(runner, one)
    assert len(want) > 1000 and got == want
    assert sum(row["n"] for row in got.values()) == n - (200 if axis == "log" else 0)  # x <= 0: no x
    drop_pyramid(runner, chunked)
    drop_pyramid(runner, one)
