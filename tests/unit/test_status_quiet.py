"""A zoom the line index or the row files answer changes no status (it takes milliseconds; the
overlay shows progress only after 150 ms); one that reads the source still reports "querying" and
"rendering" and ends "idle"."""

from __future__ import annotations

import numpy as np
import pandas as pd

import pikaplot_widget as pk


def _zoom_statuses(plot: pk.Plot, views: list[tuple[float, float]]) -> tuple[list[str], list[str]]:
    """The status values set while showing `views` one after another, and the kinds of data drawn."""
    seen: list[str] = []
    plot.observe(lambda change: seen.append(str(change["new"])), names="status")
    kinds = []
    for lo, hi in views:
        plot.x_range = (lo, hi)
        plot.to_array(timeout=120)
        kinds.append(plot.controller.data.kind)
    return seen, kinds


def test_quick_zooms_are_quiet_and_slow_ones_report(rng: np.random.Generator) -> None:
    session = pk.Session()
    try:
        rows = 1_200_000  # above the index's minimum: an index, then row files
        y = np.cumsum(rng.normal(size=rows))
        session.connection.register("frame", pd.DataFrame({"x": np.arange(rows, dtype=np.float64), "y": y}))
        session.connection.execute("CREATE TABLE walk AS SELECT * FROM frame")
        plot = pk.line("walk", "x", "y", session=session, width=400, height=200)
        plot.to_array(timeout=120)
        assert plot.controller.wait_idle(120)
        centres = rng.uniform(0, rows, 6)
        widths = rows * 10 ** rng.uniform(-3, 0, 6)
        views = [(float(c - w / 2), float(c + w / 2)) for c, w in zip(centres, widths, strict=True)]
        seen, kinds = _zoom_statuses(plot, views)
        assert seen == [], (seen, kinds)  # the index or the row files answered every one
        assert plot.status == "idle"
        # the same views drawn right: y fitted to what numpy finds in the last one
        lo, hi = views[-1]
        inside = y[max(int(np.ceil(lo)), 0) : min(int(np.floor(hi)), rows - 1) + 1]
        y_lo, y_hi = plot.y_range
        assert y_lo <= inside.min() and inside.max() <= y_hi
        plot.close()

        small = pk.line(
            "SELECT range::DOUBLE AS x, sin(range) AS y FROM range(5000)", "x", "y", session=session
        )
        small.to_array(timeout=120)
        seen, _ = _zoom_statuses(small, [(100.0, 900.0), (2000.0, 2500.0)])
        assert "querying" in seen and "rendering" in seen and seen[-1] == "idle", seen
        small.close()
    finally:
        session.close()
