"""Scatter/density plot vs datashader: first frame, zoom latency and memory, measured in the same run.

Data: Gaussian clusters plus a uniform background, generated in DuckDB (seeded), with columns
x, y (DOUBLE), cat (VARCHAR, 6 values) and v (DOUBLE). Each side runs in its own process, so
its peak RSS is its own, and holds only the columns it plots (x, y; cat with --color cat):
  pikaplot: pk.scatter on a DuckDB in-memory table (--source memory) or the Parquet file
    (--source parquet, written once to benchmarks/data/points_<n>.parquet).
  datashader: the same rows loaded into a pandas DataFrame through DuckDB's .df(), then
    Canvas.points + tf.shade(how="eq_hist") for every view (count_cat + color_key with --color cat).
Both draw the same seeded views (zooms of 1x to 50x, log-uniform, around random centres) at the
same size: datashader's canvas is pikaplot's plot area of that view. The result cache is emptied
before every pikaplot view. Imports and GPU start-up are excluded on both sides.

    python benchmarks/scatter.py [--sizes 1e6,1e7,1e8] [--views 30] [--source memory|parquet]
                                 [--color none|cat]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psutil

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

DATA = Path(__file__).resolve().parent / "data"
SEED = 0.42  # DuckDB's setseed
VIEW_SEED = 5
MAX_ZOOM = 50.0
PAD = 0.04  # pikaplot's first view: the extent with this margin on every side
CATEGORIES = ("car", "bike", "bus", "walk", "train", "tram")
COLOR_KEY = dict(
    zip(CATEGORIES, ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948"), strict=True)
)
# weight, centre x, centre y, sd x, sd y, correlation, main category
CLUSTERS = (
    (0.22, -4.0, 2.0, 1.2, 0.6, 0.5, "car"),
    (0.15, 3.0, 3.5, 0.5, 0.5, 0.0, "bike"),
    (0.12, 1.0, -3.0, 2.0, 0.4, -0.3, "bus"),
    (0.10, 6.0, -1.0, 0.15, 0.15, 0.0, "walk"),
    (0.08, -2.0, -5.0, 0.8, 1.5, 0.7, "train"),
    (0.08, 0.0, 0.0, 3.0, 3.0, 0.0, "tram"),
    (0.05, -6.5, -2.0, 0.05, 0.05, 0.0, "walk"),
    (0.04, 5.0, 5.5, 0.3, 1.0, 0.0, "bike"),
)  # the remaining 16 % of rows: uniform over [-10, 10] x [-8, 8], any category
MAIN_CATEGORY_SHARE = 0.85  # of a cluster's rows; the rest get any category


def generate_sql(n: int) -> str:
    """The rows, after `SELECT setseed(...)`. Every row draws its six uniforms as one list, so the
    data does not depend on which columns a query keeps (DuckDB prunes unused random() columns)."""
    cats = "[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "]"
    x_cases, y_cases, cat_cases, cumulative = [], [], [], 0.0
    for weight, cx, cy, sx, sy, rho, cat in CLUSTERS:
        cumulative += weight
        when = f"WHEN pick < {cumulative!r}"
        x_cases.append(f"{when} THEN {cx!r} + {sx!r} * z1")
        y_cases.append(f"{when} THEN {cy!r} + {sy!r} * ({rho!r} * z1 + {math.sqrt(1 - rho * rho)!r} * z2)")
        cat_cases.append(f"{when} THEN '{cat}'")
    share = MAIN_CATEGORY_SHARE
    any_cat = f"{cats}[1 + least(CAST(floor(c * 6) AS INTEGER), 5)]"
    other_cat = f"{cats}[1 + least(CAST(floor((c - {share}) / {1 - share!r} * 6) AS INTEGER), 5)]"
    return f"""
        SELECT x, y, cat, 0.5 * x + 0.25 * y + 4 * c AS v FROM (
            SELECT CASE {" ".join(x_cases)} ELSE -10 + 20 * ux END AS x,
                   CASE {" ".join(y_cases)} ELSE -8 + 16 * uy END AS y,
                   CASE WHEN pick >= {cumulative!r} THEN {any_cat}
                        WHEN c < {share} THEN CASE {" ".join(cat_cases)} END
                        ELSE {other_cat} END AS cat,
                   c
            FROM (
                SELECT u[1] AS pick, sqrt(-2 * ln(1 - u[2])) * cos(2 * pi() * u[3]) AS z1,
                       sqrt(-2 * ln(1 - u[2])) * sin(2 * pi() * u[3]) AS z2,
                       u[4] AS ux, u[5] AS uy, u[6] AS c
                FROM (SELECT list_transform(range(6), lambda k: random()) AS u FROM range({int(n)}))
            )
        )"""


def parquet_path(n: int) -> Path:
    """Where the Parquet file with n rows lives."""
    return DATA / f"points_{n}.parquet"


def write_parquet(n: int) -> float:
    """Write the file if it is missing; return the seconds that took (0 if reused)."""
    path = parquet_path(n)
    if path.exists():
        return 0.0
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false").fetchall()
    con.execute("SELECT setseed(?)", [SEED]).fetchall()
    con.execute(f"COPY ({generate_sql(n)}) TO '{partial}' (FORMAT parquet, COMPRESSION snappy)").fetchall()
    con.close()
    partial.rename(path)
    return time.perf_counter() - started


def columns(color: str) -> str:
    """The columns each side holds and plots."""
    return "x, y, cat" if color == "cat" else "x, y"


def load_table(con: duckdb.DuckDBPyConnection, n: int, color: str) -> float:
    """Generate the rows into the in-memory table `points`; return the seconds that took."""
    started = time.perf_counter()
    con.execute("SELECT setseed(?)", [SEED]).fetchall()
    con.execute(f"CREATE TABLE points AS SELECT {columns(color)} FROM ({generate_sql(n)})").fetchall()
    return time.perf_counter() - started


class PeakRss:
    """Peak resident memory of this process, sampled every few milliseconds in a background thread."""

    def __init__(self, interval: float = 0.005) -> None:
        self._process = psutil.Process()
        self.start_bytes = self.peak = self._process.memory_info().rss
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
        return self.peak


def random_views(extent: tuple[float, float, float, float], count: int) -> list[list[float]]:
    """Seeded boxes (x0, x1, y0, y1): the first view zoomed 1x to 50x (log-uniform) around random
    centres inside the data's extent, every other one drawn like a row (so most views show data)."""
    rng = np.random.default_rng(VIEW_SEED)
    x0, x1, y0, y1 = extent
    width, height = (x1 - x0) * (1 + 2 * PAD), (y1 - y0) * (1 + 2 * PAD)
    weights = np.array([c[0] for c in CLUSTERS] + [1 - sum(c[0] for c in CLUSTERS)])
    boxes = []
    for i in range(count):
        zoom = MAX_ZOOM ** rng.uniform(0.0, 1.0)
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        pick = rng.choice(len(weights), p=weights)
        z1, z2 = rng.normal(size=2)
        if i % 2 == 0 and pick < len(CLUSTERS):
            _, mx, my, sx, sy, rho, _ = CLUSTERS[pick]
            cx = float(np.clip(mx + sx * z1, x0, x1))
            cy = float(np.clip(my + sy * (rho * z1 + math.sqrt(1 - rho * rho) * z2), y0, y1))
        half_w, half_h = width / zoom / 2, height / zoom / 2
        boxes.append([cx - half_w, cx + half_w, cy - half_h, cy + half_h])
    return boxes


