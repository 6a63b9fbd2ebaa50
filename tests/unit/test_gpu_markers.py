"""Markers drawn straight from GPU-resident points against the uploaded-records path."""

from __future__ import annotations

import numpy as np

from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.layers.points import PointLayer, pack_points
from pikaplot_widget.render.layers.resident_markers import ResidentMarkerLayer
from pikaplot_widget.render.layers.resident_splat import ResidentSplatLayer
from pikaplot_widget.render.resident import ResidentPoints


def test_resident_markers_draw_what_uploaded_records_draw(rng, monkeypatch):
    from pikaplot_widget.render import resident

    monkeypatch.setattr(resident, "CHUNK_POINTS", 1500)  # several chunks, one draw each
    n = 4000
    x = rng.normal(0.0, 1.0, n)
    y = rng.normal(0.0, 0.6, n)
    extent = (-5.0, 5.0, -3.0, 3.0)
    points = ResidentPoints(extent)
    points.append(x, y)
    points.finish()
    assert len(points.chunks) == 3
    rect = (20, 10, 150, 100)  # left, top, width, height
    color = (31, 119, 180, 200)
    canvas = Canvas(200, 130)
    try:
        for box in [extent, (-1.0, 0.5, -0.4, 0.8)]:
            frame = canvas.draw([ResidentMarkerLayer(points, box, rect, color, 2.5)])
            left, top, w, h = rect
            px = left + (x - box[0]) / (box[1] - box[0]) * w
            py = top + h - (y - box[2]) / (box[3] - box[2]) * h
            records = pack_points(np.column_stack([px, py]), 2.5, np.array(color, np.uint8))
            expected = canvas.draw([PointLayer(records, rect)])
            diff = np.abs(frame.astype(np.int16) - expected.astype(np.int16))
            # float32 relative coordinates move edges by < 1e-4 px: anti-aliased edges differ slightly
            assert diff.max() <= 8
            assert diff.mean() <= 0.05
            assert (expected[..., :3] < 250).any(axis=2).sum() > 500  # markers were drawn at all
            outside = np.ones(frame.shape[:2], bool)
            outside[top : top + h, left : left + w] = False
            assert frame[outside].min() == 255  # clipped to the rectangle
    finally:
        canvas.destroy()
        points.release()


def test_released_points_draw_nothing():
    points = ResidentPoints((0.0, 1.0, 0.0, 1.0))
    points.append(np.array([0.5]), np.array([0.5]))
    points.finish()
    points.release()
    canvas = Canvas(40, 30)
    try:
        layer = ResidentMarkerLayer(points, (0.0, 1.0, 0.0, 1.0), (0, 0, 40, 30), (0, 0, 0, 255), 3)
        frame = canvas.draw([layer])
    finally:
        canvas.destroy()
    assert frame.min() == 255


def test_splatted_markers_equal_blended_markers_but_for_8_bit_rounding(rng):
    n = 20_000  # dense enough that cluster centres saturate
    x = np.concatenate([rng.normal(0.0, 0.3, n), rng.uniform(-5, 5, 500)])
    y = np.concatenate([rng.normal(0.0, 0.2, n), rng.uniform(-3, 3, 500)])
    points = ResidentPoints((-5.0, 5.0, -3.0, 3.0))
    points.append(x, y)
    points.finish()
    rect = (20, 10, 150, 100)
    color = (200, 60, 20, 180)
    canvas = Canvas(200, 130)
    try:
        for box, radius in [
            ((-5.0, 5.0, -3.0, 3.0), 2.5),
            ((-1.0, 0.5, -0.4, 0.8), 1.5),
            ((-2, 2, -2, 2), 4.0),
        ]:
            splat = canvas.draw([ResidentSplatLayer(points, box, rect, color, radius)])
            blended = canvas.draw([ResidentMarkerLayer(points, box, rect, color, radius, instanced=True)])
            diff = np.abs(splat.astype(np.int16) - blended.astype(np.int16))
            assert diff.max() <= 4  # the raster path rounds to 8 bits after every blend
            assert diff.mean() <= 0.3
            assert (blended[..., 1] < 200).sum() > 1000  # plenty drawn
    finally:
        canvas.destroy()
        points.release()
