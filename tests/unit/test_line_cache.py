"""Views answered from rows kept in numpy agree with the SQL path; the cache keeps its budget."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine import line as engine_line
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.line_cache import RowBlock, RowCache
from pikaplot_widget.engine.sources import resolve_source


def _table(session, x, y):
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source("t", session), "x", "y")


def _views(rng, extent, count):
    """Zooms at random places and depths, and pans of part of a width (they overlap)."""
    span_all = extent.x_max - extent.x_min
    lo = hi = 0.0
    for i in range(count):
        if i % 3 == 2:
            shift = (hi - lo) * rng.uniform(0.1, 0.6) * rng.choice([-1, 1])
            lo, hi = lo + shift, hi + shift
        else:
            span = span_all * 10 ** rng.uniform(-3.5, -0.3)
            centre = rng.uniform(extent.x_min, extent.x_max)
            lo, hi = centre - span / 2, centre + span / 2
        yield (lo, hi), int(rng.integers(100, 900))


@pytest.mark.parametrize("case", range(4))
def test_views_from_kept_rows_match_the_sql_path(session, runner, rng, monkeypatch, case):
    n = 150_000
    x = np.sort(rng.uniform(0, 1e4, n)) if case % 2 == 0 else rng.uniform(0, 1e4, n)
    if case == 2:  # dense clusters and empty stretches (ties are checked in test_line_rows)
        x = np.sort(np.r_[rng.uniform(0, 1e4, n // 2), rng.normal(5e3, 20, n - n // 2)])
    y = np.cumsum(rng.normal(size=n))
    y[rng.random(n) < 0.002 * case] = np.nan
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    cache = RowCache(max_rows=60_000)
    for view, columns in _views(rng, extent, 24):
        width = (view[1] - view[0]) / columns
        lo, hi = max(view[0] - width, extent.x_min), min(view[1] + width, extent.x_max)
        half = (hi - lo) * 2
        read = (max(lo - half, extent.x_min), min(hi + half, extent.x_max))
        wide_rows = int(((x >= read[0]) & (x <= read[1])).sum())
        fast = fetch_line(
            runner, cols, extent, view, columns, row_cache=cache, read=read if wide_rows <= 60_000 else None
        )
        monkeypatch.setattr(engine_line, "FAST_ROWS", -1)  # DuckDB's M4
        exact = fetch_line(runner, cols, extent, view, columns)
        monkeypatch.undo()
        assert fast.kind == exact.kind
        np.testing.assert_array_equal(fast.x, exact.x)
        np.testing.assert_array_equal(fast.y, exact.y)
        assert fast.rows_in_view == exact.rows_in_view
    assert cache.hits > 0 and cache.reads > 0, "some views were answered from kept rows"


def test_small_table_is_read_once(session, runner, rng):
    x = np.sort(rng.uniform(0, 100, 20_000))
    y = rng.normal(size=x.size)
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    cache = RowCache()
    whole = (extent.x_min, extent.x_max)
    for view, columns in _views(rng, extent, 10):
        data = fetch_line(runner, cols, extent, view, columns, row_cache=cache, read=whole)
        inside = (x >= view[0]) & (x <= view[1])
        if inside.any():
            assert data.y_min_in_view == y[inside].min()
    assert cache.reads == 1 and cache.hits == 9


def test_cache_keeps_at_most_its_rows_newest_first():
    cache = RowCache(max_rows=100)

    def block(lo, n):
        x = np.linspace(lo, lo + 1, n)
        return RowBlock(lo, lo + 1, x, x)

    for lo in range(5):
        cache.keep(block(float(lo), 40))
    assert cache.covering(4.2, 4.8) is not None and cache.covering(3.0, 3.5) is not None
    assert cache.covering(2.0, 2.5) is None, "the oldest blocks went beyond 100 rows"
    assert cache.covering(4.5, 5.5) is None, "no block holds all of that range"
    cache.keep(block(9.0, 101))
    assert cache.covering(9.1, 9.2) is None, "a block larger than the budget is not kept"


def test_other_x_types_and_several_series_are_not_kept(session):
    session.connection.execute("CREATE TABLE ints AS SELECT range AS x, random() AS y FROM range(100)")
    ints = LineColumns.checked(resolve_source("ints", session), "x", "y")
    session.connection.execute("CREATE TABLE d AS SELECT range::DOUBLE AS x, random() AS y FROM range(100)")
    doubles = LineColumns.checked(resolve_source("d", session), "x", "y")
    assert not RowCache.usable(ints) and RowCache.usable(doubles)
