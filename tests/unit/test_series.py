"""Several series on a line plot: per-series M4 (rows and index) against numpy per series, the
`by` limit against a direct SQL count, colours and widths, hidden series, hover naming the series."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import traitlets

import pikaplot_widget as pk
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.line_series import by_series, y_list_series
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid, fetch_from_pyramid
from pikaplot_widget.plots.line.index_geometry import FANOUT

SMALL = {"min_rows": 0, "rows_per_bucket": 8, "top_level_buckets": 64}


def _frame(rng, n, kind):
    """Random series: x unsorted with duplicates; NaN and NULL y; uneven lengths; a late series."""
    x = np.round(rng.uniform(0, 1000, n), 1)
    frame = pd.DataFrame({"x": x})
    if kind == "y":
        for name in ("a", "b", "c"):
            y = np.cumsum(rng.normal(size=n))
            y[rng.random(n) < 0.01] = np.nan
            frame[name] = y
        frame.loc[frame.x < 600, "c"] = np.nan  # c only exists right of 600
        frame["b"] = frame["b"].astype("Float64")
        frame.loc[rng.random(n) < 0.01, "b"] = pd.NA  # NULLs, not NaN
    else:
        names = np.array(["alpha", "beta", "gamma", "late"])
        sym = names[rng.choice(4, n, p=[0.6, 0.25, 0.1, 0.05])]
        y = np.cumsum(rng.normal(size=n))
        y[rng.random(n) < 0.01] = np.nan
        late = sym == "late"
        frame["x"] = np.where(late, 800 + x / 5, x)  # "late" lives in [800, 1000] only
        frame["sym"], frame["y"] = sym, y
        if kind == "cat":  # a pandas Categorical: an ENUM column in DuckDB
            frame["sym"] = pd.Categorical(sym)
    return frame


def _columns(session, frame, kind, runner):
    session.connection.register("frame_in", frame)
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    source = resolve_source("t", session)
    if kind == "y":
        cols = LineColumns.checked(source, "x", "a")
        return replace(cols, series=y_list_series(cols, ("a", "b", "c")))
    cols = LineColumns.checked(source, "x", "y")
    return replace(cols, series=by_series(runner, cols, "sym"))


def _series_rows(frame, kind, name):
    """x, y (NaN where invalid) and whether each row belongs to the series."""
    if kind == "y":
        y = frame[name].astype("float64").to_numpy(na_value=np.nan)
        return frame.x.to_numpy(), y, np.ones(len(frame), bool)
    return frame.x.to_numpy(), frame.y.to_numpy(), (frame.sym == name).to_numpy()


def _check_columns(data, frame, kind, col_of, shared_rows):
    """Per series and pixel column: rows, first, last, min and max equal numpy's."""
    stats = data.column_stats
    for code, name in enumerate(data.series_names):
        x, y, member = _series_rows(frame, kind, name)
        col = col_of(x)
        got = {int(c): i for i, c in enumerate(stats.column) if stats.series[i] == code}
        expected_columns = set(np.unique(col[member & (col >= -1) & (col <= data.columns)]).tolist())
        assert set(got) == expected_columns, name
        for c, i in got.items():
            rows = (col == c) & (np.ones_like(member) if shared_rows else member)
            assert stats.rows[i] == rows.sum()
            sel = (col == c) & member & np.isfinite(y)
            if not sel.any():
                assert np.isnan(stats.low[i])
                continue
            xs, ys = x[sel], y[sel]
            assert stats.low[i] == ys.min() and stats.high[i] == ys.max()
            assert stats.first[i] in ys[xs == xs.min()] and stats.last[i] in ys[xs == xs.max()]
        # Every drawn point of the series is one of its rows; invalid rows in view make gaps.
        points = data.series == code
        px, py = data.x[points], data.y[points]
        real = set(zip(x[member].tolist(), y[member].tolist(), strict=True))
        assert all((a, b) in real for a, b in zip(px, py, strict=True) if np.isfinite(b))
        in_view = (col >= 0) & (col < data.columns) & member
        if (in_view & ~np.isfinite(y)).any() and (in_view & np.isfinite(y)).sum() > 10:
            assert np.isnan(py).any(), name


