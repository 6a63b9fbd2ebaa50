"""The density index: rows per cell of a fine grid over the whole extent, plus coarser levels.

One GROUP BY pass bins every valid row into an F x F grid (F a power of two, chosen so the index
fits its memory budget); each level above sums 2 x 2 cells. A view is answered from the coarsest
level whose cells are at most half a pixel wide and tall: every cell goes to the pixel holding its
centre, so no row is drawn more than a quarter of a pixel from where it lies. Pixels then gather
k or k + 1 cells per axis in a regular rhythm; the grid says how many (`DensityGrid.area`), so
colours follow rows per area and an even density shows no checker texture. Deeper views bin
their rows in DuckDB (`fetch_density`).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ...core.types import ViewBox
from ...engine.runner import NEVER_CANCELLED, ProgressCallback, Reader, Ticket
from ...engine.scatter import ScatterColumns, ScatterExtent, pixel_keys_params, pixel_keys_sql
from .arrow_bins import ArrowColumns, BinSpec, count_pixels
from .density import DensityGrid, PixelCounter

MIN_ROWS = 2_000_000  # smaller tables are binned exactly per view, fast enough
MAX_GRID = 4096
MIN_GRID = 256
COARSEST = 64
BUDGET_BYTES = 128 * 2**20
# A remote engine (Spark) sends level 0 back as a row per non-empty cell: 1024² cells are at most
# 16 MB of (key, count) rows where 4096² would be 256 MB through the client.
REMOTE_MAX_GRID = 1024
CELLS_PER_PIXEL = 2.0  # cells must be at most this many times smaller than a pixel
CATEGORY_BUDGET = 3  # categorical colour: this many budgets (16-bit planes: 4096² for 7 planes)
SMALL_COUNT = np.uint16  # category planes of level 0 when no cell and category holds more rows
SMALL_MAX = int(np.iinfo(np.uint16).max)
# Threads that resample category planes side by side (numpy's reductions release the GIL); they
# start on first use
_PLANES_POOL = ThreadPoolExecutor(max(1, min(os.cpu_count() or 1, 8)), thread_name_prefix="pikaplot-planes")


@dataclass
class Level:
    """Rows per cell at one resolution; arrays are indexed [row (y, bottom first), column (x)]."""

    size: int
    counts: np.ndarray | None  # None when `planes` holds them per category
    planes: np.ndarray | None = None  # per category, (categories + 1, size, size)
    color_sum: np.ndarray | None = None
    color_count: np.ndarray | None = None

    def coarser(self) -> Level:
        """The level above: 2 x 2 cells summed."""

        def halve(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            # Pairs of rows, then pairs of columns, added elementwise: 5-10x faster than a sum over
            # the axes of a (…, n, 2, n, 2) view. 16-bit planes add in 32 bits (four cells may need
            # them) and are narrowed again when the sums fit.
            wide = np.uint32 if a.dtype == SMALL_COUNT else a.dtype
            rows = np.add(a[..., 0::2, :], a[..., 1::2, :], dtype=wide)
            summed = np.add(rows[..., 0::2], rows[..., 1::2], dtype=wide)
            if a.dtype == SMALL_COUNT and summed.size and summed.max() <= SMALL_MAX:
                return summed.astype(SMALL_COUNT)
            return summed

        return Level(self.size // 2, halve(self.counts), halve(self.planes), halve(self.color_sum),
                     halve(self.color_count))  # fmt: skip

    @property
    def nbytes(self) -> int:
        """Memory held by this level."""
        arrays = (self.counts, self.planes, self.color_sum, self.color_count)
        return sum(a.nbytes for a in arrays if a is not None)


@dataclass
class DensityIndex:
    """Levels from the finest (index 0) to the coarsest, over `box` (the data's extent)."""

    box: ViewBox
    levels: list[Level] = field(default_factory=list)
    color_offset: float = 0.0  # colour sums are stored relative to this value (the colour minimum)

    @property
    def nbytes(self) -> int:
        """Memory held by all levels."""
        return sum(level.nbytes for level in self.levels)

    def level_for(self, box: ViewBox, width: int, height: int) -> int | None:
        """The coarsest level fine enough for a view of width x height pixels, or None."""
        gx0, gx1, gy0, gy1 = self.box
        pixel_w = (box[1] - box[0]) / width
        pixel_h = (box[3] - box[2]) / height
        for i in range(len(self.levels) - 1, -1, -1):
            size = self.levels[i].size
            if (gx1 - gx0) / size * CELLS_PER_PIXEL <= pixel_w and (
                gy1 - gy0
            ) / size * CELLS_PER_PIXEL <= pixel_h:
                return i
        return None

    def resample(self, level_index: int, box: ViewBox, width: int, height: int) -> DensityGrid:
        """Rows per pixel of a view from one level: each cell joins the pixel holding its centre."""
        level = self.levels[level_index]
        gx0, gx1, gy0, gy1 = self.box
        xs = _cells_to_pixels(gx0, (gx1 - gx0) / level.size, level.size, box[0], box[1], width)
        ys = _cells_to_pixels(gy0, (gy1 - gy0) / level.size, level.size, box[2], box[3], height)

        def gather(a: np.ndarray | None, dtype: type) -> np.ndarray | None:
            if a is None:
                return None
            out = np.zeros((*a.shape[:-2], height, width), dtype)
            if xs is None or ys is None:
                return out
            sub = a[..., ys[0] : ys[1], xs[0] : xs[1]]

            def runs(plane: np.ndarray) -> np.ndarray:
                return _sum_runs(_sum_runs(plane, xs[2], -1, dtype), ys[2], -2, dtype)

            if sub.ndim == 3 and sub.shape[0] > 1:
                summed = np.stack(list(_PLANES_POOL.map(runs, sub)))
            else:
                summed = runs(sub)
            out[..., ys[3][:, None], xs[3][None, :]] = summed
            return out

        planes = gather(level.planes, np.int64)
        counts = planes.sum(axis=0) if planes is not None else gather(level.counts, np.int64)
        assert counts is not None
        color_sum, color_count = gather(level.color_sum, np.float64), gather(level.color_count, np.int64)
        if color_sum is not None and color_count is not None and self.color_offset:
            color_sum += self.color_offset * color_count
        area = np.outer(
            _cells_per_pixel(gy0, (gy1 - gy0) / level.size, box[2], box[3], height),
            _cells_per_pixel(gx0, (gx1 - gx0) / level.size, box[0], box[1], width),
        )
        return DensityGrid(
            counts, box, planes=planes, color_sum=color_sum, color_count=color_count, exact=False,
            area=area,
        )  # fmt: skip

    def count_bounds(self, box: ViewBox, level_index: int = 0) -> tuple[int, int]:
        """Rows surely inside the box and rows possibly inside it (cells it fully or partly covers),
        from one level: a coarser level gives looser bounds, sooner."""
        level = self.levels[level_index]
        gx0, gx1, gy0, gy1 = self.box
        cw, ch = (gx1 - gx0) / level.size, (gy1 - gy0) / level.size

        def cells(v0: float, v1: float, g0: float, cell: float, inner: bool) -> tuple[int, int]:
            a, b = (v0 - g0) / cell, (v1 - g0) / cell
            lo, hi = (math.ceil(a), math.floor(b)) if inner else (math.floor(a), math.floor(b) + 1)
            return max(lo, 0), min(hi, level.size)

        bounds = []
        for inner in (True, False):
            x_lo, x_hi = cells(box[0], box[1], gx0, cw, inner)
            y_lo, y_hi = cells(box[2], box[3], gy0, ch, inner)
            if x_hi <= x_lo or y_hi <= y_lo:
                bounds.append(0)
            elif level.counts is not None:
                bounds.append(int(level.counts[y_lo:y_hi, x_lo:x_hi].sum()))
            elif level.planes is not None:
                bounds.append(int(level.planes[:, y_lo:y_hi, x_lo:x_hi].sum()))
        return bounds[0], bounds[1]


def _sum_runs(a: np.ndarray, starts: np.ndarray, axis: int, dtype: type) -> np.ndarray:
    """Sums of consecutive runs along `axis` (runs begin at `starts`, strictly increasing from 0),
    accumulated in at least 32 bits (16-bit planes: a run may hold more rows than one cell) and
    float64 for colour sums."""
    if a.dtype.kind == "u":
        accumulate = np.promote_types(a.dtype, np.uint32)
    else:
        accumulate = np.promote_types(a.dtype, np.int64) if a.dtype.kind == "i" else np.dtype(np.float64)
    return np.add.reduceat(a, starts, axis=axis, dtype=accumulate).astype(dtype, copy=False)


def _cells_per_pixel(g0: float, cell: float, v0: float, v1: float, pixels: int) -> np.ndarray:
    """Per pixel: the cells whose centre it holds, over the cells a pixel holds on average. Counted
    on the grid's lattice continued past its ends, so a pixel at the data's edge is not rescaled."""
    edges = v0 + np.arange(pixels + 1) * ((v1 - v0) / pixels)
    first_centre = np.ceil((edges - g0) / cell - 0.5)  # index of the first centre at or after each edge
    return np.maximum(np.diff(first_centre), 1.0) * cell * pixels / (v1 - v0)


def _cells_to_pixels(
    g0: float, cell: float, n_cells: int, v0: float, v1: float, pixels: int
) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """Cells whose centre lies in [v0, v1]: their slice, where each pixel's run of cells starts
    (relative to the slice) and which pixel each run goes to."""
    lo = max(0, math.ceil((v0 - g0) / cell - 0.5))
    hi = min(n_cells, math.floor((v1 - g0) / cell - 0.5) + 1)
    if hi <= lo:
        return None
    centres = g0 + (np.arange(lo, hi) + 0.5) * cell
    px = np.clip(np.floor((centres - v0) * (pixels / (v1 - v0))).astype(np.int64), 0, pixels - 1)
    starts = np.flatnonzero(np.r_[True, px[1:] != px[:-1]])
    return lo, hi, starts, px[starts]


def grid_size(
    cols: ScatterColumns, extent: ScatterExtent, budget: int = BUDGET_BYTES, count_bytes: int = 4
) -> int:
    """The finest grid that fits the budget with all its levels (a third more than level 0) and
    has no more than 4 cells per row (2 with categories); `count_bytes` per count (2: 16-bit
    category planes)."""
    planes = 1  # rows per cell
    cells_per_row = 4  # at most this many cells per valid row
    if cols.color_kind == "category":
        planes = len(extent.categories) + 1  # rows per cell and category; their sum is the count
        budget *= CATEGORY_BUDGET  # categories are worth more memory than a coarser grid
        cells_per_row = 2  # each cell costs a plane per category to count, sum and resample
    elif cols.color_kind == "numeric":
        planes += 2
    size = REMOTE_MAX_GRID if cols.dialect.aggregates_in_engine else MAX_GRID
    while size > MIN_GRID and (
        planes * count_bytes * size * size * 4 // 3 > budget
        or size * size > cells_per_row * extent.valid_rows
    ):
        size //= 2
    return size


def small_planes(cols: ScatterColumns, extent: ScatterExtent) -> bool:
    """Whether category planes are first counted in 16 bits (a finer grid in the same memory;
    counted again in 32 bits if a cell overflows)."""
    if cols.dialect.aggregates_in_engine:  # keys arrive counted: one may pass 16 bits, then a second pass
        return False
    return cols.color_kind == "category" and extent.valid_rows < 2**32


def index_box(extent: ScatterExtent) -> ViewBox:
    """The grid's bounds: the extent, widened where it has no width or height."""

    def widen(lo: float, hi: float) -> tuple[float, float]:
        if hi > lo:
            return lo, hi
        pad = max(abs(lo), 1.0) * 1e-6
        return lo - pad, hi + pad

    return (*widen(extent.x_min, extent.x_max), *widen(extent.y_min, extent.y_max))


def _level_from(counter: PixelCounter, count_type: type, color_offset: float = 0.0) -> Level:
    """Level 0 from everything counted, in compact types."""
    size = counter.width
    shape = (size, size)
    counts: np.ndarray = counter.counts.astype(count_type, copy=False)
    if counter.kind == "category":
        return Level(size, counts=None, planes=counts.reshape(counter.planes, *shape))
    level = Level(size, counts.reshape(shape))
    if counter.sums is not None and counter.color_n is not None:
        # float32 sums of (value - offset): precise enough for colour even for timestamps (~1.7e9)
        level.color_sum = (counter.sums - color_offset * counter.color_n).astype(np.float32).reshape(shape)
        level.color_count = counter.color_n.astype(count_type).reshape(shape)
    return level


def _level_from_arrow(
    arrow: ArrowColumns,
    cols: ScatterColumns,
    extent: ScatterExtent,
    box: ViewBox,
    size: int,
    count_type: type,
    color_offset: float,
    ticket: Ticket,
    on_progress: ProgressCallback | None,
) -> Level:
    """Level 0 counted from the Arrow table's buffers (the same cells as the SQL keys)."""
    category = cols.color_kind == "category"
    planes = len(extent.categories) + 1 if category else 1
    spec = BinSpec(box, size, size, planes, extent.categories if category else None,
                   numeric=cols.color_kind == "numeric")  # fmt: skip
    counts, sums, color_n = count_pixels(arrow, spec, count_type, ticket, on_progress)
    shape = (size, size)
    if category:
        return Level(size, counts=None, planes=counts.reshape(planes, *shape))
    level = Level(size, counts.reshape(shape))
    if sums is not None and color_n is not None:
        level.color_sum = (sums - color_offset * color_n).astype(np.float32).reshape(shape)
        level.color_count = color_n.reshape(shape)
    return level


def _count_level(
    runner: Reader,
    cols: ScatterColumns,
    extent: ScatterExtent,
    box: ViewBox,
    size: int,
    count_type: type,
    offset: float,
    ticket: Ticket,
    on_progress: ProgressCallback | None,
    arrow: ArrowColumns | None,
) -> Level:
    """Level 0: every valid row counted into a size x size grid, from the Arrow buffers or DuckDB."""
    if arrow is not None:
        return _level_from_arrow(arrow, cols, extent, box, size, count_type, offset, ticket, on_progress)
    counter = PixelCounter(cols.color_kind, size, size, len(extent.categories) + 1, count_type)
    sql = pixel_keys_sql(cols, extent, size, size, "TRUE")
    params = pixel_keys_params(cols, extent, box, size, size)
    try:
        runner.run_batches(sql, params, counter.add, on_progress, ticket)
    finally:
        counter.flush()
    return _level_from(counter, count_type, offset)


def build_density_index(
    runner: Reader,
    cols: ScatterColumns,
    extent: ScatterExtent,
    on_progress: ProgressCallback | None = None,
    ticket: Ticket = NEVER_CANCELLED,
    budget: int = BUDGET_BYTES,
    min_rows: int = MIN_ROWS,
    arrow: ArrowColumns | None = None,
) -> DensityIndex | None:
    """Bin every valid row once into the finest grid and sum the levels above (None if small).
    Data in an in-memory Arrow table (`arrow`) is binned from its buffers, without SQL."""
    if extent.valid_rows < max(min_rows, 1):
        return None
    box = index_box(extent)
    offset = extent.color_min if cols.color_kind == "numeric" and np.isfinite(extent.color_min) else 0.0
    wide_type = np.uint32 if extent.valid_rows < 2**32 else np.uint64
    level = None
    if small_planes(cols, extent):
        level = _count_level(runner, cols, extent, box, grid_size(cols, extent, budget, 2), SMALL_COUNT,
                             offset, ticket, on_progress, arrow)  # fmt: skip
        assert level.planes is not None
        if int(level.planes.sum(dtype=np.uint64)) != extent.valid_rows:  # a cell overflowed 16 bits
            level = None
    if level is None:
        size = grid_size(cols, extent, budget)
        level = _count_level(runner, cols, extent, box, size, wide_type, offset, ticket, on_progress, arrow)
    index = DensityIndex(box, [level], color_offset=offset)
    while index.levels[-1].size > COARSEST:
        index.levels.append(index.levels[-1].coarser())
    return index
