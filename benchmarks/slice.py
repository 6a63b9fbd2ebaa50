"""First frame and zoom latency of a pikaplot line plot at 1M, 10M and 100M rows.

Prints one table per size: first frame and event → frame latency of scripted wheel zooms,
split into query / downsample / render / encode, next to peers measured in the same run:
a plain DuckDB min/max scan of the same columns (the floor for a first frame) and
plotly-resampler's update for the same viewports (if installed: pip install plotly-resampler).

    python benchmarks/slice.py [--sizes 1e6,1e7,1e8] [--zooms 30] [--width 800 --height 400]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import time

import numpy as np
import psutil
import pyarrow as pa
from jupyter_rfb._utils import array2compressed

import pikaplot_widget as pk


def generate(session: pk.Session, n: int, seed: int = 0) -> float:
    """A random walk with sorted x, in chunks (bounded memory), into table `walk`."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    con = session.connection
    con.execute("CREATE OR REPLACE TABLE walk (x DOUBLE, y DOUBLE)")
    chunk, level = 10_000_000, 0.0
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        y = level + np.cumsum(rng.normal(size=m))
        level = float(y[-1])
        con.register("chunk_in", pa.table({"x": np.arange(start, start + m, dtype=np.float64), "y": y}))
        con.execute("INSERT INTO walk SELECT * FROM chunk_in")
        con.unregister("chunk_in")
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def encode_times(frame: np.ndarray) -> tuple[float, float]:
    started = time.perf_counter()
    array2compressed(frame, 80)
    jpeg = time.perf_counter() - started
    started = time.perf_counter()
    array2compressed(frame, 100)
    return jpeg, time.perf_counter() - started


def send_wheel(plot: pk.Plot, x: float, y: float, dy: float) -> None:
    """The message jupyter_rfb delivers when the browser sends a wheel event."""
    event = {"type": "wheel", "x": x, "y": y, "dx": 0, "dy": dy, "modifiers": [], "buttons": []}
    event["timestamp"] = 0
    plot._rfb_handle_msg(plot, event, [])


def plotly_resampler_peer(session: pk.Session):
    try:
        import plotly.graph_objects as go
        from plotly_resampler import FigureResampler
    except ImportError:
        return None
    table = session.connection.sql("SELECT x, y FROM walk").to_arrow_table()
    x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
    del table
    started = time.perf_counter()
    fig = FigureResampler(go.Figure(), default_n_shown_samples=1000)
    fig.add_trace(go.Scattergl(name="walk"), hf_x=x, hf_y=y)
    fig.construct_update_data_patch({"xaxis.autorange": True})
    return fig, time.perf_counter() - started


def bench_size(n: int, zooms: int, width: int, height: int, rng: np.random.Generator) -> dict[str, object]:
    session = pk.Session()
    gen_s = generate(session, n)
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    session.connection.sql("SELECT min(x), max(x), min(y), max(y) FROM walk").fetchall()
    scan_s = time.perf_counter() - started

    started = time.perf_counter()
    plot = pk.line("walk", x="x", y="y", session=session, width=width, height=height)
    frame = plot.to_array()
    first_s = time.perf_counter() - started
    first_stats = plot.stats
    plot.controller.wait_idle(600)  # the index is built after the first exact frame
    first_jpeg, first_png = encode_times(frame)

    totals, queries, downs, renders, jpegs, viewports = [], [], [], [], [], []
    for _ in range(zooms):
        layout = plot.controller.layout()
        span = plot.x_range[1] - plot.x_range[0]
        zoom_in = span > n / 5000 and (span > n * 0.9 or rng.random() < 0.7)
        dy = -rng.uniform(200, 900) if zoom_in else rng.uniform(200, 900)
        px = rng.uniform(layout.area.left, layout.area.right) / layout.spec.ratio
        started = time.perf_counter()
        send_wheel(plot, px, height / 2, dy)
        frame = plot.to_array()
        totals.append(time.perf_counter() - started)
        stats = plot.stats
        queries.append(stats["query_s"])
        downs.append(stats["downsample_s"])
        renders.append(stats["render_s"])
        jpegs.append(encode_times(frame)[0])
        viewports.append(plot.x_range)
    rss_plot = psutil.Process().memory_info().rss - rss_before
    plot.close()

    peer = plotly_resampler_peer(session)
    pr_first = pr_updates = None
    if peer is not None:
        fig, pr_first = peer
        pr_updates = []
        for lo, hi in viewports:
            started = time.perf_counter()
            fig.construct_update_data_patch({"xaxis.range[0]": lo, "xaxis.range[1]": hi})
            pr_updates.append(time.perf_counter() - started)
        del fig
    session.close()
    gc.collect()
    return {
        "n": n,
        "gen_s": gen_s,
        "scan_s": scan_s,
        "first_s": first_s,
        "first_stats": first_stats,
        "first_jpeg": first_jpeg,
        "first_png": first_png,
        "totals": totals,
        "queries": queries,
        "downs": downs,
        "renders": renders,
        "jpegs": jpegs,
        "rss_plot": rss_plot,
        "pr_first": pr_first,
        "pr_updates": pr_updates,
    }