@pytest.mark.parametrize("kind", ["y", "by", "cat"])
@pytest.mark.parametrize("case", range(4))
def test_m4_per_series_matches_numpy(session, runner, rng, kind, case):
    frame = _frame(rng, int(rng.integers(5_000, 60_000)), kind)
    cols = _columns(session, frame, kind, runner)
    extent = fetch_extent(runner, cols)
    a, b = np.sort(rng.uniform(-50, 1050, 2))
    if case == 0:
        a, b = 0.0, 500.0  # "c" / "late" have no rows in this view
    columns = int(rng.integers(50, 700))
    data = fetch_line(runner, cols, extent, (a, b), columns)
    width = (b - a) / columns
    lo, hi = max(a - width, extent.x_min), min(b + width, extent.x_max)

    def col_of(x):
        col = np.floor((x - a) * (columns / (b - a))).astype(np.int64)
        return np.where((x >= lo) & (x <= hi), col, -99)

    _check_columns(data, frame, kind, col_of, shared_rows=kind == "y")
    # Per-series y bounds in view, and the empty series has none.
    for code, name in enumerate(data.series_names):
        x, y, member = _series_rows(frame, kind, name)
        sel = member & (x >= a) & (x <= b) & np.isfinite(y)
        if sel.any():
            assert tuple(data.series_bounds[code]) == (y[sel].min(), y[sel].max())
        else:
            assert np.isnan(data.series_bounds[code]).all()
            assert not np.isfinite(data.y[data.series == code]).any()  # gap marks at most


@pytest.mark.parametrize("kind", ["y", "by"])
@pytest.mark.parametrize("index", [False, True])
def test_invalid_rows_break_only_their_own_series(session, runner, kind, index):
    x = np.arange(40_000, dtype=np.float64)
    gap = (x >= 20_000) & (x < 20_400)  # NaN/NULL in series "a" only
    if kind == "y":
        frame = pd.DataFrame({"x": x, "a": np.where(gap, np.nan, np.sin(x / 500)), "b": np.cos(x / 500)})
    else:
        frame = pd.DataFrame(
            {"x": np.r_[x, x], "y": np.r_[np.where(gap, np.nan, np.sin(x / 500)), np.cos(x / 500)]}
        )
        frame["sym"] = ["a"] * x.size + ["b"] * x.size
    session.connection.register("frame_in", frame)
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    # NULLs inside the NaN block, in series "a" only
    null = "a = NULL WHERE TRUE" if kind == "y" else "y = NULL WHERE sym = 'a'"
    session.connection.execute(f"UPDATE t SET {null} AND x BETWEEN 20100 AND 20199")
    cols = LineColumns.checked(resolve_source("t", session), "x", "a" if kind == "y" else "y")
    series = y_list_series(cols, ("a", "b")) if kind == "y" else by_series(runner, cols, "sym")
    cols = replace(cols, series=series)
    extent = fetch_extent(runner, cols)
    view, columns = (15_000.0, 25_000.0), 100  # 100 rows per column: the gap spans 4 columns
    if index:
        pyramid = build_pyramid(runner, cols, extent, **SMALL)
        data = fetch_from_pyramid(runner, pyramid, pyramid.level_for(100.0), view, columns)
    else:
        data = fetch_line(runner, cols, extent, view, columns)
    a, b = data.series == 0, data.series == 1
    xa, ya = data.x[a], data.y[a]
    assert np.isnan(ya).any() and np.isfinite(data.y[b]).all()
    finite = xa[np.isfinite(ya)]
    assert not ((finite >= 20_000) & (finite < 20_400)).any()  # nothing drawn inside the gap
    assert np.isnan(ya[(xa > 19_000) & (xa < 21_400)]).any()  # the line breaks there