def view_kind(mode: str | None, source: str | None) -> str:
    """How pikaplot served a view: density from the index or the rows, or markers."""
    if mode == "markers":
        return "markers" if source != "cache" else "markers (cache)"
    return f"density from {source}"


# ---- pikaplot (its own process) ----------------------------------------------------------------
def run_ours(n: int, views: int, source: str, color: str, width: int, height: int) -> dict[str, Any]:
    import pikaplot_widget as pk
    from pikaplot_widget.core.viewport import Range, Viewport
    from pikaplot_widget.engine import cache

    session = pk.Session()
    started = time.perf_counter()
    warm = pk.scatter("SELECT 1.0 AS x, 2.0 AS y UNION ALL SELECT 2.0, 3.0", x="x", y="y", session=session)
    warm.to_array()
    warm.close()
    gpu_s = time.perf_counter() - started
    info = pk.gpu_info()
    gen_s = 0.0
    if source == "memory":
        gen_s = load_table(session.connection, n, color)
        data: str = "points"
    else:
        data = str(parquet_path(n))
    threads = session.connection.execute("SELECT current_setting('threads')").fetchone()[0]
    gc.collect()
    rss = PeakRss()

    cache.results.shrink_to(0)
    started = time.perf_counter()
    plot = pk.scatter(
        data, x="x", y="y", color=None if color == "none" else color, width=width, height=height,
        session=session,
    )  # fmt: skip
    plot.to_array(timeout=600)
    first_s = time.perf_counter() - started
    first = plot.stats
    home = plot.controller.view
    extent = plot.controller.extent
    area = plot.controller.layout().area

    records = []
    for box in random_views((extent.x_min, extent.x_max, extent.y_min, extent.y_max), views):
        cache.results.shrink_to(0)
        view = Viewport(Range(box[0], box[1]), Range(box[2], box[3]), y_auto=False)
        started = time.perf_counter()
        plot.controller.set_view(view)
        plot.to_array(timeout=600)
        total = time.perf_counter() - started
        stats = plot.stats
        view_area = plot.controller.layout().area
        records.append({
            "box": box, "width": view_area.width, "height": view_area.height, "total_s": total,
            "kind": view_kind(stats["mode"], stats["view_source"]), "rows_in_view": stats["rows_in_view"],
            "query_s": stats["query_s"], "render_s": stats["render_s"],
        })  # fmt: skip
    peak = rss.stop()
    plot.close()
    session.close()
    return {
        "device": f"{info['device']} ({info['adapter_type']}, {info['backend']})",
        "gpu_s": gpu_s,
        "duckdb_threads": int(threads),
        "gen_s": gen_s,
        "first_s": first_s,
        "first": {k: first[k] for k in ("mode", "view_source", "extent_s", "index_s", "query_s", "render_s")},
        "index_bytes": first["index_bytes"],
        "index_grid": first["index_grid"],
        "home": {
            "box": [home.x.lo, home.x.hi, home.y.lo, home.y.hi],
            "width": area.width,
            "height": area.height,
        },
        "views": records,
        "rss_data": rss.start_bytes,
        "rss_peak": peak,
    }


