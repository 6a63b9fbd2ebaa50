"""Fault cases: many plots, threads, long queries, closing, leaks (threads, DuckDB tables), exit."""

from __future__ import annotations

import gc
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

import pikaplot_widget as pk
from tests.robustness.checks import (
    LINE,
    SCATTER,
    PlotError,
    assert_same_range,
    assert_y_fits,
    expect_plot_error,
    frame,
    rng,
    run_threads,
    scalar,
    series_pixels,
    session,
    table,
    wait_until,
)
from tests.robustness.registry import case

LONG_SQL = "SELECT i::DOUBLE AS x, sin(i / 1000.0) AS y FROM range({n}) r(i)"


def _walk(n: int, seed: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(float(n)), "y": np.cumsum(rng(seed).normal(size=n))})


def _long_plot(s: pk.Session, rows: int = 1_000_000_000) -> pk.Plot:
    """A line plot whose first query (a scan of `rows` computed rows) runs for a long while."""
    plot = pk.line(LONG_SQL.format(n=rows), "x", "y", session=s)
    wait_until(lambda: plot.status == "querying", 10, "the long query to start")
    time.sleep(0.3)  # well inside its scan
    return plot


def _warm_up(s: pk.Session) -> None:
    """Draw one small plot so the GPU device and pipelines exist before timing anything."""
    plot = pk.line(_walk(100, 1), "x", "y", session=s)
    frame(plot, LINE)
    plot.close()


def _os_threads() -> int:
    return psutil.Process().num_threads()


def _catalog(s: pk.Session) -> tuple[int, int, int]:
    """(tables, attached databases, views) in the session's database."""
    tables = int(scalar(s, "SELECT count(*) FROM duckdb_tables()"))  # type: ignore[call-overload]
    databases = int(scalar(s, "SELECT count(*) FROM duckdb_databases()"))  # type: ignore[call-overload]
    views = int(scalar(s, "SELECT count(*) FROM duckdb_views() WHERE NOT internal"))  # type: ignore[call-overload]
    return tables, databases, views


def _settle(expected: int, measure: object, slack: int, timeout: float = 5.0) -> int:
    """Wait for a count to come back near `expected`; return the last value."""
    deadline = time.monotonic() + timeout
    value = measure()  # type: ignore[operator]
    while abs(value - expected) > slack and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.1)
        value = measure()  # type: ignore[operator]
    return int(value)


# ---- many plots at once ---------------------------------------------------------------------
@case("resources-20-plots-from-threads", timeout=120)
def twenty_plots_from_threads() -> None:
    """20 plots on one session, each made, zoomed and drawn in its own thread: all correct."""
    s = session()
    frames = [_walk(20_000, 100 + i) for i in range(20)]

    def work(i: int) -> None:
        df = frames[i]
        if i % 4 == 3:
            plot = pk.scatter(df, "x", "y", session=s)
            frame(plot, SCATTER, timeout=60)
            plot.x_range = (5000.0, 9000.0)
            frame(plot, SCATTER, timeout=60)
            assert_same_range(plot.x_range, (5000.0, 9000.0), f"plot {i} x_range")
        else:
            plot = pk.line(df, "x", "y", session=s)
            frame(plot, LINE, timeout=60)
            window = (1000.0 * i, 1000.0 * i + 3000.0)
            plot.x_range = window
            assert series_pixels(frame(plot, LINE, timeout=60)) > 100
            assert_same_range(plot.x_range, window, f"plot {i} x_range")
            assert_y_fits(plot, df.x.to_numpy(), df.y.to_numpy())

    errors = run_threads([lambda i=i: work(i) for i in range(20)], timeout=100)
    assert not errors, f"{len(errors)} threads failed: {[f'{type(e).__name__}: {e}' for e in errors[:3]]}"


@case("resources-dataframe-during-long-query", timeout=90)
def dataframe_during_long_query() -> None:
    """DataFrame plots made while another plot's long query runs: no ResourceInUseException."""
    s = session()
    long = _long_plot(s, 300_000_000)
    plots = []
    for i in range(4):  # enough to land on every reader of the pool
        df = _walk(5000, 200 + i)
        plot = pk.line(df, "x", "y", session=s)
        plots.append((plot, df))
    for plot, df in plots:
        frame(plot, LINE, timeout=60)
        assert_y_fits(plot, df.x.to_numpy(), df.y.to_numpy())
    long.close()


@case("resources-close-idle-during-long-query", timeout=90)
def close_idle_during_long_query() -> None:
    """Closing idle plots while another plot's long query runs returns within 1 s each."""
    s = session()
    idle = [pk.line(_walk(2000, 300 + i), "x", "y", session=s) for i in range(3)]
    for plot in idle:
        frame(plot, LINE)
    long = _long_plot(s)
    for i, plot in enumerate(idle):
        started = time.monotonic()
        plot.close()
        took = time.monotonic() - started
        assert took < 1.0, f"closing idle plot {i} took {took:.2f} s behind the long query"
    started = time.monotonic()
    long.close()
    assert time.monotonic() - started < 2.0, "closing the plot with the long query was slow"