@pytest.mark.parametrize("kind", ["y", "by"])
@pytest.mark.parametrize("in_memory", [True, False])
def test_index_per_series_matches_numpy(session, runner, rng, kind, in_memory):
    frame = _frame(rng, 40_000, kind)
    cols = _columns(session, frame, kind, runner)
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, **SMALL)
    assert pyramid is not None and pyramid.series == cols.series
    if not in_memory:
        pyramid.arrays.clear()
    checked = 0
    for _ in range(6):
        a, b = np.sort(rng.uniform(-50, 1050, 2))
        columns = int(rng.integers(20, 200))
        level = pyramid.level_for((b - a) / columns)
        if level is None:
            continue
        data = fetch_from_pyramid(runner, pyramid, level, (a, b), columns)
        exact = fetch_line(runner, cols, extent, (a, b), columns)
        assert data.series_names == exact.series_names

        def col_of(x, a=a, b=b, columns=columns, level=level):
            k0 = np.minimum(np.floor((x - pyramid.origin) / pyramid.bucket_width), pyramid.buckets - 1)
            k = np.floor_divide(k0, FANOUT**level)
            w = (b - a) / columns
            return np.floor(((k + 0.5) * pyramid.width(level) + pyramid.origin - a) / w).astype(np.int64)

        _check_columns(data, frame, kind, col_of, shared_rows=kind == "y")
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("in_memory", [True, False])
def test_index_of_a_by_column_past_the_limit_keeps_only_the_kept_series(session, runner, rng, in_memory):
    n = 30_000
    names = np.array([f"v{i:02d}" for i in range(26)])
    frame = pd.DataFrame({"x": np.round(rng.uniform(0, 1000, n), 1), "y": np.cumsum(rng.normal(size=n))})
    frame["sym"] = names[rng.choice(26, n, p=np.arange(1, 27) / np.arange(1, 27).sum())]
    frame.loc[rng.random(n) < 0.01, "y"] = np.nan
    session.connection.register("frame_in", frame)
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    cols = LineColumns.checked(resolve_source("t", session), "x", "y")
    cols = replace(cols, series=by_series(runner, cols, "sym"))
    assert cols.series.filtered and cols.series.count == 20
    extent = fetch_extent(runner, cols)
    pyramid = build_pyramid(runner, cols, extent, **SMALL)
    if not in_memory:
        pyramid.arrays.clear()
    a, b, columns = 100.0, 700.0, 40
    level = pyramid.level_for((b - a) / columns)
    assert level is not None
    data = fetch_from_pyramid(runner, pyramid, level, (a, b), columns)

    def col_of(x):
        k0 = np.minimum(np.floor((x - pyramid.origin) / pyramid.bucket_width), pyramid.buckets - 1)
        k = np.floor_divide(k0, FANOUT**level)
        return np.floor(((k + 0.5) * pyramid.width(level) + pyramid.origin - a) / ((b - a) / columns)).astype(
            int
        )

    _check_columns(data, frame, "by", col_of, shared_rows=False)
    kept = frame.sym.isin(data.series_names)
    assert kept.sum() == len(frame) - cols.series.rows_dropped


def test_by_keeps_the_20_largest_and_says_so(session, runner, rng):
    counts = rng.permutation(np.arange(1, 31)) * 40 + np.arange(30)  # distinct counts: no ties
    sym = np.repeat([f"v{i:02d}" for i in range(30)], counts)
    frame = pd.DataFrame({"x": rng.uniform(0, 1, sym.size), "y": rng.normal(size=sym.size), "sym": sym})
    frame.loc[:9, "sym"] = None  # NULL rows are left out too
    session.connection.register("frame_in", frame)
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    direct = session.connection.execute(
        "SELECT sym, count(*) FROM t WHERE sym IS NOT NULL GROUP BY sym ORDER BY count(*) DESC LIMIT 20"
    ).fetchall()
    kept_rows = sum(n for _, n in direct)
    p = pk.line("SELECT * FROM t", "x", "y", by="sym", session=session)
    try:
        assert set(p.series) == {name for name, _ in direct}
        assert list(p.series) == sorted(p.series)
        p.to_array()
        stats = p.stats
        assert stats["series_shown"] == 20 and stats["series_dropped"] == 10
        assert stats["rows_dropped"] == len(frame) - kept_rows
        assert "20 values" in p.notice and "10 more" in p.notice
        data = p.controller.data
        x0, x1 = data.x_range  # rows at x == x1 belong to the column right of the view
        kept = frame.sym.isin([name for name, _ in direct]) & (frame.x >= x0) & (frame.x < x1)
        assert data.rows_in_view == kept.sum() >= kept_rows - 1
    finally:
        p.close()


