"""A zoom the line index or the row files answer changes no status (it takes milliseconds; the
overlay shows progress only after 150 ms); one that reads the source still reports "querying" and
"rendering" and ends "idle"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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


def test_quick_zooms_make_no_callback_and_a_good_view_clears_an_error(rng: np.random.Generator) -> None:
    """The worker reports a status only when it changes: quick zooms make no callback at all (in a
    kernel each would be a loop callback and a traitlet round), yet the view after a failed one
    still reports "idle" over the error."""
    session = pk.Session()
    try:
        rows = 1_200_000
        y = np.cumsum(rng.normal(size=rows))
        frame = pd.DataFrame({"x": np.arange(rows, dtype=np.float64), "y": y})
        plot = pk.line(frame, "x", "y", session=session, width=400, height=200)
        plot.to_array(timeout=120)
        assert plot.controller.wait_idle(120)
        told: list[tuple[str, float]] = []
        forward = plot.controller.on_state
        assert forward is not None

        def counting(status: str, progress: float) -> None:
            told.append((status, progress))
            forward(status, progress)

        plot.controller.on_state = counting
        for centre, width in zip(rng.uniform(0, rows, 8), rows * 10 ** rng.uniform(-3, 0, 8), strict=True):
            plot.x_range = (float(centre - width / 2), float(centre + width / 2))
            plot.to_array(timeout=120)
        assert told == [], told
        provider = plot.controller.provider
        query = provider.query

        def fails_once(*args: object, **kwargs: object) -> object:
            provider.query = query  # type: ignore[method-assign]
            raise OSError("the disk went away")

        provider.query = fails_once  # type: ignore[method-assign]
        plot.x_range = (1000.0, 400_000.0)
        with pytest.raises(pk.PlotError, match="disk went away"):
            plot.to_array(timeout=120)
        assert plot.status.startswith("error:")
        plot.x_range = (2000.0, 300_000.0)  # a quick view again (the index answers it)
        plot.to_array(timeout=120)
        assert plot.status == "idle", "the error is cleared"
        assert told[-1] == ("idle", 0.0)
        plot.close()
    finally:
        session.close()
