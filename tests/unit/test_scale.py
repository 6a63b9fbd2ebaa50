"""Scale features: the index in a live plot, cancellation, event bursts, caches, memory pressure."""

from __future__ import annotations

import threading
import time

import duckdb
import numpy as np
import psutil
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine import cache as result_cache
from pikaplot_widget.engine.cache import ResultCache
from pikaplot_widget.engine.runner import QueryCancelled, QueryRunner, Ticket
from pikaplot_widget.plots.line.index_geometry import MIN_BUCKETS_PER_COLUMN
from pikaplot_widget.render.buffers import buffer_pool
from pikaplot_widget.runtime.memory import PressureMonitor, monitor

from .test_index_builds import wait_index
from .test_plot import send, series_mask


@pytest.fixture
def big(session, rng):
    n = 2_000_000
    y = np.cumsum(rng.normal(size=n))
    session.connection.register("walk_in", pa.table({"x": np.arange(n, dtype=np.float64), "y": y}))
    session.connection.execute("CREATE TABLE big AS SELECT * FROM walk_in")
    session.connection.unregister("walk_in")
    return session, y


def test_zoomed_views_from_the_index_show_each_columns_true_min_and_max(big, rng):
    session, y = big
    x = np.arange(len(y), dtype=np.float64)
    p = pk.line("big", x="x", y="y", session=session)
    p.to_array()
    wait_index(p)
    assert p.stats["index_levels"] >= 2
    kinds = set()
    for _ in range(12):
        span = len(y) * 10 ** rng.uniform(-2.5, 0)
        lo = rng.uniform(-0.05 * span, len(y) - 0.9 * span)
        p.x_range = (lo, lo + span)
        frame = p.to_array()
        kinds.add(p.controller.data.kind.split(" ")[0])
        layout = p.controller.layout()
        mask = series_mask(frame)
        area = layout.area
        position = (x - lo) / span * area.width
        col = np.floor(position).astype(int)
        # Index columns snap to bucket edges: rows within 1/(2 * MIN_BUCKETS_PER_COLUMN) px of a
        # column edge may be drawn in the neighbouring pixel; every other row is in its own column.
        near_edge = np.abs(position - np.round(position)) < 0.5 / MIN_BUCKETS_PER_COLUMN + 1e-9
        inside = (col >= 0) & (col < area.width) & ~near_edge
        highs = np.full(area.width, -np.inf)
        lows = np.full(area.width, np.inf)
        np.maximum.at(highs, col[inside], y[inside])
        np.minimum.at(lows, col[inside], y[inside])
        for c in range(3, area.width - 3, 11):
            if not np.isfinite(highs[c]):
                continue
            drawn = np.nonzero(mask[:, area.left + c])[0]
            assert drawn.min() <= layout.y_to_px(highs[c]) + 1.5, (lo, span, c)
            assert drawn.max() >= layout.y_to_px(lows[c]) - 1.5, (lo, span, c)
    assert kinds >= {"index"}, kinds
    p.close()


def test_cancel_interrupts_a_running_query_quickly(session):
    runner = QueryRunner(session.cursor(), poll_interval=0.01)
    ticket = Ticket()
    progress: list[float] = []
    outcome: dict[str, object] = {}

    def work():
        try:
            runner.run(
                "SELECT sum(sin(i) * cos(i)) FROM range(3_000_000_000) r(i)", None, progress.append, ticket
            )
        except QueryCancelled as error:
            outcome["cancelled"] = error
        outcome["at"] = time.perf_counter()

    thread = threading.Thread(target=work)
    thread.start()
    deadline = time.monotonic() + 20
    while not progress and time.monotonic() < deadline:
        time.sleep(0.01)
    assert progress, "progress is reported while the query runs"
    asked = time.perf_counter()
    assert ticket.cancel()
    thread.join(timeout=5)
    assert "cancelled" in outcome
    assert outcome["at"] - asked < 0.1, "the worker is free within 100 ms"
    count = len(progress)
    time.sleep(0.1)
    assert len(progress) == count, "progress stops"
    assert not runner.busy
    runner.close()


def test_a_thousand_wheel_events_run_a_bounded_number_of_queries(big):
    session, _ = big
    p = pk.line("big", x="x", y="y", session=session)
    p.to_array()
    rss = psutil.Process().memory_info().rss
    before = p.stats
    for i in range(1000):
        send(p, type="wheel", x=200 + (i % 400), y=200, dx=0, dy=-3 if i % 3 else 4, modifiers=[], buttons=[])
    frame = p.to_array()
    after = p.stats
    assert after["queries_run"] - before["queries_run"] < 150, after
    assert after["events_coalesced"] > 500, after
    assert series_mask(frame).any()
    assert psutil.Process().memory_info().rss - rss < 100 * 2**20
    p.close()


