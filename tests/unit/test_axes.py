"""Log axes: the engine in log10 units against numpy (M4, line index, density bins and index, rows
left out against a direct SQL count), the tick locator against hand-checked cases, ranges and
selections in data units, clear errors for bad axis arguments (time zones: test_time_zones.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.core.log_ticks import log_ticks
from pikaplot_widget.core.scale import AxisScale, checked_zone, not_shown_note
from pikaplot_widget.core.viewport import Range, Viewport
from pikaplot_widget.engine.axes import count_not_positive
from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.scatter import ScatterColumns, fetch_scatter_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.interaction import wheel_zoom
from pikaplot_widget.plots.line.index import build_pyramid, pyramid_m4
from pikaplot_widget.plots.scatter.density import fetch_density
from pikaplot_widget.plots.scatter.density_index import build_density_index
from pikaplot_widget.render.chart.layout import ChartLayout, ChartSpec

from .test_pyramid import SMALL
from .test_pyramid import _reference as pyramid_reference

LOG = math.log10


def _table(session, name, **columns):
    session.connection.register("frame_in", pa.table(columns))
    session.connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return resolve_source(name, session)


def _log_or_nan(values):
    out = np.full(values.shape, np.nan)
    positive = np.isfinite(values) & (values > 0)
    out[positive] = np.log10(values[positive])
    return out


# ---------------------------------------------------------------------------------------- log ticks


def _data(values):
    return [10**v for v in values]


def test_log_ticks_one_to_a_thousand():
    ticks = log_ticks(0.0, 3.0, 8)
    assert ticks.values == (0.0, 1.0, 2.0, 3.0)
    assert ticks.labels == ("1", "10", "100", "1000")
    minor = np.array(_data(ticks.minor))
    expected = [m * 10**k for k in range(3) for m in range(2, 10)]
    np.testing.assert_allclose(minor, expected, rtol=1e-12)


def test_log_ticks_many_decades_use_one_style():
    ticks = log_ticks(LOG(0.003), LOG(7e5), 8)
    assert ticks.values == tuple(float(k) for k in range(-2, 6))
    assert ticks.labels == ("1e-2", "1e-1", "1e0", "1e1", "1e2", "1e3", "1e4", "1e5")
    # 8 decades on 8 tick slots: minor ticks at 2..9 x 10^k (from 0.003 up to 7e5).
    minor = np.array(_data(ticks.minor))
    assert minor.size == 7 + 7 * 8 + 6
    assert minor.min() == pytest.approx(0.003) and minor.max() == pytest.approx(7e5)


def test_log_ticks_600_decades_take_every_hundredth():
    ticks = log_ticks(-300.0, 300.0, 8)
    assert ticks.values == (-300.0, -200.0, -100.0, 0.0, 100.0, 200.0, 300.0)
    assert ticks.labels == ("1e-300", "1e-200", "1e-100", "1e0", "1e100", "1e200", "1e300")
    assert ticks.minor == ()  # a decade every 0.1 px: no minor ticks


def test_log_ticks_every_second_decade_has_the_others_as_minor():
    ticks = log_ticks(0.0, 10.0, 8)
    assert ticks.values == (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
    assert ticks.minor == (1.0, 3.0, 5.0, 7.0, 9.0)


def test_log_ticks_sub_decade_views_get_plain_numbers():
    ticks = log_ticks(LOG(200), LOG(900), 8)
    assert ticks.labels == ("200", "300", "400", "500", "600", "700", "800", "900")
    np.testing.assert_allclose(_data(ticks.values), [200, 300, 400, 500, 600, 700, 800, 900], rtol=1e-12)
    narrow = log_ticks(LOG(200), LOG(250), 8)
    assert narrow.labels == ("210", "220", "230", "240")
    one_decade = log_ticks(LOG(1.5), LOG(95), 8)
    assert one_decade.labels == ("2", "5", "10", "20", "50")


@pytest.mark.parametrize("seed", range(20))
def test_log_ticks_stay_inside_and_within_budget(seed):
    rng = np.random.default_rng(seed)
    lo = rng.uniform(-320, 300)
    hi = lo + 10 ** rng.uniform(-6, 2.5)
    max_ticks = int(rng.integers(2, 20))
    ticks = log_ticks(lo, hi, max_ticks)
    assert 2 <= len(ticks.values) <= max_ticks
    assert all(lo - 1e-9 <= v <= hi + 1e-9 for v in ticks.values + ticks.minor)
    assert list(ticks.values) == sorted(ticks.values)
    assert len(set(ticks.labels)) == len(ticks.labels)


# ------------------------------------------------------------------------------------ engine, log


def _m4_reference(x, y, x0, x1, columns):
    """Per pixel column of axis units: min/max of x and of valid y."""
    col = np.floor((x - x0) * (columns / (x1 - x0))).astype(np.int64)
    width = (x1 - x0) / columns
    inside = np.isfinite(x) & (x >= x0 - width) & (x <= x1 + width) & (col >= -1) & (col <= columns)
    out = {}
    for c in np.unique(col[inside]):
        sel = inside & (col == c) & np.isfinite(y)
        if sel.any():
            out[int(c)] = (x[sel].min(), x[sel].max(), y[sel].min(), y[sel].max())
    return out


@pytest.mark.parametrize("axis", ["y", "x", "both"])
def test_m4_on_log_axes_matches_numpy(session, runner, rng, axis):
    n = 50_000
    x = np.sort(10 ** rng.uniform(-3, 6, n)) if axis != "y" else np.sort(rng.uniform(0, 1000, n))
    y = np.exp(rng.normal(0, 4, n))
    bad = rng.random(n) < 0.03
    if axis in ("y", "both"):
        y[bad] = rng.choice([0.0, -1.0, -1e9], int(bad.sum()))
    if axis in ("x", "both"):
        x[rng.random(n) < 0.02] = rng.choice([0.0, -5.0])
    y[rng.random(n) < 0.005] = np.nan
    source = _table(session, "t", x=x, y=y)
    scale = AxisScale(log_x=axis != "y", log_y=axis != "x")
    cols = LineColumns(source, "x", "y", "DOUBLE", "DOUBLE", scale=scale)
    ax = _log_or_nan(x) if scale.log_x else x
    ay = _log_or_nan(y) if scale.log_y else y
    extent = fetch_extent(runner, cols)
    both = np.isfinite(ax) & np.isfinite(ay)
    assert (extent.x_min, extent.x_max) == (ax[both].min(), ax[both].max())
    assert (extent.y_min, extent.y_max) == (ay[both].min(), ay[both].max())
    for _ in range(8):
        columns = int(rng.integers(50, 500))
        span = (extent.x_max - extent.x_min) * 10 ** rng.uniform(-2, 0)
        x0 = rng.uniform(extent.x_min - 0.1 * span, extent.x_max - 0.5 * span)
        x1 = x0 + span
        width = span / columns
        lo, hi = max(x0 - width, extent.x_min), min(x1 + width, extent.x_max)
        params = [*cols.range_params(lo, hi), x0, columns / span, columns]
        rows = runner.run(cols.m4_sql(), params).to_pylist()
        got = {
            r["col"]: (r["x_first"], r["x_last"], r["y_min"], r["y_max"])
            for r in rows
            if r["y_min"] is not None
        }
        keep = np.isfinite(ax) & (ax >= lo) & (ax <= hi)
        expected = _m4_reference(ax[keep], ay[keep], x0, x1, columns)
        assert set(got) == set(expected)  # the same pixel columns hold data
        # DuckDB's log10 and numpy's may differ in the last bit; the rows picked are the same.
        keys = sorted(expected)
        np.testing.assert_allclose(
            [got[k] for k in keys], [expected[k] for k in keys], rtol=1e-14, atol=1e-14
        )
    # Rows the log axes leave out, against a direct SQL count and numpy.
    counts = count_not_positive(runner, cols)
    for name, values, log in (("x", x, scale.log_x), ("y", y, scale.log_y)):
        if not log:
            assert name not in counts
            continue
        direct = runner.run(f"SELECT count(*) FROM t WHERE {name} <= 0").column(0)[0].as_py()
        assert counts[name] == direct == int((values <= 0).sum())


def test_line_index_on_log_axes_matches_numpy(session, runner, rng):
    n = 40_000
    x = 10 ** rng.uniform(0, 5, n)
    y = np.exp(rng.normal(0, 2, n))
    y[rng.random(n) < 0.02] = -1.0
    x[rng.random(n) < 0.01] = 0.0  # not on the log x axis: not in the index
    source = _table(session, "t", x=x, y=y)
    cols = LineColumns(source, "x", "y", "DOUBLE", "DOUBLE", scale=AxisScale(log_x=True, log_y=True))
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, **SMALL)
    on_axis = x > 0
    ax, ay = np.log10(x[on_axis]), _log_or_nan(y[on_axis])
    checked = 0
    for _ in range(30):
        columns = int(rng.integers(20, 300))
        span = 5 * 10 ** rng.uniform(-1.5, 0)
        x0 = rng.uniform(-0.1, 5 - 0.5 * span)
        level = pyramid.level_for(span / columns)
        if level is None:
            continue
        table = pyramid_m4(runner, pyramid, level, (x0, x0 + span), columns).to_pylist()
        expected, _ = pyramid_reference(ax, ay, pyramid, level, x0, x0 + span, columns)
        got = {r["col"]: r for r in table if r["y_min"] is not None}
        assert set(got) == set(expected)
        for c, (x_first, x_last, y_min, y_max, rows) in expected.items():
            r = got[c]
            assert r["n"] == rows
            # DuckDB's log10 and numpy's may differ in the last bit; the rows picked are the same.
            np.testing.assert_allclose(
                [r["x_first"], r["x_last"], r["y_min"], r["y_max"]],
                [x_first, x_last, y_min, y_max],
                rtol=1e-14,
            )
        checked += 1
    assert checked >= 10


def test_density_on_log_axes_matches_histogram2d(session, runner, rng):
    n = 80_000
    x = 10 ** rng.normal(1, 1.5, n)
    y = 10 ** rng.normal(-2, 3, n)
    x[rng.random(n) < 0.02] = -3.0
    y[rng.random(n) < 0.03] = 0.0
    source = _table(session, "s", x=x, y=y)
    cols = ScatterColumns(source, "x", "y", "DOUBLE", "DOUBLE", scale=AxisScale(log_x=True, log_y=True))
    extent = fetch_scatter_extent(runner, cols)
    valid = (x > 0) & (y > 0)
    assert extent.valid_rows == int(valid.sum())
    lx, ly = np.log10(x[valid]), np.log10(y[valid])
    assert (extent.x_min, extent.y_max) == (lx.min(), ly.max())
    for _ in range(8):
        cx, cy = rng.normal(1, 1), rng.normal(-2, 2)
        hw, hh = 10 ** rng.uniform(-1.5, 0.7), 10 ** rng.uniform(-1.5, 1)
        box = (cx - hw, cx + hw, cy - hh, cy + hh)
        width, height = int(rng.integers(20, 200)), int(rng.integers(20, 150))
        grid = fetch_density(runner, cols, extent, box, width, height)
        reference, _, _ = np.histogram2d(lx, ly, bins=[width, height], range=[box[:2], box[2:]])
        reference = reference.T.astype(np.int64)
        assert abs(grid.total - int(reference.sum())) <= 2
        assert np.abs(grid.counts - reference).sum() <= 4  # rows exactly on a bin edge may move
    index = build_density_index(runner, cols, extent, min_rows=0)
    assert index is not None
    assert int(index.levels[0].counts.sum()) == int(valid.sum())
    assert count_not_positive(runner, cols) == {"x": int((x <= 0).sum()), "y": int((y <= 0).sum())}


def test_log_plot_reports_and_draws_what_it_leaves_out(session, rng):
    n = 5_000
    y = np.exp(rng.normal(0, 2, n))
    y[:123] = -1.0
    frame = pd.DataFrame({"x": np.arange(n, dtype=float), "y": y})
    p = pk.line(frame, "x", "y", log_y=True, session=session)
    try:
        p.to_array()
        assert p.stats["log_skipped_rows"] == {"y": 123}
        positive = y[y > 0]
        lo, hi = p.y_range
        assert lo <= positive.min() and hi >= positive.max()  # data units, not log10
        assert p.controller.painter.axis_note == "123 rows with y <= 0 not shown on the log axis"
        picked = p.pick(400, 200)
        assert picked is not None and any(np.isclose(picked["y"], positive, rtol=1e-12))
    finally:
        p.close()
    nothing = pk.scatter(
        pd.DataFrame({"x": [1.0, 2.0], "y": [-1.0, 0.0]}), "x", "y", log_y=True, session=session
    )
    try:
        frame_px = nothing.to_array()  # no crash: a frame that says why it is empty
        assert frame_px.shape[0] > 0
        assert nothing.stats["log_skipped_rows"] == {"y": 2}
        assert "2 rows with y <= 0" in nothing.controller.painter.axis_note
    finally:
        nothing.close()


def test_wheel_zooms_the_same_factor_at_every_decade():
    ratios = []
    for lo, hi in ((0.0, 2.0), (100.0, 102.0), (-250.0, -248.0)):
        spec = ChartSpec(width=800, height=400, x_range=(lo, hi), y_range=(0, 1), scale=AxisScale(log_x=True))
        layout = ChartLayout(spec)
        view = Viewport(Range(lo, hi), Range(0.0, 1.0))
        new = wheel_zoom(view, layout, 400, 200, -100, shift=False, zooms_both_axes=False)
        assert new is not None
        ratios.append((new.x.hi - new.x.lo) / (hi - lo))  # in decades: data ratio hi/lo ** factor
    assert ratios[0] == pytest.approx(ratios[1]) == pytest.approx(ratios[2])
    far = Viewport(Range(390.0, 399.0), Range(0.0, 1.0))
    spec = ChartSpec(width=800, height=400, x_range=(390.0, 399.0), scale=AxisScale(log_x=True))
    zoomed_out = wheel_zoom(far, ChartLayout(spec), 400, 200, 600, shift=False, zooms_both_axes=False)
    assert zoomed_out is not None and zoomed_out.x == far.x  # kept inside 10**±400


# --------------------------------------------------------------------------------------- ranges


def test_log_ranges_are_data_units(session, rng):
    frame = pd.DataFrame({"x": 10 ** rng.uniform(0, 4, 1000), "y": 10 ** rng.uniform(-2, 2, 1000)})
    p = pk.scatter(
        frame, "x", "y", log_x=True, log_y=True, x_range=(10, 1000), y_range=(0.1, 10), session=session
    )
    try:
        p.to_array()
        assert p.x_range == pytest.approx((10, 1000)) and p.y_range == pytest.approx((0.1, 10))
        layout = p.controller.layout()
        assert layout is not None and layout.spec.x_range == pytest.approx((1.0, 3.0))
        assert layout.x_ticks.labels == ("10", "100", "1000")
        p.y_range = (1, 100)
        p.to_array()
        assert p.controller.view is not None and p.controller.view.y.as_tuple() == pytest.approx((0.0, 2.0))
        with pytest.raises(Exception, match="positive on a log axis"):
            p.y_range = (-1, 100)
        assert p.y_range == pytest.approx((1, 100))  # nothing lost
    finally:
        p.close()


def test_bad_axis_arguments_raise_clear_errors(session):
    frame = pd.DataFrame(
        {"x": np.arange(10.0), "y": np.arange(10.0) + 1, "t": pd.date_range("2026-01-01", periods=10)}
    )
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Berlinn'"):
        pk.line(frame, "t", "y", tz="Europe/Berlinn", session=session)
    with pytest.raises(TypeError, match="tz must be an IANA"):
        pk.line(frame, "t", "y", tz=3, session=session)
    with pytest.raises(ValueError, match="tz applies to a date or time x"):
        pk.line(frame, "x", "y", tz="Europe/Berlin", session=session)
    with pytest.raises(ValueError, match="log_x needs a numeric column"):
        pk.scatter(frame, "t", "y", log_x=True, session=session)
    with pytest.raises(TypeError, match="log_y must be True or False"):
        pk.line(frame, "x", "y", log_y="yes", session=session)
    with pytest.raises(ValueError, match="x_range must be positive on a log axis"):
        pk.line(frame, "x", "y", log_x=True, x_range=(0, 10), session=session)
    with pytest.raises(ValueError, match="y_range must be finite"):
        pk.line(frame, "x", "y", y_range=(math.nan, 1), session=session)
    with pytest.raises(TypeError, match="x_range ends must be numbers"):
        pk.line(frame, "x", "y", x_range=("a", "b"), session=session)
    with pytest.raises(ValueError, match="NaT"):
        pk.line(frame, "t", "y", x_range=(np.datetime64("NaT"), np.datetime64("2026-01-02")), session=session)
    assert checked_zone("Etc/UTC") == "UTC" and checked_zone("Europe/Berlin") == "Europe/Berlin"
    assert not_shown_note({"x": 0, "y": 1}) == "1 row with y <= 0 not shown on the log axis"
    assert (
        not_shown_note({"x": 2, "y": 3})
        == "2 rows with x <= 0 and 3 rows with y <= 0 not shown on the log axes"
    )


def test_selection_on_log_axes_is_in_data_units(session, rng):
    n = 20_000
    frame = pd.DataFrame({"x": 10 ** rng.uniform(-2, 4, n), "y": rng.normal(size=n)})
    frame.loc[::50, "x"] = -1.0
    p = pk.scatter(frame, "x", "y", log_x=True, session=session)
    try:
        p.to_array()
        for lo, hi in ((1.0, 100.0), (0.05, 0.2), (-5.0, 3.0)):
            p.select(x=(lo, hi))
            inside = (frame.x > 0) & (frame.x >= lo) & (frame.x <= hi)
            assert len(p.selection.fetchall()) == int(inside.sum())
        assert p.selection_bounds["x"] == pytest.approx([5e-324, 3.0])
        p.select(x=(1.0, 100.0))
        assert p.selection_bounds["x"] == pytest.approx([1.0, 100.0])
    finally:
        p.close()


def test_log_y_counts_the_non_positive_rows_of_every_y_column(session, rng):
    n = 4_000
    x = np.arange(n, dtype=float)
    a = rng.lognormal(size=n)
    b = rng.lognormal(size=n)
    a[rng.choice(n, 37, replace=False)] = -rng.uniform(0, 5, 37)
    b[rng.choice(n, 500, replace=False)] = rng.choice([0.0, -1.0, -1e-9], 500)
    b[rng.choice(n, 20, replace=False)] = rng.choice([np.nan, np.inf, -np.inf], 20)  # not counted
    frame = pd.DataFrame({"x": x, "a": a, "b": b})
    reference = {col: int((np.isfinite(v) & (v <= 0)).sum()) for col, v in (("a", a), ("b", b))}
    p = pk.line(frame, "x", ["a", "b"], log_y=True, session=session)
    try:
        p.to_array()
        assert p.stats["log_skipped_rows"] == {
            "y": reference["a"] + reference["b"],
            "y:a": reference["a"],
            "y:b": reference["b"],
        }
        total = reference["a"] + reference["b"]
        assert p.controller.painter.axis_note == (
            f"{total:,} rows with y <= 0 (a: {reference['a']:,}, b: {reference['b']:,}) "
            "not shown on the log axis"
        )
    finally:
        p.close()
    only_b = pk.line(frame.assign(a=np.abs(a) + 1), "x", ["a", "b"], log_y=True, session=session)
    try:
        only_b.to_array()
        assert only_b.stats["log_skipped_rows"]["y"] == reference["b"]
        assert (
            "(b: " in only_b.controller.painter.axis_note and "a: " not in only_b.controller.painter.axis_note
        )
    finally:
        only_b.close()
