"""Where the first look of a line plot goes on a big Parquet file: the sampled windows one by one,
all eight in one query (cold, then warm), with DuckDB's profile of the eight.

    python benchmarks/first_look_probe.py [--n 1e9]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import parquet_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1e9")
    args = parser.parse_args()
    n = int(float(args.n))
    path = parquet_path(n)
    con = duckdb.connect()
    print("threads", con.execute("SELECT current_setting('threads')").fetchone())

    def window(lo: float) -> str:
        return f"SELECT x, y FROM read_parquet('{path}') WHERE x >= {lo} AND x <= {lo + 2000}"

    starts = [n * i / 8 + 12345 for i in range(8)]
    eight = f"SELECT x, y FROM ({' UNION ALL '.join(window(lo) for lo in starts)}) ORDER BY x"
    for label, sql in (
        ("bind only (no row group matches)", f"SELECT x FROM read_parquet('{path}') WHERE x < -1"),
        ("eight windows, cold", eight),
        ("eight windows, warm", eight),
        ("one window (new place)", window(n * 0.55)),
        ("one window (again)", window(n * 0.55)),
    ):
        started = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        print(f"{label:<36} {(time.perf_counter() - started) * 1e3:8.1f} ms  {rows} rows")
    other = f"SELECT x, y FROM ({' UNION ALL '.join(window(lo + 5e6) for lo in starts)}) ORDER BY x"
    started = time.perf_counter()
    plan = con.execute("EXPLAIN ANALYZE " + other).fetchall()[0][1]
    print(f"eight other windows, profiled {(time.perf_counter() - started) * 1e3:.1f} ms")
    print("\n".join(line for line in plan.splitlines() if "Total Time" in line or "ms" in line)[:3000])


if __name__ == "__main__":
    main()
