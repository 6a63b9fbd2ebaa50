"""A working session: hostile messages, refused ranges, closed plots and sessions, several plots on
one database, released and rebuilt plots, and the edges of the data (checked against numpy)."""

from __future__ import annotations

import gc
import math
import threading
import time

import duckdb
import numpy as np
import pandas as pd
import pytest
import traitlets

import pikaplot_widget as pk
from pikaplot_widget.messages import MAX_FRAME_PX, parse_event
from tests.unit.events import send

HOSTILE = [
    None,
    "wheel",
    [1, 2],
    {},
    {"type": 3},
    {"type": "no-such-event"},
    {"type": "wheel"},
    {"type": "wheel", "x": "10", "y": 5, "dy": 100},
    {"type": "wheel", "x": math.nan, "y": 5, "dy": 100},
    {"type": "wheel", "x": 10, "y": math.inf, "dy": 100},
    {"type": "wheel", "x": 10, "y": 5, "dy": 1e308},
    {"type": "wheel", "x": 10, "y": 5, "dy": [100]},
    {"type": "wheel", "x": True, "y": 5, "dy": 100},
    {"type": "wheel", "x": 10, "y": 5, "dy": 100, "modifiers": "Shift"},
    {"type": "wheel", "x": 10, "y": 5, "dy": 100, "modifiers": ["Shift"] * 100},
    {"type": "pointer_down", "x": {"a": 1}, "y": 2},
    {"type": "pointer_move", "x": None, "y": None},
    {"type": "resize", "width": math.nan, "height": 300, "ratio": 1},
    {"type": "resize", "width": 300, "height": 300, "ratio": 0},
    {"type": "resize", "width": 300, "height": 300, "ratio": -2},
    {"type": "resize", "width": "300", "height": 300},
    {"type": "pikaplot_view", "shown": "yes"},
]


def test_parse_event_drops_every_malformed_message_and_clamps_sizes():
    dropped = [content for content in HOSTILE if parse_event(content) is not None]
    assert not dropped, f"these should have been dropped: {dropped}"
    huge = parse_event({"type": "resize", "width": 1e9, "height": 1e9, "ratio": 2})
    assert huge is not None and (huge.width, huge.height) == (MAX_FRAME_PX, MAX_FRAME_PX)
    assert parse_event({"type": "resize", "pwidth": -5, "pheight": 0, "ratio": 1}) is None  # keeps the size
    assert parse_event({"type": "wheel", "x": 3, "y": 4}) is None  # a wheel without dy
    wheel = parse_event({"type": "wheel", "x": 3, "y": 4, "dy": -120, "modifiers": ["Shift", "Hyper"]})
    assert wheel is not None and (wheel.x, wheel.y, wheel.dy) == (3.0, 4.0, -120.0)
    assert wheel.modifiers == frozenset({"Shift"})


@pytest.fixture
def walk(rng):
    n = 50_000
    return pd.DataFrame({"x": np.arange(n, dtype=np.float64), "y": np.cumsum(rng.normal(size=n))})


def test_hostile_messages_never_raise_are_counted_and_the_plot_still_draws(walk, session):
    p = pk.line(walk, "x", "y", session=session, width=400, height=300)
    reference = p.to_array()
    for content in HOSTILE:
        p._rfb_handle_msg(p, content, [])  # what jupyter_rfb calls for every comm message
    assert p.stats["events_dropped"] == len(HOSTILE)
    assert p.stats["handler_errors"] == 0
    np.testing.assert_array_equal(p.to_array(), reference)  # nothing changed the view
    send(p, type="resize", width=1e9, height=1e9, ratio=1)  # clamped, not a dead worker
    assert p.to_array().shape == (MAX_FRAME_PX, MAX_FRAME_PX, 4)
    send(p, type="resize", width=400, height=300, ratio=1)
    assert p.to_array().shape == (300, 400, 4)
    p.close()


def test_a_refused_range_leaves_the_traitlet_at_the_shown_range(walk, session):
    p = pk.line(walk, "x", "y", session=session)
    p.to_array()
    shown = p.x_range
    for bad in [(math.nan, 1.0), (5.0, 5.0), (math.inf, 2.0), (200.0, 100.0), (-1e308, 1e308)]:
        with pytest.raises(traitlets.TraitError):
            p.x_range = bad
        assert p.x_range == shown
    p.close()


def test_to_array_after_close_raises(walk, session):
    p = pk.line(walk, "x", "y", session=session)
    p.to_array()
    p.close()
    with pytest.raises(pk.PlotError, match="closed"):
        p.to_array()


