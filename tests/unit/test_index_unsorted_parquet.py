"""A Parquet source whose footers show x unsorted builds level 0 in one statement (chunks would each
decode most row groups); sorted or nearly sorted files keep their chunks. Level 0 is checked
against a numpy count of rows per bucket either way."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.row_group_bounds import RowGroupBounds
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid, drop_pyramid

N = 30_000
SMALL = {"min_rows": 0, "rows_per_bucket": 8, "top_level_buckets": 64, "buckets_per_chunk": 300}


def test_reads_over_against_brute_force(rng):
    groups = 300
    x_lo = np.sort(rng.uniform(0, 100, groups))
    x_hi = x_lo + rng.exponential(3.0, groups)
    x_lo[rng.choice(groups, 5, replace=False)] = np.nan  # unknown: read by every range
    ranges_lo = np.sort(rng.uniform(-10, 110, 40))
    ranges_hi = ranges_lo + rng.uniform(0, 20, 40)
    bounds = RowGroupBounds(x_lo, x_hi, x_lo, x_hi, np.ones(groups, np.int64))
    lo = np.where(np.isnan(x_lo), -np.inf, x_lo)
    expected = sum(
        int(np.sum((lo < hi) & (x_hi >= r_lo))) for r_lo, hi in zip(ranges_lo, ranges_hi, strict=True)
    )
    assert bounds.reads_over(ranges_lo, ranges_hi) == expected


def _build_checked(session, runner, path: str, x: np.ndarray, monkeypatch, **options) -> tuple[list, str]:
    """Build the index of `path` (x, y), check level 0's rows per bucket against a numpy bincount, and
    return the SQL the build ran and level 0's table."""
    cols = LineColumns.checked(resolve_source(path, session), "x", "y")
    extent = fetch_extent(runner, cols)
    sqls: list[str] = []
    run = runner.run

    def recording(sql, *args, **kwargs):
        sqls.append(sql)
        return run(sql, *args, **kwargs)

    monkeypatch.setattr(runner, "run", recording)
    pyramid = build_pyramid(runner, cols, extent, **{**SMALL, **options})
    monkeypatch.setattr(runner, "run", run)
    assert pyramid is not None
    level0 = runner.run(f"SELECT k, n FROM {pyramid.tables[0]} ORDER BY k")
    keys = np.floor((x - extent.x_min) / pyramid.bucket_width).astype(np.int64)
    expected = np.bincount(np.minimum(keys, pyramid.buckets - 1), minlength=pyramid.buckets)
    np.testing.assert_array_equal(level0.column("n").to_numpy(), expected[level0.column("k").to_numpy()])
    drop_pyramid(runner, pyramid)
    return sqls, pyramid.tables[0]


def _level0_statements(session, runner, path: str, x: np.ndarray, monkeypatch) -> int:
    sqls, first_table = _build_checked(session, runner, path, x, monkeypatch)
    writes = [sql for sql in sqls if first_table in sql and f"FROM {first_table}" not in sql]
    return len([sql for sql in writes if "INSERT" in sql or "CREATE" in sql])  # level 0's statements


def test_unsorted_parquet_builds_level0_in_one_statement(session, runner, rng, tmp_path, monkeypatch):
    x = np.sort(rng.uniform(0.0, 1000.0, N))
    y = np.cumsum(rng.normal(size=N))
    nearly = x.copy()
    swaps = rng.choice(N - 1, 20, replace=False)
    nearly[swaps], nearly[swaps + 1] = x[swaps + 1], x[swaps]  # a few neighbours trade places
    shuffled = rng.permutation(N)
    counts = {}
    for name, xs, ys in (("sorted", x, y), ("nearly", nearly, y), ("shuffled", x[shuffled], y[shuffled])):
        path = str(tmp_path / f"{name}.parquet")
        pq.write_table(pa.table({"x": xs, "y": ys}), path, row_group_size=1000)
        counts[name] = _level0_statements(session, runner, path, xs, monkeypatch)
    assert counts["sorted"] > 1 and counts["nearly"] == counts["sorted"], counts
    assert counts["shuffled"] == 1, counts


def test_a_build_of_one_chunk_reads_no_footers(session, runner, rng, tmp_path, monkeypatch):
    """The footers only decide between chunks: a wide file's take seconds to list (~10 us a column
    chunk), so a build whose buckets fit one chunk never asks for them."""
    x = rng.permutation(np.sort(rng.uniform(0.0, 1000.0, N)))
    extra = {f"c{i}": rng.normal(size=N) for i in range(20)}
    path = str(tmp_path / "wide.parquet")
    pq.write_table(pa.table({"x": x, "y": rng.normal(size=N), **extra}), path, row_group_size=200)
    sqls, _ = _build_checked(session, runner, path, x, monkeypatch, buckets_per_chunk=N)  # one chunk
    assert not [sql for sql in sqls if "parquet_metadata" in sql]
