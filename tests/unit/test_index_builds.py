"""Line index builds under a small memory_limit: builds of several plots on one session run one at a
time (the session's gate), so all get their index, and their views agree with numpy over the raw rows;
a build that runs out of memory is tried once more, and one that fails twice leaves the plot reading
rows, with the reason in its stats. A build waiting for the gate stays cancellable."""

from __future__ import annotations

import threading
import time

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.runner import QueryCancelled, Ticket
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line import index as index_module
from pikaplot_widget.plots.line.index import build_pyramid, drop_pyramid
from pikaplot_widget.plots.line.index_geometry import MIN_ROWS

ROWS = 2_000_000
assert ROWS >= MIN_ROWS


def wait_index(plot: pk.Plot, timeout: float = 60) -> None:
    """Wait for the line index build to end (built, failed or not needed): the first exact frame
    comes before it."""
    deadline = time.monotonic() + timeout
    while plot.stats["index_s"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert plot.stats["index_s"] > 0, "the index build did not end"


def shuffled_walk(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x: 0..ROWS-1 in random order (every DuckDB thread then sees every bucket); y[i] at x[i]."""
    rng = np.random.default_rng(seed)
    return rng.permutation(ROWS).astype(np.float64), np.cumsum(rng.normal(size=ROWS))


def check_view(plot: pk.Plot, x: np.ndarray, y: np.ndarray, x_range: tuple[float, float], kind: str) -> None:
    """Drawn points are rows of the data; the y range in view equals numpy's over the rows in view."""
    plot.x_range = x_range
    plot.to_array(timeout=60)
    data = plot.controller.data
    assert data is not None and data.kind.startswith(kind)
    y_at = np.empty(ROWS)
    y_at[x.astype(np.int64)] = y
    np.testing.assert_array_equal(data.y, y_at[data.x.astype(np.int64)])
    inside = y[(x >= x_range[0]) & (x <= x_range[1])]
    assert data.y_min_in_view == pytest.approx(inside.min())
    assert data.y_max_in_view == pytest.approx(inside.max())


def make_plots(session: pk.Session, data: list[tuple[np.ndarray, np.ndarray]]) -> list[pk.Plot]:
    return [
        pk.line(pa.table({"x": x, "y": y}), x="x", y="y", session=session, width=240, height=120)
        for x, y in data
    ]


def test_builds_at_once_under_a_small_limit_all_get_their_index(monkeypatch: pytest.MonkeyPatch) -> None:
    running, most = [0], [0]
    lock = threading.Lock()
    build_once = index_module._build_once

    def counted(*args: object) -> object:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return build_once(*args)  # type: ignore[arg-type]
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(index_module, "_build_once", counted)
    session = pk.Session(threads=16, memory_limit="192MB")  # one such build needs 128-160 MB
    data = [shuffled_walk(seed) for seed in range(4)]
    try:
        plots = make_plots(session, data)
        for plot, (x, y) in zip(plots, data, strict=True):
            plot.to_array(timeout=60)
            wait_index(plot)
            assert plot.stats["index_error"] == ""
            assert plot.stats["index_levels"] >= 1
            check_view(plot, x, y, (1.0, float(ROWS - 2)), "index level")
            check_view(plot, x, y, (200_000.5, 1_700_000.25), "index level")
        assert most[0] == 1  # the builds took turns
        for plot in plots:
            plot.close()
    finally:
        session.close()


def test_out_of_memory_is_retried_once_then_rows_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    build_once = index_module._build_once
    failures = {"first": 1, "always": 10**6}
    left = {"n": 0}

    def flaky(*args: object) -> object:
        if left["n"] > 0:
            left["n"] -= 1
            raise duckdb.OutOfMemoryException("Out of Memory Error: test")
        return build_once(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(index_module, "_build_once", flaky)
    session = pk.Session(threads=2, memory_limit="1GB")
    x, y = shuffled_walk(7)
    try:
        left["n"] = failures["first"]
        (retried,) = make_plots(session, [(x, y)])
        retried.to_array(timeout=60)
        wait_index(retried)
        assert retried.stats["index_levels"] >= 1 and retried.stats["index_error"] == ""
        left["n"] = failures["always"]
        (failed,) = make_plots(session, [(x, y)])
        failed.to_array(timeout=60)
        wait_index(failed)
        assert failed.stats["index_levels"] == 0
        assert "Out of Memory" in str(failed.stats["index_error"])
        for x_range in ((1.0, float(ROWS - 2)), (1_000.0, 900_000.0)):  # rows read: same y range
            check_view(failed, x, y, x_range, "m4")
            check_view(retried, x, y, x_range, "index level")
        retried.close()
        failed.close()
    finally:
        session.close()


def test_a_build_waiting_for_another_can_be_cancelled() -> None:
    session = pk.Session(threads=2)
    x, y = shuffled_walk(3)
    session.connection.register("frame", pa.table({"x": x[:MIN_ROWS], "y": y[:MIN_ROWS]}))
    session.connection.execute("CREATE TABLE t AS SELECT * FROM frame")
    waiting, holder = session.reader(), session.reader()
    cols = LineColumns.checked(resolve_source("t", session), "x", "y")
    extent = fetch_extent(waiting, cols)
    ticket, outcome = Ticket(), []

    def build() -> None:
        try:
            outcome.append(build_pyramid(waiting, cols, extent, ticket=ticket))
        except QueryCancelled as error:
            outcome.append(error)

    try:
        with holder.gate.held(Ticket(), holder):  # another plot's build is running
            thread = threading.Thread(target=build)
            thread.start()
            time.sleep(0.3)
            assert outcome == []  # it waits
            started = time.perf_counter()
            ticket.cancel()
            thread.join(5)
            assert time.perf_counter() - started < 1.0
        assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled)
        pyramid = build_pyramid(waiting, cols, extent)  # the gate is free again
        assert pyramid is not None
        drop_pyramid(waiting, pyramid)
    finally:
        session.close()


def test_the_first_exact_frame_comes_before_the_index_and_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """The home view's M4 over the rows is drawn before the (slow) index build ends: each pixel
    column's first, last, min and max against numpy; views after the build come from the index."""
    build_once = index_module._build_once
    release = threading.Event()

    def slow(*args: object) -> object:
        release.wait(30)  # the build holds back until the test has seen the first exact frame
        return build_once(*args)

    monkeypatch.setattr(index_module, "_build_once", slow)
    x, y = shuffled_walk(11)
    session = pk.Session()
    try:
        (plot,) = make_plots(session, [(x, y)])
        plot.to_array(timeout=60)
        assert plot.stats["index_s"] == 0, "the exact frame waited for the index"
        data = plot.controller.data
        assert data is not None and data.kind == "m4"
        x0, x1 = data.x_range
        col = np.floor((x - x0) * (data.columns / (x1 - x0))).astype(np.int64)
        for c in np.unique(col)[::37]:  # every 37th pixel column: its four points are rows of numpy's
            mine = col == c
            drawn = (data.x >= x[mine].min()) & (data.x <= x[mine].max())
            assert y[mine].min() in data.y[drawn] and y[mine].max() in data.y[drawn]
            assert y[mine][x[mine].argmin()] in data.y[drawn] and y[mine][x[mine].argmax()] in data.y[drawn]
        release.set()
        wait_index(plot)
        check_view(plot, x, y, (1.0, float(ROWS - 2)), "index level")
    finally:
        release.set()
        session.close()