def test_a_closed_session_fails_the_plot_with_a_clear_message(walk):
    session = pk.Session()
    p = pk.line(walk, "x", "y", session=session)
    p.to_array()
    session.close()
    p.x_range = (10.0, 20_000.0)
    started = time.monotonic()
    with pytest.raises(pk.PlotError, match="session of this plot was closed"):
        p.to_array(timeout=10)
    assert time.monotonic() - started < 5
    assert p.status.startswith("error:")
    p.close()


def test_sql_with_several_statements_is_refused_and_runs_nothing(session):
    session.connection.execute("CREATE TABLE keep AS SELECT range::DOUBLE AS x, 1.0 AS y FROM range(10)")
    for text in [
        "SELECT x, y FROM keep; DROP TABLE keep",
        "SELECT x, y FROM keep); DROP TABLE keep; --",
    ]:
        with pytest.raises((ValueError, duckdb.Error)):
            pk.line(text, "x", "y", session=session)
    assert session.connection.execute("SELECT count(*) FROM keep").fetchone() == (10,)
    with pytest.raises(ValueError, match="SELECT"):
        pk.line("DROP TABLE keep", "x", "y", session=session)
    assert session.connection.execute("SELECT count(*) FROM keep").fetchone() == (10,)


def test_sql_forms_and_dotted_names_resolve(session):
    con = session.connection
    con.execute("CREATE SCHEMA lab")
    con.execute(
        "CREATE TABLE lab.runs AS SELECT range::DOUBLE AS x, (range % 7)::DOUBLE AS y FROM range(100)"
    )
    forms = [
        "lab.runs",
        "-- a comment first\nSELECT x, y FROM lab.runs",
        "WITH r AS (SELECT * FROM lab.runs) SELECT * FROM r",
        "FROM lab.runs",
        "SELECT x, y FROM lab.runs -- a trailing comment",
    ]
    for text in forms:
        p = pk.line(text, "x", "y", session=session, width=300, height=200)
        p.to_array()
        assert p.controller.extent.rows == 100, text
        p.close()
    with pytest.raises(duckdb.ParserException):
        pk.line("SELEC x, y FROM lab.runs", "x", "y", session=session)


def test_the_last_row_of_the_view_counts_in_the_y_fit(session):
    con = session.connection
    con.execute("CREATE TABLE two AS SELECT * FROM (VALUES (0.0, 1.0), (1.0, 5.0)) v(x, y)")
    p = pk.line("two", "x", "y", session=session)
    p.to_array()
    lo, hi = p.y_range
    assert lo < 1.0 and hi > 5.0, p.y_range  # numpy: min 1, max 5; both rows are in view
    p.close()
    y = np.zeros(1000)
    y[-1] = 100.0  # a spike in the very last row
    frame = pd.DataFrame({"x": np.arange(1000.0), "y": y})
    p = pk.line(frame, "x", "y", session=session)
    p.to_array()
    assert p.y_range[1] >= y.max() and p.y_range[0] <= y.min()
    p.close()


def zoom_in_until(p, span: float, notches: int = 200) -> None:
    """Wheel in at the plot's middle, a notch at a time, until the x window is narrower than `span`."""
    p.to_array()
    layout = p.controller.layout()
    middle = (layout.area.left + layout.area.width / 2) / layout.spec.ratio
    for _ in range(notches):
        send(p, type="wheel", x=middle, y=100, dx=0, dy=-600, modifiers=[])
        if p.controller.view.x.span < span:
            break
    p.to_array()


def test_wheel_zoom_reaches_microsecond_windows_on_timestamps(session):
    con = session.connection
    con.execute(
        "CREATE TABLE ticks AS SELECT TIMESTAMP '2026-01-01 12:00:00' + INTERVAL (range) MICROSECOND AS t, "
        "sin(range / 10.0) AS v FROM range(200000)"
    )
    p = pk.line("ticks", "t", "v", session=session, width=600, height=300)
    zoom_in_until(p, 5e-6)
    view = p.controller.view
    assert view.x.span < 5e-6, f"zoom stopped at a {view.x.span * 1e6:.1f} µs window"
    # The rows drawn are the rows in the window, counted directly in integer microseconds.
    origin_us = round(p.x_origin * 1e6)
    lo_us, hi_us = origin_us + view.x.lo * 1e6, origin_us + view.x.hi * 1e6
    direct = con.execute(
        "SELECT count(*) FROM ticks WHERE epoch_us(t) >= ? AND epoch_us(t) <= ?",
        [math.ceil(lo_us), math.floor(hi_us)],
    ).fetchone()[0]
    assert 1 <= direct <= 6 and p.controller.data.rows_in_view == direct
    labels = p.controller.layout().x_ticks.labels
    assert labels and all("." in label for label in labels), labels  # seconds with µs decimals
    assert p.x_range[0] < p.x_range[1]  # the traitlet keeps an (approximate) absolute window
    p.close()


