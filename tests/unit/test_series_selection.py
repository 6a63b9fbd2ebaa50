"""Selections on line plots of several series: a y list selects a row when ANY visible y column is in
the box; `by=` selects only rows of the kept, visible values. Checked against numpy and direct SQL."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine.line import LineColumns
from pikaplot_widget.engine.line_series import by_series, y_list_series
from pikaplot_widget.engine.selection import SelectedRows, SeriesScope
from pikaplot_widget.engine.sources import resolve_source
from tests.unit.events import send

Y_NAMES = ("a", "b", "c")


def _table(session, frame):
    session.connection.register("frame_in", frame)
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return resolve_source("t", session)


def _y_frame(rng, n):
    """Three y columns with NaN, inf and NULL (b is nullable), and c missing left of x = 600."""
    frame = pd.DataFrame({"x": np.round(rng.uniform(0, 1000, n), 1)})
    for name in Y_NAMES:
        y = rng.normal(size=n) * 10 + rng.uniform(-20, 20)
        y[rng.random(n) < 0.02] = np.nan
        y[rng.random(n) < 0.005] = np.inf
        frame[name] = y
    frame.loc[frame.x < 600, "c"] = np.nan
    frame["b"] = frame["b"].astype("Float64")
    frame.loc[rng.random(n) < 0.02, "b"] = pd.NA
    return frame


def _by_frame(rng, n_groups=25):
    """Groups "0".."24" with distinct row counts (so the 20 kept are unambiguous) and NULL groups."""
    sizes = rng.permutation(np.arange(40, 40 + 7 * n_groups, 7))
    groups = np.repeat([str(g) for g in range(n_groups)], sizes).astype(object)
    n = groups.size
    groups[rng.random(n) < 0.01] = None
    y = rng.normal(size=n) * 10
    y[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame({"x": rng.uniform(0, 1000, n), "y": y, "g": groups})


def _count(rows):
    return rows.relation.aggregate("count(*)").fetchall()[0][0]


def _y_list_reference(frame, visible, x, y):
    """numpy: x in range AND (OR over visible columns: y finite and in range)."""
    xs = frame.x.to_numpy()
    hit = np.zeros(len(frame), bool)
    for name in visible:
        v = frame[name].astype("float64").to_numpy(na_value=np.nan)
        ok = np.isfinite(v)
        if y is not None:
            ok &= (v >= y[0]) & (v <= y[1])
        hit |= ok
    if x is not None:
        hit &= (xs >= x[0]) & (xs <= x[1])
    return int(hit.sum())


def _random_box(rng):
    x = tuple(sorted(rng.uniform(-50, 1050, 2)))
    y = tuple(sorted(rng.uniform(-40, 40, 2)))
    return (x if rng.random() < 0.85 else None), (y if rng.random() < 0.7 else None)


def test_y_list_box_selects_rows_where_any_visible_column_is_inside(session, rng):
    frame = _y_frame(rng, 20_000)
    cols = LineColumns.checked(_table(session, frame), "x", "a")
    cols = replace(cols, series=y_list_series(cols, Y_NAMES))
    checked = 0
    for _ in range(40):
        hidden = frozenset(int(i) for i in np.flatnonzero(rng.random(3) < 0.35))
        x, y = _random_box(rng)
        rows = SelectedRows(session, cols, x, y, scope=SeriesScope(cols.series, hidden))
        visible = [name for i, name in enumerate(Y_NAMES) if i not in hidden]
        expected = _y_list_reference(frame, visible, x, y)
        assert _count(rows) == expected, (x, y, hidden)
        checked += expected > 0
        rows.close()
    assert checked > 10  # the boxes did select rows


def test_by_box_selects_only_kept_visible_values(session, runner, rng):
    frame = _by_frame(rng)
    cols = LineColumns.checked(_table(session, frame), "x", "y")
    cols = replace(cols, series=by_series(runner, cols, "g"))
    counts = frame.g.value_counts()  # pandas: NULL groups left out
    kept = sorted(counts.index[np.argsort(-counts.to_numpy(), kind="stable")[:20]])
    assert list(cols.series.names) == kept and cols.series.filtered
    for _ in range(30):
        hidden = frozenset(int(i) for i in np.flatnonzero(rng.random(20) < 0.2))
        x, y = _random_box(rng)
        rows = SelectedRows(session, cols, x, y, scope=SeriesScope(cols.series, hidden))
        visible = [name for i, name in enumerate(kept) if i not in hidden]
        marks = ", ".join("?" for _ in visible) or "NULL"
        x_sql = "x BETWEEN ? AND ?" if x is not None else "TRUE"
        y_sql = "y BETWEEN ? AND ?" if y is not None else "TRUE"
        direct = session.connection.execute(
            f"SELECT count(*) FROM t WHERE isfinite(y) AND {x_sql} AND {y_sql} AND g IN ({marks})",
            [*(x or ()), *(y or ()), *visible],
        ).fetchone()[0]
        assert _count(rows) == direct, (x, y, hidden)
        rows.close()


def _inside_polygon(px, py, polygon):
    """numpy even-odd rule: a ray to the right crosses an odd number of edges."""
    inside = np.zeros(px.shape, bool)
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if y0 == y1:
            continue
        crosses = ((py > y0) != (py > y1)) & (px < x0 + (py - y0) * (x1 - x0) / (y1 - y0))
        inside ^= crosses
    return inside


def test_y_list_lasso_selects_rows_where_any_visible_column_is_inside(session, rng):
    frame = _y_frame(rng, 20_000)
    cols = LineColumns.checked(_table(session, frame), "x", "a")
    cols = replace(cols, series=y_list_series(cols, Y_NAMES))
    xs = frame.x.to_numpy()
    for _ in range(10):
        hidden = frozenset(int(i) for i in np.flatnonzero(rng.random(3) < 0.35))
        angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
        radius = rng.uniform(0.3, 1.0, 7)
        polygon = tuple(
            (500 + 450 * r * np.cos(a), 25 * r * np.sin(a)) for a, r in zip(angles, radius, strict=True)
        )
        rows = SelectedRows(session, cols, None, None, polygon, SeriesScope(cols.series, hidden))
        hit = np.zeros(len(frame), bool)
        for i, name in enumerate(Y_NAMES):
            if i not in hidden:
                v = frame[name].astype("float64").to_numpy(na_value=np.nan)
                hit |= np.isfinite(v) & _inside_polygon(xs, v, list(polygon))
        assert _count(rows) == int(hit.sum()), hidden
        rows.close()


def test_reported_case_and_hiding_reselects():
    x = np.arange(1000.0)
    frame = pd.DataFrame({"x": x, "a": np.zeros(1000), "b": np.full(1000, 100.0)})
    p = pk.line(frame, "x", y=["a", "b"], width=400, height=250)
    try:
        p.to_array()
        p.select(x=(100, 200), y=(90, 110))
        assert len(p.selection.fetchall()) == 101  # series b is there, a is not
        bounds = dict(p.selection_bounds)
        highlight = p.controller.painter.selection
        p.hidden_series = ["b"]
        assert len(p.selection.fetchall()) == 0
        p.hidden_series = ["a"]
        assert len(p.selection.fetchall()) == 101
        p.select(x=(100, 200))
        assert len(p.selection.fetchall()) == 101
        p.hidden_series = ["a", "b"]
        assert len(p.selection.fetchall()) == 0
        p.hidden_series = []
        p.select(x=(100, 200), y=(90, 110))
        assert p.selection_bounds == bounds and p.controller.painter.selection == highlight
    finally:
        p.close()


@pytest.mark.parametrize("how", ["select", "box"])
def test_by_plot_selects_no_hidden_or_dropped_series(session, rng, how):
    frame = _by_frame(rng)
    session.connection.register("frame_in", frame)
    session.connection.execute("CREATE TABLE pts AS SELECT * FROM frame_in")
    p = pk.line("pts", "x", "y", by="g", session=session, width=500, height=300)
    try:
        p.to_array()
        kept = list(p.series)
        assert len(kept) == 20
        p.hidden_series = ["1", kept[3]]
        if how == "select":
            lo, hi = 100.0, 200.0
            p.select(x=(lo, hi))
        else:  # a box dragged in the browser: x only on a line plot
            layout = p.controller.layout()
            area, ratio = layout.area, layout.spec.ratio
            left, top = area.left / ratio, area.top / ratio
            send(p, type="pikaplot_box", mode="select", x0=left + 20, y0=top + 10, x1=left + 150, y1=top + 90)
            lo, hi = sorted(layout.px_to_x(v * ratio) for v in (left + 20, left + 150))
        visible = [g for g in kept if g not in p.hidden_series]
        direct = session.connection.execute(
            f"SELECT count(*) FROM pts WHERE x BETWEEN ? AND ? AND isfinite(y) "
            f"AND g IN ({', '.join('?' for _ in visible)})",
            [lo, hi, *visible],
        ).fetchone()[0]
        assert direct > 0 and len(p.selection.fetchall()) == direct
        assert not {r[2] for r in p.selection.fetchall()} & {"1", kept[3], None}
        everything = session.connection.execute(
            "SELECT count(*) FROM pts WHERE x BETWEEN ? AND ? AND isfinite(y)", [lo, hi]
        ).fetchone()[0]
        assert everything > direct  # hidden, dropped and NULL groups were there to be left out
    finally:
        p.close()
