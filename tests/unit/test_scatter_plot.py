"""pk.scatter end to end: DuckDB → markers or density → wgpu frame, with real jupyter_rfb events."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

import pikaplot_widget as pk
from pikaplot_widget.core import colors
from pikaplot_widget.core.viewport import Range, Viewport
from tests.unit.events import send


def not_white(frame: np.ndarray) -> np.ndarray:
    return (frame[..., :3].astype(int).sum(axis=2)) < 740


@pytest.fixture
def clusters(rng):
    n = 60_000
    centres = np.array([[0, 0], [4, 1], [1, 5]])
    which = rng.integers(0, 3, n)
    xy = centres[which] + rng.normal(0, 0.6, (n, 2))
    return pd.DataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "group": np.array(["p", "q", "r"])[which], "v": xy[:, 0] * xy[:, 1]}
    )


def test_markers_land_on_their_pixels(session):
    points = pd.DataFrame({"x": [0.0, 1.0, 2.5, 7.0, 10.0], "y": [0.0, 3.0, 1.0, 9.0, 10.0]})
    p = pk.scatter(points, "x", "y", session=session, size=6)
    frame = p.to_array()
    assert p.mode == "markers"
    layout = p.controller.layout()
    mask = not_white(frame)
    px = np.asarray(layout.x_to_px(points.x.to_numpy()))
    py = np.asarray(layout.y_to_px(points.y.to_numpy()))
    for x, y in zip(px, py, strict=True):
        assert mask[int(y), int(x)], (x, y)
        colour = frame[int(y), int(x), :3].astype(int)
        assert colour[2] - colour[0] > 60  # the series blue
    # A pixel of the plot area away from every marker stays background.
    area = layout.area
    far = (area.top + area.height // 2 + 37, area.left + 13)
    assert not mask[far]
    p.close()


def test_density_mode_switches_with_the_rows_in_view(clusters, session):
    p = pk.scatter(clusters, "x", "y", session=session, marker_limit=5_000)
    frame = p.to_array()
    assert p.mode == "density"
    assert p.stats["rows_in_view"] == len(clusters)
    area = p.controller.layout().area
    inside = frame[area.top : area.bottom, area.left : area.right]
    assert not_white(inside).mean() > 0.1
    # Zoomed far in around one cluster, few rows are in view: markers.
    p.controller.set_view(Viewport(Range(-0.05, 0.05), Range(-0.05, 0.05), y_auto=False))
    p.to_array()
    assert p.mode == "markers"
    inside_box = ((clusters.x.abs() <= 0.05) & (clusters.y.abs() <= 0.05)).sum()
    assert p.stats["rows_in_view"] == inside_box
    p.reset()
    p.to_array()
    assert p.mode == "density"
    p.close()


def test_density_image_shows_the_counts(session, rng):
    # Two blocks: 9x more rows on the left; linear normalization makes the left one brighter.
    left = pd.DataFrame({"x": rng.uniform(0, 1, 90_000), "y": rng.uniform(0, 1, 90_000)})
    right = pd.DataFrame({"x": rng.uniform(2, 3, 10_000), "y": rng.uniform(0, 1, 10_000)})
    data = pd.concat([left, right])
    p = pk.scatter(
        data, "x", "y", session=session, marker_limit=1000, normalization="linear", colormap="inferno",
        width=200, height=160,
    )  # fmt: skip
    frame = p.to_array()
    layout = p.controller.layout()
    y_lo, y_hi = int(layout.y_to_px(0.7)), int(layout.y_to_px(0.3))
    bright_left = frame[y_lo:y_hi, int(layout.x_to_px(0.3)) : int(layout.x_to_px(0.7)), :3]
    bright_right = frame[y_lo:y_hi, int(layout.x_to_px(2.3)) : int(layout.x_to_px(2.7)), :3]
    assert not_white(bright_left).all() and not_white(bright_right).mean() > 0.95  # pixels have rows
    luma = np.array([0.2126, 0.7152, 0.0722])
    assert (bright_left @ luma).mean() > (bright_right @ luma).mean() + 40
    gap = frame[y_lo:y_hi, int(layout.x_to_px(1.3)) : int(layout.x_to_px(1.7)), :3]
    assert (gap.astype(int).sum(axis=2) > 600).all()  # no rows: background and light grid only
    p.close()


def legend_region(frame, layout):
    area = layout.area
    return frame[area.top : area.bottom, area.right + 2 :, :3].reshape(-1, 3)


def has_colour(pixels: np.ndarray, rgb, tolerance=6) -> bool:
    return bool((np.abs(pixels.astype(int) - np.asarray(rgb, int)).max(axis=1) <= tolerance).any())


def test_colour_bar_for_numeric_colour(clusters, session):
    for limit in (10**6, 1000):  # markers, then density
        p = pk.scatter(clusters, "x", "y", color="v", session=session, marker_limit=limit)
        frame = p.to_array()
        region = legend_region(frame, p.controller.layout())
        table = colors.colormap("viridis")
        assert has_colour(region, table[0, :3]) and has_colour(region, table[-1, :3])
        assert has_colour(region, table[128, :3])
        p.close()


def test_legend_for_categories(clusters, session):
    for limit in (10**6, 1000):
        p = pk.scatter(clusters, "x", "y", color="group", session=session, marker_limit=limit)
        frame = p.to_array()
        region = legend_region(frame, p.controller.layout())
        for rgb in colors.palette(3)[:3]:
            assert has_colour(region, rgb, tolerance=2)
        area = p.controller.layout().area
        inside = frame[area.top : area.bottom, area.left : area.right, :3].reshape(-1, 3)
        # the clusters show their own colours in the plot
        for rgb in colors.palette(3)[:3]:
            assert has_colour(inside, rgb, tolerance=40)
        p.close()


def test_invalid_coordinates_are_skipped_and_counted(session, rng):
    n = 5000
    x = rng.normal(size=n)
    y = rng.normal(size=n)
    x[:10] = np.nan
    y[10:15] = np.inf
    y[15:17] = -np.inf
    df = pd.DataFrame({"x": x, "y": y})
    df.loc[17:19, "x"] = None
    p = pk.scatter(df, "x", "y", session=session)
    p.to_array()
    assert p.stats["skipped_rows"] == 20
    assert p.stats["rows_in_view"] == n - 20
    assert p.controller.error is None
    p.close()


def test_bad_input_gets_clear_errors(clusters, session):
    with pytest.raises(ValueError, match="available columns"):
        pk.scatter(clusters, "x", "nope", session=session)
    with pytest.raises(TypeError, match="numeric"):
        pk.scatter(clusters, "x", "group", session=session)
    with pytest.raises(TypeError, match="numeric"):
        pk.scatter(clusters, "x", "y", size="group", session=session)
    with pytest.raises(ValueError, match="colormap"):
        pk.scatter(clusters, "x", "y", colormap="jet", session=session)
    with pytest.raises(ValueError, match="normalization"):
        pk.scatter(clusters, "x", "y", normalization="cbrt", session=session)
    with pytest.raises(duckdb.Error):
        pk.scatter("SELECT x, y FROM missing_table", "x", "y", session=session)


def test_empty_table_says_no_data(session):
    p = pk.scatter("SELECT 1.0::DOUBLE AS x, 2.0::DOUBLE AS y WHERE false", "x", "y", session=session)
    frame = p.to_array()
    assert p.controller.error is None
    assert p.stats["rows"] == 0
    assert frame.shape == (600, 800, 4)
    p.close()


def test_query_error_shows_in_place(session):
    # An error raised when the rows are read (not at validation): the plot shows it, the kernel lives.
    sql = (
        "SELECT i::DOUBLE AS x, CASE WHEN i > 5 THEN error('boom at row ' || i) ELSE 1.0 END AS y "
        "FROM range(10) t(i)"
    )
    p = pk.scatter(sql, "x", "y", session=session)
    with pytest.raises(pk.PlotError, match="boom at row"):
        p.to_array()
    frame = p.get_frame()
    assert p.controller.error is not None
    assert "boom at row" in p.controller.error
    assert frame.shape == (600, 800, 4)
    pixels = frame[..., :3].astype(int)
    reddish = (pixels[..., 0] - pixels[..., 2] > 80) & (pixels[..., 0] > 120)
    assert reddish.sum() > 50  # the message is drawn in the plot, in the error colour
    p.close()


def test_x_range_alone_takes_y_from_the_data(clusters, session):
    p = pk.scatter(clusters, "x", "y", session=session, x_range=(-1.0, 1.0))
    p.to_array()
    assert p.x_range == (-1.0, 1.0)
    lo, hi = p.y_range
    assert lo < clusters.y.min()
    assert hi > clusters.y.max()  # fitted to the data, not (0, 1)
    assert p.stats["rows_in_view"] == ((clusters.x >= -1) & (clusters.x <= 1)).sum()
    p.close()
    q = pk.scatter(clusters, "x", "y", session=session, y_range=(3.0, 6.0))
    q.to_array()
    assert q.y_range == (3.0, 6.0)
    assert q.x_range[0] < clusters.x.min()
    q.close()


def test_wheel_zooms_both_axes_and_drag_pans(clusters, session):
    p = pk.scatter(clusters, "x", "y", session=session)
    p.to_array()
    layout = p.controller.layout()
    area, ratio = layout.area, layout.spec.ratio
    x_css = (area.left + area.width * 0.25) / ratio
    y_css = (area.top + area.height * 0.75) / ratio
    anchor = (layout.px_to_x(x_css * ratio), layout.px_to_y(y_css * ratio))
    x0, y0 = p.x_range, p.y_range
    send(p, type="wheel", x=x_css, y=y_css, dx=0, dy=-300, modifiers=[], buttons=[])
    p.to_array()
    x1, y1 = p.x_range, p.y_range
    assert x1[1] - x1[0] < (x0[1] - x0[0]) * 0.8
    assert y1[1] - y1[0] < (y0[1] - y0[0]) * 0.8
    assert (anchor[0] - x1[0]) / (x1[1] - x1[0]) == pytest.approx(0.25, abs=1e-6)
    assert (y1[1] - anchor[1]) / (y1[1] - y1[0]) == pytest.approx(0.75, abs=1e-6)
    # Shift zooms y only.
    send(p, type="wheel", x=x_css, y=y_css, dx=0, dy=-300, modifiers=["Shift"], buttons=[])
    p.to_array()
    assert p.x_range == x1 and p.y_range[1] - p.y_range[0] < (y1[1] - y1[0]) * 0.8
    x2, y2 = p.x_range, p.y_range
    area = p.controller.layout().area  # the y labels may have changed the margin
    send(p, type="pointer_down", x=400, y=300, button=1, buttons=[1], modifiers=[])
    send(p, type="pointer_move", x=300, y=350, button=0, buttons=[1], modifiers=[])
    send(p, type="pointer_up", x=300, y=350, button=1, buttons=[], modifiers=[])
    p.to_array()
    assert p.x_range[0] == pytest.approx(x2[0] + 100 * ratio / area.width * (x2[1] - x2[0]))
    assert p.y_range[0] == pytest.approx(y2[0] + 50 * ratio / area.height * (y2[1] - y2[0]))
    send(p, type="double_click", x=300, y=250, button=1, buttons=[], modifiers=[])
    p.to_array()
    assert p.x_range == x0 and p.y_range == y0
    p.close()


def test_closing_mid_query_is_clean(session):
    slow = "SELECT (i * 7919 % 1000003)::DOUBLE AS x, sin(i)::DOUBLE AS y FROM range(30000000) t(i)"
    p = pk.scatter(slow, "x", "y", session=session)
    p.close()  # while the extent scan or the index build runs
    assert p.controller.closed
    again = pk.scatter(pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]}), "x", "y", session=session)
    assert again.to_array().shape == (600, 800, 4)
    again.close()


LEAK_CHECK = """
import contextlib, ctypes, gc, json, sys
import numpy as np, pandas as pd, psutil
import pikaplot_widget as pk
from pikaplot_widget.render.buffers import buffer_pool

