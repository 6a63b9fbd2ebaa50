"""Reading a plot: the spatial index, pick on lines, markers and density, selections, Arrow frames,
box zoom, keys and linked views, each against numpy, brute force or a direct SQL count."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.core.spatial import LINEAR_BELOW, PointIndex
from pikaplot_widget.plots.drawn import encode_ipc
from tests.unit.events import send


def brute_nearest(x, y, qx, qy, radius):
    d2 = (x - qx) ** 2 + (y - qy) ** 2
    best = int(np.argmin(d2))
    return best if d2[best] <= radius * radius else None


@pytest.mark.parametrize("n", [LINEAR_BELOW - 50, 20_000])
def test_point_index_equals_brute_force(rng, n):
    x, y = rng.uniform(0, 800, n), rng.uniform(0, 500, n)
    index = PointIndex(x, y)
    assert (index.grid is None) == (n < LINEAR_BELOW)
    for qx, qy, radius in zip(
        rng.uniform(-20, 820, 300), rng.uniform(-20, 520, 300), rng.uniform(1, 40, 300), strict=True
    ):
        assert index.nearest(qx, qy, radius) == brute_nearest(x, y, qx, qy, radius)


def column_reference(x, y, x0, x1, columns, c):
    """Rows of pixel column c and their first/last/min/max y, by brute force."""
    width = (x1 - x0) / columns
    inside = (x >= x0 + c * width) & (x < x0 + (c + 1) * width)
    ys = y[inside]
    return {"rows": int(inside.sum()), "first": ys[0], "last": ys[-1], "min": ys.min(), "max": ys.max()}


def test_pick_on_a_line_tells_what_the_pixel_column_stands_for(rng, session):
    n = 200_000
    x = np.sort(rng.uniform(0, 1000, n))
    y = np.cumsum(rng.normal(size=n))
    p = pk.line(pd.DataFrame({"x": x, "y": y}), "x", "y", session=session, width=600, height=300)
    p.x_range = (100.0, 400.0)
    p.to_array()
    layout = p.controller.layout()
    ratio = layout.spec.ratio
    data = p.controller.data
    for i in rng.choice(data.x.size, 25, replace=False):
        qx = float(layout.x_to_px(data.x[i])) / ratio
        qy = float(layout.y_to_px(data.y[i])) / ratio
        if not (layout.area.left <= qx * ratio <= layout.area.right):
            continue
        got = p.pick(qx, qy)
        assert got is not None and got["kind"] == "line"
        column = int(got["column"])
        if not 0 <= column < data.columns:
            continue
        ref = column_reference(x, y, 100.0, 400.0, data.columns, column)
        assert got["rows"] == ref["rows"]
        for name in ("first", "last", "min", "max"):
            assert got[name] == pytest.approx(ref[name], abs=1e-12), name
    assert p.pick(-50, -50) is None
    p.close()


def test_pick_on_markers_fetches_the_full_row(rng, session):
    n = 2000
    frame = pd.DataFrame(
        {"x": rng.normal(size=n), "y": rng.normal(size=n), "label": [f"r{i}" for i in range(n)]}
    )
    p = pk.scatter(frame, "x", "y", session=session, width=500, height=400)
    p.to_array()
    layout = p.controller.layout()
    ratio = layout.spec.ratio
    px = np.asarray(layout.x_to_px(frame.x.to_numpy())) / ratio
    py = np.asarray(layout.y_to_px(frame.y.to_numpy())) / ratio
    for i in rng.choice(n, 10, replace=False):
        got = p.pick(px[i] + 0.3, py[i] - 0.2, with_row=True)
        expected = brute_nearest(px, py, px[i] + 0.3, py[i] - 0.2, 12.0)
        assert got is not None and got["kind"] == "markers"
        assert got["row"] == {"x": frame.x[expected], "y": frame.y[expected], "label": f"r{expected}"}
    p.close()


def test_pick_on_density_reads_the_pixel(rng, session):
    n = 400_000
    x, y = rng.normal(size=n), rng.normal(size=n)
    kind = np.where(x > 0, "right", "left")
    p = pk.scatter(
        pd.DataFrame({"x": x, "y": y, "kind": kind}), "x", "y", color="kind", session=session,
        marker_limit=1000,
    )  # fmt: skip
    box = (-1.0, 1.0, -1.0, 1.0)
    p.x_range, p.y_range = box[:2], box[2:]
    p.to_array()
    assert p.mode == "density"
    grid = p.controller.data.grid
    layout = p.controller.layout()
    ratio, area = layout.spec.ratio, layout.area
    h, w = grid.counts.shape
    reference, _, _ = np.histogram2d(x, y, bins=[w, h], range=[box[:2], box[2:]])
    for column, row in [(w // 2, h // 2), (3, 5), (w - 4, h - 7)]:
        qx = (area.left + column + 0.5) / ratio
        qy = (area.top + (h - 1 - row) + 0.5) / ratio
        got = p.pick(qx, qy)
        assert got["rows"] == int(reference[column, row])
        assert sum(got.get("categories", {}).values()) == got["rows"]
    p.close()


def test_selection_is_a_lazy_relation_of_the_rows_in_the_box(rng, session):
    n = 50_000
    frame = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n), "id": np.arange(n)})
    p = pk.scatter(frame, "x", "y", session=session)
    before = p.to_array()
    for _ in range(5):
        x = tuple(sorted(rng.uniform(-2, 2, 2)))
        y = tuple(sorted(rng.uniform(-2, 2, 2)))
        p.select(x=x, y=y)
        inside = (frame.x >= x[0]) & (frame.x <= x[1]) & (frame.y >= y[0]) & (frame.y <= y[1])
        assert len(p.selection.fetchall()) == int(inside.sum())
        assert p.selection_bounds == {"x": list(x), "y": list(y), "polygon": None}
    assert not np.array_equal(p.to_array(), before), "the selection is highlighted"
    p.clear_selection()
    assert p.selection is None and p.selection_bounds == {"x": None, "y": None, "polygon": None}
    np.testing.assert_array_equal(p.to_array(), before)
    with pytest.raises(ValueError, match="finite"):
        p.select(x=(0.0, float("nan")))
    p.close()


def inside_polygon(x, y, polygon):
    """Even-odd rule by brute force (an independent ray cast in numpy)."""
    inside = np.zeros(x.shape, bool)
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if y0 == y1:
            continue
        crosses = ((y0 > y) != (y1 > y)) & (x < (x1 - x0) * (y - y0) / (y1 - y0) + x0)
        inside ^= crosses
    return inside


def test_lasso_selects_the_rows_inside_the_polygon(rng, session):
    n = 40_000
    frame = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    p = pk.scatter(frame, "x", "y", session=session)
    p.to_array()
    for vertices in (3, 7, 40):
        angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
        radii = rng.uniform(0.3, 2.0, vertices)
        polygon = [(float(r * np.cos(a)), float(r * np.sin(a))) for a, r in zip(angles, radii, strict=True)]
        p.select(polygon=polygon)
        expected = int(inside_polygon(frame.x.to_numpy(), frame.y.to_numpy(), polygon).sum())
        assert len(p.selection.fetchall()) == expected
        assert p.selection_bounds["polygon"] == [list(v) for v in polygon]
    layout = p.controller.layout()
    area, ratio = layout.area, layout.spec.ratio
    corners = [
        (area.left + 20, area.top + 20),
        (area.left + 300, area.top + 40),
        (area.left + 150, area.top + 260),
    ]
    send(p, type="pikaplot_lasso", points=[[cx / ratio, cy / ratio] for cx, cy in corners])
    polygon = [(layout.px_to_x(cx), layout.px_to_y(cy)) for cx, cy in corners]
    expected = int(inside_polygon(frame.x.to_numpy(), frame.y.to_numpy(), polygon).sum())
    assert len(p.selection.fetchall()) == expected
    p.x_range, p.y_range = (-(2.0**1020), 2.0**1020), (-(2.0**1020), 2.0**1020)
    p.to_array()
    send(p, type="pikaplot_lasso", points=[[0, 0], [1e6, 0], [1e6, 1e6], [0, 1e6]])  # past the area
    assert len(p.selection.fetchall()) == n, "a lasso clipped to the plot area holds every row"
    assert all(math.isfinite(v) for vertex in p.selection_bounds["polygon"] for v in vertex)
    for bad in [[[1, 2]], [[1, "2"], [3, 4], [5, 6]], "points", [[1, 2]] * 300]:
        send(p, type="pikaplot_lasso", points=bad)
    assert p.stats["events_dropped"] == 4
    with pytest.raises(ValueError, match="3 to 256"):
        p.select(polygon=[(0, 0), (1, 1)])
    p.close()


def test_box_messages_zoom_and_select(rng, session):
    n = 20_000
    frame = pd.DataFrame({"x": rng.uniform(0, 10, n), "y": rng.uniform(0, 10, n)})
    session.connection.register("pts", frame)
    p = pk.scatter(frame, "x", "y", session=session, width=600, height=500)
    p.to_array()
    area, ratio = p.controller.layout().area, p.controller.layout().spec.ratio
    left, top = area.left / ratio, area.top / ratio
    span_x = p.x_range[1] - p.x_range[0]
    send(p, type="pikaplot_box", mode="zoom", x0=left + 50, y0=top + 40, x1=left + 250, y1=top + 200)
    p.to_array()
    assert p.x_range[1] - p.x_range[0] < span_x * 0.5 and p.y_range[1] - p.y_range[0] < 10 * 0.5
    layout = p.controller.layout()
    send(p, type="pikaplot_box", mode="select", x0=left + 10, y0=top + 10, x1=left + 100, y1=top + 90)
    x0, x1 = sorted(layout.px_to_x(v * ratio) for v in (left + 10, left + 100))
    y0, y1 = sorted(layout.px_to_y(v * ratio) for v in (top + 10, top + 90))
    direct = session.connection.execute(
        "SELECT count(*) FROM pts WHERE x BETWEEN ? AND ? AND y BETWEEN ? AND ?", [x0, x1, y0, y1]
    ).fetchone()[0]
    assert len(p.selection.fetchall()) == direct
    for bad in [{"mode": "zoom", "x0": "1; DROP TABLE pts", "y0": 0, "x1": 5, "y1": 5}, {"mode": "drop"}]:
        send(p, type="pikaplot_box", **bad)
    assert p.stats["events_dropped"] == 2
    assert session.connection.execute("SELECT count(*) FROM pts").fetchone() == (n,)
    p.close()


def test_keys_zoom_and_pan(rng, session):
    frame = pd.DataFrame({"x": np.arange(10_000.0), "y": rng.normal(size=10_000)})
    p = pk.line(frame, "x", "y", session=session)
    p.to_array()
    lo, hi = p.x_range
    send(p, type="key_down", key="+")
    p.to_array()
    assert p.x_range[1] - p.x_range[0] == pytest.approx((hi - lo) / 2**0.5)
    span = p.x_range[1] - p.x_range[0]
    start = p.x_range[0]
    send(p, type="key_down", key="ArrowRight")
    p.to_array()
    assert p.x_range[0] == pytest.approx(start + 0.1 * span)
    send(p, type="key_down", key="Escape")
    p.to_array()
    assert p.x_range == (lo, hi)
    p.close()


def test_drawn_points_round_trip_through_arrow(rng, session):
    frame = pd.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500), "c": rng.uniform(size=500)})
    p = pk.scatter(frame, "x", "y", color="c", session=session)
    p.to_array()
    _, drawn = p.controller.drawn
    payload = encode_ipc(drawn.table())
    back = pa.ipc.open_stream(io.BytesIO(payload)).read_all()
    assert back.num_rows == 500
    np.testing.assert_array_equal(np.sort(back.column("x").to_numpy()), np.sort(frame.x.to_numpy()))
    np.testing.assert_array_equal(back.column("px").to_numpy(), drawn.px.astype(np.float32))
    assert set(back.column_names) >= {"px", "py", "x", "y", "index", "color"}
    p.close()


def test_linked_plots_follow_each_other_without_a_loop(rng, session):
    frame = pd.DataFrame({"x": np.arange(5000.0), "y": rng.normal(size=5000)})
    a = pk.line(frame, "x", "y", session=session)
    b = pk.line(frame, "x", "y", session=session)
    a.to_array(), b.to_array()
    link = pk.link(a, b, x=True)
    a.x_range = (100.0, 200.0)
    assert b.x_range == (100.0, 200.0)
    b.x_range = (300.0, 900.0)
    assert a.x_range == (300.0, 900.0)
    link.unlink()
    selections = pk.link(a, b, x=False, selection=True)
    a.select(x=(1000.0, 2000.0))
    assert b.selection_bounds["x"] == [1000.0, 2000.0] and len(b.selection.fetchall()) == 1001
    a.clear_selection()
    assert b.selection is None
    selections.unlink()
    a.x_range = (1.0, 2.0)
    assert b.x_range == (300.0, 900.0)
    with pytest.raises(ValueError, match="two plots"):
        pk.link(a)
    a.close(), b.close()
