"""GPU-resident points: frames per second for density and markers, before and after issue 12.

Points are uploaded once to GPU buffers (`render.resident.ResidentPoints`); then at each
resolution every frame is rendered and read back as a numpy array. Each view zooms in a little
more (1x to 8x around the data's centre), so no two frames are the same.

Density (eq_hist, as a scatter plot draws it):
- before: the compute shader bins the points, the counts come back, the CPU equalises them
  (Scale.fit + color_indices), packs an index image and uploads it as a texture for the frame;
- after: one submission bins, equalises (histogram, prefix sum, colour index) and leaves the index
  on the GPU; the frame looks the colours up there (`render.equalize`, `layers.density`).
Markers (every point a round marker of one colour, radius --radius px):
- before: an instance of six vertices per point from the resident buffers (the first version);
  `records`: the uploaded-records path (`PointLayer`: packed on the CPU, uploaded every frame);
- raster: six vertices per point in one plain draw per chunk, points outside the view skipped;
- splat: a compute shader adds each marker's opacity per pixel, order-free (`layers.resident_splat`).

    python benchmarks/gpu_scatter.py --sizes 1e8 --marker-sizes 1e7 --frames 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from pikaplot_widget.core import colors
from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.device import gpu_info
from pikaplot_widget.render.layers.base import Layer
from pikaplot_widget.render.layers.density import DensityLayer
from pikaplot_widget.render.layers.image import ImageLayer, indexed_image
from pikaplot_widget.render.layers.points import PointLayer, pack_points
from pikaplot_widget.render.layers.resident_markers import ResidentMarkerLayer
from pikaplot_widget.render.layers.resident_splat import ResidentSplatLayer
from pikaplot_widget.render.resident import ResidentPoints

BATCH = 4_000_000
RECORDS_PER_LAYER = 4_000_000
EXTENT = (-5.0, 7.0, -4.0, 8.0)
CENTRES = np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 4.0], [-2.0, 2.5]])
Box = tuple[float, float, float, float]
Steps = dict[str, list[float]]


def clustered(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n points around four centres (the same data as the DuckDB end-to-end run)."""
    rng = np.random.default_rng(seed)
    xy = CENTRES[rng.integers(0, len(CENTRES), n)] + rng.normal(0.0, 0.8, (n, 2))
    return xy[:, 0], xy[:, 1]


def generate(points: ResidentPoints, n: int, seed: int = 42) -> float:
    """Upload n clustered points in batches; return the seconds spent uploading."""
    spent = 0.0
    for start in range(0, n, BATCH):
        x, y = clustered(min(BATCH, n - start), seed + start)
        started = time.perf_counter()
        points.append(x, y)
        spent += time.perf_counter() - started
    started = time.perf_counter()
    points.finish()
    return spent + time.perf_counter() - started


def views(extent: Box, frames: int) -> list[Box]:
    """Boxes zooming from the whole extent to 1/8 of it around the centre."""
    x0, x1, y0, y1 = extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    out = []
    for i in range(frames):
        zoom = 8.0 ** (i / max(frames - 1, 1))
        hw, hh = (x1 - x0) / 2 / zoom, (y1 - y0) / 2 / zoom
        out.append((cx - hw, cx + hw, cy - hh, cy + hh))
    return out


def time_frames(draw: Callable[[Box], None], boxes: list[Box]) -> list[float]:
    """Milliseconds per frame (a first, untimed frame compiles the pipelines)."""
    draw(boxes[0])
    out = []
    for box in boxes:
        started = time.perf_counter()
        draw(box)
        out.append((time.perf_counter() - started) * 1000)
    return out


class Stopwatch:
    """Milliseconds per named step, per frame."""

    def __init__(self) -> None:
        self.steps: Steps = {}
        self._at = 0.0

    def start(self) -> None:
        """Begin a frame."""
        self._at = time.perf_counter()

    def lap(self, name: str) -> None:
        """Close the step `name`."""
        now = time.perf_counter()
        self.steps.setdefault(name, []).append((now - self._at) * 1000)
        self._at = now

    def summary(self) -> str:
        """'step median ms' for each step (warm-up frame left out)."""
        return ", ".join(f"{name} {statistics.median(ms[1:] or ms):.1f}" for name, ms in self.steps.items())


def density_before(points: ResidentPoints, canvas: Canvas, table: np.ndarray, watch: Stopwatch) -> Callable:
    """The CPU path: bin on the GPU, read the counts back, eq_hist and pack on the CPU, upload."""
    width, height = canvas.width, canvas.height

    def frame(box: Box) -> None:
        watch.start()
        counts = points.bin(box, width, height)
        watch.lap("bin+readback")
        index, occupied = colors.Scale.fit(counts, "eq_hist").color_indices(counts)
        watch.lap("eq_hist cpu")
        image = np.flipud(indexed_image(index, occupied))
        watch.lap("pack image")
        canvas.draw([ImageLayer(image, 0, 0, table)])
        watch.lap("upload+draw+readback")

    return frame


