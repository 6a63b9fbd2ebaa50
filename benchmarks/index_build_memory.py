"""Peak memory of the line index's level-0 build over walk_<n>.parquet: one GROUP BY over every row (as
`plots/line/index.py` builds it) against the same buckets built in x-range chunks (sorted x: each chunk
reads only its own row groups, and its hash table holds only its own buckets), each in a fresh process.

    python benchmarks/index_build_memory.py --n 1e9 [--chunks 16] [--threads 16] [--limit 1.5GiB]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import parquet_path


def sample_memory(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, float], threading.Event, threading.Thread]:
    """Peak RSS and DuckDB's memory per tag (MiB), every 50 ms on a thread of its own, until the event
    is set (then join the thread)."""
    import psutil

    peaks: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        cursor, process = con.cursor(), psutil.Process()
        while not done.wait(0.05):
            peaks["rss"] = max(peaks.get("rss", 0.0), process.memory_info().rss / 2**20)
            for tag, used in cursor.execute("SELECT tag, memory_usage_bytes FROM duckdb_memory()").fetchall():
                peaks[tag] = max(peaks.get(tag, 0.0), used / 2**20)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    return peaks, done, sampler


def build(n: int, chunks: int, threads: int, limit: str, checkpoint: bool) -> dict[str, object]:
    """Build level 0 in `chunks` x ranges (1: the one GROUP BY the index uses); what it cost."""

    import pikaplot_widget as pk
    from pikaplot_widget.engine.line import LineColumns
    from pikaplot_widget.plots.line.index_geometry import bucket_count

    session = pk.Session(threads=threads, memory_limit=limit)
    con = session.connection
    path = parquet_path(n)
    source = session.resolve(str(path))
    cols = LineColumns.checked(source, "x", "y")
    x_min, x_max, rows = con.execute(
        f"SELECT min(x), max(x), count(*) FROM read_parquet('{path}')"
    ).fetchone()
    buckets = bucket_count(rows)
    width = (x_max - x_min) / buckets
    key = "LEAST(CAST(floor((x - ?) / ?) AS BIGINT), ?)"
    peaks, done, sampler = sample_memory(con)
    started = time.perf_counter()
    if chunks == 1:
        select = cols.m4_grouped_sql(key, "k", cols.x_valid, with_gaps=False)
        con.execute(f"CREATE TABLE level0 AS {select}", [x_min, width, buckets - 1])
    else:
        where = f"{cols.x_valid} AND x >= ? AND x < ?"
        select = cols.m4_grouped_sql(key, "k", where, with_gaps=False)
        for i in range(chunks):  # chunk edges on bucket edges: no bucket is split between chunks
            lo = x_min + width * (buckets * i // chunks)
            hi = x_min + width * (buckets * (i + 1) // chunks) if i < chunks - 1 else float("inf")
            sql = f"CREATE TABLE level0 AS {select}" if i == 0 else f"INSERT INTO level0 {select}"
            con.execute(sql, [lo, hi, x_min, width, buckets - 1])
            if checkpoint:
                con.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    table_rows, distinct = con.execute("SELECT count(*), count(DISTINCT k) FROM level0").fetchone()
    table_mib = con.execute(
        "SELECT coalesce(sum(memory_usage_bytes), 0) / 2**20 FROM duckdb_memory() "
        "WHERE tag = 'IN_MEMORY_TABLE'"
    ).fetchone()[0]
    return {
        "chunks": chunks,
        "threads": threads,
        "limit": limit,
        "checkpoint": checkpoint,
        "seconds": seconds,
        "buckets": buckets,
        "rows_in_table": table_rows,
        "distinct_k": distinct,
        "table_mib_after": table_mib,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peaks_mib": {k: round(v) for k, v in peaks.items() if v >= 1},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1e9")
    parser.add_argument("--chunks", default="1,16")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--limit", default="1.5GiB")
    parser.add_argument("--worker", type=int)
    parser.add_argument("--checkpoint", action="store_true")
    args = parser.parse_args()
    n = int(float(args.n))
    if args.worker is not None:
        print("RESULT " + json.dumps(build(n, args.worker, args.threads, args.limit, args.checkpoint)))
        return
    for chunks in (int(c) for c in args.chunks.split(",")):
        for checkpoint in (False, True) if chunks > 1 else (False,):
            extra = ["--checkpoint"] if checkpoint else []
            command = [sys.executable, __file__, "--n", str(n), "--worker", str(chunks), *extra]
            command += ["--threads", str(args.threads), "--limit", args.limit]
            out = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")]
            print(lines[0] if lines else f"chunks {chunks} failed: {out.stderr[-500:]}", flush=True)


if __name__ == "__main__":
    main()