# ---- datashader (its own process) ------------------------------------------------------------
def run_peer(n: int, source: str, color: str, views_file: str) -> dict[str, Any]:
    import datashader as ds
    import datashader.transfer_functions as tf
    import numba

    plan = json.loads(Path(views_file).read_text())
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false").fetchall()
    gen_s = 0.0
    if source == "memory":
        gen_s = load_table(con, n, color)
        table = "points"
    else:
        table = f"read_parquet('{parquet_path(n)}')"
    select = columns(color)
    if color == "cat":  # an ENUM arrives as a pandas category, 3-4x faster than .astype("category")
        select = f"x, y, CAST(cat AS ENUM({', '.join(repr(c) for c in CATEGORIES)})) AS cat"
    started = time.perf_counter()
    df = con.sql(f"SELECT {select} FROM {table}").df()
    load_s = time.perf_counter() - started
    con.close()
    del con
    gc.collect()
    rss = PeakRss()

    def draw(view: dict[str, Any]) -> float:
        x0, x1, y0, y1 = view["box"]
        started = time.perf_counter()
        canvas = ds.Canvas(
            plot_width=view["width"], plot_height=view["height"], x_range=(x0, x1), y_range=(y0, y1)
        )
        if color == "cat":
            agg = canvas.points(df, "x", "y", agg=ds.count_cat("cat"))
            tf.shade(agg, color_key=COLOR_KEY, how="eq_hist")
        else:
            tf.shade(canvas.points(df, "x", "y"), how="eq_hist")
        return time.perf_counter() - started

    first_call = draw(plan["home"])  # numba compiles the aggregation and shading here
    second_call = draw(plan["home"])
    times = [draw(view) for view in plan["views"]]
    peak = rss.stop()
    return {
        "numba_threads": numba.get_num_threads(),
        "color": color,
        "gen_s": gen_s,
        "load_s": load_s,
        "first_call_s": first_call,
        "home_s": second_call,
        "times": times,
        "rss_data": rss.start_bytes,
        "rss_peak": peak,
    }


