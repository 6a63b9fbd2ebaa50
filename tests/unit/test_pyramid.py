"""The line index answers viewports exactly: per (snapped) pixel column, numpy over the raw rows agrees."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid, drop_pyramid, merge_in_memory, pyramid_m4
from pikaplot_widget.plots.line.index_geometry import FANOUT, MIN_BUCKETS_PER_COLUMN, rows_per_bucket_for

SMALL = {"min_rows": 0, "rows_per_bucket": 8, "top_level_buckets": 64}


def _columns(session, x, y):
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source("t", session), "x", "y")


def _reference(x, y, pyramid, level, x0, x1, columns):
    """Brute force per snapped column: which bucket each row is in, which column holds its centre."""
    k0 = np.minimum(np.floor((x - pyramid.origin) / pyramid.bucket_width), pyramid.buckets - 1)
    k = np.floor_divide(k0, FANOUT**level)
    w = (x1 - x0) / columns
    col = np.floor(((k + 0.5) * pyramid.width(level) + pyramid.origin - x0) / w).astype(np.int64)
    out = {}
    valid = np.isfinite(y)
    for c in range(-1, columns + 1):
        sel = (col == c) & valid
        if sel.any():
            out[c] = (x[sel].min(), x[sel].max(), y[sel].min(), y[sel].max(), int((col == c).sum()))
    return out, col


def _indexed_views(rng, pyramid, count, columns, decades):
    """Random views of data over [0, 1000] (widths 10**decades of it) that a level answers:
    (columns, x0, span, level) each."""
    for _ in range(count):
        n = int(rng.integers(*columns))
        span = 1000 * 10 ** rng.uniform(*decades)
        x0 = rng.uniform(-0.2 * span, 1000 - 0.5 * span)
        level = pyramid.level_for(span / n)
        if level is not None:
            yield n, x0, span, level


@pytest.fixture
def data(rng):
    n = 60_000
    x = rng.uniform(0, 1000, n)
    x[: n // 10] = np.round(x[: n // 10])  # duplicates
    y = np.cumsum(rng.normal(size=n))
    y[rng.random(n) < 0.005] = np.nan
    return x, y


def test_levels_and_bucket_geometry(session, runner, data):
    cols = _columns(session, *data)
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, **SMALL)
    assert pyramid.buckets == 7500
    assert len(pyramid.tables) == 3  # 7500 -> 469 -> 30 buckets
    for level, table in enumerate(pyramid.tables):
        counts = runner.run(f"SELECT sum(n), count(*), max(k) FROM {table}").to_pylist()[0]
        assert counts["sum(n)"] == len(data[0])
        assert counts["max(k)"] < pyramid.buckets / FANOUT**level
    drop_pyramid(runner, pyramid)
    assert (
        runner.run("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'pikaplot_index'")
        .column(0)[0]
        .as_py()
        == 0
    )


def test_random_viewports_match_numpy(session, runner, data, rng):
    x, y = data
    cols = _columns(session, x, y)
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, **SMALL)
    checked = 0
    for _ in range(60):
        columns = int(rng.integers(20, 400))
        span = 1000 * 10 ** rng.uniform(-1.5, 0.3)
        x0 = rng.uniform(-0.2 * span, 1000 - 0.5 * span)
        x1 = x0 + span
        level = pyramid.level_for(span / columns)
        if level is None:
            continue  # deeper than the index: the raw-row path answers (tested elsewhere)
        table = pyramid_m4(runner, pyramid, level, (x0, x1), columns).to_pylist()
        expected, col = _reference(x, y, pyramid, level, x0, x1, columns)
        got = {r["col"]: r for r in table if r["y_min"] is not None}
        assert set(got) == set(expected)
        for c, (x_first, x_last, y_min, y_max, n) in expected.items():
            r = got[c]
            assert (r["x_first"], r["x_last"], r["y_min"], r["y_max"], r["n"]) == (
                x_first,
                x_last,
                y_min,
                y_max,
                n,
            )
            assert y_min in y[x == r["x_at_min"]] and y_max in y[x == r["x_at_max"]]
            assert r["y_first"] in y[x == x_first] and r["y_last"] in y[x == x_last]
        # Snapped column edges lie within 1/(2 * MIN_BUCKETS_PER_COLUMN) px of the true edges.
        true_col = np.floor((x - x0) / (span / columns)).astype(np.int64)
        moved = (col != true_col) & (col >= 0) & (col < columns)
        offset = (x[moved] - x0) / (span / columns)
        assert np.all(np.abs(offset - np.round(offset)) <= 0.5 / MIN_BUCKETS_PER_COLUMN + 1e-9)
        checked += 1
    assert checked > 30


def test_viewports_at_edges_and_outside(session, runner, data):
    x, y = data
    cols = _columns(session, x, y)
    pyramid = build_pyramid(runner, cols, fetch_extent(runner, cols), **SMALL)
    for x0, x1 in ((-500.0, 1500.0), (900.0, 1900.0), (2000.0, 3000.0), (-3000.0, -2000.0)):
        level = pyramid.level_for((x1 - x0) / 100)
        table = pyramid_m4(runner, pyramid, level, (x0, x1), 100).to_pylist()
        expected, _ = _reference(x, y, pyramid, level, x0, x1, 100)
        assert {r["col"] for r in table if r["y_min"] is not None} == set(expected)


def test_a_viewport_inside_one_bucket_has_no_level(session, runner, data):
    cols = _columns(session, *data)
    pyramid = build_pyramid(runner, cols, fetch_extent(runner, cols), **SMALL)
    assert pyramid.level_for(pyramid.bucket_width / 10) is None
    assert pyramid.level_for(pyramid.bucket_width * MIN_BUCKETS_PER_COLUMN) == 0
    assert pyramid.level_for(pyramid.width(2) * 100) == 2


def test_small_or_flat_data_gets_no_index(session, runner):
    cols = _columns(session, np.arange(10.0), np.arange(10.0))
    assert build_pyramid(runner, cols, fetch_extent(runner, cols)) is None  # below MIN_ROWS
    cols = _columns(session, np.zeros(100), np.arange(100.0))
    assert build_pyramid(runner, cols, fetch_extent(runner, cols), **SMALL) is None  # one x value


@pytest.mark.parametrize("long_gaps", [False, True])
def test_levels_in_memory_merge_like_duckdb(session, runner, data, rng, long_gaps):
    x, y = data
    if long_gaps:  # runs of invalid rows longer than a bucket: buckets (and columns) without a value
        y = y.copy()
        order = np.argsort(x, kind="stable")
        for start in rng.integers(0, x.size - 3000, 12):
            y[order[start : start + int(rng.integers(200, 3000))]] = np.nan
    cols = _columns(session, x, y)
    pyramid = build_pyramid(runner, cols, fetch_extent(runner, cols), **SMALL)
    assert set(pyramid.arrays) == set(range(len(pyramid.tables)))  # small: every level fits
    compared = 0
    for columns, x0, span, level in _indexed_views(rng, pyramid, 40, (20, 400), (-1.5, 0.3)):
        in_sql = pyramid_m4(runner, pyramid, level, (x0, x0 + span), columns).to_pylist()
        in_numpy = merge_in_memory(pyramid, level, (x0, x0 + span), columns).to_pylist()
        assert len(in_sql) == len(in_numpy)
        for a, b in zip(in_sql, in_numpy, strict=True):
            for name in ("col", "x_first", "y_first", "x_last", "y_last", "y_min", "y_max", "n"):
                assert a[name] == b[name] or (a[name] is None and b[name] != b[name]), (name, a, b)
            if a["y_min"] is not None:
                assert y[x == b["x_at_min"]].min() == b["y_min"]
                assert y[x == b["x_at_max"]].max() == b["y_max"]
        compared += 1
    assert compared > 20


def test_tables_whose_index_fits_in_memory_get_64_row_buckets_and_merge_like_numpy(session, runner, rng):
    """At defaults a table up to ~60M rows (one series) gets buckets of 64 rows, up to ~120M of 128,
    every level kept in numpy; its views merged there equal the brute force over the rows. Larger
    ones keep 256."""
    assert rows_per_bucket_for(10_000_000) == 64 and rows_per_bucket_for(60_000_000) == 64
    assert rows_per_bucket_for(100_000_000) == 128 and rows_per_bucket_for(1_000_000_000) == 256
    assert rows_per_bucket_for(10_000_000, series_count=10) == 128  # ten series: 10x the buckets
    assert rows_per_bucket_for(10_000_000, series_count=20) == 256
    n = 400_000
    x = rng.uniform(0, 1000, n)
    y = np.cumsum(rng.normal(size=n))
    y[rng.random(n) < 0.001] = np.nan
    cols = _columns(session, x, y)
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, min_rows=0)  # no rows_per_bucket: the default
    assert pyramid is not None and pyramid.buckets == -(-n // 64)
    assert set(pyramid.arrays) == set(range(len(pyramid.tables)))
    compared = 0
    for columns, x0, span, level in _indexed_views(rng, pyramid, 24, (50, 300), (-1.2, 0.1)):
        merged = merge_in_memory(pyramid, level, (x0, x0 + span), columns).to_pylist()
        expected, _ = _reference(x, y, pyramid, level, x0, x0 + span, columns)
        got = {r["col"]: r for r in merged if r["y_min"] is not None}
        assert set(got) == set(expected)
        for c, want in expected.items():
            r = got[c]
            assert (r["x_first"], r["x_last"], r["y_min"], r["y_max"], r["n"]) == want
        compared += 1
    assert compared > 10
