"""Binning straight from an Arrow table (arrow_bins) against numpy's histogram2d, a brute-force
count, and DuckDB's exact path, on random data (NULLs, NaN, inf, float32, many chunks) and random
views."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pikaplot_widget.engine.runner import QueryCancelled, Ticket
from pikaplot_widget.engine.scatter import ScatterColumns, fetch_scatter_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.scatter import arrow_bins
from pikaplot_widget.plots.scatter.arrow_bins import ArrowColumns, BinSpec, arrow_columns, count_pixels
from pikaplot_widget.plots.scatter.density import fetch_density
from pikaplot_widget.plots.scatter.density_index import build_density_index

CATS = np.array(["a", "b", "c", "d", "e", "f", None], dtype=object)


def random_table(rng: np.random.Generator, n: int = 60_000, chunks: int = 5) -> pa.Table:
    """x (float64 with NULLs), y (float32 with NaN/inf), a text colour with NULLs, a numeric colour
    with NaN, cut into chunks of random lengths (the colour column chunked differently)."""
    x = rng.normal(0.0, 1.0, n)
    y = (rng.normal(0.0, 2.0, n) + 0.5 * x).astype(np.float32)
    bad = rng.random(n) < 0.03
    y[bad] = rng.choice(np.array([np.nan, np.inf, -np.inf], np.float32), int(bad.sum()))
    v = rng.uniform(-3, 7, n)
    v[rng.random(n) < 0.03] = np.nan
    cat = rng.choice(CATS, n, p=[0.3, 0.25, 0.15, 0.1, 0.1, 0.05, 0.05])
    cuts = np.sort(rng.choice(np.arange(1, n), chunks - 1, replace=False))

    def chunked(values: pa.Array, at: np.ndarray) -> pa.ChunkedArray:
        edges = [0, *at.tolist(), n]
        return pa.chunked_array([values.slice(a, b - a) for a, b in itertools.pairwise(edges)])

    other_cuts = np.sort(rng.choice(np.arange(1, n), 2, replace=False))
    return pa.table({
        "x": chunked(pa.array(x, mask=rng.random(n) < 0.03), cuts),
        "y": chunked(pa.array(y), cuts),
        "cat": chunked(pa.array(cat, pa.string()), other_cuts),
        "v": chunked(pa.array(v), cuts),
    })  # fmt: skip


def numpy_columns(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x, y as float64 (NaN where NULL), the categories (None where NULL), the colour values."""
    x = table.column("x").to_numpy().astype(np.float64)
    y = table.column("y").to_numpy().astype(np.float64)
    cat = np.array(table.column("cat").to_pylist(), dtype=object)
    return x, y, cat, table.column("v").to_numpy()


def random_boxes(rng: np.random.Generator, count: int) -> list[tuple[float, float, float, float]]:
    boxes = []
    for _ in range(count):
        cx, cy = rng.normal(0, 1), rng.normal(0, 2)
        hw, hh = 10 ** rng.uniform(-2, 0.8), 10 ** rng.uniform(-2, 1.0)
        boxes.append((cx - hw, cx + hw, cy - hh, cy + hh))
    return boxes


