"""GPU-resident points: frames per second for compute-shader density.

For each size, points are uploaded once to GPU buffers (`render.resident.ResidentPoints`); then at
each resolution every frame is rendered and read back as a numpy array:

- density: a compute shader bins the points of the view into the pixel grid (atomics), the counts
  come back, are histogram-equalised, and the GPU colour-maps them into the frame.

Views zoom in steadily (1x to 8x) around the data's centre so no two frames are the same.

    python benchmarks/gpu_scatter.py --sizes 1e7,1e8 --frames 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from pikaplot_widget.core import colors
from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.device import gpu_info
from pikaplot_widget.render.layers.image import ImageLayer, indexed_image
from pikaplot_widget.render.resident import ResidentPoints

BATCH = 4_000_000


def generate(points: ResidentPoints, n: int, seed: int = 42) -> float:
    """Upload n clustered points in batches; return the seconds spent uploading."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 4.0], [-2.0, 2.5]])
    spent = 0.0
    for start in range(0, n, BATCH):
        m = min(BATCH, n - start)
        which = rng.integers(0, len(centres), m)
        xy = centres[which] + rng.normal(0.0, 0.8, (m, 2))
        started = time.perf_counter()
        points.append(xy[:, 0], xy[:, 1])
        spent += time.perf_counter() - started
    started = time.perf_counter()
    points.finish()
    return spent + time.perf_counter() - started


def views(extent: tuple[float, float, float, float], frames: int) -> list[tuple[float, float, float, float]]:
    """Boxes zooming from the whole extent to 1/8 of it around the centre."""
    x0, x1, y0, y1 = extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    out = []
    for i in range(frames):
        zoom = 8.0 ** (i / max(frames - 1, 1))
        hw, hh = (x1 - x0) / 2 / zoom, (y1 - y0) / 2 / zoom
        out.append((cx - hw, cx + hw, cy - hh, cy + hh))
    return out


def time_frames(draw: object, boxes: list, repeat_first: bool = True) -> list[float]:
    """Milliseconds per frame (the first frame is a warm-up: pipelines are compiled then)."""
    if repeat_first:
        draw(boxes[0])  # type: ignore[operator]
    out = []
    for box in boxes:
        started = time.perf_counter()
        draw(box)  # type: ignore[operator]
        out.append((time.perf_counter() - started) * 1000)
    return out


def _density_drawer(
    points: ResidentPoints, canvas: Canvas, rect: tuple, table: np.ndarray, bin_ms: list[float]
) -> object:
    """The frame function for one canvas: compute-shader density, colour-mapped on the GPU."""
    width, height = rect[2], rect[3]

    def density(box: tuple) -> None:
        started = time.perf_counter()
        counts = points.bin(box, width, height)
        bin_ms.append((time.perf_counter() - started) * 1000)
        image = indexed_image(*colors.Scale.fit(counts, "eq_hist").color_indices(counts))
        canvas.draw([ImageLayer(np.flipud(image), 0, 0, table)])

    return density


def end_to_end(size: int, frames: int) -> None:
    """pk.scatter over a DuckDB table: first frame and zooms, with the path the plot chose."""
    import pikaplot_widget as pk
    from pikaplot_widget.core.viewport import Range, Viewport
    from pikaplot_widget.engine import cache

    session = pk.Session()
    session.connection.execute(
        "CREATE TABLE pts AS SELECT x, y FROM (SELECT (i % 4) AS c, sqrt(-2 * ln(random())) AS r, "
        "2 * pi() * random() AS t FROM range(?) s(i)), LATERAL (SELECT "
        "[0.0, 3.0, 1.0, -2.0][c + 1] + 0.8 * r * cos(t) AS x, "
        "[0.0, 1.0, 4.0, 2.5][c + 1] + 0.8 * r * sin(t) AS y)",
        [size],
    )
    started = time.perf_counter()
    plot = pk.scatter("pts", "x", "y", session=session)
    plot.to_array(timeout=600)
    first = (time.perf_counter() - started) * 1000
    stats = plot.stats
    times = []
    x0, x1 = plot.x_range
    y0, y1 = plot.y_range
    for box in views((x0, x1, y0, y1), frames):
        cache.results.shrink_to(0)
        started = time.perf_counter()
        plot.controller.set_view(Viewport(Range(box[0], box[1]), Range(box[2], box[3]), y_auto=False))
        plot.to_array(timeout=600)
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"\n# pk.scatter, {size:,} rows in DuckDB: first frame {first:.0f} ms "
        f"(extent {stats['extent_s'] * 1000:.0f}, "
        f"upload/index {stats['index_s'] * 1000:.0f}); zoom 1x-8x p50 / p95 {statistics.median(times):.1f} / "
        f"{np.percentile(times, 95):.1f} ms; served from {plot.stats['view_source']} "
        f"(gpu points {plot.stats['gpu_points']:,}, index grid {plot.stats['index_grid']})"
    )
    plot.close()
    session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7,1e8")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--resolutions", default="800x600,1920x1080")
    parser.add_argument("--end-to-end", default="", help="sizes for pk.scatter from DuckDB, e.g. 1e8")
    args = parser.parse_args()
    info = gpu_info()
    print(f"# GPU-resident scatter: {info['device']} ({info['adapter_type']}, {info['backend']})")
    print("# ms per frame, rendered and read back into numpy; fps = 1000 / median\n")
    print("| points | resolution | upload s | density bin median ms | density frame median / p95 ms (fps) |")
    print("|---:|---|---:|---:|---:|")
    table = colors.colormap("viridis")
    for size in [int(float(s)) for s in args.sizes.split(",")]:
        extent = (-5.0, 7.0, -4.0, 8.0)
        points = ResidentPoints(extent)
        upload = generate(points, size)
        for resolution in args.resolutions.split(","):
            width, height = (int(v) for v in resolution.split("x"))
            canvas = Canvas(width, height)
            rect = (0, 0, width, height)
            boxes = views(extent, args.frames)
            bin_ms: list[float] = []
            density = _density_drawer(points, canvas, rect, table, bin_ms)
            density_ms = time_frames(density, boxes)
            check = points.bin(extent, width, height)
            assert int(check.sum()) <= size
            d = statistics.median(density_ms)
            p95 = float(np.percentile(density_ms, 95))
            bin_median = statistics.median(bin_ms[1:])
            print(
                f"| {size:,} | {width}x{height} | {upload:.1f} | "
                f"{bin_median:.1f} | {d:.1f} / {p95:.1f} ({1000 / d:.1f}) |"
            )
            canvas.destroy()
        points.release()
    for size in [int(float(s)) for s in args.end_to_end.split(",") if s]:
        end_to_end(size, args.frames)


if __name__ == "__main__":
    main()