def test_decimal_and_hugeint_columns_zoomed_far_out(session):
    con = session.connection
    con.execute(
        "CREATE TABLE wide AS SELECT (range / 7)::DECIMAL(38, 10) AS x, range::HUGEINT AS h, "
        "range::UHUGEINT AS u FROM range(500)"
    )
    for column in ("x", "h", "u"):
        p = pk.line("wide", column, "h", session=session, width=300, height=200)
        p.to_array()
        p.x_range = (-1e40, 1e40)
        assert p.to_array().shape == (200, 300, 4)
        assert p.controller.data.rows_in_view == 500, column  # a direct count: every row
        p.close()


def test_plots_of_dataframes_while_another_plot_queries(session, rng):
    slow_sql = "SELECT i::DOUBLE AS x, sin(i) * cos(i / 7.0) AS y FROM range(30_000_000) r(i)"
    slow = pk.line(slow_sql, "x", "y", session=session)  # its extent scan runs on its own cursor
    errors: list[BaseException] = []
    plots: list[pk.Plot] = []

    def make_one(i: int) -> None:
        try:
            frame = pd.DataFrame({"x": np.arange(1000.0), "y": rng.normal(size=1000) + i})
            p = pk.line(frame, "x", "y", session=session, width=200, height=150)
            p.to_array(timeout=60)
            plots.append(p)
        except BaseException as error:
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=make_one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(plots) == 6
    assert time.monotonic() - started < 20, "small plots waited behind the big one"
    closing = time.monotonic()
    plots[0].close()
    assert time.monotonic() - closing < 1.0, "closing an idle plot waited for another plot's query"
    for p in [*plots[1:], slow]:
        p.close()


def test_a_plot_without_views_releases_its_worker_and_rebuilds_when_shown(walk, session):
    p = pk.line(walk, "x", "y", session=session)
    first = p.to_array()
    original = pk.Plot.release_after_s
    pk.Plot.release_after_s = 0.2
    try:
        worker = p.controller
        send(p, type="pikaplot_view", shown=True)
        send(p, type="pikaplot_view", shown=False)
        assert worker.wait_freed(10), "released within the grace period"
        assert worker.closed and p.stats["releases"] == 1
        assert not worker._worker.is_alive()
        assert worker.provider.runner._closed, "the plot's cursor is closed while released"
        send(p, type="pikaplot_view", shown=True)  # shown again: rebuilt with the same view
        assert p.controller is not worker
        np.testing.assert_array_equal(p.to_array(), first)
    finally:
        pk.Plot.release_after_s = original
    p.close()


def test_gpu_points_fall_back_where_float32_cannot_resolve_the_pixels(session, rng):
    n = 300_000
    x = rng.normal(0.0, 1.0, n)
    y = rng.normal(0.0, 1.0, n)
    x[:3], y[:3] = [1e7, -1e7, 5e6], [1e7, -1e7, -5e6]  # far outliers stretch the extent
    frame = pd.DataFrame({"x": x, "y": y})
    p = pk.scatter(frame, "x", "y", session=session, gpu_points="always", marker_limit=1000)
    p.to_array()
    box = (-1.0, 1.0, -1.0, 1.0)
    p.x_range, p.y_range = box[:2], box[2:]
    p.to_array()
    grid = p.controller.data.grid
    h, w = grid.counts.shape
    reference, _, _ = np.histogram2d(x, y, bins=[w, h], range=[box[:2], box[2:]])
    np.testing.assert_array_equal(grid.counts, reference.T.astype(np.int64))
    assert p.stats["view_source"] != "gpu"
    p.close()