@case("resources-close-as-query-starts")
def close_as_query_starts() -> None:
    """close() the moment a plot's first (seconds long) query starts returns within 1 s."""
    s = session()
    plot = pk.line(LONG_SQL.format(n=200_000_000), "x", "y", session=s)
    wait_until(lambda: plot.status == "querying", 10, "the first query to start")
    started = time.monotonic()  # at once: the query may not have reached DuckDB yet
    plot.close()
    took = time.monotonic() - started
    assert took < 1.0, f"close() waited {took:.1f} s for the query it should have cancelled"


@case("resources-first-frame-during-index-build", timeout=120, exclusive=True)
def first_frame_during_index_build() -> None:
    """A 100-row plot's first frame is not delayed past 1.5 s by a 20M-row index build."""
    s = session()
    _warm_up(s)
    s.connection.execute(
        "CREATE TABLE big AS SELECT random() * 1e6 AS x, random() AS y FROM range(20000000) r(i)"
    )
    big = pk.line("big", "x", "y", session=s)
    wait_until(lambda: big.controller.extent is not None, 20, "the big plot's extent")
    for i in range(3):  # one of them shares a reader with the index build, if readers are pooled
        started = time.monotonic()
        small = pk.line(_walk(100, 400 + i), "x", "y", session=s)
        frame(small, LINE, timeout=30)
        took = time.monotonic() - started
        assert took < 1.5, f"small plot {i}: first frame after {took:.2f} s"
    assert series_pixels(frame(big, LINE, timeout=60)) > 100


@case("resources-close-during-index-build", timeout=90)
def close_during_index_build() -> None:
    """Closing a plot while its index is built returns within 2 s and leaves no index tables."""
    s = session()
    s.connection.execute(
        "CREATE TABLE big AS SELECT random() * 1e6 AS x, random() AS y FROM range(10000000) r(i)"
    )
    _warm_up(s)  # GPU start-up (seconds, once per process) is not what this case times
    baseline = _catalog(s)
    big = pk.line("big", "x", "y", session=s)
    wait_until(lambda: big.controller.extent is not None, 20, "the big plot's extent")
    time.sleep(0.2)
    assert big.status != "idle", "the big plot was done before close(): the case tests nothing"
    started = time.monotonic()
    big.close()
    took = time.monotonic() - started
    assert took < 2.0, f"close() during the index build took {took:.2f} s"
    deadline = time.monotonic() + 5
    while _catalog(s)[0] > baseline[0] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _catalog(s)[0] == baseline[0], f"tables {baseline[0]} -> {_catalog(s)[0]} after close"


# ---- leaks --------------------------------------------------------------------------------------
@case("resources-create-close-50", timeout=150)
def create_close_50() -> None:
    """Creating and closing 50 plots leaves threads, DuckDB tables, databases and views as they were."""
    s = session()
    s.connection.execute(
        "CREATE TABLE big AS SELECT i::DOUBLE AS x, sin(i / 1e4) AS y FROM range(1100000) r(i)"
    )
    _warm_up(s)
    first = pk.line("big", "x", "y", session=s)  # what a first line index sets up once is in place
    frame(first, LINE, timeout=60)
    first.close()
    py_threads, os_threads, catalog = threading.active_count(), _os_threads(), _catalog(s)
    for i in range(50):
        if i % 10 == 9:
            plot = pk.line("big", "x", "y", session=s)  # gets a line index
            frame(plot, LINE, timeout=60)
        elif i % 10 == 4:
            plot = pk.scatter(_walk(3000, i), "x", "y", session=s)
            frame(plot, SCATTER)
        else:
            plot = pk.line(_walk(3000, i), "x", "y", session=s)
            frame(plot, LINE)
        plot.close()
    del plot
    after_py = _settle(py_threads, threading.active_count, 2)
    after_os = _settle(os_threads, _os_threads, 2)
    assert abs(after_py - py_threads) <= 2, f"Python threads {py_threads} -> {after_py}"
    assert abs(after_os - os_threads) <= 2, f"OS threads {os_threads} -> {after_os}"
    assert _catalog(s) == catalog, f"(tables, databases, views) {catalog} -> {_catalog(s)}"


@case("resources-many-sessions", timeout=120)
def many_sessions() -> None:
    """15 sessions, each with a drawn plot, closed: threads and open files come back."""
    _warm_up(session())
    process = psutil.Process()
    py_threads, os_threads, files = threading.active_count(), _os_threads(), process.num_fds()
    for i in range(15):
        s = session()
        plot = pk.line(_walk(2000, 500 + i), "x", "y", session=s)
        frame(plot, LINE)
        plot.close()
        s.close()
    after_py = _settle(py_threads, threading.active_count, 2)
    after_os = _settle(os_threads, _os_threads, 2)
    assert abs(after_py - py_threads) <= 2, f"Python threads {py_threads} -> {after_py}"
    assert abs(after_os - os_threads) <= 2, f"OS threads {os_threads} -> {after_os}"
    assert process.num_fds() <= files + 3, f"open files {files} -> {process.num_fds()}"


