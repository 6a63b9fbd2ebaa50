"""The same line and density plots on DuckDB and on Spark (Spark Connect), from the same Parquet file.

Each engine runs in its own process at its defaults (no Session arguments; Spark: the server of
scripts/spark_server.sh, local[2]) over benchmarks/data/walk_<n>.parquet (x sorted, y a random walk;
written by datasets.py), drawing the same seeded views (widths 1e-4..1 of the extent). Per size it
prints the first exact frame, the time until the line index is ready (views after it are timed),
the steps (extent, index build), line zoom p50/p95 and a density view, so it shows how each step
grows from 1M to 10M to 100M rows. Spark on one machine is expected slower: the point is that the
same plots run where a cluster keeps the data.

    bash scripts/spark_server.sh start
    python benchmarks/engines.py [--sizes 1e6,1e7] [--views 20] [--remote sc://127.0.0.1:15002]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import write_parquet

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def views(count: int, n: int, seed: int = 7) -> list[tuple[float, float]]:
    """Seeded x ranges of widths 1e-4..1 of the extent [0, n - 1] at random positions."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        width = (n - 1) * 10 ** rng.uniform(-4, 0)
        start = rng.uniform(0, n - 1 - width)
        out.append((float(start), float(start + width)))
    return out


def run_engine(engine: str, n: int, count: int, remote: str) -> dict[str, object]:
    """One engine, one size, in this process: first frame and its steps, zooms, a density view."""
    warnings.simplefilter("ignore", FutureWarning)
    import pikaplot_widget as pk

    path, _ = write_parquet(n)
    session = pk.Session.spark(remote) if engine == "spark" else None
    start = time.perf_counter()
    plot = pk.line(str(path), "x", "y", session=session, width=800, height=400)
    plot.to_array()
    first = time.perf_counter() - start
    plot.controller.wait_idle(3600)  # the line index is built after the first exact frame
    ready = time.perf_counter() - start
    stats = plot.stats
    times = []
    for view in views(count, n):
        t = time.perf_counter()
        plot.x_range = view
        plot.to_array()
        times.append(time.perf_counter() - t)
    plot.close()
    t = time.perf_counter()
    dens = pk.scatter(str(path), "x", "y", session=session, width=800, height=400)
    dens.x_range = (n * 0.1, n * 0.6)
    dens.to_array()
    density_s = time.perf_counter() - t
    dens.close()
    return {
        "first_s": first, "ready_s": ready, "extent_s": stats["extent_s"], "index_s": stats["index_s"],
        "index_levels": stats["index_levels"], "p50_ms": float(np.percentile(times, 50)) * 1e3,
        "p95_ms": float(np.percentile(times, 95)) * 1e3, "density_s": density_s,
    }  # fmt: skip


def measure(engine: str, n: int, count: int, remote: str) -> dict[str, object] | None:
    """Run one engine and size in a process of its own."""
    command = [sys.executable, __file__, "--worker", engine, "--sizes", str(n), "--views", str(count),
               "--remote", remote]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    if done.returncode != 0 or not lines:
        print(f"{engine} at {n:,} failed:\n{done.stderr[-2000:]}")
        return None
    return json.loads(lines[-1][2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--remote", default=os.environ.get("SPARK_REMOTE", "sc://127.0.0.1:15002"))
    parser.add_argument("--worker", choices=["duckdb", "spark"], help="internal: one engine, one size")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    if args.worker:
        print("@@" + json.dumps(run_engine(args.worker, sizes[0], args.views, args.remote)))
        return
    print(f"# {args.views} seeded views per size; each engine in its own process; times in ms unless noted")
    head = f"{'rows':>12} {'engine':>7} {'first s':>8} {'ready s':>8} {'extent s':>9} {'index s':>8}"
    print(f"{head} {'levels':>6} {'zoom p50':>9} {'zoom p95':>9} {'density s':>9}")
    for n in sizes:
        results = {engine: measure(engine, n, args.views, args.remote) for engine in ("duckdb", "spark")}
        for engine, r in results.items():
            if r is None:
                continue
            steps = f"{r['first_s']:>8.2f} {r['ready_s']:>8.2f} {r['extent_s']:>9.2f} {r['index_s']:>8.2f}"
            steps += f" {r['index_levels']:>6}"
            zoom = f"{r['p50_ms']:>9.1f} {r['p95_ms']:>9.1f}"
            print(f"{n:>12,} {engine:>7} {steps} {zoom} {r['density_s']:>9.2f}")
        duck, spark = results["duckdb"], results["spark"]
        if duck and spark:
            keys = ("first_s", "p95_ms", "density_s")
            ratio = {k: float(spark[k]) / max(float(duck[k]), 1e-9) for k in keys}
            shown = ", ".join(f"{k} x{v:.1f}" for k, v in ratio.items() if math.isfinite(v))
            print(f"{'':>12} {'spark/duckdb':>20}: {shown}")


if __name__ == "__main__":
    main()
