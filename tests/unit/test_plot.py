"""The public API end to end: DuckDB → M4 → wgpu frame, driven by real jupyter_rfb event messages."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import pikaplot_widget as pk
from tests.unit.events import send


def series_mask(frame: np.ndarray) -> np.ndarray:
    """Pixels coloured by the series (blue-ish), anti-aliased edges included."""
    r, b = frame[..., 0].astype(int), frame[..., 2].astype(int)
    return b - r > 60


@pytest.fixture
def walk(rng):
    n = 200_000
    return pd.DataFrame({"x": np.arange(n, dtype=np.float64), "y": np.cumsum(rng.normal(size=n))})


def make(data, session, **kwargs):
    return pk.line(data, x=kwargs.pop("x", "x"), y=kwargs.pop("y", "y"), session=session, **kwargs)


def test_first_frame(walk, session):
    p = make(walk, session, title="walk")
    frame = p.to_array()
    assert frame.shape == (400, 800, 4) and frame.dtype == np.uint8
    assert series_mask(frame).sum() > 2000
    assert p.status == "idle"
    assert p.x_range == (0.0, len(walk) - 1.0)
    lo, hi = p.y_range
    assert lo < walk.y.min() and hi > walk.y.max()
    p.close()


def test_every_column_of_the_plot_shows_the_true_min_and_max(walk, session):
    p = make(walk, session)
    frame = p.to_array()
    layout = p.controller.layout()
    mask = series_mask(frame)
    area = layout.area
    cols = np.floor((walk.x.to_numpy() - p.x_range[0]) / (p.x_range[1] - p.x_range[0]) * area.width).astype(
        int
    )
    lows = walk.groupby(np.clip(cols, 0, area.width - 1)).y.min()
    highs = walk.groupby(np.clip(cols, 0, area.width - 1)).y.max()
    for c in range(5, area.width - 5, 7):
        column = mask[:, area.left + c]
        top, bottom = np.nonzero(column)[0][[0, -1]]
        # The column's true max and min are reached...
        assert top <= layout.y_to_px(highs[c]) + 1.5
        assert bottom >= layout.y_to_px(lows[c]) - 1.5
        # ...and nothing is drawn beyond what this column and the segments from its neighbours span.
        assert top >= layout.y_to_px(highs[c - 1 : c + 2].max()) - 2.5
        assert bottom <= layout.y_to_px(lows[c - 1 : c + 2].min()) + 2.5
    p.close()


@pytest.mark.parametrize("max_points", [None, 600])
def test_a_single_spike_among_a_million_points_is_drawn(session, rng, max_points):
    n = 1_000_000
    y = rng.normal(0, 0.01, n)
    at = int(rng.integers(1000, n - 1000))
    y[at] = -5.0
    p = make(pd.DataFrame({"x": np.arange(n, dtype=np.float64), "y": y}), session, max_points=max_points)
    frame = p.to_array()
    layout = p.controller.layout()
    px, py = round(float(layout.x_to_px(at))), round(float(layout.y_to_px(-5.0)))
    assert series_mask(frame)[py - 3 : py + 4, px - 3 : px + 4].any(), "the spike's tip must be drawn"
    p.close()


def test_setting_x_range_requeries_at_the_new_resolution(walk, session):
    p = make(walk, session)
    p.to_array()
    runs, kept = p.stats["queries_run"], p.controller.provider.row_cache.hits
    p.x_range = (1000.0, 1200.0)
    frame = p.to_array()
    # Read again, from DuckDB or from the rows the first view kept in memory (a small table).
    assert p.stats["queries_run"] + p.controller.provider.row_cache.hits > runs + kept
    assert p.controller._data.x_range == (1000.0, 1200.0)
    assert p.controller._data.kind == "raw"  # 200 rows in view: the rows themselves
    seg = walk.y[1000:1201]
    lo, hi = p.y_range
    assert lo <= seg.min() and hi >= seg.max() and (hi - lo) < (seg.max() - seg.min()) * 1.2
    layout = p.controller.layout()
    for i in (1050, 1100, 1150):
        px, py = round(float(layout.x_to_px(i))), round(float(layout.y_to_px(walk.y[i])))
        assert series_mask(frame)[py - 2 : py + 3, px - 2 : px + 3].any()
    p.close()


def test_wheel_zooms_about_the_pointer(walk, session):
    p = make(walk, session)
    p.to_array()
    layout = p.controller.layout()
    x_css = (layout.area.left + layout.area.width * 0.25) / layout.spec.ratio
    anchor = layout.px_to_x(x_css * layout.spec.ratio)
    before = p.x_range
    send(p, type="wheel", x=x_css, y=200, dx=0, dy=-300, modifiers=[], buttons=[])
    p.to_array()
    after = p.x_range
    assert after[1] - after[0] < (before[1] - before[0]) * 0.8
    # The data under the pointer stays under the pointer.
    fraction = (anchor - after[0]) / (after[1] - after[0])
    assert fraction == pytest.approx(0.25, abs=1e-6)
    send(p, type="wheel", x=x_css, y=200, dx=0, dy=300, modifiers=[], buttons=[])
    p.to_array()
    assert p.x_range == pytest.approx(before, abs=1e-6 * (before[1] - before[0]))
    p.close()


def test_shift_wheel_zooms_y_and_drag_pans(walk, session):
    p = make(walk, session)
    p.to_array()
    y_before, x_before = p.y_range, p.x_range
    send(p, type="wheel", x=400, y=200, dx=0, dy=-300, modifiers=["Shift"], buttons=[])
    p.to_array()
    assert p.x_range == x_before
    assert p.y_range[1] - p.y_range[0] < (y_before[1] - y_before[0]) * 0.8
    layout = p.controller.layout()
    send(p, type="pointer_down", x=400, y=200, button=1, buttons=[1], modifiers=[])
    send(p, type="pointer_move", x=300, y=250, button=0, buttons=[1], modifiers=[])
    send(p, type="pointer_up", x=300, y=250, button=1, buttons=[], modifiers=[])
    p.to_array()
    span = x_before[1] - x_before[0]
    assert p.x_range[0] == pytest.approx(x_before[0] + 100 / layout.area.width * span)
    send(p, type="double_click", x=300, y=250, button=1, buttons=[], modifiers=[])
    p.to_array()
    assert p.x_range == x_before and p.controller.view.y_auto
    p.close()


def test_resize_renders_at_physical_resolution(walk, session):
    p = make(walk, session)
    send(p, type="resize", width=400, height=300, pwidth=800, pheight=600, ratio=2.0)
    frame = p.to_array(scale=2)  # what the browser gets: no second drawing
    assert frame.shape == (600, 800, 4)
    assert p.controller.layout().area.width > 600  # M4 columns follow physical pixels
    assert p.to_array().shape == (300, 400, 4)  # the CSS size
    assert p.controller.size == (800, 600, 2.0)  # the browser's size again
    p.close()


def test_a_burst_of_wheel_events_runs_few_queries(session, rng):
    n = 2_000_000
    data = pd.DataFrame({"x": np.arange(n, dtype=np.float64), "y": rng.normal(size=n)})
    p = make(data, session)
    p.to_array()
    runs = p.stats["queries_run"]
    for _ in range(300):
        send(p, type="wheel", x=400, y=200, dx=0, dy=-5, modifiers=[], buttons=[])
    frame = p.to_array()
    assert p.stats["queries_run"] - runs < 60, p.stats
    assert series_mask(frame).any()
    p.close()


def test_nan_and_null_leave_gaps(session):
    x = np.arange(1000, dtype=np.float64)
    y = np.sin(x / 50)
    y[400:500] = np.nan
    data = pd.DataFrame({"x": x, "y": y})
    data.loc[700:799, "y"] = None
    p = make(data, session)
    frame = p.to_array()
    layout = p.controller.layout()
    mask = series_mask(frame)
    for lo, hi in ((400, 499), (700, 799)):
        a, b = round(float(layout.x_to_px(lo + 5))), round(float(layout.x_to_px(hi - 5)))
        assert not mask[:, a:b].any(), f"gap {lo}-{hi} must stay empty"
    assert mask[:, round(float(layout.x_to_px(200)))].any()
    p.close()


def test_unsorted_x_draws_exactly_like_sorted(session, rng):
    x = rng.permutation(50_000).astype(np.float64)
    y = rng.normal(size=x.size)
    shuffled = pd.DataFrame({"x": x, "y": y})
    ordered = shuffled.sort_values("x")
    a = make(ordered, session).to_array()
    b = make(shuffled, session).to_array()
    assert series_mask(a).sum() > 1000
    np.testing.assert_array_equal(a, b)


def test_duplicate_x_reaches_each_columns_min_and_max(session, rng):
    x = np.round(rng.uniform(0, 100, 50_000), 1)  # about 50 rows share each x
    y = rng.normal(size=x.size)
    data = pd.DataFrame({"x": x, "y": y})
    p = make(data, session)
    mask = series_mask(p.to_array())
    layout = p.controller.layout()
    for value, group in list(data.groupby("x"))[::40]:
        px = round(float(layout.x_to_px(value)))
        column = np.nonzero(mask[:, px - 1 : px + 2].any(axis=1))[0]
        assert column.min() <= layout.y_to_px(group.y.max()) + 1.5
        assert column.max() >= layout.y_to_px(group.y.min()) - 1.5
    p.close()


def test_single_row_is_a_visible_marker(session):
    p = make(pd.DataFrame({"x": [3.0], "y": [7.0]}), session)
    frame = p.to_array()
    layout = p.controller.layout()
    px, py = round(float(layout.x_to_px(3.0))), round(float(layout.y_to_px(7.0)))
    assert series_mask(frame)[py - 1 : py + 2, px - 1 : px + 2].all()
    p.close()


def test_empty_result_says_no_data(session):
    p = make("SELECT 1.0 AS x, 2.0 AS y WHERE false", session)
    frame = p.to_array()
    assert p.status == "idle"
    assert not series_mask(frame).any()
    assert p.controller.extent.empty
    p.close()


def test_error_during_query_shows_in_status_and_frame(session):
    sql = (
        "SELECT i::DOUBLE AS x, CASE WHEN i > 5 THEN error('boom at row') ELSE 1.0 END AS y "
        "FROM range(10) r(i)"
    )
    p = make(sql, session)
    with pytest.raises(pk.PlotError, match="boom at row"):
        p.to_array()  # the view failed: no image of an error passes for a plot
    frame = p.get_frame()  # what the browser shows: the message inside the plot
    assert p.status.startswith("error:") and "boom at row" in p.status
    assert "LINE 1" not in p.status and "SELECT" not in p.status, "our SQL stays out of the message"
    red = (frame[..., 0].astype(int) - frame[..., 2].astype(int)) > 60
    assert red.sum() > 50, "the error message is drawn in the plot"
    p.close()


def test_bad_input_errors_at_construction(session, walk):
    with pytest.raises(ValueError, match="available columns: 'x', 'y'"):
        make(walk, session, y="nope")
    with pytest.raises(TypeError, match="numeric"):
        make(pd.DataFrame({"x": [1.0], "y": ["a"]}), session)
    with pytest.raises(Exception, match="syntax error"):
        make("SELECT FROM WHERE", session)
    with pytest.raises(ValueError, match="at least 50"):
        make(walk, session, width=10)


def test_timestamps_on_x(session):
    sql = "SELECT TIMESTAMP '2024-03-01' + to_minutes(i) AS t, sin(i / 60.0) AS v FROM range(100000) r(i)"
    p = pk.line(sql, x="t", y="v", session=session)
    frame = p.to_array()
    start = pd.Timestamp("2024-03-01", tz="UTC").timestamp()
    assert p.x_range == (start, start + 99_999 * 60)
    assert series_mask(frame).sum() > 1000
    p.x_range = (start, start + 3600)
    assert series_mask(p.to_array()).sum() > 500
    p.close()


def test_slow_query_reports_progress_and_stale_queries_are_cancelled(session):
    sql = "SELECT i::DOUBLE AS x, sin(i) * cos(i / 7.0) AS y FROM range(60_000_000) r(i)"
    p = make(sql, session)
    seen = []
    p.observe(lambda change: seen.append(change["new"]), names=["progress"])
    p.to_array(timeout=120)
    assert any(0 < v < 1 for v in seen), "progress between 0 and 1 is reported while querying"
    for i in range(5):  # narrow views: past the line index, each reads the (slow) rows
        p.x_range = (i * 1e6, i * 1e6 + 2e4)
        time.sleep(0.05)
    p.to_array(timeout=120)
    assert p.stats["queries_cancelled"] >= 1
    assert p.x_range == (4e6, 4e6 + 2e4)
    p.close()


def test_closing_mid_query_does_not_hang(session):
    sql = "SELECT i::DOUBLE AS x, sin(i) AS y FROM range(200_000_000) r(i)"
    p = make(sql, session)
    time.sleep(0.3)
    started = time.monotonic()
    p.close()
    assert time.monotonic() - started < 3
    assert not p.controller._worker.is_alive()
    assert not any(
        t.name == "pikaplot-controller" and t is p.controller._worker for t in threading.enumerate()
    )


def test_save_writes_the_frame_as_png(walk, session, tmp_path):
    p = make(walk, session)
    path = p.save(tmp_path / "plot.png")
    np.testing.assert_array_equal(np.asarray(Image.open(path)), p.to_array())
    p.close()


def test_get_frame_is_cheap_and_returns_the_rendered_frame(walk, session):
    p = make(walk, session)
    frame = p.to_array()
    started = time.perf_counter()
    got = p.get_frame()
    assert time.perf_counter() - started < 0.005
    np.testing.assert_array_equal(got, frame)
    p.close()


def test_the_plot_area_stays_put_when_zoomed_labels_are_narrower(session, rng):
    """The first frame's y labels (the whole extent: "-3000") set the left margin; zooming into
    a stretch whose labels are shorter ("510") keeps the plot area where it was, so the frame
    does not jump sideways and no view is queried a second time for a narrower area."""
    n = 300_000
    x = np.arange(n, dtype=np.float64)
    y = 3000 * np.sin(2 * np.pi * x / n) + rng.normal(0, 0.5, n)
    p = make(pd.DataFrame({"x": x, "y": y}), session, width=640, height=320)
    p.to_array()
    first = p.controller.layout().area
    assert max(len(label) for label in p.controller.layout().y_ticks.labels) >= 5
    near = np.flatnonzero((y > 300) & (y < 900))  # labels of three digits there
    for centre in rng.choice(near, 8):
        runs = p.stats["queries_run"] + p.controller.provider.row_cache.hits
        p.x_range = (float(centre) - 400.0, float(centre) + 400.0)
        p.to_array()
        layout = p.controller.layout()
        assert max(len(label) for label in layout.y_ticks.labels) <= 4
        assert layout.area == first
        assert p.stats["queries_run"] + p.controller.provider.row_cache.hits <= runs + 1
    p.close()