def test_nanosecond_windows_on_timestamp_ns(session):
    con = session.connection
    con.execute(
        "CREATE TABLE fine AS SELECT make_timestamp_ns(1767268800000000000 + range) AS t, "
        "sin(range / 10.0) AS v FROM range(200000)"
    )
    p = pk.line("fine", "t", "v", session=session, width=600, height=300)
    zoom_in_until(p, 4e-8)
    view = p.controller.view
    assert view.x.span < 4e-8, f"zoom stopped at a {view.x.span * 1e9:.1f} ns window"
    origin_ns = round(p.x_origin * 1e6) * 1000
    lo_ns, hi_ns = origin_ns + math.ceil(view.x.lo * 1e9), origin_ns + math.floor(view.x.hi * 1e9)  # integers
    direct = con.execute(
        "SELECT count(*) FROM fine WHERE epoch_ns(t) >= ? AND epoch_ns(t) <= ?", [lo_ns, hi_ns]
    ).fetchone()[0]
    assert 2 <= direct <= 41 and p.controller.data.rows_in_view == direct
    ticks = p.controller.layout().x_ticks
    inside = [v for v in ticks.values if view.x.lo <= v <= view.x.hi]
    assert len(inside) >= 2 and ticks.offset_label.startswith("s after 2026-01-01 12:00:00"), ticks
    p.close()


def test_a_rebuilt_plot_keeps_its_selection_and_a_closed_one_refuses_new_ones(walk, session):
    p = pk.line(walk, "x", "y", session=session)
    p.to_array()
    p.select(x=(100.0, 200.0))
    original = pk.Plot.release_after_s
    pk.Plot.release_after_s = 0.1
    try:
        worker = p.controller
        send(p, type="pikaplot_view", shown=True)
        send(p, type="pikaplot_view", shown=False)
        assert worker.wait_freed(10)
        send(p, type="pikaplot_view", shown=True)
        assert p.controller is not worker
        assert len(p.selection.fetchall()) == 101  # rows x in [100, 200]: selected again
    finally:
        pk.Plot.release_after_s = original
    p.close()
    with pytest.raises(pk.PlotError, match="closed"):
        p.select(x=(1.0, 5.0))


def test_hover_questions_share_one_thread_per_plot(walk, session):
    p = pk.line(walk, "x", "y", session=session)
    p.to_array()
    before = threading.active_count()
    for i in range(500):
        p._rfb_handle_msg(p, {"type": "pikaplot_hover", "id": i, "x": 300.0, "y": 150.0, "row": True}, [])
    assert threading.active_count() - before <= 1
    p.close()


def test_gpu_points_dropped_while_a_view_is_binned_fall_back_to_duckdb(session, rng, monkeypatch):
    from pikaplot_widget.plots.scatter import provider
    from pikaplot_widget.render.resident import ResidentPoints

    n = 300_000
    x, y = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    p = pk.scatter(
        pd.DataFrame({"x": x, "y": y}), "x", "y", session=session, gpu_points="always", marker_limit=1000
    )
    p.to_array()
    original_bin, original_density = ResidentPoints.bin, ResidentPoints.density

    def bin_after_pressure(self, box, width, height):
        provider.drop_gpu_points()  # memory pressure frees the points as the view is binned
        return original_bin(self, box, width, height)

    def density_after_pressure(self, box, width, height, read_counts=False):
        provider.drop_gpu_points()  # the same while it is binned and equalised on the GPU
        return original_density(self, box, width, height, read_counts)

    monkeypatch.setattr(ResidentPoints, "bin", bin_after_pressure)
    monkeypatch.setattr(ResidentPoints, "density", density_after_pressure)
    box = (0.25, 0.75, 0.25, 0.75)
    p.x_range, p.y_range = box[:2], box[2:]
    p.to_array()
    assert p.mode == "density" and p.stats["view_source"] == "rows"
    grid = p.controller.data.grid
    h, w = grid.counts.shape
    reference, _, _ = np.histogram2d(x, y, bins=[w, h], range=[box[:2], box[2:]])
    np.testing.assert_array_equal(grid.counts, reference.T.astype(np.int64))
    p.close()


def test_a_refused_range_starts_nothing():
    """Ranges are checked before the worker exists: a refused one leaves no thread or cursor behind."""
    frame = pd.DataFrame({"x": np.arange(100.0), "y": np.arange(100.0) + 1})
    pk.line(frame, "x", "y").close()  # the device and shared threads exist from here on
    before = {t.name for t in threading.enumerate()}
    for bad in [(5.0, 1.0), (float("nan"), 1.0), ("a", "b")]:
        with pytest.raises((ValueError, TypeError), match="x_range"):
            pk.line(frame, "x", "y", x_range=bad)
    with pytest.raises(ValueError, match="positive on a log axis"):
        pk.line(frame, "x", "y", log_y=True, y_range=(-1.0, 3.0))
    gc.collect()
    assert {t.name for t in threading.enumerate()} <= before