def density_after(points: ResidentPoints, canvas: Canvas, table: np.ndarray, watch: Stopwatch) -> Callable:
    """The GPU path: bin + equalise in one submission, colours looked up as the frame draws."""
    width, height = canvas.width, canvas.height

    def frame(box: Box) -> None:
        watch.start()
        grid = points.density(box, width, height)
        watch.lap("bin+eq_hist gpu")
        canvas.draw([DensityLayer(grid, 0, 0, table)])
        watch.lap("draw+readback")

    return frame


def fps(ms: list[float]) -> str:
    """'median / p95 (fps)'."""
    median = statistics.median(ms)
    return f"{median:.1f} / {float(np.percentile(ms, 95)):.1f} ({1000 / median:.1f})"


def run_density(sizes: list[int], resolutions: list[tuple[int, int]], frames: int) -> None:
    """The density table and its per-step profile."""
    table = colors.colormap("viridis")
    print("\n## density (eq_hist), ms per frame median / p95 (fps)\n")
    print(
        "| points | resolution | upload s | empty frame | before: CPU eq_hist | after: GPU eq_hist | gain |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    profiles = []
    for size in sizes:
        points = ResidentPoints(EXTENT)
        upload = generate(points, size)
        for width, height in resolutions:
            canvas = Canvas(width, height)
            boxes = views(EXTENT, frames)
            empty = time_frames(drawer(canvas, lambda _box: []), boxes)
            before, after = Stopwatch(), Stopwatch()
            before_ms = time_frames(density_before(points, canvas, table, before), boxes)
            after_ms = time_frames(density_after(points, canvas, table, after), boxes)
            grid = points.density(EXTENT, width, height, read_counts=True)
            assert grid.counts is not None
            assert grid.stats.total == int(grid.counts.sum()) <= size
            ratio = statistics.median(before_ms) / statistics.median(after_ms)
            print(
                f"| {size:,} | {width}x{height} | {upload:.1f} | {statistics.median(empty):.1f} | "
                f"{fps(before_ms)} | {fps(after_ms)} | x{ratio:.1f} |"
            )
            profiles.append(
                f"{size:,} {width}x{height}: before [{before.summary()}]; after [{after.summary()}]"
            )
            canvas.destroy()
        points.release()
    print("\nper step, median ms:")
    for line in profiles:
        print(f"- {line}")


def run_markers(sizes: list[int], resolutions: list[tuple[int, int]], frames: int, radius: float) -> None:
    """The markers table: the first version, uploaded records, and the two new paths."""
    color = (31, 119, 180, 200)
    print(f"\n## markers (radius {radius} px, one colour), ms per frame median / p95 (fps)\n")
    print(
        "| points | resolution | before: instanced | records: CPU pack + upload/draw | "
        "raster: plain draw, culled | splat: compute | best speed-up |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size in sizes:
        points = ResidentPoints(EXTENT)
        generate(points, size, seed=7)
        batches = [clustered(min(BATCH, size - start), 7 + start) for start in range(0, size, BATCH)]
        x = np.concatenate([b[0] for b in batches])
        y = np.concatenate([b[1] for b in batches])
        for width, height in resolutions:
            canvas = Canvas(width, height)
            rect = (0, 0, width, height)
            boxes = views(EXTENT, frames)
            layers: dict[str, Callable[[Box], list[Layer]]] = {
                "instanced": partial(marker_layers, ResidentMarkerLayer, points, rect, color, radius, True),
                "raster": partial(marker_layers, ResidentMarkerLayer, points, rect, color, radius, False),
                "splat": partial(marker_layers, ResidentSplatLayer, points, rect, color, radius, False),
            }
            results = {name: time_frames(drawer(canvas, make), boxes) for name, make in layers.items()}
            records = records_frames(x, y, canvas, boxes, color, radius)
            best = min(statistics.median(results["raster"]), statistics.median(results["splat"]))
            print(
                f"| {size:,} | {width}x{height} | {fps(results['instanced'])} | {records} | "
                f"{fps(results['raster'])} | {fps(results['splat'])} | "
                f"x{statistics.median(results['instanced']) / best:.1f} |"
            )
            canvas.destroy()
        points.release()


def drawer(canvas: Canvas, layers: Callable[[Box], list[Layer]]) -> Callable[[Box], None]:
    """A frame function drawing the layers made for each box."""

    def frame(box: Box) -> None:
        canvas.draw(layers(box))

    return frame


def marker_layers(
    kind: type[ResidentMarkerLayer] | type[ResidentSplatLayer],
    points: ResidentPoints,
    rect: tuple[int, int, int, int],
    color: tuple[int, int, int, int],
    radius: float,
    instanced: bool,
    box: Box,
) -> list[Layer]:
    """One marker layer of `kind` for a box."""
    if kind is ResidentMarkerLayer:
        return [ResidentMarkerLayer(points, box, rect, color, radius, instanced=instanced)]
    return [kind(points, box, rect, color, radius)]


def records_frames(
    x: np.ndarray, y: np.ndarray, canvas: Canvas, boxes: list[Box], color: tuple, radius: float
) -> str:
    """The uploaded-records path: pixel positions packed on the CPU, uploaded with every frame."""
    pack_ms, draw_ms = [], []
    rgba = np.array(color, np.uint8)
    for box in boxes[:: max(len(boxes) // 5, 1)]:
        started = time.perf_counter()
        px = (x - box[0]) / (box[1] - box[0]) * canvas.width
        py = canvas.height - (y - box[2]) / (box[3] - box[2]) * canvas.height
        records = pack_points(np.column_stack([px, py]), radius, rgba)
        pack_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        rect = (0, 0, canvas.width, canvas.height)
        # at most 4M records a layer: a storage binding stays within the default 128 MiB limit
        canvas.draw(
            [
                PointLayer(records[i : i + RECORDS_PER_LAYER], rect)
                for i in range(0, len(records), RECORDS_PER_LAYER)
            ]
        )
        draw_ms.append((time.perf_counter() - started) * 1000)
    return f"{statistics.median(pack_ms):.0f} + {statistics.median(draw_ms[1:] or draw_ms):.1f}"


def end_to_end(size: int, frames: int, gpu_equalize: bool, width: int, height: int) -> None:
    """pk.scatter over a DuckDB table: first frame and zooms, with the path the plot chose;
    eq_hist on the GPU (after) or on the CPU (before)."""
    import pikaplot_widget as pk
    from pikaplot_widget.core.viewport import Range, Viewport
    from pikaplot_widget.engine import cache
    from pikaplot_widget.plots.scatter import painter

    painter.GPU_EQUALIZE = gpu_equalize

    session = pk.Session()
    session.connection.execute(
        "CREATE TABLE pts AS SELECT x, y FROM (SELECT (i % 4) AS c, sqrt(-2 * ln(random())) AS r, "
        "2 * pi() * random() AS t FROM range(?) s(i)), LATERAL (SELECT "
        "[0.0, 3.0, 1.0, -2.0][c + 1] + 0.8 * r * cos(t) AS x, "
        "[0.0, 1.0, 4.0, 2.5][c + 1] + 0.8 * r * sin(t) AS y)",
        [size],
    )
    started = time.perf_counter()
    plot = pk.scatter("pts", "x", "y", session=session, width=width, height=height)
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
        f"\n# pk.scatter, {size:,} rows in DuckDB, eq_hist on the {'GPU' if gpu_equalize else 'CPU'}: "
        f"{plot.width}x{plot.height} px, first frame {first:.0f} ms "
        f"(extent {stats['extent_s'] * 1000:.0f}, "
        f"upload/index {stats['index_s'] * 1000:.0f}); zoom 1x-8x p50 / p95 {statistics.median(times):.1f} / "
        f"{np.percentile(times, 95):.1f} ms; served from {plot.stats['view_source']} "
        f"(gpu points {plot.stats['gpu_points']:,}, index grid {plot.stats['index_grid']})"
    )
    plot.close()
    session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7,1e8", help="points for density")
    parser.add_argument("--marker-sizes", default="1e7", help="points for markers ('' for none)")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--resolutions", default="800x600,1920x1080")
    parser.add_argument("--radius", type=float, default=1.5, help="marker radius in pixels")
    parser.add_argument(
        "--end-to-end",
        default="",
        help="sizes for pk.scatter from DuckDB (at the first resolution), e.g. 1e8",
    )
    args = parser.parse_args()
    info = gpu_info()
    print(f"# GPU-resident scatter: {info['device']} ({info['adapter_type']}, {info['backend']})")
    print("# ms per frame, rendered and read back into numpy; fps = 1000 / median")
    resolutions = [tuple(int(v) for v in r.split("x")) for r in args.resolutions.split(",")]
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    if sizes:
        run_density(sizes, resolutions, args.frames)  # type: ignore[arg-type]
    marker_sizes = [int(float(s)) for s in args.marker_sizes.split(",") if s]
    if marker_sizes:
        run_markers(marker_sizes, resolutions, args.frames, args.radius)  # type: ignore[arg-type]
    for size in [int(float(s)) for s in args.end_to_end.split(",") if s]:
        for gpu_equalize in (False, True):
            end_to_end(size, args.frames, gpu_equalize, *resolutions[0])


if __name__ == "__main__":
    main()
