"""Generated random-walk series with sorted x, as Parquet files (generated once, reused).

python benchmarks/datasets.py 1e7 1e8 1e9     # writes benchmarks/data/walk_<n>.parquet
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parent / "data"
CHUNK = 10_000_000
ROW_GROUP = 1 << 20


def parquet_path(n: int) -> Path:
    """Where the Parquet file with n rows lives."""
    return DATA / f"walk_{n}.parquet"


def walk_chunks(n: int, seed: int = 0):
    """(x, y) chunks of a random walk: x = 0..n-1 (sorted), y = cumulative sum of N(0, 1) steps."""
    rng = np.random.default_rng(seed)
    level = 0.0
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        y = level + np.cumsum(rng.normal(size=m))
        level = float(y[-1])
        yield np.arange(start, start + m, dtype=np.float64), y


def write_parquet(n: int) -> tuple[Path, float]:
    """Write the file if it is missing; return its path and the seconds generation took (0 if reused)."""
    path = parquet_path(n)
    if path.exists():
        return path, 0.0
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    schema = pa.schema([("x", pa.float64()), ("y", pa.float64())])
    with pq.ParquetWriter(partial, schema, compression="snappy") as writer:
        for x, y in walk_chunks(n):
            writer.write_table(pa.table({"x": x, "y": y}, schema=schema), row_group_size=ROW_GROUP)
    partial.rename(path)
    return path, time.perf_counter() - started


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["1e7", "1e8"]:
        size = int(float(arg))
        out, seconds = write_parquet(size)
        print(f"{out}: {out.stat().st_size / 2**30:.2f} GiB, generated in {seconds:.1f} s")
