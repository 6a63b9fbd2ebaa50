"""Generated random-walk series with sorted x, as Parquet files (generated once, reused).

python benchmarks/datasets.py 1e7 1e8 1e9     # writes benchmarks/data/walk_<n>.parquet
python benchmarks/datasets.py --workers 16 1e9  # chunks generated on 16 threads while one writes

With --workers > 1 each 10M-row chunk has a seed of its own (the same kind of walk, other values
than the sequential default), so chunks are generated in parallel; the writer stays one thread.
"""

from __future__ import annotations

import argparse
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parent / "data"
CHUNK = 10_000_000
ROW_GROUP = 1 << 20
SCHEMA = pa.schema([("x", pa.float64()), ("y", pa.float64())])


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


def _chunk_steps(n: int, chunk: int, seed: int) -> np.ndarray:
    """The walk's running sum within one chunk, from the chunk's own seed."""
    rng = np.random.default_rng([seed, chunk])
    return np.cumsum(rng.normal(size=min(CHUNK, n - chunk * CHUNK)))


def walk_chunks_parallel(n: int, workers: int, seed: int = 0):
    """Like `walk_chunks` (other values: a seed per chunk), chunks computed on `workers` threads
    (NumPy releases the GIL), at most 2 * workers chunks ahead of the consumer."""
    chunks = range((n + CHUNK - 1) // CHUNK)
    level = 0.0
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        ahead = iter(chunks)
        for chunk in chunks:
            while len(pending) < 2 * workers and (nxt := next(ahead, None)) is not None:
                pending.append(pool.submit(_chunk_steps, n, nxt, seed))
            y = pending.popleft().result()
            y += level
            level = float(y[-1])
            start = chunk * CHUNK
            yield np.arange(start, start + y.size, dtype=np.float64), y


def write_parquet(n: int, workers: int = 1) -> tuple[Path, float]:
    """Write the file if it is missing; return its path and the seconds generation took (0 if reused)."""
    path = parquet_path(n)
    if path.exists():
        return path, 0.0
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    chunks = walk_chunks(n) if workers <= 1 else walk_chunks_parallel(n, workers)
    with pq.ParquetWriter(partial, SCHEMA, compression="snappy") as writer:
        for x, y in chunks:
            writer.write_table(pa.table({"x": x, "y": y}, schema=SCHEMA), row_group_size=ROW_GROUP)
    partial.rename(path)
    return path, time.perf_counter() - started


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", default=["1e7", "1e8"])
    parser.add_argument("--workers", type=int, default=1, help="threads generating chunks (1: sequential)")
    args = parser.parse_args()
    for arg in args.sizes:
        size = int(float(arg))
        out, seconds = write_parquet(size, args.workers)
        print(f"{out}: {out.stat().st_size / 2**30:.2f} GiB, generated in {seconds:.1f} s")
