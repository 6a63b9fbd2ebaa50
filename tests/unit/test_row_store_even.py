"""Evenly spaced x is computed instead of stored, bit for bit: views match the rows the SQL filter picks."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine import row_store, row_views
from pikaplot_widget.engine.even_x import EvenX
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.row_store import RowStore
from pikaplot_widget.engine.row_views import store_answers, view_from_store
from pikaplot_widget.engine.sources import resolve_source

N = 1_300_000  # more than one DuckDB batch


def _columns(session, x_sql: str, raw: np.ndarray, y: np.ndarray, origin: int = 0) -> LineColumns:
    session.connection.register("frame_in", pa.table({"x": raw, "y": y}))
    session.connection.execute(f"CREATE OR REPLACE TABLE t AS SELECT {x_sql} AS x, y FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source("t", session), "x", "y", origin)


def _views_match_the_sql_rows(runner, cols, store, rng, count=25):
    extent = fetch_extent(runner, cols)
    for _ in range(count):
        span = (extent.x_max - extent.x_min) * 10 ** rng.uniform(-5, -2)
        lo = rng.uniform(extent.x_min - span / 2, extent.x_max)
        view, columns = (lo, lo + span), int(rng.integers(20, 900))
        got = view_from_store(store, cols, extent, view, columns)
        read = fetch_line(runner, cols, extent, view, columns)  # the rows of the SQL filter, numpy M4
        assert got is not None
        np.testing.assert_array_equal(got.x, read.x)
        np.testing.assert_array_equal(got.y, read.y)
        assert got.rows_in_view == read.rows_in_view


@pytest.mark.parametrize(
    ("x_type", "x_sql", "start", "step"),
    [
        ("DOUBLE", "x", -1000.0, 0.25),
        ("BIGINT", "CAST(x AS BIGINT)", -7, 3),
        ("TIMESTAMP", "make_timestamp(CAST(x AS BIGINT))", 1_700_000_000_000_000, 1000),  # 1 kHz
    ],
)
def test_even_x_is_not_written_and_views_match_the_sql_rows(
    session, runner, rng, monkeypatch, x_type, x_sql, start, step
):
    placed = []
    first_rows = EvenX.first_rows

    def recorded(self, *args, **kwargs):
        rows = first_rows(self, *args, **kwargs)
        placed.append(rows is not None)
        return rows

    def every_x_computed(*args):
        raise AssertionError("every x of the view was computed: the rows were not placed from the spacing")

    monkeypatch.setattr(row_views, "m4_of_rows", every_x_computed)  # views come from m4_of_even_rows
    monkeypatch.setattr(EvenX, "first_rows", recorded)
    raw = start + np.arange(N) * step
    y = np.cumsum(rng.normal(size=N))
    y[rng.random(N) < 0.001] = np.nan
    origin = start if x_type == "TIMESTAMP" else 0
    cols = _columns(session, x_sql, raw, y, origin)
    assert cols.x_type == x_type
    store = RowStore()
    assert store.build(runner, cols, fetch_extent(runner, cols)), store.state
    assert os.listdir(store._dir) == ["y.f64"] and store.bytes == N * 8 and store.rows == N
    _views_match_the_sql_rows(runner, cols, store, rng)
    assert len(placed) >= 25 * 2 and all(placed)  # the range's ends, then the columns' bounds, each view
    store.close()


def test_x_that_turns_uneven_late_gets_its_file_with_every_row(session, runner, rng):
    x = np.arange(N, dtype=np.float64)
    x[1_100_000:] += 0.5  # even for the first DuckDB batch, then not
    x[1_200_000:] += rng.uniform(0, 0.4, N - 1_200_000).cumsum() / N
    y = rng.normal(size=N)
    cols = _columns(session, "x", x, y)
    store = RowStore()
    assert store.build(runner, cols, fetch_extent(runner, cols)), store.state
    assert store.bytes == N * 16
    np.testing.assert_array_equal(np.fromfile(os.path.join(store._dir, "x.f64")), x)
    np.testing.assert_array_equal(np.fromfile(os.path.join(store._dir, "y.f64")), y)
    _views_match_the_sql_rows(runner, cols, store, rng)
    store.close()


def test_no_room_for_the_x_of_an_uneven_source_gives_the_budget_back(session, runner, rng, monkeypatch):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    n = 50_000
    monkeypatch.setattr(row_store, "BUDGET", row_store._Budget(n * 8 + 100))  # y fits, x does not
    even = _columns(session, "x", np.arange(n, dtype=np.float64), rng.normal(size=n))
    store = RowStore()
    assert store.build(runner, even, fetch_extent(runner, even))
    store.close()
    uneven = _columns(session, "x", np.sort(rng.uniform(0, 1, n)), rng.normal(size=n))
    store = RowStore()
    assert not store.build(runner, uneven, fetch_extent(runner, uneven))
    assert store.state.startswith("no room") and not os.path.exists(store._dir)
    assert row_store.BUDGET.used == 0


@pytest.mark.parametrize("divisor", [1.0, 1e6])
def test_rows_placed_from_the_spacing_are_where_searchsorted_puts_them(rng, divisor):
    """`EvenX.first_rows` against a searchsorted over every computed x (and position)."""
    placed = 0
    for _ in range(300):
        even = EvenX(divisor)
        first = float(rng.integers(-(10**9), 10**9)) if divisor > 1 else rng.uniform(-1e6, 1e6)
        step = float(rng.integers(1, 5000)) if divisor > 1 else 10 ** rng.uniform(-6, 3)
        even.start, even.step = first, step  # x_i = (first + i * step) / divisor, as `values` computes it
        lo, hi = sorted(int(v) for v in rng.integers(0, 200_000, 2))
        x = even.values(lo, hi)
        x0 = rng.uniform(x[0], x[-1]) if hi > lo + 1 else 0.0
        scale = 10 ** rng.uniform(-3, 3) / max(step / divisor, 1e-300)
        key = (x - x0) * scale
        targets = np.r_[np.arange(-3.0, 60.0), rng.choice(key, 5) if key.size else []]
        for strict in (False, True):
            got = even.first_rows(targets, lo, hi, x0, scale, strict)
            if got is None:
                continue
            placed += 1
            expected = lo + np.searchsorted(key, targets, side="right" if strict else "left")
            np.testing.assert_array_equal(got, expected)
    assert placed >= 590  # a fallback is for rare floating-point corners only


def test_the_store_says_which_views_it_answers_without_reading_them(session, runner, rng):
    """`store_answers` (no preview frame needed) is true exactly where `view_from_store` answers:
    not for views holding more rows than a view reads from the files."""
    cols = _columns(session, "x", np.arange(N, dtype=np.float64), rng.normal(size=N))
    extent = fetch_extent(runner, cols)
    store = RowStore()
    assert not store_answers(store, cols, extent, (0.0, 100.0), 400)  # not built yet
    assert store.build(runner, cols, extent), store.state
    answered = set()
    for _ in range(40):
        span = N * 10 ** rng.uniform(-4, 0.1)
        lo = rng.uniform(-span / 2, N)
        view, columns = (lo, lo + span), int(rng.integers(20, 900))
        says = store_answers(store, cols, extent, view, columns)
        assert says == (view_from_store(store, cols, extent, view, columns) is not None)
        answered.add(says)
    assert answered == {True, False}
    store.close()
