"""M4 and raw line queries against numpy references on random data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.sources import resolve_source


def _table(session, x, y, name="t"):
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source(name, session), "x", "y")


def _reference_m4(x, y, x0, x1, columns):
    """Brute force: per pixel column (-1..columns), first/last/min/max of the valid y."""
    width = (x1 - x0) / columns
    lo, hi = max(x0 - width, np.nanmin(x)), min(x1 + width, np.nanmax(x))
    inside = (x >= lo) & (x <= hi)
    col = np.floor((x - x0) * (columns / (x1 - x0))).astype(np.int64)
    result = {}
    for c in np.unique(col[inside]):
        if c < -1 or c > columns:
            continue
        sel = inside & (col == c) & np.isfinite(y)
        if not sel.any():
            continue
        xs, ys = x[sel], y[sel]
        result[int(c)] = (xs.min(), xs.max(), ys.min(), ys.max())
    return result


def _m4_rows(runner, cols, x0, x1, columns):
    extent = fetch_extent(runner, cols)
    width = (x1 - x0) / columns
    lo, hi = max(x0 - width, extent.x_min), min(x1 + width, extent.x_max)
    params = [*cols.range_params(lo, hi), x0, columns / (x1 - x0), columns]
    return runner.run(cols.m4_sql(), params).to_pylist()


@pytest.mark.parametrize("case", range(12))
def test_m4_matches_numpy_per_pixel_column(session, runner, rng, case):
    n = int(rng.integers(1_000, 200_000))
    x = rng.uniform(-1e3, 1e3, n)
    if case % 3 == 0:
        x = np.round(x, 1)  # many duplicate x
    if case % 2 == 0:
        x.sort()
    y = np.cumsum(rng.normal(size=n))
    y[rng.random(n) < 0.01] = np.nan
    cols = _table(session, x, y)
    columns = int(rng.integers(50, 1000))
    a, b = np.sort(rng.uniform(-1.2e3, 1.2e3, 2))
    if case == 5:
        a, b = x.min(), x.max()  # the full extent
    rows = _m4_rows(runner, cols, a, b, columns)
    expected = _reference_m4(x, y, a, b, columns)
    got = {r["col"]: r for r in rows if r["y_min"] is not None}
    assert set(got) == set(expected)
    for c, (x_first, x_last, y_min, y_max) in expected.items():
        r = got[c]
        assert r["x_first"] == x_first and r["x_last"] == x_last
        assert r["y_min"] == y_min and r["y_max"] == y_max
        valid = np.isfinite(y)
        assert r["y_first"] in y[valid & (x == x_first)]
        assert r["y_last"] in y[valid & (x == x_last)]
        assert y_min in y[valid & (x == r["x_at_min"])]
        assert y_max in y[valid & (x == r["x_at_max"])]


def test_fetch_line_m4_points_bound_every_column(session, runner, rng):
    n = 300_000
    x = np.sort(rng.uniform(0, 1, n))
    y = rng.normal(size=n)
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    data = fetch_line(runner, cols, extent, (0.25, 0.75), 400)
    assert data.kind == "m4"
    assert np.all(np.diff(data.x) >= 0)
    assert len(data.x) <= 4 * 402
    inside = (x >= 0.25) & (x <= 0.75)
    assert data.rows_in_view == inside.sum()
    assert data.y_min_in_view == y[inside].min() and data.y_max_in_view == y[inside].max()
    # Every drawn point is a real row.
    pairs = set(zip(x.tolist(), y.tolist(), strict=True))
    assert all((px, py) in pairs for px, py in zip(data.x, data.y, strict=True))


def test_fetch_line_returns_the_rows_when_few_are_in_view(session, runner, rng):
    x = np.arange(5_000) * 0.02 + rng.uniform(0, 0.001, 5_000)  # at most one row per pixel column
    y = rng.normal(size=x.size)
    y[510] = np.nan
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    columns = 800
    lo, hi = 10.0, 12.0
    data = fetch_line(runner, cols, extent, (lo, hi), columns)
    assert data.kind == "raw"
    width = (hi - lo) / columns
    sel = (x >= lo - width) & (x <= hi + width)
    np.testing.assert_array_equal(data.x, x[sel])
    np.testing.assert_array_equal(data.y, y[sel])


def test_nan_and_null_become_gaps(session, runner):
    x = np.arange(100_000, dtype=np.float64)
    y = np.sin(x / 100)
    y[50_000:50_500] = np.nan
    cols = _table(session, x, y)
    session.connection.execute("UPDATE t SET y = NULL WHERE x BETWEEN 70000 AND 70499")
    extent = fetch_extent(runner, cols)
    assert extent.invalid_rows == 1000
    data = fetch_line(runner, cols, extent, (0, 99_999), 200)
    gaps = data.x[np.isnan(data.y)]
    assert any(50_000 <= g < 50_500 for g in gaps)
    assert any(70_000 <= g < 70_500 for g in gaps)
    # No finite point falls inside a gap.
    finite = data.x[np.isfinite(data.y)]
    assert not np.any((finite >= 50_000) & (finite < 50_500))
    assert not np.any((finite >= 70_000) & (finite < 70_500))


def test_m4_without_gap_column_matches_when_data_has_no_gaps(session, runner, rng):
    x = rng.uniform(0, 1, 50_000)
    y = rng.normal(size=x.size)
    cols = _table(session, x, y)
    params = [*cols.range_params(0.0, 1.0), 0.1, 300 / 0.8, 300]
    with_gaps = runner.run(cols.m4_sql(with_gaps=True), params).drop_columns(["x_gap"])
    without = runner.run(cols.m4_sql(with_gaps=False), params).drop_columns(["x_gap"])
    assert with_gaps.equals(without)
    assert fetch_extent(runner, cols).invalid_rows == 0


def test_timestamp_x_in_seconds(session, runner):
    session.connection.execute(
        "CREATE TABLE ts AS SELECT TIMESTAMP '2024-01-01' + to_seconds(i) AS t, i::DOUBLE AS v "
        "FROM range(10000) r(i)"
    )
    cols = LineColumns.checked(resolve_source("ts", session), "t", "v")
    assert cols.x_is_time
    extent = fetch_extent(runner, cols)
    start = pd.Timestamp("2024-01-01", tz="UTC").timestamp()
    assert extent.x_min == start and extent.x_max == start + 9999
    data = fetch_line(runner, cols, extent, (start + 100, start + 200), 800)
    assert data.kind == "raw"
    inside = (data.x >= start + 100) & (data.x <= start + 200)
    np.testing.assert_array_equal(data.y[inside], data.x[inside] - start)


@pytest.mark.parametrize(
    "x_type", ["DATE", "TIMESTAMPTZ", "TIMESTAMP_NS", "BIGINT", "FLOAT", "DECIMAL(12,3)"]
)
def test_other_x_types_filter_and_bin(session, runner, x_type):
    if x_type == "DATE":
        expr = "DATE '2020-01-01' + i::INTEGER"
    elif x_type in ("TIMESTAMPTZ", "TIMESTAMP_NS"):
        expr = f"CAST(TIMESTAMP '2020-01-01' + to_seconds(i) AS {x_type})"
    else:
        expr = f"CAST(i AS {x_type})"
    session.connection.execute(
        f"CREATE TABLE o AS SELECT {expr} AS x, (i % 7)::DOUBLE AS y FROM range(5000) r(i)"
    )
    cols = LineColumns.checked(resolve_source("o", session), "x", "y")
    extent = fetch_extent(runner, cols)
    assert extent.rows == 5000
    span = extent.x_max - extent.x_min
    lo, hi = extent.x_min + span * 0.4, extent.x_min + span * 0.6
    data = fetch_line(runner, cols, extent, (lo, hi), 300)
    assert data.rows_in_view == pytest.approx(1000, abs=2)
    assert data.y_min_in_view == 0 and data.y_max_in_view == 6


def test_view_outside_data_is_empty(session, runner):
    cols = _table(session, np.arange(10.0), np.arange(10.0))
    extent = fetch_extent(runner, cols)
    data = fetch_line(runner, cols, extent, (100.0, 200.0), 100)
    assert data.x.size == 0 and data.rows_in_view == 0 and math.isnan(data.y_min_in_view)


def test_empty_source_extent(session, runner):
    session.connection.execute("CREATE TABLE e (x DOUBLE, y DOUBLE)")
    cols = LineColumns.checked(resolve_source("e", session), "x", "y")
    extent = fetch_extent(runner, cols)
    assert extent.empty and extent.rows == 0
    data = fetch_line(runner, cols, extent, (0.0, 1.0), 100)
    assert data.x.size == 0


def test_identifiers_are_quoted(session, runner):
    session.connection.execute('CREATE TABLE q ("we""ird x" DOUBLE, "select" DOUBLE)')
    session.connection.execute("INSERT INTO q VALUES (1, 2), (2, 3), (3, 1)")
    cols = LineColumns.checked(resolve_source("q", session), 'we"ird x', "select")
    extent = fetch_extent(runner, cols)
    assert (extent.x_min, extent.x_max, extent.y_min, extent.y_max) == (1, 3, 1, 3)
