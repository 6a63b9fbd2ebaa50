"""Where a scatter plot's data comes from: extent, density index, and per view either the rows
(markers) or rows per pixel (density), through the result cache."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ...core.types import ViewBox
from ...engine.runner import ProgressCallback, QueryStats, Reader, Ticket
from ...engine.scatter import (
    ScatterColumns,
    ScatterExtent,
    ScatterPoints,
    count_in_view,
    fetch_points,
    fetch_scatter_extent,
)
from ...render.device import gpu_info
from ...render.equalize import MAX_CELLS, EqualizedGrid
from ...render.resident import ResidentPoints, ResidentReleasedError
from ...runtime.memory import monitor
from ..provider import Provider
from .arrow_bins import ArrowColumns, arrow_columns
from .density import DensityGrid, fetch_density
from .density_index import BUDGET_BYTES, MIN_ROWS, DensityIndex, build_density_index, index_box


def json_safe(value: object) -> object:
    """A value a JSON message can carry: numbers (finite), strings, booleans, None; others as text."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    return str(value)


def load_resident(
    runner: Reader,
    cols: ScatterColumns,
    extent: ScatterExtent,
    on_progress: ProgressCallback | None,
    ticket: Ticket,
) -> ResidentPoints:
    """Stream the valid x/y rows from DuckDB straight into GPU buffers (a chunk at a time in RAM)."""
    points = ResidentPoints(index_box(extent))  # widened where the data has no width or height

    def add(batch: pa.RecordBatch) -> None:
        x = batch.column(0).to_numpy(zero_copy_only=False)
        y = batch.column(1).to_numpy(zero_copy_only=False)
        points.append(x, y)

    sql = f"SELECT {cols.x_value} AS x, {cols.y_value} AS y FROM {cols.source.from_sql} WHERE {cols.valid}"
    try:
        runner.run_batches(sql, None, add, on_progress, ticket)
        points.finish()
    except BaseException:
        points.release()
        raise
    return points


COARSE_BOUNDS = 512  # index cells per side of the level whose counts first decide markers or density
MARKER_LIMIT = 200_000  # at most this many rows in view are drawn as markers
MAX_MARKER_LIMIT = 4_000_000  # 64 MiB of marker records: within every adapter's storage-binding limit
RESIDENT_MAX_ROWS = 500_000_000  # 4 GB of float32 pairs on the GPU
# Measured (benchmarks/gpu_scatter.py): a compute shader bins 100M resident points in a few ms on
# an H100 but takes seconds on lavapipe, where the density index and DuckDB are faster.
GPU_ADAPTERS = ("DiscreteGPU", "IntegratedGPU")
_live: weakref.WeakSet[ScatterProvider] = weakref.WeakSet()


def drop_density_indexes() -> int:
    """Free every scatter plot's density index (memory pressure); views then bin their rows."""
    freed = 0
    for provider in list(_live):
        index, provider.index = provider.index, None
        if index is not None:
            freed += index.nbytes
            provider.indexes_dropped += 1
    return freed


def drop_gpu_points() -> int:
    """Free every scatter plot's GPU-resident points (memory pressure); views then bin their rows
    in DuckDB. Returns the GPU bytes freed."""
    freed = 0
    for provider in list(_live):
        resident, provider.resident = provider.resident, None
        if resident is not None:
            freed += resident.nbytes
            resident.release()
            provider.indexes_dropped += 1
    return freed


monitor.register_evictor("density indexes", drop_density_indexes, order=30)
monitor.register_evictor("gpu points", drop_gpu_points, order=40)


@dataclass(frozen=True)
class ScatterView:
    """What one view shows: markers or a density grid, and how it was found."""

    mode: str  # "markers" or "density"
    points: ScatterPoints | None = None
    grid: DensityGrid | None = None
    source: str = "rows"  # "rows", "index" (a density index level) or "gpu" (resident points)
    equalized: EqualizedGrid | None = None  # resident views: eq_hist colour indices kept on the GPU

    @property
    def nbytes(self) -> int:
        """Memory held (for the result cache)."""
        arrays = []
        if self.points is not None:
            arrays += [self.points.x, self.points.y, self.points.color, self.points.size]
        if self.grid is not None:
            g = self.grid
            arrays += [g.counts, g.planes, g.color_sum, g.color_count]
        return sum(a.nbytes for a in arrays if a is not None)


