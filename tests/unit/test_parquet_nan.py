"""NaN in a Parquet file's y: its statistics leave NaN out, so the extent cannot count them; views from
DuckDB's M4 (the first exact frame) and from the line index still treat NaN as a gap, as the row
path does. Checked against numpy over the rows in view."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid, fetch_from_pyramid

N = 400_000


@pytest.fixture
def walk(rng):
    x = np.sort(rng.uniform(0, 1e5, N))
    y = np.cumsum(rng.normal(size=N))
    y[rng.random(N) < 0.002] = np.nan
    y[150_000:150_400] = np.nan  # a stretch with no valid y
    return x, y


def _check(data, x, y, x_range, columns):
    """The y range in view is numpy's over the valid rows; each pixel column holding a NaN row
    breaks the line once; every other point is a row of the data."""
    x0, x1 = x_range
    inside = (x >= x0) & (x <= x1)
    assert data.y_min_in_view == np.nanmin(y[inside]) and data.y_max_in_view == np.nanmax(y[inside])
    width = (x1 - x0) / columns
    near = (x >= max(x0 - width, x[0])) & (x <= min(x1 + width, x[-1]))
    col = np.floor((x[near] - x0) * (columns / (x1 - x0)))
    keep = (col >= -1) & (col <= columns)
    gaps = np.unique(col[keep][np.isnan(y[near][keep])]).size
    assert int(np.isnan(data.y).sum()) == gaps
    drawn = ~np.isnan(data.y)
    at = np.searchsorted(x, data.x[drawn])
    np.testing.assert_array_equal(y[at], data.y[drawn])


def test_nan_y_in_parquet_are_gaps_in_duckdbs_m4_and_in_the_index(session, runner, rng, tmp_path, walk):
    x, y = walk
    path = tmp_path / "walk.parquet"
    pq.write_table(pa.table({"x": x, "y": y}), path, row_group_size=20_000)
    cols = LineColumns.checked(resolve_source(str(path), session), "x", "y")
    extent = fetch_extent(runner, cols)
    assert extent.invalid_rows == 0 and extent.nan_unknown  # from the footers: NaN not counted
    pyramid = build_pyramid(runner, cols, extent, min_rows=0)
    assert pyramid is not None
    checked = 0
    for view in range(12):
        columns = int(rng.integers(100, 900))
        x0, x1 = (x[0], x[-1]) if view == 0 else np.sort(rng.uniform(0, 1e5, 2))
        if x1 - x0 < 2e3:
            continue
        _check(fetch_line(runner, cols, extent, (x0, x1), columns, in_engine=True), x, y, (x0, x1), columns)
        level = pyramid.level_for((x1 - x0) / columns)
        if level is not None:
            data = fetch_from_pyramid(runner, pyramid, level, (x0, x1), columns)
            inside = (x >= x0) & (x <= x1)
            assert data.y_max_in_view == np.nanmax(y[inside])  # no NaN taken for a bucket's max
            assert data.y_min_in_view == np.nanmin(y[inside])
        checked += 1
    assert checked >= 6


def test_a_table_counts_its_nan_in_the_extent(session, runner, walk):
    x, y = walk
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute("CREATE TABLE t AS SELECT * FROM frame_in")
    extent = fetch_extent(runner, LineColumns.checked(resolve_source("t", session), "x", "y"))
    assert extent.invalid_rows == int(np.isnan(y).sum()) and not extent.nan_unknown


def test_without_nan_the_lean_m4_draws_what_the_checked_one_does(session, runner, rng, tmp_path):
    """No NaN in the file: DuckDB's M4 without validity checks (the first query) is kept, and draws
    what the checked one (as for a source with invalid rows) draws."""
    x = np.sort(rng.uniform(0, 1e5, N))
    y = np.cumsum(rng.normal(size=N))
    path = tmp_path / "clean.parquet"
    pq.write_table(pa.table({"x": x, "y": y}), path, row_group_size=20_000)
    cols = LineColumns.checked(resolve_source(str(path), session), "x", "y")
    extent = fetch_extent(runner, cols)
    assert extent.nan_unknown
    queries = []
    run = runner.run
    runner.run = lambda sql, *a, **k: queries.append(sql) or run(sql, *a, **k)
    lean = fetch_line(runner, cols, extent, (x[0], x[-1]), 800, in_engine=True)
    runner.run = run
    assert len(queries) == 1 and " AS ok" not in queries[0]  # one query, no validity column
    checked = fetch_line(runner, cols, replace(extent, invalid_rows=1), (x[0], x[-1]), 800, in_engine=True)
    np.testing.assert_array_equal(lean.x, checked.x)
    np.testing.assert_array_equal(lean.y, checked.y)
