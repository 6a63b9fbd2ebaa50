"""The line index build as `plots/line/index.py` runs it, in level-0 chunks or in one statement, with
or without the CHECKPOINT after it: build time, peak RSS, DuckDB's own peaks by tag, the index tables'
memory after, and views answered from the DuckDB level tables (`pyramid_m4`, the path levels too big
for numpy take). Each configuration in a fresh process, at the session's defaults.

    python benchmarks/index_chunks_memory.py --n 1e8 [--configs one,chunked,chunked@24415+checkpoint]
        [--views 40] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import parquet_path
from index_build_memory import sample_memory

CONFIGS = ("one", "one+checkpoint", "chunked", "chunked+checkpoint")


def measure(n: int, config: str, views: int) -> dict[str, object]:
    """Build the index over walk_<n>.parquet in one configuration; what it cost."""
    import numpy as np
    import psutil

    import pikaplot_widget as pk
    from pikaplot_widget.engine.dialect import Dialect
    from pikaplot_widget.engine.line import LineColumns, fetch_extent
    from pikaplot_widget.plots.line import index, index_chunks

    session = pk.Session()
    runner = session.reader()
    if "checkpoint" not in config:

        class NoCheckpoint(Dialect):
            def checkpoint(self, database: str) -> str | None:
                return None

        runner.dialect = NoCheckpoint()
    cols = LineColumns.checked(session.resolve(str(parquet_path(n))), "x", "y")
    extent = fetch_extent(runner, cols)
    peaks, done, sampler = sample_memory(session.connection)
    rss_before = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    per_chunk = 1 << 40  # "one": one statement; "chunked": the default; "chunked@N": N buckets a chunk
    if config.startswith("chunked"):
        name = config.split("+", maxsplit=1)[0]
        per_chunk = int(name.split("@")[1]) if "@" in name else index_chunks.BUCKETS_PER_CHUNK
    pyramid = index.build_pyramid(runner, cols, extent, buckets_per_chunk=per_chunk)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    assert pyramid is not None
    memory = dict(
        session.connection.execute("SELECT tag, memory_usage_bytes / 2**20 FROM duckdb_memory()").fetchall()
    )
    rng = np.random.default_rng(7)
    span = extent.x_max - extent.x_min
    levels = tuple(range(min(2, len(pyramid.tables))))  # levels 0 and 1 (a small index has one)
    viewports = []  # over the DuckDB level tables
    for _ in range(views):
        for level in levels:
            width = pyramid.width(level) * 4 * rng.uniform(1, 8)
            viewports.append((level, extent.x_min + rng.uniform(0, 0.9) * span, width * 800))

    def time_views() -> dict[str, list[float]]:
        timings: dict[int, list[float]] = {level: [] for level in levels}
        for level, x0, width in viewports:
            started = time.perf_counter()
            index.pyramid_m4(runner, pyramid, level, (x0, x0 + width), 800)
            timings[level].append((time.perf_counter() - started) * 1000)
        return {
            f"level {k}": [round(float(np.percentile(t, q)), 2) for q in (50, 95)] for k, t in timings.items()
        }

    time_views()  # warm
    view_ms = time_views()
    compared: dict[str, object] = {}
    if config.endswith("+ab"):  # the same views again after a CHECKPOINT (views A, CHECKPOINT, views B)
        from pikaplot_widget.engine.runner import INDEX_SCHEMA

        compared["rss_before_checkpoint_mib"] = round(psutil.Process().memory_info().rss / 2**20)
        started = time.perf_counter()
        runner.run(f"CHECKPOINT {INDEX_SCHEMA}")
        compared["checkpoint_s"] = round(time.perf_counter() - started, 3)
        compared["after_checkpoint_mib"] = dict(
            session.connection.execute(
                "SELECT tag, round(memory_usage_bytes / 2**20) FROM duckdb_memory() "
                "WHERE tag = 'IN_MEMORY_TABLE'"
            ).fetchall()
        )
        compared["rss_after_checkpoint_mib"] = round(psutil.Process().memory_info().rss / 2**20)
        compared["view_ms_after_checkpoint"] = time_views()
    statements = len(
        index_chunks.level0_statements(cols, extent, "t", pyramid.buckets, pyramid.bucket_width, per_chunk)
    )
    return {
        "config": config,
        "rows": extent.rows,
        "buckets": pyramid.buckets,
        "level0_statements": statements,
        "checkpoints": [index_chunks.CHECKPOINTS.run, index_chunks.CHECKPOINTS.failed],
        "build_s": round(seconds, 2),
        "rss_before_mib": round(rss_before),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peaks_mib": {k: round(v) for k, v in peaks.items() if v >= 1},
        "after_mib": {k: round(v) for k, v in memory.items() if v >= 1},
        "rss_after_mib": round(psutil.Process().memory_info().rss / 2**20),
        "view_ms_p50_p95": view_ms,
        **compared,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1e8")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--views", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--worker")
    args = parser.parse_args()
    n = int(float(args.n))
    if args.worker is not None:
        print("RESULT " + json.dumps(measure(n, args.worker, args.views)))
        return
    for _ in range(args.repeat):
        for config in args.configs.split(","):
            command = [
                sys.executable,
                __file__,
                "--n",
                str(n),
                "--worker",
                config,
                "--views",
                str(args.views),
            ]
            out = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")]
            print(lines[0] if lines else f"{config} failed: {out.stderr[-800:]}", flush=True)


if __name__ == "__main__":
    main()