def ms(seconds: float | None) -> str:
    return "-" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:8.1f}"


def row(label: str, *cells: str, note: str = "") -> None:
    print(f"{label:<36}" + "".join(f"{c:>10}" for c in cells) + (f"  {note}" if note else ""))


def p50_p95(values: list[float]) -> tuple[str, str]:
    return ms(statistics.median(values)), ms(percentile(values, 95))


def report(r: dict[str, object]) -> None:
    n, s = r["n"], r["first_stats"]
    print(
        f"\n## {n / 1e6:g}M rows  (generated in {r['gen_s']:.1f} s; kernel RSS growth while plotting "
        f"{r['rss_plot'] / 2**20:.0f} MiB)"
    )
    row("step (ms)", "pikaplot", "p95", "peer", note="peer / ratio")
    ratio = r["first_s"] / r["scan_s"]
    row(
        "first frame, total",
        ms(r["first_s"]),
        "",
        ms(r["scan_s"]),
        note=f"DuckDB min/max scan; ours/scan = {ratio:.2f}x",
    )
    row("  extent scan", ms(s["extent_s"]))
    row("  line index build (1M+ rows)", ms(s["index_s"]))
    row("  view query (index or M4)", ms(s["query_s"]))
    row("  downsample", ms(s["downsample_s"]))
    row("  render (wgpu + readback)", ms(s["render_s"]))
    row("  encode JPEG / PNG", ms(r["first_jpeg"]), ms(r["first_png"]))
    if r["pr_first"] is not None:
        row(
            "plotly-resampler first (numpy)",
            "",
            "",
            ms(r["pr_first"]),
            note="excludes reading the rows out of DuckDB",
        )
    totals = r["totals"]
    note, peer = "", ""
    if r["pr_updates"]:
        peer_p50, peer_p95 = p50_p95(r["pr_updates"])
        peer = peer_p50
        ratio = statistics.median(totals) / statistics.median(r["pr_updates"])
        note = f"plotly-resampler update p50 (p95 {peer_p95.strip()}); p50 ours/peer = {ratio:.2f}x"
    row("zoom event -> frame, p50 / p95", *p50_p95(totals), peer, note=note)
    row("  query p50 / p95", *p50_p95(r["queries"]))
    row("  downsample p50 / p95", *p50_p95(r["downs"]))
    row("  render p50 / p95", *p50_p95(r["renders"]))
    row("  encode JPEG p50 / p95", *p50_p95(r["jpegs"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7,1e8")
    parser.add_argument("--zooms", type=int, default=30)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=400)
    args = parser.parse_args()
    started = time.perf_counter()
    pk.gpu_info()
    warm = pk.line("SELECT 1.0 AS x, 2.0 AS y UNION ALL SELECT 2.0, 3.0", x="x", y="y")
    warm.to_array()
    warm.close()
    info = pk.gpu_info()
    print(
        f"# pikaplot slice benchmark: {info['device']} ({info['adapter_type']}, {info['backend']}), "
        f"{os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"GPU start-up {time.perf_counter() - started:.2f} s (once per process, excluded below)"
    )
    print(f"# frame {args.width}x{args.height}, {args.zooms} wheel zooms at random positions per size")
    rng = np.random.default_rng(7)
    for size in args.sizes.split(","):
        report(bench_size(int(float(size)), args.zooms, args.width, args.height, rng))


if __name__ == "__main__":
    main()