def test_colors_and_line_width_are_checked():
    frame = pd.DataFrame({"x": [0.0, 1, 2], "a": [1.0, 2, 3], "b": [3.0, 2, 1], "s": ["p", "q", "p"]})
    with pytest.raises(ValueError, match="unknown colour"):
        pk.line(frame, "x", ["a", "b"], colors=["red", "notacolour"])
    with pytest.raises(ValueError, match="empty"):
        pk.line(frame, "x", ["a", "b"], colors=[])
    with pytest.raises(ValueError, match="unknown series"):
        pk.line(frame, "x", "a", by="s", colors={"zzz": "red"})
    with pytest.raises(TypeError, match="colors"):
        pk.line(frame, "x", ["a", "b"], colors=[1, 2])
    for bad in (0, -1, 21, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="line_width"):
            pk.line(frame, "x", "a", line_width=bad)
    with pytest.raises(TypeError, match="line_width"):
        pk.line(frame, "x", "a", line_width="2px")
    with pytest.raises(TypeError, match="y must be"):
        pk.line(frame, "x", [])
    with pytest.raises(ValueError, match="either"):
        pk.line(frame, "x", ["a", "b"], by="s")
    with pytest.raises(TypeError, match=r"numeric|number"):
        pk.line(frame, "x", ["a", "s"])


def _pixels_of(frame, rgb, tolerance=6):
    return int((np.abs(frame[..., :3].astype(int) - np.asarray(rgb)).max(axis=2) <= tolerance).sum())


def test_colors_line_width_and_hidden_series_in_pixels():
    x = np.linspace(0, 10, 5000)
    frame = pd.DataFrame({"x": x, "low": np.sin(x), "high": np.sin(x) + 10})
    p = pk.line(frame, "x", ["low", "high"], colors={"high": "#ff0000"}, line_width=3, width=500, height=300)
    q = pk.line(frame, "x", ["low", "high"], colors={"high": "#ff0000"}, line_width=1, width=500, height=300)
    try:
        image = p.to_array()
        red = _pixels_of(image, (255, 0, 0))
        assert red > 500 and red > 2 * _pixels_of(q.to_array(), (255, 0, 0))  # wider line, more pixels
        full_y = p.y_range
        p.hidden_series = ["high"]
        _wait_drawn(p)
        image = p.to_array()
        assert _pixels_of(image, (255, 0, 0)) == 0  # neither line nor legend swatch
        assert p.y_range[1] < 2 < full_y[1]  # y fitted to the shown series only
        assert all(r.get("series") == "low" for r in _picks(p))
        p.hidden_series = []
        _wait_drawn(p)
        assert _pixels_of(p.to_array(), (255, 0, 0)) > 500
        assert {r.get("series") for r in _picks(p)} == {"low", "high"}
        with pytest.raises(traitlets.TraitError, match="unknown series"):
            p.hidden_series = ["nope"]
        assert p.hidden_series == []
    finally:
        p.close()
        q.close()


def _wait_drawn(p):
    time.sleep(0.05)
    p.controller.wait_idle(30)


def _picks(p):
    """What pick() names over a grid of the plot area."""
    layout = p.controller.layout()
    area, ratio = layout.area, layout.spec.ratio
    found = []
    for cx in np.linspace(area.left / ratio + 2, area.right / ratio - 2, 15):
        for cy in np.linspace(area.top / ratio, area.bottom / ratio, 40):
            r = p.pick(float(cx), float(cy))
            if r is not None:
                found.append(r)
    return found


