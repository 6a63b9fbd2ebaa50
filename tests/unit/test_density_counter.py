"""PixelCounter (keys streamed from DuckDB, counted on a thread of its own) against np.bincount,
and DuckDB's exact density path over many record batches against numpy's histogram2d."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine.scatter import ScatterColumns, fetch_scatter_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.scatter.density import PixelCounter, fetch_density


@pytest.mark.parametrize("kind", ["none", "category", "numeric"])
def test_counts_of_many_batches_equal_bincount(rng, kind):
    width, height, planes = 13, 7, 4
    cells = width * height * (planes if kind == "category" else 1)
    counter = PixelCounter(kind, width, height, planes, np.uint32)
    counter.PENDING_BATCHES = 2
    keys_seen, values_seen = [], []
    for _ in range(40):
        n = int(rng.integers(0, 500))
        keys = rng.integers(0, cells, n).astype(np.int32)
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        columns = {"k": pa.array(keys)}
        if kind == "numeric":
            columns["c"] = pa.array(values)
        counter.add(pa.record_batch(columns))
        keys_seen.append(keys)
        values_seen.append(values)
    counter.flush()
    keys, values = np.concatenate(keys_seen), np.concatenate(values_seen)
    np.testing.assert_array_equal(counter.counts, np.bincount(keys, minlength=cells))
    assert counter.counts.dtype == np.uint32
    if kind == "numeric":
        ok = np.isfinite(values)
        assert counter.sums is not None and counter.color_n is not None
        np.testing.assert_allclose(counter.sums, np.bincount(keys[ok], values[ok], minlength=cells))
        np.testing.assert_array_equal(counter.color_n, np.bincount(keys[ok], minlength=cells))


def test_a_failing_batch_raises_at_flush(rng):
    counter = PixelCounter("none", 4, 4)
    counter.add(pa.record_batch({"k": pa.array([0, 1, 99], pa.int32())}))  # 99: outside the grid
    with pytest.raises(IndexError):
        counter.flush()


def test_duckdb_density_over_many_batches_equals_histogram2d(rng, session, runner):
    n = 2_300_000  # several of DuckDB's record batches
    x, y = rng.normal(size=n), rng.normal(size=n)
    cat = rng.choice(np.array(["u", "v", "w"]), n)
    source = resolve_source(pa.table({"x": x, "y": y, "cat": cat}), session)
    source.prepare(runner.cursor)
    cols = ScatterColumns.checked(source, "x", "y", color="cat")
    extent = fetch_scatter_extent(runner, cols)
    box = (-1.5, 2.0, -2.0, 1.0)
    grid = fetch_density(runner, cols, extent, box, 90, 70)  # no `arrow`: DuckDB computes the keys
    assert grid.planes is not None
    for k, name in enumerate(extent.categories):
        chosen = cat == name
        reference, _, _ = np.histogram2d(x[chosen], y[chosen], bins=[90, 70], range=[box[:2], box[2:]])
        assert np.abs(grid.planes[k] - reference.T).sum() <= 2
    assert grid.total == int(((x >= -1.5) & (x <= 2.0) & (y >= -2.0) & (y <= 1.0)).sum())


def test_keys_counted_by_the_engine_add_their_counts(rng):
    """A remote engine sends one row per key: n rows, the colour's sum c and its count cn."""
    width, height = 9, 5
    cells = width * height
    counter = PixelCounter("numeric", width, height)
    want_n, want_sum, want_cn = np.zeros(cells, np.int64), np.zeros(cells), np.zeros(cells, np.int64)
    for _ in range(6):
        keys = rng.choice(cells, 20, replace=False).astype(np.int32)
        n = rng.integers(1, 1000, 20)
        cn = np.minimum(n, rng.integers(0, 1000, 20))
        sums = np.where(cn > 0, rng.normal(size=20) * cn, np.nan)  # SQL's sum of no values is NULL
        batch = pa.record_batch({
            "k": pa.array(keys), "n": pa.array(n), "c": pa.array(sums, mask=cn == 0), "cn": pa.array(cn)
        })  # fmt: skip
        counter.add(batch)
        np.add.at(want_n, keys, n)
        np.add.at(want_cn, keys, cn)
        np.add.at(want_sum, keys[cn > 0], sums[cn > 0])
    counter.flush()
    np.testing.assert_array_equal(counter.counts, want_n)
    np.testing.assert_array_equal(counter.color_n, want_cn)
    np.testing.assert_allclose(counter.sums, want_sum)
