"""Level 0 is built in chunks only where a range filter skips data (tables, Parquet); CSV files, SQL
text and registered frames, which each chunk would read whole again, keep one statement."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid, drop_pyramid
from pikaplot_widget.plots.line.index_chunks import level0_statements

N = 20_000
SMALL = {"min_rows": 0, "rows_per_bucket": 8, "top_level_buckets": 64, "buckets_per_chunk": 300}


@pytest.fixture
def frame(rng):
    x = np.sort(rng.uniform(0.0, 1000.0, N))
    return pa.table({"x": x, "y": np.cumsum(rng.normal(size=N))})


def _sources(session, frame, tmp_path):
    session.connection.register("frame_in", frame)
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.execute(
        f"COPY frame_in TO '{tmp_path / 'f.parquet'}' (FORMAT parquet, ROW_GROUP_SIZE 2048)"
    )
    session.connection.execute(f"COPY frame_in TO '{tmp_path / 'f.csv'}' (HEADER)")
    session.connection.unregister("frame_in")
    return {
        "table": ("t", True),
        "parquet": (str(tmp_path / "f.parquet"), True),
        "csv": (str(tmp_path / "f.csv"), False),
        "sql": ("SELECT x, y FROM t WHERE y = y", False),
        "arrow": (frame, False),
    }


def test_chunks_only_where_a_range_skips_data(session, runner, frame, tmp_path):
    for name, (data, chunked) in _sources(session, frame, tmp_path).items():
        cols = LineColumns.checked(resolve_source(data, session), "x", "y")
        runner.attach(cols.source)  # a registered frame, on the runner's cursor
        extent = fetch_extent(runner, cols)
        buckets = 2500
        statements = level0_statements(
            cols, extent, "t0", buckets, (extent.x_max - extent.x_min) / buckets, 300
        )
        assert (len(statements) > 1) == chunked, name
        pyramid = build_pyramid(runner, cols, extent, **SMALL)
        assert pyramid is not None
        level0 = runner.run(f"SELECT k, n FROM {pyramid.tables[0]} ORDER BY k")
        keys, counts = level0.column("k").to_numpy(), level0.column("n").to_numpy()
        x = frame.column("x").to_numpy()
        expected = np.bincount(
            np.minimum(
                np.floor((x - extent.x_min) / pyramid.bucket_width).astype(np.int64), pyramid.buckets - 1
            ),
            minlength=pyramid.buckets,
        )  # rows per bucket, counted in numpy
        assert np.unique(keys).size == keys.size, name
        np.testing.assert_array_equal(counts, expected[keys], err_msg=name)
        assert counts.sum() == N, name
        drop_pyramid(runner, pyramid)
        runner.detach(cols.source)