def test_neighbouring_views_are_prefetched(big):
    session, _ = big
    p = pk.line("big", x="x", y="y", session=session)
    p.x_range = (100_000.0, 101_000.0)  # deep: raw rows, not the index
    p.to_array()
    assert p.controller.wait_idle()
    assert p.stats["prefetched"] == 3
    columns = p.controller.layout().area.width
    prefetched = result_cache.results.get((p.controller.id, (101_000.0, 102_000.0), columns))
    assert prefetched is not None
    hits = p.stats["cache_hits"]
    p.x_range = (101_000.0, 102_000.0)  # one width to the right
    p.to_array()
    assert p.stats["cache_hits"] > hits
    assert p.controller.data is prefetched, "the view was drawn from the prefetched result"
    p.close()


def test_result_cache_is_lru_by_bytes():
    cache = ResultCache(max_bytes=3 * (8000 + 256))

    class Item:
        def __init__(self):
            self.values = np.zeros(1000)

    for key in "abc":
        cache.put(key, Item())
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", Item())
    assert cache.get("b") is None and cache.get("a") is not None
    assert len(cache) == 3 and cache.stats.evicted == 1
    assert cache.shrink_to(0) == 3 * (8000 + 256) and len(cache) == 0


def test_memory_levels_and_thresholds():
    usage = {"value": 0.1}
    m = PressureMonitor(thresholds=(0.5, 0.7, 0.9), target=0.6, reader=lambda: usage["value"])
    levels = []
    for value in (0.1, 0.55, 0.75, 0.95):
        usage["value"] = value
        levels.append(m.check())
    assert levels == ["green", "yellow", "orange", "red"]
    with pytest.raises(ValueError, match="thresholds"):
        m.configure(thresholds=(0.8, 0.6, 0.9))


def test_forced_pressure_evicts_caches_and_the_plot_still_draws(big):
    session, _ = big
    p = pk.line("big", x="x", y="y", session=session)
    p.x_range = (1000.0, 900_000.0)
    p.to_array()
    assert p.controller.wait_idle()
    assert len(result_cache.results) > 0
    assert buffer_pool().stats.bytes_free > 0
    usage = {"value": 0.85}
    original = (monitor.thresholds, monitor.target, monitor.reader)

    def reader():
        return usage["value"]

    try:
        monitor.configure(reader=reader)
        level = monitor.check()
        assert level == "orange"
        eviction = monitor.evictions[-1]
        assert eviction.level == "orange"
        assert set(eviction.freed) == {"results", "gpu buffers", "density indexes", "gpu points", "duckdb"}
        assert eviction.freed["results"] > 0 and eviction.freed["gpu buffers"] > 0
        assert len(result_cache.results) == 0 and buffer_pool().stats.bytes_free == 0
        assert session.memory_limit.startswith("256")  # lowered to the floor for this small table
        assert "memory orange" in p.notice and "freed" in p.notice
        # Back under the target: the next check frees nothing more.
        usage["value"] = 0.65
        assert monitor.check() == "yellow"
        p.x_range = (2000.0, 800_000.0)
        assert series_mask(p.to_array()).any()
    finally:
        monitor.configure(thresholds=original[0], target=original[1], reader=original[2])
        session.set_memory_limit("4GB")
    p.close()


def test_each_reader_has_its_own_cursor_and_the_default_memory_limit():
    s = pk.Session()
    got = [s.reader() for _ in range(3)]
    assert len({id(r.cursor) for r in got}) == 3, "one cursor per plot: never shared mid-query"
    assert set(s.readers) == set(got)
    got[0].close()
    assert got[1].run("SELECT 41 + 1 AS v").column(0)[0].as_py() == 42
    limit = duckdb.connect().execute("SELECT 1").fetchone()  # unrelated connection: settings are per database
    assert limit == (1,)
    available = psutil.virtual_memory().available
    value, unit = s.memory_limit.split()
    in_bytes = float(value) * {"MiB": 2**20, "GiB": 2**30, "KiB": 2**10}[unit]
    threads = int(s.connection.execute("SELECT current_setting('threads')").fetchone()[0])
    cap = max(256 * 2**20, 0.25 * available)  # lean default (docs/performance.md), 3 plots on `threads`
    assert in_bytes == pytest.approx(min(max(384 * 2**20, threads * 8 * 2**20 * 5), cap), rel=0.06)
    s.close()
    with pytest.raises(ValueError, match="closed"):
        s.reader()
