"""benchmarks/datasets.py: the walk generated on several threads is the walk its per-chunk seeds define."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import datasets


@pytest.mark.parametrize(("n", "workers"), [(5_500_000, 3), (2_000_000, 1), (999_999, 4)])
def test_parallel_walk_matches_its_seeds(monkeypatch, n, workers):
    monkeypatch.setattr(datasets, "CHUNK", 1_000_000)
    chunks = list(datasets.walk_chunks_parallel(n, workers, seed=7))
    x = np.concatenate([c[0] for c in chunks])
    y = np.concatenate([c[1] for c in chunks])
    # Reference: each chunk's steps from its own seed, the walk continuing from the chunk before.
    level, parts = 0.0, []
    for chunk, start in enumerate(range(0, n, 1_000_000)):
        steps = np.random.default_rng([7, chunk]).normal(size=min(1_000_000, n - start))
        parts.append(level + np.cumsum(steps))
        level = float(parts[-1][-1])
    np.testing.assert_array_equal(x, np.arange(n, dtype=np.float64))
    np.testing.assert_allclose(y, np.concatenate(parts), rtol=0, atol=1e-9)


def test_write_parquet_with_workers(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "DATA", tmp_path)
    monkeypatch.setattr(datasets, "CHUNK", 300_000)
    path, seconds = datasets.write_parquet(1_000_000, workers=2)
    table = pq.read_table(path)
    assert seconds > 0 and table.num_rows == 1_000_000
    x = table.column("x").to_numpy()
    np.testing.assert_array_equal(x, np.arange(1_000_000, dtype=np.float64))
    steps = np.diff(table.column("y").to_numpy())
    assert 0.9 < steps.std() < 1.1  # a walk of N(0, 1) steps, no jump at chunk edges
    assert np.abs(steps).max() < 7
    assert datasets.write_parquet(1_000_000, workers=2) == (path, 0.0)  # reused
