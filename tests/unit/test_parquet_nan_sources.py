"""NaN y in a Parquet file read through SQL text, a view or a DuckDB relation: DuckDB answers their
min/max from the footers too (which leave NaN out), so the extent cannot count the NaN there either.
Views from DuckDB's M4 and from the line index must still treat NaN as gaps; checked against numpy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid, fetch_from_pyramid

N = 200_000


@pytest.fixture
def walk(rng, tmp_path):
    x = np.sort(rng.uniform(0, 1e5, N))
    y = np.cumsum(rng.normal(size=N))
    y[rng.random(N) < 0.003] = np.nan
    path = tmp_path / "walk.parquet"
    pq.write_table(pa.table({"x": x, "y": y}), path, row_group_size=20_000)
    return x, y, path


def _sources(session, path):
    session.connection.execute(f"CREATE VIEW walk_view AS SELECT * FROM '{path}'")
    return {
        "sql": f"SELECT * FROM '{path}'",
        "view": "walk_view",
        "relation": session.connection.read_parquet(str(path)),
    }


@pytest.mark.parametrize("kind", ["sql", "view", "relation"])
def test_nan_y_behind_sql_a_view_or_a_relation_are_gaps(session, runner, rng, walk, kind):
    x, y, path = walk
    data = _sources(session, path)[kind]
    cols = LineColumns.checked(resolve_source(data, session), "x", "y")
    (stats_max,) = session.connection.execute(f"SELECT max(y) FROM {cols.source.from_sql}").fetchone()
    assert stats_max == np.nanmax(y)  # not NaN: DuckDB answers from the footers, the NaN stay hidden
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, min_rows=0)
    assert pyramid is not None
    for view in range(8):
        columns = int(rng.integers(100, 900))
        x0, x1 = (x[0], x[-1]) if view == 0 else np.sort(rng.uniform(0, 1e5, 2))
        inside = (x >= x0) & (x <= x1)
        data_m4 = fetch_line(runner, cols, extent, (x0, x1), columns, in_engine=True)
        assert data_m4.y_max_in_view == np.nanmax(y[inside]), (kind, view)
        assert data_m4.y_min_in_view == np.nanmin(y[inside]), (kind, view)
        level = pyramid.level_for((x1 - x0) / columns)
        if level is not None:
            data_index = fetch_from_pyramid(runner, pyramid, level, (x0, x1), columns)
            assert data_index.y_max_in_view == np.nanmax(y[inside]), (kind, view, level)


def test_a_table_keeps_the_lean_m4(session, runner, walk):
    """A DuckDB table counts its NaN itself (its max() is NaN): no doubt about hidden NaN there."""
    x, y, _ = walk
    clean = ~np.isnan(y)  # (DuckDB prunes a WHERE isnan(y) on Parquet by the same statistics)
    session.connection.register("walk_frame", pa.table({"x": x[clean], "y": y[clean]}))
    session.connection.execute("CREATE TABLE walk_table AS SELECT * FROM walk_frame")
    extent = fetch_extent(runner, LineColumns.checked(resolve_source("walk_table", session), "x", "y"))
    assert extent.invalid_rows == 0 and not extent.nan_unknown