@case("resources-stdout-untouched")
def stdout_untouched() -> None:
    """Creating plots from 4 threads at once leaves sys.stdout and sys.stderr the same objects."""
    out, err = sys.stdout, sys.stderr
    s = session()
    seen: list[object] = []

    def make(i: int) -> None:
        for j in range(3):
            plot = pk.line(_walk(500, 600 + 3 * i + j), "x", "y", session=s)
            seen.append(sys.stdout)
            frame(plot, LINE)

    errors = run_threads([lambda i=i: make(i) for i in range(4)])
    assert not errors, errors[:3]
    assert sys.stdout is out, f"sys.stdout was replaced by {sys.stdout!r}"
    assert sys.stderr is err, f"sys.stderr was replaced by {sys.stderr!r}"


# ---- closed plots, concurrency on one plot -------------------------------------------------
@case("resources-to-array-after-close")
def to_array_after_close() -> None:
    """to_array and save after close() raise PlotError at once; save writes no file."""
    plot = pk.line(_walk(2000, 700), "x", "y", session=session())
    frame(plot, LINE)
    plot.close()
    expect_plot_error(plot, timeout=5)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "closed.png"
        try:
            plot.save(target)
        except PlotError:
            pass
        else:
            raise AssertionError("save() after close() returned")
        assert not target.exists(), "save() after close() wrote a file"
    plot.close()  # twice is fine


@case("resources-save-png")
def save_png() -> None:
    """save() writes a PNG holding exactly the pixels to_array() returns."""
    from PIL import Image

    plot = pk.line(_walk(5000, 710), "x", "y", session=session())
    image = frame(plot, LINE)
    with tempfile.TemporaryDirectory() as tmp:
        path = plot.save(Path(tmp) / "walk.png")
        with Image.open(path) as saved:
            assert saved.format == "PNG", saved.format
            assert np.array_equal(np.asarray(saved.convert("RGBA")), image), "the PNG differs from to_array()"


@case("resources-to-array-while-closing")
def to_array_while_closing() -> None:
    """A to_array waiting on a long first query raises PlotError as soon as close() is called."""
    plot = _long_plot(session())
    outcome: list[object] = []

    def wait() -> None:
        try:
            outcome.append(plot.to_array(timeout=30))
        except Exception as error:
            outcome.append(error)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    time.sleep(0.3)
    plot.close()
    waiter.join(5)
    assert outcome, "to_array still waits 5 s after close()"
    assert isinstance(outcome[0], PlotError), f"to_array gave {outcome[0]!r}"


@case("resources-concurrent-to-array", timeout=90)
def concurrent_to_array() -> None:
    """6 threads calling to_array while another sets x_range 30 times: no errors; last view wins."""
    df = _walk(50_000, 800)
    plot = pk.line(df, "x", "y", session=session())
    frame(plot, LINE)
    r = random.Random(1)
    windows = [(lo, lo + r.uniform(100, 20_000)) for lo in (r.uniform(0, 25_000) for _ in range(30))]

    def reader() -> None:
        for _ in range(10):
            frame(plot, LINE)

    def setter() -> None:
        for window in windows:
            plot.x_range = window
            time.sleep(0.01)

    errors = run_threads([reader] * 6 + [setter], timeout=80)
    assert not errors, [f"{type(e).__name__}: {e}" for e in errors[:3]]
    frame(plot, LINE)
    assert_same_range(plot.x_range, windows[-1], "x_range")
    assert_y_fits(plot, df.x.to_numpy(), df.y.to_numpy())


@case("resources-cancel-storm", timeout=90)
def cancel_storm() -> None:
    """200 rapid x_range changes on 2M rows: the final frame is the last view, y fitted exactly."""
    n = 2_000_000
    x = np.arange(float(n))
    y = np.cumsum(rng(900).normal(size=n))
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    r = random.Random(2)
    for _ in range(200):
        lo = r.uniform(0, n * 0.9)
        plot.x_range = (lo, lo + r.uniform(10, n * 0.1))
    last = plot.x_range
    frame(plot, LINE, timeout=60)
    assert_same_range(plot.x_range, last, "x_range")
    assert_y_fits(plot, x, y)


@case("resources-small-memory-limit", timeout=120)
def small_memory_limit() -> None:
    """memory_limit="150MB" with 5M rows (index build spills): views still fit y exactly."""
    n = 5_000_000
    s = session(memory_limit="150MB")
    s.connection.execute(
        f"CREATE TABLE t AS SELECT i::DOUBLE AS x, sin(i / 5e4) + (i % 97) / 1e3 AS y FROM range({n}) r(i)"
    )
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE, timeout=90)
    i = np.arange(n)
    x, y = i.astype(np.float64), np.sin(i / 5e4) + (i % 97) / 1e3
    assert_y_fits(plot, x, y)
    plot.x_range = (1e6, 1.5e6)
    frame(plot, LINE, timeout=60)
    assert_y_fits(plot, x, y)


@case("resources-exit-with-running-query", timeout=30)
def exit_with_running_query() -> None:
    """The interpreter exits promptly (status 0) while a plot's long query is still running."""
    _long_plot(session())