def brute_force(x, y, box, width, height):
    """Each row's pixel by the floor rule, one row at a time in plain Python (bounds included)."""
    x0, x1, y0, y1 = box
    out = np.zeros((height, width), np.int64)
    for xv, yv in zip(x.tolist(), y.tolist(), strict=True):
        if x0 <= xv <= x1 and y0 <= yv <= y1:
            ix = min(int((xv - x0) * (width / (x1 - x0)) // 1), width - 1)
            iy = min(int((yv - y0) * (height / (y1 - y0)) // 1), height - 1)
            out[iy, ix] += 1
    return out


@pytest.fixture
def table(rng):
    return random_table(rng)


@pytest.fixture
def source(table, session, runner):
    src = resolve_source(table, session)
    src.prepare(runner.cursor)
    return src


def test_counts_equal_histogram2d_and_brute_force(table, rng, monkeypatch):
    monkeypatch.setattr(arrow_bins, "BLOCK_ROWS", 4096)  # many blocks over several threads
    x, y, _, _ = numpy_columns(table)
    data = ArrowColumns(
        [c.to_numpy(zero_copy_only=False) for c in table.column("x").chunks],
        [c.to_numpy(zero_copy_only=False) for c in table.column("y").chunks],
    )
    ok = np.isfinite(x) & np.isfinite(y)
    for box in random_boxes(rng, 10):
        width, height = int(rng.integers(5, 300)), int(rng.integers(5, 200))
        counts, _, _ = count_pixels(data, BinSpec(box, width, height))
        grid = counts.reshape(height, width)
        reference, _, _ = np.histogram2d(x[ok], y[ok], bins=[width, height], range=[box[:2], box[2:]])
        # histogram2d finds edges its own way: a row exactly on an edge may land next door
        assert grid.sum() == reference.sum()
        assert np.abs(grid - reference.T).sum() <= 2
    box, width, height = random_boxes(rng, 1)[0], 37, 23
    sample = slice(0, 8000)  # the pure-Python count is slow: the first chunk's rows
    small = ArrowColumns([x[sample]], [y[sample]])
    counts, _, _ = count_pixels(small, BinSpec(box, width, height))
    np.testing.assert_array_equal(
        counts.reshape(height, width), brute_force(x[sample], y[sample], box, width, height)
    )


@pytest.mark.parametrize("color", [None, "cat", "v"])
def test_views_equal_duckdbs_exact_path(source, runner, rng, color, monkeypatch):
    monkeypatch.setattr(arrow_bins, "BLOCK_ROWS", 5000)
    cols = ScatterColumns.checked(source, "x", "y", color=color)
    extent = fetch_scatter_extent(runner, cols)
    data = arrow_columns(cols)
    assert data is not None
    for box in random_boxes(rng, 8):
        width, height = int(rng.integers(5, 200)), int(rng.integers(5, 150))
        fast = fetch_density(runner, cols, extent, box, width, height, arrow=data)
        exact = fetch_density(runner, cols, extent, box, width, height)
        np.testing.assert_array_equal(fast.counts, exact.counts)
        assert fast.total == exact.total
        if color == "cat":
            assert fast.planes is not None and exact.planes is not None
            np.testing.assert_array_equal(fast.planes, exact.planes)
        if color == "v":
            np.testing.assert_array_equal(fast.color_count, exact.color_count)
            np.testing.assert_allclose(fast.color_sum, exact.color_sum, rtol=1e-9, atol=1e-9)


def test_category_planes_against_numpy(table, source, runner, rng):
    x, y, cat, _ = numpy_columns(table)
    cols = ScatterColumns.checked(source, "x", "y", color="cat")
    extent = fetch_scatter_extent(runner, cols)
    data = arrow_columns(cols)
    assert data is not None
    names = list(extent.categories)
    code = np.array([names.index(c) if c in names else len(names) for c in cat])
    others = 0
    for box in [(-4.0, 4.0, -9.0, 9.0), *random_boxes(rng, 4)]:
        grid = fetch_density(runner, cols, extent, box, 50, 40, arrow=data)
        assert grid.planes is not None
        for k in range(len(names) + 1):
            chosen = code == k
            reference, _, _ = np.histogram2d(x[chosen], y[chosen], bins=[50, 40], range=[box[:2], box[2:]])
            assert np.abs(grid.planes[k] - reference.T).sum() <= 2
        others += int(grid.planes[len(names)].sum())
    assert others > 0  # NULL colours are "other"


def test_dictionary_colour_codes_like_text(rng, session, runner):
    n = 20_000
    values = rng.choice(np.array(["p", "q", "r"], dtype=object), n)
    values[rng.random(n) < 0.1] = None
    table = pa.table({"x": rng.random(n), "y": rng.random(n), "c": pa.array(values).dictionary_encode()})
    source = resolve_source(table, session)
    source.prepare(runner.cursor)
    cols = ScatterColumns.checked(source, "x", "y", color="c")
    extent = fetch_scatter_extent(runner, cols)
    data = arrow_columns(cols)
    assert data is not None
    fast = fetch_density(runner, cols, extent, (0, 1, 0, 1), 17, 9, arrow=data)
    exact = fetch_density(runner, cols, extent, (0, 1, 0, 1), 17, 9)
    assert fast.planes is not None and exact.planes is not None
    np.testing.assert_array_equal(fast.planes, exact.planes)


@pytest.mark.parametrize("color", [None, "cat", "v"])
def test_index_equals_the_sql_built_index(source, runner, color):
    cols = ScatterColumns.checked(source, "x", "y", color=color)
    extent = fetch_scatter_extent(runner, cols)
    data = arrow_columns(cols)
    fast = build_density_index(runner, cols, extent, budget=2**22, min_rows=0, arrow=data)
    exact = build_density_index(runner, cols, extent, budget=2**22, min_rows=0)
    assert fast is not None and exact is not None
    assert [level.size for level in fast.levels] == [level.size for level in exact.levels]
    for a, b in zip(fast.levels, exact.levels, strict=True):
        for name in ("counts", "planes", "color_count"):
            left, right = getattr(a, name), getattr(b, name)
            assert (left is None) == (right is None)
            if left is not None:
                assert left.dtype == right.dtype
                np.testing.assert_array_equal(left, right)
        if a.color_sum is not None:
            np.testing.assert_allclose(a.color_sum, b.color_sum, rtol=1e-5, atol=1e-3)


def test_only_arrow_tables_with_float_axes_take_the_fast_path(rng, session):
    n = 100
    frame = pd.DataFrame({"x": rng.random(n), "y": rng.random(n), "i": np.arange(n)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    batch = table.to_batches()[0]

    def cols(data: object, x: str = "x", y: str = "y", color: str | None = None) -> ScatterColumns:
        return ScatterColumns.checked(resolve_source(data, session), x, y, color=color)

    assert arrow_columns(cols(table)) is not None
    assert arrow_columns(cols(batch)) is not None
    assert arrow_columns(cols(frame)) is None  # pandas: DuckDB scans it
    assert arrow_columns(cols(table, x="i")) is None  # integer axis
    assert arrow_columns(cols(table, color="i")) is None  # integer colour
    assert arrow_columns(cols("SELECT 1.0 AS x, 2.0 AS y")) is None
    data = arrow_columns(cols(table))
    assert data is not None and data.rows == n
    assert np.shares_memory(data.x[0], table.column("x").chunks[0].to_numpy())  # no copy


def test_a_cancelled_ticket_stops_binning(table):
    data = ArrowColumns([table.column("x").combine_chunks().to_numpy(zero_copy_only=False)],
                        [table.column("y").combine_chunks().to_numpy(zero_copy_only=False)])  # fmt: skip
    ticket = Ticket()
    ticket.cancel()
    with pytest.raises(QueryCancelled):
        count_pixels(data, BinSpec((-1, 1, -1, 1), 10, 10), ticket=ticket)
