"""The line plot's first exact frame at defaults against a plain DuckDB min/max scan of the same
Parquet file (not answered from statistics: `min(x + 0)`), alternating, in one process.

    python benchmarks/first_frame.py [--rows 1e8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import write_parquet

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e8")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import pikaplot_widget as pk

    path, _ = write_parquet(int(float(args.rows)))
    pk.line(str(path), "x", "y", width=200, height=100).close()  # imports and GPU start-up, once
    print(f"# {path.name}: plain scan vs pk.line(...).to_array() at defaults (800x400), seconds")
    for _ in range(args.repeat):
        con = duckdb.connect()
        started = time.perf_counter()
        con.execute(
            f"SELECT min(x + 0), max(x + 0), min(y + 0), max(y + 0) FROM read_parquet('{path}')"
        ).fetchall()
        scan = time.perf_counter() - started
        con.close()
        started = time.perf_counter()
        plot = pk.line(str(path), "x", "y", width=800, height=400)
        plot.to_array(timeout=300)
        first = time.perf_counter() - started
        stats = plot.stats
        plot.close()
        print(
            f"scan {scan:6.2f}  first exact {first:6.2f}  ratio x{first / scan:.2f}  "
            f"(extent {stats['extent_s']:.2f}, M4 query {stats['query_s']:.2f}, "
            f"render {stats['render_s']:.3f})"
        )


if __name__ == "__main__":
    main()