class ScatterProvider(Provider):
    """Answers "what to draw for this box at this many pixels" for one scatter plot."""

    def __init__(
        self,
        columns: ScatterColumns,
        runner: Reader,
        stats: QueryStats,
        marker_limit: int = MARKER_LIMIT,
        resident: str = "auto",
        index_budget: int = BUDGET_BYTES,
        index_min_rows: int = MIN_ROWS,
    ) -> None:
        super().__init__(columns.source, runner, stats)
        self.columns = columns
        self.marker_limit = int(marker_limit)
        self.index_budget = int(index_budget)
        self.index_min_rows = int(index_min_rows)
        self._extent: ScatterExtent | None = None
        self.index: DensityIndex | None = None
        # The user's Arrow table as numpy chunks, binned without SQL (None for other data); found
        # with the extent, on the worker's thread (a column with NULLs is copied)
        self.arrow: ArrowColumns | None = None
        if resident not in ("auto", "always", "never"):
            raise ValueError(f"resident must be 'auto', 'always' or 'never', got {resident!r}")
        self.resident_mode = resident
        self.resident: ResidentPoints | None = None  # x/y on the GPU, binned per view there
        self.counted_in_sql = 0  # views whose mode needed a count query
        self.indexes_dropped = 0  # by memory pressure
        _live.add(self)

    @property
    def extent(self) -> ScatterExtent | None:
        """Bounds, counts, colour domain and categories, once scanned."""
        return self._extent

    def scan_extent(self, on_progress: ProgressCallback | None, ticket: Ticket) -> ScatterExtent:
        """Bounds, counts, colour domain and categories."""
        self._extent = fetch_scatter_extent(self.runner, self.columns, on_progress, ticket)
        self.arrow = arrow_columns(self.columns)
        return self._extent

    def use_gpu_points(self) -> bool:
        """Whether density views are binned by the GPU from resident points (else DuckDB/index)."""
        extent = self.extent
        assert extent is not None
        if self.resident_mode == "never" or self.columns.color_kind != "none" or extent.empty:
            return False
        if self.columns.dialect.aggregates_in_engine:  # a remote engine: its rows stay there
            return False
        if self.resident_mode == "always":
            return True
        return extent.valid_rows <= RESIDENT_MAX_ROWS and gpu_info()["adapter_type"] in GPU_ADAPTERS

    def build_index(self, on_progress: ProgressCallback | None, ticket: Ticket) -> None:
        """One pass: upload x/y to the GPU (real GPUs) or build the density index (small tables
        get neither)."""
        assert self.extent is not None
        if self.use_gpu_points():
            resident = load_resident(self.runner, self.columns, self.extent, on_progress, ticket)
            if self.closed:  # closed while uploading: nobody else will free it
                resident.release()
            else:
                self.resident = resident
            return
        with self.runner.gate.widened():  # one hash table of every cell of the finest grid
            index = build_density_index(
                self.runner,
                self.columns,
                self.extent,
                on_progress,
                ticket,
                self.index_budget,
                self.index_min_rows,
                self.arrow,
            )
        self.index = None if self.closed else index

    def mode_for(
        self, box: ViewBox, ticket: Ticket, on_progress: ProgressCallback | None = None
    ) -> tuple[str, int]:
        """("markers" when at most `marker_limit` rows are in the box else "density", an upper
        bound of the rows in the box)."""
        extent = self.extent
        assert extent is not None
        if extent.valid_rows <= self.marker_limit:
            return "markers", extent.valid_rows
        possibly = extent.valid_rows
        index = self.index  # read once: memory pressure may drop it meanwhile
        if index is not None:
            # A coarse level first (bounds of a level hold for the finer ones): it often decides
            coarse = next((i for i, level in enumerate(index.levels) if level.size <= COARSE_BOUNDS), 0)
            for level_index in dict.fromkeys((coarse, 0)):
                surely, possibly = index.count_bounds(box, level_index)
                if possibly <= self.marker_limit:
                    return "markers", possibly
                if surely > self.marker_limit:
                    return "density", possibly
        self.counted_in_sql += 1
        rows = count_in_view(self.runner, self.columns, box, self.marker_limit, ticket, on_progress)
        return ("markers", rows) if rows <= self.marker_limit else ("density", possibly)

    def query(
        self,
        box: ViewBox,
        width: int,
        height: int,
        ticket: Ticket,
        on_progress: ProgressCallback | None = None,
    ) -> ScatterView:
        """Markers or density for a view: from the cache, the density index, or the rows."""
        cached = self.cached(box, width, height)
        if isinstance(cached, ScatterView):
            self.cache_hits += 1
            return cached
        extent = self.extent
        assert extent is not None
        resident = self.resident  # read once: memory pressure may drop it meanwhile
        if resident is not None and resident.resolves(box, width, height):
            try:
                view = self._query_resident(resident, box, width, height, ticket, on_progress)
            except ResidentReleasedError:  # dropped meanwhile: DuckDB answers this view (exactly)
                pass
            else:
                self.remember(view, box, width, height)
                return view
        mode, _ = self.mode_for(box, ticket, on_progress)
        if mode == "markers":
            points = fetch_points(
                self.runner, self.columns, extent, box, self.marker_limit, ticket, on_progress
            )
            view = ScatterView("markers", points=points)
        else:
            index = self.index
            level = index.level_for(box, width, height) if index is not None else None
            if index is not None and level is not None:
                view = ScatterView("density", grid=index.resample(level, box, width, height), source="index")
            else:
                grid = fetch_density(
                    self.runner, self.columns, extent, box, width, height, ticket, on_progress, self.arrow
                )
                view = ScatterView("density", grid=grid)
        self.remember(view, box, width, height)
        return view

    def _query_resident(
        self,
        resident: ResidentPoints,
        box: ViewBox,
        width: int,
        height: int,
        ticket: Ticket,
        on_progress: ProgressCallback | None,
    ) -> ScatterView:
        assert self.extent is not None
        equalized = None
        if width * height <= MAX_CELLS:  # binned and equalised in one GPU submission
            equalized = resident.density(box, width, height, read_counts=True)
            assert equalized.counts is not None
            counts = equalized.counts
        else:
            counts = resident.bin(box, width, height)
        if counts.sum() <= self.marker_limit:
            points = fetch_points(
                self.runner, self.columns, self.extent, box, self.marker_limit, ticket, on_progress
            )
            return ScatterView("markers", points=points, source="gpu")
        grid = DensityGrid(counts, box, exact=False)
        return ScatterView("density", grid=grid, source="gpu", equalized=equalized)

    def row_at(self, x: float, y: float) -> dict[str, object] | None:
        """The full row behind a marker at axis values (x, y), its values made JSON-safe."""
        table = self.runner.run(self.columns.row_at_sql(), [x, y])
        if table.num_rows == 0:
            return None
        return {name: json_safe(value) for name, value in table.to_pylist()[0].items()}

    def release(self) -> None:
        """Drop the density index, the GPU points and the Arrow columns."""
        self.index = None
        self.arrow = None
        resident, self.resident = self.resident, None
        if resident is not None:
            resident.release()
