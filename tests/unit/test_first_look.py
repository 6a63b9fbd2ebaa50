"""The first look of a large line plot: a sorted Parquet source's row-group bounds (from its footers)
against numpy's min/max per row group of the rows written; other sources sample real rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import pikaplot_widget as pk
from pikaplot_widget.core.scale import AxisScale
from pikaplot_widget.engine import row_group_bounds
from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.row_group_bounds import fetch_row_group_bounds
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line import worker


def _walk(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.cumsum(rng.uniform(0.0, 2.0, n))  # increasing, ties possible only by chance
    return x, np.cumsum(rng.normal(size=n))


def _per_group(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """numpy min/max of each run of `size` rows (NaN skipped), the row groups pyarrow writes."""
    groups = [values[i : i + size] for i in range(0, values.size, size)]
    return np.array([np.nanmin(g) for g in groups]), np.array([np.nanmax(g) for g in groups])


def _columns(session, data: object, x: str = "x", y: str = "y") -> LineColumns:
    return LineColumns.checked(resolve_source(data, session), x, y)


def test_bounds_match_numpy_per_row_group(session, runner, rng, tmp_path):
    n, size = 150_000, int(rng.integers(700, 1100))
    x, y = _walk(rng, n)
    y[rng.choice(n, 500, replace=False)] = np.nan  # NaN and NULL rows do not widen the bounds
    y_masked = pa.array(y, mask=rng.random(n) < 0.01)
    pq.write_table(pa.table({"x": x, "y": y_masked}), tmp_path / "w.parquet", row_group_size=size)
    reference_y = np.where(y_masked.is_null().to_numpy(zero_copy_only=False), np.nan, y)
    bounds = fetch_row_group_bounds(runner, _columns(session, str(tmp_path / "w.parquet")))
    assert bounds is not None and bounds.rows.sum() == n
    x_lo, x_hi = _per_group(x, size)
    y_lo, y_hi = _per_group(reference_y, size)
    np.testing.assert_array_equal(bounds.x_lo, x_lo)
    np.testing.assert_array_equal(bounds.x_hi, x_hi)
    np.testing.assert_array_equal(bounds.y_lo, y_lo)
    np.testing.assert_array_equal(bounds.y_hi, y_hi)
    ex, ey = bounds.envelope()  # one stroke per row group, at its middle, from its min to its max
    assert np.all(np.diff(ex) >= 0) and ex.size == 2 * x_lo.size
    np.testing.assert_array_equal(np.minimum(ey[0::2], ey[1::2]), y_lo)
    np.testing.assert_array_equal(np.maximum(ey[0::2], ey[1::2]), y_hi)


def test_time_x_log_y_and_files_in_any_order(session, runner, rng, tmp_path):
    n, size = 40_000, 250
    start_us = 1_700_000_000_000_000
    us = start_us + np.cumsum(rng.integers(1, 5000, n))
    y = np.exp(rng.normal(size=n))
    # The later half goes into the file whose name sorts first.
    halves = {"a_later": slice(n // 2, n), "b_earlier": slice(0, n // 2)}
    for name, rows in halves.items():
        table = pa.table({"t": pa.array(us[rows], pa.timestamp("us")), "v": y[rows]})
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=size)
    cols = LineColumns.checked(resolve_source(str(tmp_path / "*.parquet"), session), "t", "v", start_us)
    cols = replace(cols, scale=AxisScale(log_y=True))
    bounds = fetch_row_group_bounds(runner, cols)
    assert bounds is not None
    x_lo, x_hi = _per_group((us - start_us) / 1e6, size)
    y_lo, y_hi = _per_group(np.log10(y), size)
    np.testing.assert_allclose(bounds.x_lo, x_lo, rtol=0, atol=1e-9)
    np.testing.assert_allclose(bounds.x_hi, x_hi, rtol=0, atol=1e-9)
    np.testing.assert_allclose(bounds.y_lo, y_lo, rtol=1e-15)
    np.testing.assert_allclose(bounds.y_hi, y_hi, rtol=1e-15)


def test_no_bounds_where_they_would_mislead(session, runner, rng, tmp_path):
    n = 60_000
    x, y = _walk(rng, n)

    def write(name: str, xs: np.ndarray, ys: np.ndarray, size: int = 300) -> str:
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({"x": xs, "y": ys}), path, row_group_size=size)
        return str(path)

    assert fetch_row_group_bounds(runner, _columns(session, write("sorted", x, y))) is not None
    shuffled = rng.permutation(n)
    unsorted = write("unsorted", x[shuffled], y[shuffled])
    swapped = x.copy()
    swapped[[1000, 1300]] = swapped[[1300, 1000]]  # two rows of neighbouring row groups trade places
    overlapping = write("overlap", swapped, y)
    with_inf = y.copy()
    with_inf[rng.integers(n)] = np.inf
    infinite = write("inf", x, with_inf)
    few = write("few", x, y, size=n // (row_group_bounds.MIN_ROW_GROUPS - 1) + 1)
    for path in (unsorted, overlapping, infinite, few):
        assert fetch_row_group_bounds(runner, _columns(session, path)) is None, path
    sql = f"SELECT x, y FROM read_parquet('{tmp_path / 'sorted.parquet'}')"
    session.connection.execute(f"CREATE TABLE t AS {sql}")
    for data in (sql, "t", pa.table({"x": x, "y": y})):  # no footers: these sample rows
        assert fetch_row_group_bounds(runner, _columns(session, data)) is None


def test_first_look_kind_per_source(session, rng, tmp_path):
    n = 200_000
    x, y = _walk(rng, n)
    path = tmp_path / "w.parquet"
    pq.write_table(pa.table({"x": x, "y": y}), path, row_group_size=500)
    session.connection.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    for data, kind in ((str(path), "bounds"), ("t", "sample")):
        plot = pk.line(data, "x", "y", session=session, width=400, height=200)
        provider = plot.controller.provider
        extent = fetch_extent(provider.runner, provider.columns)
        look = provider.sample(extent, budget_s=30.0)
        assert look is not None and look.kind == kind
        # Both show the data's whole y range (bounds) or lie inside it (rows), never beyond it.
        assert np.nanmin(y) <= look.y_min_in_view and look.y_max_in_view <= np.nanmax(y)
        if kind == "bounds":
            assert look.rows_in_view == n // 500
            assert (look.y_min_in_view, look.y_max_in_view) == (np.nanmin(y), np.nanmax(y))
        else:  # every sampled point is a row of the table
            where = np.searchsorted(x, look.x)
            np.testing.assert_array_equal(x[where], look.x)
            np.testing.assert_array_equal(y[where], look.y)
        plot.close()


def test_worker_draws_the_bounds_first(session, rng, tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "PROGRESSIVE_MIN_ROWS", 0)
    n = 100_000
    x, y = _walk(rng, n)
    pq.write_table(pa.table({"x": x, "y": y}), tmp_path / "w.parquet", row_group_size=400)
    looks: list[str] = []
    sample = worker.LineProvider.sample

    def spy(provider, extent, budget_s):
        look = sample(provider, extent, budget_s)
        looks.append(look.kind if look is not None else "none")
        return look

    monkeypatch.setattr(worker.LineProvider, "sample", spy)
    plot = pk.line(str(tmp_path / "w.parquet"), "x", "y", session=session, width=400, height=200)
    plot.to_array()
    assert looks == ["bounds"] and plot.controller.timings.progressive > 0  # published first
    assert plot.controller.data.kind in ("m4", "raw")  # then the exact one
    plot.close()