# ---- driver ------------------------------------------------------------------------------------
def measure(
    args: argparse.Namespace, n: int, side: str, views_file: str | None = None
) -> dict[str, Any] | None:
    """Run one side in a fresh process; its RESULT line, or None (with the error) if it failed."""
    command = [
        sys.executable, __file__, f"--{side}-only", "--sizes", str(n), "--views", str(args.views),
        "--source", args.source, "--color", args.color,
        "--width", str(args.width), "--height", str(args.height),
    ]  # fmt: skip
    if views_file:
        command += ["--views-file", views_file]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    errors = [line for line in proc.stderr.splitlines() if "rror" in line]
    print(f"\n({side} at {n:,} rows failed, exit {proc.returncode}: {errors[-3:] or proc.stderr[-500:]})")
    return None


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else math.nan


def ms(seconds: float | None) -> str:
    return "-" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:.1f}"


def p50_p95(values: list[float]) -> str:
    return "-" if not values else f"{ms(percentile(values, 50))} / {ms(percentile(values, 95))}"


def mib(value: float) -> str:
    return f"{value / 2**20:.0f}"


def table(header: list[str], rows: list[list[str]]) -> None:
    """Print a markdown table: the first column left-aligned, the others right-aligned."""
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


SUMMARY = [
    "rows", "ours first frame", "ours density p50 / p95", "ours markers p50 / p95", "ours all p50 / p95",
    "datashader first frame", "datashader p50 / p95", "density p95 ours / datashader", "index",
    "RSS ours: peak (data)", "RSS datashader: peak (data)",
]  # fmt: skip


def summary_row(n: int, ours: dict[str, Any] | None, peer: dict[str, Any] | None) -> list[str]:
    """One row of the summary table (times in ms, RSS in MiB)."""
    row = [f"{n:,}"]
    if ours is not None:
        views = ours["views"]
        density = [v["total_s"] for v in views if v["kind"].startswith("density")]
        markers = [v["total_s"] for v in views if v["kind"].startswith("markers")]
        index = f"{mib(ours['index_bytes'])} MiB ({ours['index_grid']}²)" if ours["index_bytes"] else "none"
        row += [
            ms(ours["first_s"]),
            p50_p95(density),
            p50_p95(markers),
            p50_p95([v["total_s"] for v in views]),
        ]
    else:
        row += ["failed", "-", "-", "-"]
        density, index = [], "-"
    if peer is not None:
        peer_first = peer["load_s"] + peer["first_call_s"]
        ratio = percentile(density, 95) / percentile(peer["times"], 95) if density else math.nan
        row += [ms(peer_first), p50_p95(peer["times"]), "-" if math.isnan(ratio) else f"x{ratio:.2f}"]
    else:
        row += ["failed", "-", "-"]
    row.append(index)
    row.append(f"{mib(ours['rss_peak'])} ({mib(ours['rss_data'])})" if ours else "-")
    row.append(f"{mib(peer['rss_peak'])} ({mib(peer['rss_data'])})" if peer else "-")
    return row


