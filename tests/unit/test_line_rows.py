"""The numpy M4 over the rows of a narrow view agrees with DuckDB's M4 (the exact path)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine import line as engine_line
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.line_rows import m4_of_rows, rows_m4
from pikaplot_widget.engine.line_series import by_series, y_list_series
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid, drop_pyramid, rows_between


def _table(session, x, y):
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source("t", session), "x", "y")


def _random_data(rng, case):
    n = int(rng.integers(2_000, 150_000))
    x = rng.uniform(-1e3, 1e3, n)
    if case % 3 == 0:
        x = np.round(x, 1)  # many duplicate x
    if case % 2 == 0:
        x.sort()
    y = np.cumsum(rng.normal(size=n))
    if case % 4 != 1:
        y[rng.random(n) < 0.01] = np.nan
    return x, y


def _sql_m4(runner, cols, extent, x0, x1, columns):
    width = (x1 - x0) / columns
    lo, hi = max(x0 - width, extent.x_min), min(x1 + width, extent.x_max)
    params = [*cols.range_params(lo, hi), x0, columns / (x1 - x0), columns]
    return runner.run(cols.m4_sql(with_gaps=True), params), (lo, hi)


@pytest.mark.parametrize("case", range(12))
def test_numpy_m4_matches_duckdb_m4(session, runner, rng, case):
    x, y = _random_data(rng, case)
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    columns = int(rng.integers(20, 1000))
    x0, x1 = np.sort(rng.uniform(-1.2e3, 1.2e3, 2))
    if case == 5:
        x0, x1 = x.min(), x.max()
    expected, (lo, hi) = _sql_m4(runner, cols, extent, x0, x1, columns)
    inside = (x >= lo) & (x <= hi)
    order = rng.permutation(int(inside.sum()))  # rows in any order
    got = m4_of_rows(x[inside][order], y[inside][order], x0, columns / (x1 - x0), columns)
    want = {r["col"]: r for r in expected.to_pylist()}
    have = {r["col"]: r for r in got.to_pylist()}
    assert set(have) == set(want)
    nan = float("nan")
    valid = np.isfinite(y)
    for c, r in want.items():
        g = {k: (nan if v is None else v) for k, v in have[c].items()}
        w = {k: (nan if v is None else v) for k, v in r.items()}
        for name in ("n", "x_first", "x_last", "y_min", "y_max", "x_gap"):
            np.testing.assert_equal(g[name], w[name], err_msg=f"{name} of column {c}")
        if np.isnan(w["y_min"]):
            assert np.isnan(g["y_first"]) and np.isnan(g["x_at_min"])
            continue
        # Ties (duplicate x, equal y) may pick another row: it must still be a row with that value.
        assert g["y_first"] in y[valid & (x == g["x_first"])]
        assert g["y_last"] in y[valid & (x == g["x_last"])]
        assert g["y_min"] in y[valid & (x == g["x_at_min"])]
        assert g["y_max"] in y[valid & (x == g["x_at_max"])]


@pytest.mark.parametrize("case", range(6))
def test_fetch_line_fast_path_draws_what_the_sql_path_draws(session, runner, rng, monkeypatch, case):
    n = 200_000
    x = np.sort(rng.uniform(0, 1e4, n)) if case % 2 == 0 else rng.permutation(np.arange(n) * 0.05)
    y = np.cumsum(rng.normal(size=n))
    y[rng.random(n) < 0.002 * (case % 3)] = np.nan
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    for _ in range(5):
        span = (extent.x_max - extent.x_min) * 10 ** rng.uniform(-4, 0)
        centre = rng.uniform(extent.x_min, extent.x_max)
        view, columns = (centre - span / 2, centre + span / 2), int(rng.integers(100, 900))
        fast = fetch_line(runner, cols, extent, view, columns)
        monkeypatch.setattr(engine_line, "FAST_ROWS", -1)  # every view through DuckDB's M4
        exact = fetch_line(runner, cols, extent, view, columns)
        monkeypatch.undo()
        assert fast.kind == exact.kind
        np.testing.assert_array_equal(fast.x, exact.x)
        np.testing.assert_array_equal(fast.y, exact.y)
        assert fast.rows_in_view == exact.rows_in_view
        np.testing.assert_equal(
            (fast.y_min_in_view, fast.y_max_in_view), (exact.y_min_in_view, exact.y_max_in_view)
        )


def test_guarded_read_falls_back_when_a_narrow_range_holds_many_rows(session, runner, rng, monkeypatch):
    # Most rows crowd into a sliver of x: the even-spread estimate says few, the LIMIT finds many.
    x = np.r_[rng.uniform(0, 1, 50_000), rng.uniform(0, 1000, 1_000)]
    y = rng.normal(size=x.size)
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    monkeypatch.setattr(engine_line, "FAST_ROWS", 5_000)
    calls = []
    monkeypatch.setattr(engine_line, "rows_m4", lambda *a: calls.append(a) or rows_m4(*a))
    data = fetch_line(runner, cols, extent, (0.0, 1.0), 200)
    assert calls == [], "more rows than FAST_ROWS are not aggregated in numpy"
    assert data.kind == "m4" and data.rows_in_view == int(((x >= 0) & (x < 1)).sum())
    fetch_line(runner, cols, extent, (500.0, 550.0), 200)  # ~50 rows: the numpy path
    assert len(calls) == 1


def test_rows_between_bounds_the_rows_of_a_range(session, runner, rng):
    x = rng.uniform(0, 1000, 40_000)
    y = rng.normal(size=x.size)
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, min_rows=0, rows_per_bucket=8, top_level_buckets=64)
    try:
        for _ in range(50):
            lo, hi = np.sort(rng.uniform(-10, 1010, 2))
            count = rows_between(pyramid, lo, hi)
            true = int(((x >= lo) & (x <= hi)).sum())
            assert count is not None and true <= count <= true + 4 * 8 + 40  # a few buckets more
    finally:
        drop_pyramid(runner, pyramid)


def _series_table(session, runner, rng, kind, n):
    """Three series, sorted or shuffled x, some invalid y: as y columns or a `by` column."""
    x = np.sort(rng.uniform(0, 1e4, n))
    if rng.random() < 0.5:
        x = rng.permutation(x)
    ys = [np.cumsum(rng.normal(size=n)) for _ in range(3)]
    for y in ys:
        y[rng.random(n) < 0.003] = np.nan
    if kind == "y":
        data = {"x": x, "a": ys[0], "b": ys[1], "c": ys[2]}
    else:  # one row per (x, series); a NULL and an unknown label that are no series of the plot
        label = rng.choice(np.array(["p", "q", "r", "z"], dtype=object), n, p=[0.3, 0.3, 0.3, 0.1])
        label[rng.random(n) < 0.01] = None
        data = {"x": x, "g": pa.array(label.tolist(), pa.string()), "a": ys[0]}
    session.connection.register("frame_in", pa.table(data))
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    cols = LineColumns.checked(resolve_source("t", session), "x", "a")
    if kind == "y":
        return replace(cols, series=y_list_series(cols, ("a", "b", "c")))
    return replace(cols, series=by_series(runner, cols, "g", limit=3))


@pytest.mark.parametrize("kind", ["y", "by"])
def test_fast_path_of_several_series_draws_what_the_sql_path_draws(session, runner, rng, monkeypatch, kind):
    cols = _series_table(session, runner, rng, kind, 120_000)
    assert cols.series is not None and cols.series.count == 3
    extent = fetch_extent(runner, cols)
    for _ in range(6):
        span = (extent.x_max - extent.x_min) * 10 ** rng.uniform(-3.5, 0)
        centre = rng.uniform(extent.x_min, extent.x_max)
        view, columns = (centre - span / 2, centre + span / 2), int(rng.integers(100, 900))
        calls: list[int] = []
        monkeypatch.setattr(engine_line, "rows_m4", lambda *a, seen=calls: seen.append(1) or rows_m4(*a))
        fast = fetch_line(runner, cols, extent, view, columns)
        assert calls, "the view was aggregated in numpy"
        monkeypatch.setattr(engine_line, "FAST_ROWS", -1)
        exact = fetch_line(runner, cols, extent, view, columns)
        monkeypatch.undo()
        assert fast.kind == exact.kind
        np.testing.assert_array_equal(fast.series, exact.series)
        np.testing.assert_array_equal(fast.x, exact.x)
        np.testing.assert_array_equal(fast.y, exact.y)
        assert fast.rows_in_view == exact.rows_in_view
        np.testing.assert_array_equal(fast.series_bounds, exact.series_bounds)


@pytest.mark.parametrize("kind", ["y", "by"])
def test_rows_between_counts_the_rows_of_several_series(session, runner, rng, kind):
    cols = _series_table(session, runner, rng, kind, 30_000)
    assert cols.series is not None
    if kind == "y":
        x = session.connection.sql("SELECT x FROM t").to_arrow_table().column("x").to_numpy()
        kept = other = np.ones(x.size, bool)
    else:
        table = session.connection.sql("SELECT x, g FROM t").to_arrow_table()
        x, g = table.column("x").to_numpy(), np.array(table.column("g").to_pylist(), dtype=object)
        kept = np.isin(g, list(cols.series.by_values))
        other = kept | (g == None)  # noqa: E711 -- NULL labels may be counted (an upper bound)
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, min_rows=0, rows_per_bucket=8, top_level_buckets=64)
    try:
        for _ in range(30):
            lo, hi = np.sort(rng.uniform(-100, 1.01e4, 2))
            count = rows_between(pyramid, lo, hi)
            inside = (x >= lo) & (x <= hi)
            assert count is not None
            assert int((inside & kept).sum()) <= count <= int((inside & other).sum()) + 4 * 8 + 40
    finally:
        drop_pyramid(runner, pyramid)
