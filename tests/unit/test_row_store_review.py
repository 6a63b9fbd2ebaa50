"""Row files under failure: odd names in the temp directory, failing sources and index builds,
platforms without `os.pread`; the plot keeps drawing exactly and the budget comes back."""

from __future__ import annotations

import os
import time

import numpy as np
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.core.errors import PlotError
from pikaplot_widget.engine import row_store
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.row_store import RowStore
from pikaplot_widget.engine.row_views import view_from_store
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line import provider as line_provider


def _table(session, x, y, name="t"):
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source(name, session), "x", "y")


# a pid too big for a C long; a digit that int() refuses
@pytest.mark.parametrize("pid", ["99999999999999999999", "\u00b2"])
def test_an_odd_folder_in_the_temp_directory_leaves_the_build_and_the_budget_whole(
    session, runner, rng, monkeypatch, tmp_path, pid
):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store.tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"{row_store.PREFIX}{pid}-abc").mkdir()  # any local user may make such a folder in /tmp
    cols = _table(session, np.sort(rng.uniform(0, 1e4, 20_000)), rng.normal(size=20_000))
    extent = fetch_extent(runner, cols)
    before = row_store.BUDGET.used
    store = RowStore()
    built = False
    try:
        built = store.build(runner, cols, extent)
    finally:
        store.close()
        assert row_store.BUDGET.used == before, "the budget must come back whatever the build did"
    assert built, store.state


def test_wait_idle_does_not_wait_for_row_files_of_a_plot_whose_source_fails():
    session = pk.Session()
    bad = (
        "SELECT i::DOUBLE AS x, CAST(CASE WHEN i > 5 THEN 'a' ELSE '1' END AS DOUBLE) AS y "
        "FROM range(10) t(i)"  # fails when run, not when described
    )
    plot = pk.line(bad, x="x", y="y", session=session, width=300, height=200)
    try:
        with pytest.raises(PlotError, match="Conversion"):
            plot.to_array(timeout=60)
        started = time.monotonic()
        assert plot.controller.wait_idle(10), "the failed view is done: nothing else to wait for"
        assert time.monotonic() - started < 5
    finally:
        plot.close()
        session.close()


def test_a_failed_index_build_still_gets_row_files_and_wait_idle_returns(rng, monkeypatch):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index build broke")

    monkeypatch.setattr(line_provider, "build_pyramid", broken)
    session = pk.Session()
    n = 60_000
    x = np.sort(rng.uniform(0, 1e4, n))
    y = np.cumsum(rng.normal(size=n))
    plot = pk.line(pa.table({"x": x, "y": y}), x="x", y="y", session=session, width=400, height=200)
    try:
        with pytest.raises(PlotError, match="index build broke"):
            plot.to_array(timeout=60)
        started = time.monotonic()
        assert plot.controller.wait_idle(10), "wait_idle waited for row files nobody writes"
        assert time.monotonic() - started < 8
        assert plot.stats["row_store"] == "ready", plot.stats["row_store"]
        queries = plot.controller.query_stats.run
        for lo in rng.uniform(0, 9e3, 4):
            plot.x_range = (lo, lo + 40.0)
            plot.to_array(timeout=60)
            data = plot.controller.data
            inside = (x >= lo) & (x <= lo + 40.0)
            assert (data.y_min_in_view, data.y_max_in_view) == (y[inside].min(), y[inside].max())
        assert plot.controller.query_stats.run == queries, "the zooms came from the row files"
    finally:
        plot.close()
        session.close()


def test_without_pread_no_row_files_are_written_and_no_kernel_is_signalled(
    session, runner, rng, monkeypatch, tmp_path
):
    # Windows has no os.pread, and there os.kill(pid, 0) terminates the process instead of probing it.
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store.tempfile, "tempdir", str(tmp_path))
    monkeypatch.delattr(os, "pread")
    signalled: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signalled.append(pid))
    (tmp_path / f"{row_store.PREFIX}{os.getpid() + 1}-abc").mkdir()  # another kernel's files
    x, y = np.sort(rng.uniform(0, 1e4, 20_000)), rng.normal(size=20_000)
    cols = _table(session, x, y)
    extent = fetch_extent(runner, cols)
    store = RowStore()
    try:
        built = store.build(runner, cols, extent)
        got = view_from_store(store, cols, extent, (100.0, 300.0), 50)  # must not raise
        want = fetch_line(runner, cols, extent, (100.0, 300.0), 50)
        assert got is None or (np.array_equal(got.x, want.x) and np.array_equal(got.y, want.y))
        assert not built, "no row files where they cannot be read back"
        assert "platform" in store.state, store.state
        assert signalled == []
    finally:
        store.close()
