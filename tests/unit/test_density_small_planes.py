"""The categorical density index counted in 16-bit planes: every level against counts made in
numpy with int64, views resampled from it against the same index held in int64, and the 32-bit
recount when a cell (or four of them, one level up) holds more rows than 16 bits do."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine.scatter import ScatterColumns, fetch_scatter_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.scatter.arrow_bins import arrow_columns
from pikaplot_widget.plots.scatter.density_index import (
    DensityIndex,
    Level,
    _sum_runs,
    build_density_index,
    index_box,
)

NAMES = np.array(["a", "b", "c", "d"])


def reference_planes(x, y, codes, box, size, planes):
    """Rows per cell and category with the floor rule, in int64."""
    x0, x1, y0, y1 = box
    ix = np.minimum(np.floor((x - x0) * (size / (x1 - x0))), size - 1).astype(np.int64)
    iy = np.minimum(np.floor((y - y0) * (size / (y1 - y0))), size - 1).astype(np.int64)
    out = np.zeros((planes, size, size), np.int64)
    np.add.at(out, (codes, iy, ix), 1)
    return out


def build(session, runner, x, y, cat, use_arrow):
    table = pa.table({"x": x, "y": y, "cat": cat})
    source = resolve_source(table, session)
    source.prepare(runner.cursor)
    cols = ScatterColumns.checked(source, "x", "y", color="cat")
    extent = fetch_scatter_extent(runner, cols)
    data = arrow_columns(cols) if use_arrow else None
    index = build_density_index(runner, cols, extent, budget=2**16, min_rows=0, arrow=data)
    assert index is not None
    codes = np.array([list(extent.categories).index(c) for c in cat])
    reference = reference_planes(
        x, y, codes, index_box(extent), index.levels[0].size, len(extent.categories) + 1
    )
    return index, reference


def check_levels(index, reference):
    expected = reference
    for level in index.levels:
        assert level.planes is not None and level.counts is None
        np.testing.assert_array_equal(level.planes.astype(np.int64), expected)
        n = expected.shape[-1] // 2
        expected = expected.reshape(expected.shape[0], n, 2, n, 2).sum(axis=(2, 4))


@pytest.mark.parametrize("use_arrow", [True, False])
def test_sixteen_bit_planes_equal_numpy_and_resample_like_wide_ones(rng, session, runner, use_arrow):
    n = 150_000
    x, y = rng.normal(size=n), rng.normal(size=n)
    cat = rng.choice(NAMES, n, p=[0.4, 0.3, 0.2, 0.1])
    index, reference = build(session, runner, x, y, cat, use_arrow)
    assert index.levels[0].planes is not None and index.levels[0].planes.dtype == np.uint16
    check_levels(index, reference)
    wide = DensityIndex(
        index.box, [Level(lv.size, None, planes=lv.planes.astype(np.int64)) for lv in index.levels]
    )
    for _ in range(10):
        cx, cy, half = rng.normal(), rng.normal(), 10 ** rng.uniform(-0.5, 0.8)
        box = (cx - half, cx + half, cy - half * 0.8, cy + half * 0.8)
        width, height = int(rng.integers(20, 90)), int(rng.integers(20, 90))
        level = index.level_for(box, width, height)
        if level is None:
            continue
        got, want = index.resample(level, box, width, height), wide.resample(level, box, width, height)
        np.testing.assert_array_equal(got.planes, want.planes)
        np.testing.assert_array_equal(got.counts, want.counts)
        assert index.count_bounds(box) == wide.count_bounds(box)


@pytest.mark.parametrize("use_arrow", [True, False])
def test_a_cell_past_sixteen_bits_is_counted_in_thirty_two(rng, session, runner, use_arrow):
    heavy = 70_000  # one category in one cell: more than 65535
    x = np.r_[np.full(heavy, 0.3), rng.random(5000), 0.0, 1.0]
    y = np.r_[np.full(heavy, 0.6), rng.random(5000), 0.0, 1.0]
    cat = np.concatenate([np.full(heavy, "a"), rng.choice(NAMES, 5000), ["b", "c"]])
    index, reference = build(session, runner, x, y, cat, use_arrow)
    assert index.levels[0].planes is not None and index.levels[0].planes.dtype == np.uint32
    check_levels(index, reference)


def test_four_full_cells_widen_the_level_above(rng, session, runner):
    size, per_cell = 256, 33_000  # 2**16 of budget: the smallest grid; four cells of 33,000 rows
    centres = (np.array([20.5, 21.5]) / size).tolist()
    x = np.r_[np.repeat(centres, 2 * per_cell), 0.0, 1.0, rng.random(1000)]
    y = np.r_[np.tile(np.repeat(centres, per_cell), 2), 0.0, 1.0, rng.random(1000)]
    cat = np.concatenate([np.full(4 * per_cell, "a"), ["b", "c"], rng.choice(NAMES, 1000)])
    index, reference = build(session, runner, x, y, cat, True)
    assert index.levels[0].size == size
    assert index.levels[0].planes.dtype == np.uint16
    assert index.levels[1].planes.dtype == np.uint32  # 132,000 rows in one cell of level 1
    check_levels(index, reference)
    # a pixel gathering the four full cells holds 132,000 rows (two cells of one row: 66,000)
    box = index.box
    assert index.level_for(box, 100, 100) == 0
    grid = index.resample(0, box, 100, 100)
    assert grid.planes is not None
    assert grid.planes[0].max() >= 4 * per_cell
    assert grid.total == len(x)


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.int64, np.float32])
def test_run_sums_equal_a_loop(rng, dtype):
    a = (rng.random((3, 40, 50)) * 60_000).astype(dtype)
    for axis in (-1, -2):
        n = a.shape[axis]
        starts = np.r_[0, np.sort(rng.choice(np.arange(1, n), 9, replace=False))]
        got = _sum_runs(a, starts, axis, np.float64 if dtype == np.float32 else np.int64)
        ends = [*starts[1:], n]
        want = np.stack(
            [
                np.take(a, range(s, e), axis=axis).astype(np.float64).sum(axis=axis)
                for s, e in zip(starts, ends, strict=True)
            ],
            axis=axis,
        )
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_grid_sizes_follow_rows_planes_and_budget(session):
    from pikaplot_widget.engine.scatter import ScatterExtent
    from pikaplot_widget.plots.scatter.density_index import BUDGET_BYTES, CATEGORY_BUDGET, grid_size

    source = resolve_source(pa.table({"x": [0.0], "y": [0.0], "cat": ["a"]}), session)
    plain = ScatterColumns.checked(source, "x", "y")
    coloured = ScatterColumns.checked(source, "x", "y", color="cat")

    def extent(rows, categories=6):
        return ScatterExtent(0, 1, 0, 1, rows, rows, categories=tuple("abcdefghijklmnopqrstu"[:categories]))

    assert grid_size(plain, extent(5_000_000)) == 4096
    assert (
        grid_size(coloured, extent(5_000_000), count_bytes=2) == 2048
    )  # a plane per category: 2 cells a row
    assert grid_size(coloured, extent(10_000_000), count_bytes=2) == 4096
    assert grid_size(coloured, extent(10_000_000), count_bytes=4) == 2048  # 32-bit planes: the budget
    assert grid_size(coloured, extent(10_000_000, 20), count_bytes=2) == 2048  # 21 planes
    for categories in (1, 6, 20):
        size = grid_size(coloured, extent(10**8, categories), count_bytes=2)
        assert (categories + 1) * 2 * size * size * 4 // 3 <= BUDGET_BYTES * CATEGORY_BUDGET
