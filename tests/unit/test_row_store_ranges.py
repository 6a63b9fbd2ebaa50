"""The row-file pass over a sorted Parquet file reads it a few row groups at a time: the files equal
the file's rows in order, bit for bit (pyarrow's read as the reference), no row read twice where row
groups share an x at their edge, and one range where the bounds are not exact in axis units."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pikaplot_widget.engine import row_store
from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.row_group_bounds import RowGroupBounds
from pikaplot_widget.engine.row_store import RowStore
from pikaplot_widget.engine.sources import resolve_source

GROUP = 1000


def _write(path, x, y):
    pq.write_table(pa.table({"x": x, "y": y}), path, row_group_size=GROUP)
    return str(path)


def _passes(runner, monkeypatch):
    ranges = []
    run_batches = runner.run_batches

    def spy(sql, params, *args, **kwargs):
        ranges.append(tuple(params))
        return run_batches(sql, params, *args, **kwargs)

    monkeypatch.setattr(runner, "run_batches", spy)
    return ranges


def _stored(store, name):
    with open(os.path.join(store._dir, name), "rb") as f:
        return np.frombuffer(f.read(), np.float64)


def _build(session, runner, path, monkeypatch):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store, "PASS_ROW_GROUPS", 3)
    cols = LineColumns.checked(resolve_source(path, session), "x", "y")
    ranges = _passes(runner, monkeypatch)
    store = RowStore()
    assert store.build(runner, cols, fetch_extent(runner, cols)), store.state
    return store, ranges


def test_a_sorted_file_is_streamed_in_ranges_and_stored_bit_for_bit(
    session, runner, rng, monkeypatch, tmp_path
):
    n = 40 * GROUP + 123
    x = np.sort(np.round(rng.uniform(-50.0, 50.0, n), 2))  # many ties, some across row-group edges
    x[5 * GROUP - 3 : 5 * GROUP + 3] = x[5 * GROUP - 3]  # one tie across an edge for certain
    y = rng.normal(size=n)
    y[rng.choice(n, 200, replace=False)] = np.nan
    path = _write(tmp_path / "sorted.parquet", x, y)
    store, ranges = _build(session, runner, path, monkeypatch)
    assert len(ranges) > 5
    table = pq.read_table(path)  # the reference: the file's rows in order
    want_x = table.column("x").to_numpy()
    want_y = table.column("y").to_numpy(zero_copy_only=False)
    assert store.rows == n
    np.testing.assert_array_equal(_stored(store, "x.f64").view(np.uint64), want_x.view(np.uint64))
    got_y = _stored(store, "y.f64")
    np.testing.assert_array_equal(np.isnan(got_y), np.isnan(want_y))
    np.testing.assert_array_equal(got_y[~np.isnan(got_y)], want_y[~np.isnan(want_y)])
    assert ranges[0][0] == x.min() and ranges[-1][1] == x.max()
    assert all(hi < lo for (_, hi), (lo, _) in itertools.pairwise(ranges))  # disjoint, in order
    store.close()


def test_row_numbers_as_x_leave_no_x_file(session, runner, rng, monkeypatch, tmp_path):
    n = 30 * GROUP
    y = np.cumsum(rng.normal(size=n))
    path = _write(tmp_path / "rows.parquet", np.arange(n, dtype=np.int64), y)
    store, ranges = _build(session, runner, path, monkeypatch)
    assert len(ranges) == 10  # 30 row groups, 3 a range
    assert not os.path.exists(os.path.join(store._dir, "x.f64"))
    np.testing.assert_array_equal(_stored(store, "y.f64").view(np.uint64), y.view(np.uint64))
    store.close()


def test_timestamps_and_unsorted_files_are_read_in_one_range(session, runner, rng, monkeypatch, tmp_path):
    n = 20 * GROUP
    times = pa.array(np.arange(n, dtype=np.int64) * 1000, pa.timestamp("us"))
    path = str(tmp_path / "times.parquet")
    pq.write_table(pa.table({"x": times, "y": rng.normal(size=n)}), path, row_group_size=GROUP)
    store, ranges = _build(session, runner, path, monkeypatch)
    assert len(ranges) == 1 and store.rows == n
    store.close()
    x = rng.uniform(0.0, 1.0, n)  # shuffled: the pass stops at its first batch, in one range
    path = _write(tmp_path / "shuffled.parquet", x, rng.normal(size=n))
    monkeypatch.setattr(row_store, "PASS_ROW_GROUPS", 3)
    cols = LineColumns.checked(resolve_source(path, session), "x", "y")
    ranges.clear()
    assert not RowStore().build(runner, cols, fetch_extent(runner, cols))
    assert len(ranges) == 1


def test_split_ranges_hold_every_row_group_once(rng):
    """Random sorted row groups with ties at edges: each group's rows fall in exactly one range."""
    for _ in range(200):
        groups = int(rng.integers(1, 60))
        values = np.sort(rng.integers(0, 80, size=2 * groups).astype(np.float64)).reshape(groups, 2)
        ones = np.ones(groups, np.int64)
        bounds = RowGroupBounds(values[:, 0], values[:, 1], values[:, 0], values[:, 1], ones)
        per = int(rng.integers(1, 6))
        ranges = bounds.split(float(values.min()), float(values.max()), per)
        for lo_x, hi_x in values:  # both ends of every group lie in the same single range
            inside = [(lo <= lo_x and hi_x <= hi) for lo, hi in ranges]
            assert sum(inside) == 1
        assert all(hi < lo for (_, hi), (lo, _) in itertools.pairwise(ranges))
    zeros = np.zeros(2)
    unsorted = RowGroupBounds(np.array([0.0, 5.0]), np.array([6.0, 9.0]), zeros, zeros, np.ones(2, np.int64))
    assert unsorted.split(0.0, 9.0, 1) == [(0.0, 9.0)]


@pytest.fixture(autouse=True)
def _temp(tmp_path, monkeypatch):
    monkeypatch.setattr(row_store.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(row_store, "in_memory_filesystem", lambda directory: False)
