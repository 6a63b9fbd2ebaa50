"""A line index whose tables are gone (its database detached after DuckDB invalidated its file, disk
full): the plot says so in `index_error` and answers its views from the rows, equal to numpy's."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import pikaplot_widget as pk
from pikaplot_widget.engine.runner import INDEX_SCHEMA
from pikaplot_widget.plots.line import index as line_index


def test_views_come_from_the_rows_once_the_index_tables_are_gone(rng, monkeypatch):
    monkeypatch.setattr(line_index, "load_levels", lambda *args, **kwargs: None)  # every level a table
    n = 2_000_000
    x = np.arange(n, dtype=np.float64)
    y = np.cumsum(rng.normal(size=n))
    session = pk.Session()
    try:
        session.connection.register("frame", pa.table({"x": x, "y": y}))
        session.connection.execute("CREATE TABLE t AS SELECT * FROM frame")
        session.connection.unregister("frame")
        plot = pk.line("t", x="x", y="y", session=session, width=400, height=100)
        plot.to_array(timeout=60)
        assert plot.controller.wait_idle(120)
        assert plot.stats["index_levels"] >= 1 and plot.stats["index_error"] == ""
        plot.x_range = (10.0, n - 10.0)
        plot.to_array(timeout=60)
        assert plot.controller.data.kind.startswith("index level")  # from a level table
        session.connection.execute(f"DETACH {INDEX_SCHEMA}")  # what a failed write of its file ends in
        for lo, hi in ((5.0, n - 5.0), (1000.0, 900_000.0), (123.0, 4567.0)):
            plot.x_range = (lo, hi)
            plot.to_array(timeout=60)
            data = plot.controller.data
            inside = y[(x >= lo) & (x <= hi)]
            assert not data.kind.startswith("index level")
            assert (data.y_min_in_view, data.y_max_in_view) == (inside.min(), inside.max())
        assert plot.stats["index_error"].startswith("the line index was lost")
        plot.close()
    finally:
        session.close()
