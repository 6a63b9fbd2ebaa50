"""Scatter engine against numpy references on random data: density bins, categories, colour means,
the density index, counts in view, and the colour scales."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.core import colors
from pikaplot_widget.engine.scatter import (
    ScatterColumns,
    count_in_view,
    fetch_points,
    fetch_scatter_extent,
)
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.scatter.density import fetch_density
from pikaplot_widget.plots.scatter.density_index import build_density_index


def random_table(rng, n=50_000, bad=0.02):
    x = rng.normal(0.0, 1.0, n)
    y = rng.normal(0.0, 2.0, n) + 0.5 * x
    v = rng.uniform(-3, 7, n)
    cat = rng.choice(np.array(["a", "b", "c", "d", "e"]), n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    x_mask = rng.random(n) < bad  # NULL x
    y_nan = rng.random(n) < bad  # NaN / inf y
    y = y.copy()
    y[y_nan] = rng.choice([np.nan, np.inf, -np.inf], int(y_nan.sum()))
    v_nan = rng.random(n) < bad
    v[v_nan] = np.nan
    table = pa.table(
        {
            "x": pa.array(x, mask=x_mask),
            "y": y,
            "v": v,
            "cat": cat,
        }
    )
    valid = ~x_mask & np.isfinite(y)
    return table, x, y, v, cat, valid


@pytest.fixture
def data(rng, session, runner):
    table, x, y, v, cat, valid = random_table(rng)
    source = resolve_source(table, session)
    source.prepare(runner.cursor)
    return source, x, y, v, cat, valid


def random_boxes(rng, count=12, smallest=-1.5):
    for _ in range(count):
        cx, cy = rng.normal(0, 1), rng.normal(0, 2)
        hw, hh = 10 ** rng.uniform(smallest, 0.7), 10 ** rng.uniform(smallest, 0.9)
        yield (cx - hw, cx + hw, cy - hh, cy + hh)


def brute_force_bins(x, y, box, width, height):
    """Pixel of each row by the same floor rule (bounds included in the last bin)."""
    x0, x1, y0, y1 = box
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    ix = np.minimum(np.floor((x - x0) * (width / (x1 - x0))), width - 1).astype(np.int64)
    iy = np.minimum(np.floor((y - y0) * (height / (y1 - y0))), height - 1).astype(np.int64)
    return inside, ix, iy


def test_density_equals_numpy_histogram2d(data, runner, rng):
    source, x, y, _, _, valid = data
    cols = ScatterColumns.checked(source, "x", "y")
    extent = fetch_scatter_extent(runner, cols)
    assert extent.valid_rows == int(valid.sum())
    assert extent.skipped_rows == len(x) - int(valid.sum())
    xv, yv = x[valid], y[valid]
    for box in random_boxes(rng):
        width, height = int(rng.integers(20, 300)), int(rng.integers(20, 200))
        grid = fetch_density(runner, cols, extent, box, width, height)
        assert grid.counts.shape == (height, width)
        reference, _, _ = np.histogram2d(xv, yv, bins=[width, height], range=[box[:2], box[2:]])
        reference = reference.T.astype(np.int64)  # rows are y, bottom first
        assert grid.total == reference.sum()
        # Float rounding may put a row that sits exactly on a bin edge into the neighbour bin.
        assert np.abs(grid.counts - reference).sum() <= 2
        inside, ix, iy = brute_force_bins(xv, yv, box, width, height)
        exact = np.zeros((height, width), np.int64)
        np.add.at(exact, (iy[inside], ix[inside]), 1)
        np.testing.assert_array_equal(grid.counts, exact)


def test_categorical_density_counts_sum_to_the_total(data, runner, rng):
    source, x, y, _, cat, valid = data
    cols = ScatterColumns.checked(source, "x", "y", color="cat")
    assert cols.color_kind == "category"
    extent = fetch_scatter_extent(runner, cols)
    assert extent.categories == ("a", "b", "c", "d", "e")  # most frequent first
    assert not extent.has_other
    for box in random_boxes(rng, 6):
        grid = fetch_density(runner, cols, extent, box, 64, 48)
        assert grid.planes is not None
        np.testing.assert_array_equal(grid.planes.sum(axis=0), grid.counts)
        inside, ix, iy = brute_force_bins(x[valid], y[valid], box, 64, 48)
        for k, name in enumerate(extent.categories):
            chosen = inside & (cat[valid] == name)
            reference = np.zeros((48, 64), np.int64)
            np.add.at(reference, (iy[chosen], ix[chosen]), 1)
            np.testing.assert_array_equal(grid.planes[k], reference)
        assert grid.planes[-1].sum() == 0  # no "other"


def test_categories_past_the_limit_are_other(rng, session, runner):
    n = 30_000
    names = np.array([f"c{i:02d}" for i in range(30)])
    cat = names[np.minimum(rng.geometric(0.12, n) - 1, 29)]
    table = pa.table({"x": rng.random(n), "y": rng.random(n), "cat": cat})
    source = resolve_source(table, session)
    source.prepare(runner.cursor)
    cols = ScatterColumns.checked(source, "x", "y", color="cat")
    extent = fetch_scatter_extent(runner, cols)
    assert len(extent.categories) == 20 and extent.has_other
    counts = {name: int((cat == name).sum()) for name in names}
    top = sorted(counts, key=lambda k: (-counts[k], k))[:20]
    assert list(extent.categories) == top
    grid = fetch_density(runner, cols, extent, (0, 1, 0, 1), 10, 10)
    assert grid.planes.shape == (21, 10, 10)
    assert grid.planes[-1].sum() == sum(v for k, v in counts.items() if k not in top)
    assert grid.total == n


def test_numeric_colour_sums_per_pixel(data, runner, rng):
    source, x, y, v, _, valid = data
    cols = ScatterColumns.checked(source, "x", "y", color="v")
    extent = fetch_scatter_extent(runner, cols)
    finite_v = v[valid & np.isfinite(v)]
    assert extent.color_min == pytest.approx(finite_v.min())
    assert extent.color_max == pytest.approx(finite_v.max())
    box = next(random_boxes(rng, 1))
    grid = fetch_density(runner, cols, extent, box, 40, 30)
    inside, ix, iy = brute_force_bins(x[valid], y[valid], box, 40, 30)
    vv = v[valid]
    ok = inside & np.isfinite(vv)
    sums = np.zeros((30, 40))
    np.add.at(sums, (iy[ok], ix[ok]), vv[ok])
    counts = np.zeros((30, 40), np.int64)
    np.add.at(counts, (iy[ok], ix[ok]), 1)
    np.testing.assert_allclose(grid.color_sum, sums, atol=1e-9)
    np.testing.assert_array_equal(grid.color_count, counts)


def test_points_and_counts_in_view(data, runner, rng):
    source, x, y, _v, cat, valid = data
    cols = ScatterColumns.checked(source, "x", "y", color="cat", size="v")
    extent = fetch_scatter_extent(runner, cols)
    for box in random_boxes(rng, 5):
        inside = valid & (x >= box[0]) & (x <= box[1]) & (y >= box[2]) & (y <= box[3])
        assert count_in_view(runner, cols, box, 10**9) == inside.sum()
        assert count_in_view(runner, cols, box, 5) == min(inside.sum(), 6)
        points = fetch_points(runner, cols, extent, box, 10**9)
        order = np.lexsort((points.y, points.x))
        ref = np.lexsort((y[inside], x[inside]))
        np.testing.assert_array_equal(points.x[order], x[inside][ref])
        np.testing.assert_array_equal(points.y[order], y[inside][ref])
        codes = np.array([extent.categories.index(c) for c in cat[inside][ref]])
        np.testing.assert_array_equal(points.color[order], codes)


def index_for(runner, cols, budget=2**20):
    extent = fetch_scatter_extent(runner, cols)
    return extent, build_density_index(runner, cols, extent, budget=budget, min_rows=0)


def test_index_views_move_no_row_more_than_a_quarter_pixel(data, runner, rng):
    source, x, y, _, _, valid = data
    cols = ScatterColumns.checked(source, "x", "y")
    _extent, index = index_for(runner, cols)
    assert index is not None and index.levels[0].size >= 256
    assert index.levels[0].counts.sum() == valid.sum()
    for level in index.levels:
        assert level.counts.sum() == valid.sum()
    xv, yv = x[valid], y[valid]
    checked = 0
    for box in random_boxes(rng, 40, smallest=0.3):
        width, height = 60, 40
        level = index.level_for(box, width, height)
        if level is None:
            continue
        checked += 1
        grid = index.resample(level, box, width, height)
        assert not grid.exact
        # Independent check: a row may only be counted in a pixel within 1/4 px of where it lies.
        u = (xv - box[0]) / (box[1] - box[0]) * width
        w = (yv - box[2]) / (box[3] - box[2]) * height
        sure = (u >= 0.25) & (u <= width - 0.25) & (w >= 0.25) & (w <= height - 0.25)
        maybe = (u >= -0.25) & (u <= width + 0.25) & (w >= -0.25) & (w <= height + 0.25)
        assert sure.sum() <= grid.total <= maybe.sum()
        lo = np.zeros((height, width), np.int64)  # rows that surely land in each pixel
        hi = np.zeros((height + 2, width + 2), np.int64)  # rows that may land in it
        core = sure & (np.floor(u - 0.25) == np.floor(u + 0.25)) & (np.floor(w - 0.25) == np.floor(w + 0.25))
        np.add.at(lo, (np.floor(w[core]).astype(int), np.floor(u[core]).astype(int)), 1)
        near = maybe
        cu = np.clip(np.floor(u[near]).astype(int), -1, width)
        cw = np.clip(np.floor(w[near]).astype(int), -1, height)
        np.add.at(hi, (cw + 1, cu + 1), 1)
        neighbourhood = sum(np.roll(np.roll(hi, a, 0), b, 1) for a in (-1, 0, 1) for b in (-1, 0, 1))[
            1:-1, 1:-1
        ]
        assert (grid.counts >= lo).all()
        assert (grid.counts <= neighbourhood).all()
    assert checked >= 5


def test_index_matches_exact_bins_where_cells_align(data, runner):
    source, _, _, _, _, _ = data
    cols = ScatterColumns.checked(source, "x", "y", color="cat")
    extent, index = index_for(runner, cols, budget=2**22)
    level = index.levels[2]
    gx0, gx1, gy0, gy1 = index.box
    # A view exactly one level-2 cell per pixel, aligned with the grid: resampling is exact.
    cells = level.size // 4
    box = (gx0, gx0 + (gx1 - gx0) * cells / level.size, gy0, gy0 + (gy1 - gy0) * cells / level.size)
    grid = index.resample(2, box, cells, cells)
    exact = fetch_density(runner, cols, extent, box, cells, cells)
    # Rows on the view's far edges fall in the last bin in SQL, and in the next cell in the index.
    assert np.abs(grid.counts - exact.counts)[:-1, :-1].sum() == 0
    np.testing.assert_array_equal(grid.planes.sum(axis=0), grid.counts)


def test_count_bounds_bracket_the_true_count(data, runner, rng):
    source, x, y, _, _, valid = data
    cols = ScatterColumns.checked(source, "x", "y")
    _, index = index_for(runner, cols)
    for box in random_boxes(rng, 20):
        surely, possibly = index.count_bounds(box)
        true = (valid & (x >= box[0]) & (x <= box[1]) & (y >= box[2]) & (y <= box[3])).sum()
        assert surely <= true <= possibly


# ---- colour scales -------------------------------------------------------------------------
def test_eq_hist_gives_each_value_its_share_of_pixels(rng):
    counts = rng.geometric(0.05, (60, 80)) * (rng.random((60, 80)) < 0.7)
    scale = colors.Scale.fit(counts, "eq_hist")
    position = scale(counts)
    assert np.isnan(position[counts == 0]).all()
    occupied = counts[counts > 0]
    for value in np.unique(occupied)[:: max(1, len(np.unique(occupied)) // 10)]:
        at_or_below = (occupied <= value).mean()
        at_min = (occupied <= occupied.min()).mean()
        expected = (at_or_below - at_min) / (1 - at_min)
        assert position[counts == value][0] == pytest.approx(expected)
    assert np.nanmin(position) == 0.0 and np.nanmax(position) == 1.0


def test_linear_and_log_scales(rng):
    counts = rng.integers(0, 1000, (30, 30))
    occupied = counts[counts > 0]
    lo, hi = occupied.min(), occupied.max()
    np.testing.assert_allclose(colors.Scale.fit(counts, "linear")(occupied), (occupied - lo) / (hi - lo))
    np.testing.assert_allclose(
        colors.Scale.fit(counts, "log")(occupied), np.log(occupied / lo) / np.log(hi / lo)
    )
    with pytest.raises(ValueError, match="normalization"):
        colors.Scale.fit(counts, "sqrt")


def test_colour_tables():
    for name in ("viridis", "cividis", "inferno", "magma", "plasma", "fire"):
        table = colors.colormap(name)
        assert table.shape == (256, 4) and (table[:, 3] == 255).all()
        # perceptually ordered maps brighten from one end to the other
        luma = table[:, :3] @ np.array([0.2126, 0.7152, 0.0722])
        assert luma[-1] > luma[0]
    assert colors.palette(20).shape == (21, 3)
    assert len({tuple(c) for c in colors.palette(20)}) == 21
    with pytest.raises(ValueError, match="unknown colormap"):
        colors.colormap("jet")


def test_integer_float32_and_date_columns_bin_exactly(rng, session, runner):
    # The raw-column filter rounds its bounds to the column type; rows just outside a view with
    # fractional bounds must still stay out (else they would land on the edge pixels).
    n = 20_000
    xi = rng.integers(-50, 50, n).astype(np.int32)
    yf = rng.normal(0, 10, n).astype(np.float32)
    days = rng.integers(0, 60, n)
    table = pa.table({"xi": xi, "yf": yf, "d": pa.array(days.astype("datetime64[D]"))})
    source = resolve_source(table, session)
    source.prepare(runner.cursor)
    y64 = yf.astype(np.float64)
    for x_name, x_values, step in (("xi", xi.astype(np.float64), 1.0), ("d", days * 86400.0, 86400.0)):
        cols = ScatterColumns.checked(source, x_name, "yf")
        extent = fetch_scatter_extent(runner, cols)
        lo, hi = np.quantile(x_values, [0.3, 0.7])
        box = (lo + 0.37 * step, hi - 0.41 * step, -7.3, 6.1)  # fractional bounds between values
        grid = fetch_density(runner, cols, extent, box, 37, 23)
        inside, ix, iy = brute_force_bins(x_values, y64, box, 37, 23)
        reference = np.zeros((23, 37), np.int64)
        np.add.at(reference, (iy[inside], ix[inside]), 1)
        np.testing.assert_array_equal(grid.counts, reference)
        assert count_in_view(runner, cols, box, 10**9) == inside.sum()
        points = fetch_points(runner, cols, extent, box, 10**9)
        assert points.x.size == inside.sum()
        assert (points.x >= box[0]).all()
        assert (points.x <= box[1]).all()
    # zoomed far out: bounds past the column type's range are clamped, not an error
    cols = ScatterColumns.checked(source, "xi", "yf")
    assert count_in_view(runner, cols, (-1e30, 1e30, -1e300, 1e300), 10**9) == n
