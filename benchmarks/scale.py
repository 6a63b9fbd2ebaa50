"""Zoom/pan latency and memory at 10M, 100M and 1B rows, with peers measured in the same run.

Each configuration runs in its own process (so peak RSS is its own):
  pikaplot on a DuckDB in-memory table, pikaplot straight on the Parquet file,
  plotly-resampler (FigureResampler, hf_x/hf_y numpy arrays, default MinMaxLTTB),
  and a plain DuckDB min/max scan of x and y, every value read (not from Parquet statistics): the
  floor for a first frame.
All replay the same seeded sequence of zooms and pans (x_range set -> frame ready).

    python benchmarks/datasets.py 1e7 1e8 1e9      # once: generated Parquet files
    python benchmarks/scale.py [--sizes 1e7,1e8,1e9] [--moves 60]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import parquet_path, write_parquet


def viewports(n: int, moves: int, seed: int = 11) -> list[tuple[float, float]]:
    """A replayable mix of zooms (random centre and depth) and pans (shift by part of a width)."""
    rng = np.random.default_rng(seed)
    views, lo, hi = [], 0.0, float(n - 1)
    for i in range(moves):
        if i % 3 == 2:  # pan
            span = hi - lo
            shift = rng.uniform(0.1, 1.0) * span * rng.choice([-1, 1])
            lo, hi = lo + shift, hi + shift
        else:  # zoom to a random depth at a random place
            span = (n - 1) * 10 ** rng.uniform(-4.5, 0)
            centre = rng.uniform(0, n - 1)
            lo, hi = centre - span / 2, centre + span / 2
        views.append((lo, hi))
    return views


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_pikaplot(n: int, source: str, moves: int, memory_limit: str | None) -> dict[str, object]:
    import pikaplot_widget as pk

    warm = pk.line("SELECT 1.0 AS x, 2.0 AS y UNION ALL SELECT 2.0, 3.0", x="x", y="y")
    warm.to_array()
    warm.close()
    session = pk.Session(memory_limit=memory_limit)
    path = parquet_path(n)
    if source == "duckdb":
        session.connection.execute(f"CREATE TABLE walk AS SELECT * FROM read_parquet('{path}')")
        data, scan_from = "walk", "walk"
    else:
        data, scan_from = str(path), f"read_parquet('{path}')"
    started = time.perf_counter()
    # `+ 0`: read every value (min/max of a bare Parquet column come from its statistics)
    scan_sql = f"SELECT min(x + 0), max(x + 0), min(y + 0), max(y + 0) FROM {scan_from}"
    session.connection.execute(scan_sql).fetchall()
    scan_s = time.perf_counter() - started
    rss_before = peak_rss_mib()
    started = time.perf_counter()
    plot = pk.line(data, x="x", y="y", session=session, width=800, height=400)
    progressive = None
    while plot.controller.last_frame is None:
        time.sleep(0.002)
    progressive = time.perf_counter() - started
    plot.to_array(timeout=3600)
    exact = time.perf_counter() - started
    plot.controller.wait_idle(600)  # the line index (then the row files) after the first exact frame
    idle = time.perf_counter() - started
    stats = plot.stats
    latencies, kinds, queries, renders = [], [], [], []
    for lo, hi in viewports(n, moves):
        started = time.perf_counter()
        plot.x_range = (lo, hi)
        plot.to_array(timeout=3600)
        latencies.append(time.perf_counter() - started)
        kinds.append(plot.controller.data.kind.split(" ")[0])
        queries.append(plot.controller.timings.query)
        renders.append(plot.controller.timings.render)
    plot.close()
    return {
        "scan_s": scan_s,
        "progressive_s": progressive,
        "exact_s": exact,
        "latencies": latencies,
        "queries": queries,
        "renders": renders,
        "index_s": stats["index_s"],
        "idle_s": idle,
        "row_store": f"{stats['row_store']} ({stats['row_store_bytes'] / 2**30:.2f} GiB)",
        "kinds": kinds,
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_plot_mib": rss_before,
    }


def run_plotly_resampler(n: int, moves: int, peer_path: str | None) -> dict[str, object]:
    if peer_path:
        sys.path.append(peer_path)  # after the venv's own packages: its numpy and pandas win
    import plotly.graph_objects as go
    import pyarrow.parquet as pq
    from plotly_resampler import FigureResampler

    started = time.perf_counter()
    table = pq.read_table(parquet_path(n))
    x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
    del table
    fig = FigureResampler(go.Figure(), default_n_shown_samples=1000)
    fig.add_trace(go.Scattergl(name="walk"), hf_x=x, hf_y=y)
    fig.construct_update_data_patch({"xaxis.autorange": True})
    first = time.perf_counter() - started
    latencies = []
    for lo, hi in viewports(n, moves):
        started = time.perf_counter()
        fig.construct_update_data_patch({"xaxis.range[0]": lo, "xaxis.range[1]": hi})
        latencies.append(time.perf_counter() - started)
    return {"exact_s": first, "latencies": latencies, "peak_rss_mib": peak_rss_mib()}


def worker(config: str, n: int, moves: int, memory_limit: str | None, peer_path: str | None) -> None:
    if config == "plotly-resampler":
        result = run_plotly_resampler(n, moves, peer_path)
    else:
        result = run_pikaplot(n, config, moves, memory_limit)
    print("RESULT " + json.dumps(result))


def measure(
    config: str, n: int, moves: int, memory_limit: str | None, peer_path: str | None
) -> dict[str, object] | None:
    extra = ["--memory-limit", memory_limit] if memory_limit else []
    extra += ["--peer-path", peer_path] if peer_path else []
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", config, "--n", str(n), "--moves", str(moves), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    errors = [line for line in proc.stderr.splitlines() if "Error" in line or "error" in line]
    print(f"  ({config} at {n:,} rows failed: {errors[-3:]})")
    return None


def ms(value: float) -> str:
    return f"{value * 1000:9.1f}"


def report(n: int, results: dict[str, dict[str, object] | None]) -> None:
    print(f"\n## {n / 1e6:g}M rows")
    print(
        f"{'configuration':<22}{'scan':>9}{'approx':>9}{'exact':>10}{'move p50':>10}{'p95':>9}"
        f"{'peak RSS':>10}  served by"
    )
    peer = results.get("plotly-resampler")
    for config, r in results.items():
        if r is None:
            continue
        lat = r["latencies"]
        p50, p95 = statistics.median(lat), float(np.percentile(lat, 95))
        kinds = r.get("kinds")
        served = ", ".join(f"{k} {kinds.count(k)}" for k in sorted(set(kinds))) if kinds else ""
        scan = ms(r["scan_s"]) if "scan_s" in r else f"{'-':>9}"
        approx = ms(r["progressive_s"]) if "progressive_s" in r else f"{'-':>9}"
        print(
            f"{config:<22}{scan}{approx}{ms(r['exact_s']):>10}{ms(p50):>10}{ms(p95):>9}"
            f"{r['peak_rss_mib']:>8.0f} MiB  {served}"
        )
        if "queries" in r:
            q, rd = r["queries"], r["renders"]
            q50, q95 = statistics.median(q) * 1e3, float(np.percentile(q, 95)) * 1e3
            r50, r95 = statistics.median(rd) * 1e3, float(np.percentile(rd, 95)) * 1e3
            steps = f"view data (query + M4) p50 {q50:.1f} / p95 {q95:.1f}, render {r50:.1f} / {r95:.1f}"
            steps += f"; index build {r['index_s']:.1f} s"
            if "idle_s" in r:
                steps += f"; idle after {r['idle_s']:.1f} s; row files {r['row_store']}"
            print(f"{'':<22}steps: {steps}")
        if peer is not None and config != "plotly-resampler":
            pl = peer["latencies"]
            rss_ratio = r["peak_rss_mib"] / peer["peak_rss_mib"]
            print(
                f"{'':<22}vs plotly-resampler: p50 x{p50 / statistics.median(pl):.2f}, "
                f"p95 x{p95 / float(np.percentile(pl, 95)):.2f}, RSS x{rss_ratio:.2f}; "
                f"exact first frame / scan = x{r['exact_s'] / r['scan_s']:.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7,1e8,1e9")
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--worker")
    parser.add_argument("--n", type=int)
    parser.add_argument("--memory-limit", help="DuckDB memory_limit for pikaplot's session, e.g. 512MB")
    parser.add_argument("--peer-path", help="extra sys.path folder holding plotly-resampler (pip --target)")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.n, args.moves, args.memory_limit, args.peer_path)
        return
    print(f"# pikaplot scale benchmark: {args.moves} scripted zooms/pans per configuration, frame 800x400;")
    print("# times in ms; 'approx' = first progressive frame, 'exact' = first exact frame, from pk.line()")
    limit = args.memory_limit or "default (the Session picks it: docs/performance.md)"
    print(f"# DuckDB memory_limit: {limit}")
    for size in args.sizes.split(","):
        n = int(float(size))
        path, seconds = write_parquet(n)
        if seconds:
            print(f"# generated {path.name} in {seconds:.1f} s")
        configs = ["parquet"] if n > 200_000_000 else ["duckdb", "parquet", "plotly-resampler"]
        results = {c: measure(c, n, args.moves, args.memory_limit, args.peer_path) for c in configs}
        report(n, results)


if __name__ == "__main__":
    main()