def settled_rss():
    # RSS after collection, with freed heap pages handed back (glibc): less allocator noise
    gc.collect()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return psutil.Process().memory_info().rss / 2**20

rng = np.random.default_rng(7)
n = 60_000
df = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n), "g": rng.choice(["p", "q", "r"], n)})
session = pk.Session()

def cycle(i):
    if i % 3 == 0:  # x/y kept on the GPU (a compute shader bins each view), then freed on close
        p = pk.scatter(df, "x", "y", session=session, marker_limit=1000, gpu_points="always")
    else:
        p = pk.scatter(df, "x", "y", color="g", session=session, marker_limit=1000 if i % 2 else 10**6)
    p.to_array()
    p.close()

for i in range(20):  # warm up: shaders, glyph atlas, pooled size classes, allocator arenas
    cycle(i)
pool = buffer_pool()
free_before = pool.stats.bytes_free
samples = []
for i in range(100):
    cycle(i)
    if i % 5 == 4:
        samples.append(settled_rss())
print(json.dumps({"samples": samples, "in_use": pool.stats.bytes_in_use,
                  "free_before": free_before, "free_after": pool.stats.bytes_free}))
"""


def test_no_leak_over_100_plots():
    # A fresh process, so that other tests' memory does not blur the trend.
    result = subprocess.run(
        [sys.executable, "-c", LEAK_CHECK], capture_output=True, text=True, timeout=600, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["in_use"] == 0
    assert report["free_after"] <= max(report["free_before"], 1) * 2
    samples = report["samples"]  # allocator noise here is about +-40 MiB; a 2 MiB/plot leak adds 120+
    early, late = min(samples[:7]), min(samples[-7:])
    assert late - early < 60, f"RSS floor rose by {late - early:.0f} MiB over 100 plots: {samples}"
    grew = float(np.median(samples[-7:]) - np.median(samples[:7]))
    assert grew < 60, f"median RSS rose by {grew:.0f} MiB over 100 plots: {samples}"


def test_gpu_points_path_matches_the_duckdb_path(clusters, session):
    # On a real GPU "auto" picks it; here it is forced, on lavapipe, to check it draws the same.
    gpu = pk.scatter(clusters, "x", "y", session=session, marker_limit=1000, gpu_points="always")
    cpu = pk.scatter(clusters, "x", "y", session=session, marker_limit=1000, gpu_points="never")
    for p in (gpu, cpu):
        p.to_array()
    assert gpu.stats["gpu_points"] == len(clusters) and gpu.stats["view_source"] == "gpu"
    assert cpu.stats["gpu_points"] == 0 and cpu.stats["view_source"] == "rows"
    a = gpu.controller.data.grid.counts
    b = cpu.controller.data.grid.counts
    assert a.shape == b.shape and a.sum() == b.sum()
    assert np.abs(a - b).sum() <= 4  # float32 positions on the GPU: rows on a bin edge may move
    view = Viewport(Range(-0.05, 0.05), Range(-0.05, 0.05), y_auto=False)
    for p in (gpu, cpu):
        p.controller.set_view(view)
        p.to_array()
    assert gpu.mode == cpu.mode == "markers"
    assert gpu.stats["rows_in_view"] == cpu.stats["rows_in_view"]
    with pytest.raises(ValueError, match="gpu_points"):
        pk.scatter(clusters, "x", "y", session=session, gpu_points="sometimes")
    gpu.close()
    cpu.close()


def test_memory_pressure_drops_the_density_index_and_views_stay_exact(session):
    from pikaplot_widget.runtime.memory import monitor

    session.connection.execute(
        "CREATE TABLE many AS SELECT random() AS x, random() * random() AS y FROM range(2100000)"
    )
    p = pk.scatter("many", "x", "y", session=session, gpu_points="never")  # the index, even on a GPU
    p.to_array()
    assert p.stats["index_grid"] > 0 and p.stats["view_source"] == "index"
    usage = {"value": 0.9}
    original = (monitor.thresholds, monitor.target, monitor.reader)
    try:
        monitor.configure(reader=lambda: usage["value"])
        assert monitor.check() == "orange"
        assert monitor.evictions[-1].freed["density indexes"] > 0
    finally:
        monitor.configure(thresholds=original[0], target=original[1], reader=original[2])
    assert p.stats["index_grid"] == 0 and p.stats["indexes_dropped"] == 1
    p.controller.set_view(Viewport(Range(0.1, 0.9), Range(0.0, 0.5), y_auto=False))
    p.to_array()
    assert p.mode == "density" and p.stats["view_source"] == "rows"
    assert p.controller.data.grid.exact
    inside = session.connection.execute(
        "SELECT count(*) FROM many WHERE x BETWEEN 0.1 AND 0.9 AND y BETWEEN 0.0 AND 0.5"
    ).fetchone()[0]
    assert p.stats["rows_in_view"] == inside
    p.close()