def report(n: int, ours: dict[str, Any] | None, peer: dict[str, Any] | None) -> None:
    """The tables of one size."""
    notes = []
    if ours is not None:
        notes.append(f"pikaplot on {ours['device']}, DuckDB threads {ours['duckdb_threads']}")
        if ours["gen_s"]:
            notes.append(f"table generated in {ours['gen_s']:.1f} s")
    if peer is not None:
        notes.append(f"numba threads {peer['numba_threads']}")
    print(f"\n## {n / 1e6:g}M rows ({'; '.join(notes)})\n")
    table(SUMMARY, [summary_row(n, ours, peer)])
    if ours is None or peer is None:
        return

    first = ours["first"]
    load_note = ", cat as an ENUM" if peer["color"] == "cat" else ""
    print(f"\nFirst frame (ms; pikaplot: {first['mode']} from {first['view_source']}, "
          f"{ours['home']['width']}x{ours['home']['height']} px plot area):\n")  # fmt: skip
    rows = [
        ["total", ms(ours["first_s"]), ms(peer["load_s"] + peer["first_call_s"])],
        [f"rows into pandas (DuckDB .df(){load_note})", "-", ms(peer["load_s"])],
        ["extent scan", ms(first["extent_s"]), "-"],
        ["density index build", ms(first["index_s"]), "-"],
        ["view query", ms(first["query_s"]), "-"],
        ["render (wgpu + readback, axes, legend)", ms(first["render_s"]), "-"],
        ["first aggregate + shade (numba JIT included)", "-", ms(peer["first_call_s"])],
        ["  same again, compiled", "-", ms(peer["home_s"])],
    ]
    table(["first frame", "pikaplot", "datashader"], rows)

    print("\nViews by how pikaplot served them (ms; datashader on the same views):\n")
    views, times = ours["views"], peer["times"]
    kinds = ["density from index", "density from rows", "markers"]
    kinds += sorted({v["kind"] for v in views} - set(kinds))
    rows = []
    for kind in [*kinds, "all"]:
        picked = [i for i, v in enumerate(views) if kind in ("all", v["kind"])]
        if not picked and kind != "all":
            rows.append([kind, "0", "-", "-", "-", "-", "-"])
            continue
        sel = [views[i] for i in picked]
        rows.append([
            kind, str(len(sel)), p50_p95([v["total_s"] for v in sel]),
            ms(percentile([v["query_s"] for v in sel], 50)), ms(percentile([v["render_s"] for v in sel], 50)),
            f"{percentile([v['rows_in_view'] for v in sel], 50):,.0f}", p50_p95([times[i] for i in picked]),
        ])  # fmt: skip
    table(["served as", "views", "ours p50 / p95", "query p50", "render p50", "rows in view p50",
           "datashader p50 / p95"], rows)  # fmt: skip
    widths = sorted({v["width"] for v in views})
    if len(widths) > 1:
        print(f"\n(plot area width varied from view to view: {widths[0]} to {widths[-1]} px)")


def worker(args: argparse.Namespace) -> None:
    n = int(float(args.sizes))
    if args.ours_only:
        result = run_ours(n, args.views, args.source, args.color, args.width, args.height)
    else:
        if not args.views_file:
            raise SystemExit("--peer-only needs --views-file (written by a run without --peer-only)")
        result = run_peer(n, args.source, args.color, args.views_file)
    print("RESULT " + json.dumps(result), flush=True)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7,1e8")
    parser.add_argument("--views", type=int, default=30)
    parser.add_argument("--source", choices=["memory", "parquet"], default="memory")
    parser.add_argument("--color", choices=["none", "cat"], default="none")
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=600)
    side = parser.add_mutually_exclusive_group()
    side.add_argument("--ours-only", action="store_true", help="internal: run pikaplot for one size")
    side.add_argument("--peer-only", action="store_true", help="internal: run datashader for one size")
    parser.add_argument("--views-file", help="internal: the views pikaplot drew (JSON), for --peer-only")
    args = parser.parse_args()
    if args.ours_only or args.peer_only:
        worker(args)
        return
    versions = ", ".join(
        f"{name} {package_version(name)}"
        for name in ("pikaplot_widget", "duckdb", "datashader", "numba", "pandas")
    )
    print(
        f"# pikaplot scatter benchmark vs datashader: {os.cpu_count()} CPU cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; {versions}"
    )
    print(
        f"# source {args.source}, colour {args.color}, frame {args.width}x{args.height}, {args.views} random "
        f"views (zoom 1x-{MAX_ZOOM:g}x); DuckDB and numba use their default threads (one per core)"
    )
    print(
        "# times in ms. pikaplot: pk.scatter() -> to_array() for the first frame (axes and legend "
        "included), set_view -> to_array() per view, result cache emptied before each; datashader: "
        "Canvas.points + tf.shade per view, first frame = load into pandas + first call (JIT)"
    )
    print("# RSS in MiB: peak while plotting (RSS with the data loaded, before the first frame)")
    results = []
    for size in args.sizes.split(","):
        n = int(float(size))
        if args.source == "parquet":
            seconds = write_parquet(n)
            if seconds:
                print(f"# generated {parquet_path(n).name} in {seconds:.1f} s")
        ours = measure(args, n, "ours")
        peer = None
        if ours is not None:
            with tempfile.TemporaryDirectory() as tmp:
                views_file = Path(tmp) / "views.json"
                views_file.write_text(json.dumps({"home": ours["home"], "views": ours["views"]}))
                peer = measure(args, n, "peer", str(views_file))
        report(n, ours, peer)
        results.append((n, ours, peer))
    if len(results) > 1:
        print("\n## All sizes\n")
        table(SUMMARY, [summary_row(*r) for r in results])


if __name__ == "__main__":
    main()