def test_legend_click_toggles_a_series():
    x = np.linspace(0, 10, 2000)
    frame = pd.DataFrame(
        {"x": np.r_[x, x], "y": np.r_[np.cos(x), np.cos(x) + 3], "s": ["one"] * 2000 + ["two"] * 2000}
    )
    p = pk.line(frame, "x", "y", by="s", colors=["#00ff00", "#0000ff"], width=500, height=300)
    try:
        image = p.to_array()
        layout = p.controller.layout()
        # The blue swatch in the legend column, right of the plot area.
        ys, xs = np.nonzero(np.abs(image[..., :3].astype(int) - (0, 0, 255)).max(axis=2) <= 3)
        right = xs > layout.area.right
        cx, cy = float(xs[right].mean()), float(ys[right].mean())
        ratio = layout.spec.ratio
        p.handle_event(
            {"event_type": "pointer_down", "x": cx / ratio, "y": cy / ratio, "button": 1, "modifiers": []}
        )
        assert p.hidden_series == ["two"]
        _wait_drawn(p)
        assert _pixels_of(p.to_array(), (0, 0, 255)) == 0
        p.handle_event(
            {"event_type": "pointer_down", "x": cx / ratio, "y": cy / ratio, "button": 1, "modifiers": []}
        )
        assert p.hidden_series == []
        _wait_drawn(p)
        assert _pixels_of(p.to_array(), (0, 0, 255)) > 200
        # A click in the plot area is no legend click (it starts a drag).
        p.handle_event({"event_type": "pointer_down", "x": 100, "y": 100, "button": 1, "modifiers": []})
        assert p.hidden_series == []
    finally:
        p.close()


def test_hidden_series_survive_a_release():
    x = np.linspace(0, 10, 3000)
    frame = pd.DataFrame({"x": x, "a": np.sin(x), "b": np.sin(x) + 5})
    p = pk.line(frame, "x", ["a", "b"], colors=["#00ff00", "#0000ff"], width=400, height=250)
    original = pk.Plot.release_after_s
    pk.Plot.release_after_s = 0.2
    try:
        p.to_array()
        p.hidden_series = ["b"]
        _wait_drawn(p)
        worker = p.controller
        p.handle_event({"type": "pikaplot_view", "shown": True})
        p.handle_event({"type": "pikaplot_view", "shown": False})
        assert worker.wait_freed(10)
        p.handle_event({"type": "pikaplot_view", "shown": True})
        assert p.controller is not worker
        assert _pixels_of(p.to_array(), (0, 0, 255)) == 0 and p.hidden_series == ["b"]
        assert _pixels_of(p.to_array(), (0, 255, 0)) > 100
    finally:
        pk.Plot.release_after_s = original
        p.close()


def test_max_points_applies_per_series(rng):
    n = 50_000
    frame = pd.DataFrame(
        {"x": np.arange(n, dtype=float), "a": np.cumsum(rng.normal(size=n)), "b": rng.normal(size=n)}
    )
    p = pk.line(frame, "x", ["a", "b"], max_points=300)
    try:
        p.to_array()
        data = p.controller.data
        for code in range(2):
            assert 3 <= (data.series == code).sum() <= 300
        assert np.all(np.diff(data.series) >= 0)
    finally:
        p.close()


def test_one_y_keeps_its_single_line(rng):
    frame = pd.DataFrame({"x": np.arange(1000.0), "y": rng.normal(size=1000)})
    p = pk.line(frame, "x", "y")
    try:
        p.to_array()
        assert p.controller.data.series is None and p.series == ()
        assert p.stats["series_shown"] == 1 and p.notice == ""
        with pytest.raises(traitlets.TraitError):
            p.hidden_series = ["y"]
    finally:
        p.close()


def test_by_refuses_a_nested_column():
    frame = pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 2.0], "tags": [[1], [2]]})
    with pytest.raises(TypeError, match="by column 'tags'"):
        pk.line(frame, "x", "y", by="tags")


def test_a_short_colour_list_cycles_and_one_colour_paints_every_series():
    from pikaplot_widget.core.series_style import series_colors

    names = ["a", "b", "c", "d", "e"]
    cycled = series_colors(names, ["#ff0000", "#0000ff"])
    assert cycled.tolist() == [[255, 0, 0], [0, 0, 255], [255, 0, 0], [0, 0, 255], [255, 0, 0]]
    assert series_colors(names, "#00ff00").tolist() == [[0, 255, 0]] * 5
    assert series_colors(names[:2], ["#ff0000", "#0000ff", "#00ff00"]).tolist() == [[255, 0, 0], [0, 0, 255]]
