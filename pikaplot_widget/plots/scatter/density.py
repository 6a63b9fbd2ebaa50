"""Rows per pixel of a view, binned exactly: DuckDB computes each row's pixel, numpy counts them.
The density index (density_index.py) answers coarse views faster."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ...core.types import ViewBox
from ...engine.runner import NEVER_CANCELLED, ProgressCallback, Reader, Ticket
from ...engine.scatter import ScatterColumns, ScatterExtent, pixel_keys_params, pixel_keys_sql
from .arrow_bins import ArrowColumns, BinSpec, count_pixels

# One long-lived counting thread for every plot: a thread started per query got a malloc arena of its
# own each time, and the scatter leak test's RSS crept up by ~0.6 MiB a plot.
_COUNTING = ThreadPoolExecutor(1, thread_name_prefix="pikaplot-count")


@dataclass(frozen=True)
class DensityGrid:
    """Rows per pixel of a view; row 0 is the bottom (y0), like numpy's histogram2d transposed.

    `planes` holds per-category counts (categorical colour: one plane per category plus
    "other"); `color_sum`/`color_count` the sum and number of valid colour values (numeric colour).
    """

    counts: np.ndarray  # (height, width) int64
    box: ViewBox
    planes: np.ndarray | None = None  # (categories + 1, height, width)
    color_sum: np.ndarray | None = None
    color_count: np.ndarray | None = None
    exact: bool = True  # False when resampled from the density index (rows move < 1/4 pixel)
    # Resampled grids: the area each pixel gathered rows from, relative to a pixel (cells per
    # pixel vary in a regular rhythm; None: every pixel its own area).
    area: np.ndarray | None = None

    @property
    def total(self) -> int:
        """Rows counted in the view."""
        return int(self.counts.sum())

    @property
    def density(self) -> np.ndarray:
        """Rows per pixel area: what the colours show (the counts when every pixel had its area).

        A pixel that gathered 3 index cells where its neighbour gathered 2 has 3/2 its rows on an
        even density; drawing the counts would show that rhythm as a checker texture."""
        if self.area is None:
            return self.counts
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.counts > 0, self.counts / self.area, 0.0)


def fetch_density(
    runner: Reader,
    cols: ScatterColumns,
    extent: ScatterExtent,
    box: ViewBox,
    width: int,
    height: int,
    ticket: Ticket = NEVER_CANCELLED,
    on_progress: ProgressCallback | None = None,
    arrow: ArrowColumns | None = None,
) -> DensityGrid:
    """Exact rows per pixel of the view (bounds included in the last bin, as numpy's histogram2d).

    DuckDB computes each row's pixel and streams the keys, which numpy counts (np.add.at, a batch
    at a time on a thread of its own): faster than a GROUP BY by pixel for millions of rows in view.
    Data in an in-memory Arrow table (`arrow`) is binned from its buffers instead (arrow_bins.py).
    """
    if arrow is not None:
        return _density_from_arrow(arrow, cols, extent, box, width, height, ticket, on_progress)
    where, filter_params = cols.view_filter(box)
    params = [*pixel_keys_params(cols, extent, box, width, height), *filter_params]
    counter = PixelCounter(cols.color_kind, width, height, len(extent.categories) + 1)
    try:
        runner.run_batches(
            pixel_keys_sql(cols, extent, width, height, where, not cols.box_keeps_valid(box)),
            params,
            counter.add,
            on_progress,
            ticket,
        )
    finally:
        counter.flush()
    shape = (height, width)
    if cols.color_kind == "category":
        planes = counter.counts.reshape(counter.planes, *shape)
        return DensityGrid(planes.sum(axis=0), box, planes=planes)
    counts = counter.counts.reshape(shape)
    if counter.sums is not None and counter.color_n is not None:
        return DensityGrid(
            counts, box, color_sum=counter.sums.reshape(shape), color_count=counter.color_n.reshape(shape)
        )
    return DensityGrid(counts, box)


def _density_from_arrow(
    arrow: ArrowColumns,
    cols: ScatterColumns,
    extent: ScatterExtent,
    box: ViewBox,
    width: int,
    height: int,
    ticket: Ticket,
    on_progress: ProgressCallback | None,
) -> DensityGrid:
    category = cols.color_kind == "category"
    spec = BinSpec(
        box, width, height, planes=len(extent.categories) + 1 if category else 1,
        categories=extent.categories if category else None, numeric=cols.color_kind == "numeric",
    )  # fmt: skip
    counts, sums, color_n = count_pixels(arrow, spec, np.int64, ticket, on_progress)
    shape = (height, width)
    if category:
        planes = counts.reshape(spec.planes, *shape)
        return DensityGrid(planes.sum(axis=0), box, planes=planes)
    if sums is not None and color_n is not None:
        return DensityGrid(counts.reshape(shape), box, color_sum=sums.reshape(shape),
                           color_count=color_n.reshape(shape))  # fmt: skip
    return DensityGrid(counts.reshape(shape), box)


class PixelCounter:
    """Counts streamed pixel keys (plus categories or colour values: see `pixel_keys_sql`) with
    np.add.at, one record batch at a time, on a thread of its own: DuckDB computes the next batch
    meanwhile, and memory stays bounded whatever the number of rows."""

    PENDING_BATCHES = 4  # batches waiting to be counted before `add` waits

    def __init__(
        self, kind: str, width: int, height: int, categories: int = 1, count_dtype: type = np.int64
    ) -> None:
        self.kind = kind
        self.width, self.height = width, height
        self.cells = width * height
        self.planes = categories if kind == "category" else 1
        self.counts: np.ndarray = np.zeros(self.planes * self.cells, count_dtype)
        self.sums = np.zeros(self.cells) if kind == "numeric" else None
        self.color_n: np.ndarray | None = np.zeros(self.cells, count_dtype) if kind == "numeric" else None
        self._one: np.ndarray = np.ones(
            1, count_dtype
        )  # typed: np.add.at has a fast loop only without casting
        self._pending: list[Future[None]] = []

    def add(self, batch: pa.RecordBatch) -> None:
        """Take one Arrow record batch; it is counted in the background."""
        self._pending.append(_COUNTING.submit(self._count, batch))
        while len(self._pending) > self.PENDING_BATCHES:
            self._pending.pop(0).result()

    def _count(self, batch: pa.RecordBatch) -> None:
        keys = batch.column("k").to_numpy(zero_copy_only=False)  # with categories: plane * cells + pixel
        counted = "n" in batch.schema.names  # keys counted by the engine (one row per key)
        if counted:
            np.add.at(self.counts, keys, self._column(batch, "n", self.counts.dtype))
        else:
            np.add.at(self.counts, keys, self._one)
        if self.sums is not None and self.color_n is not None:
            values = self._column(batch, "c", np.float64)
            ok = np.isfinite(values)
            np.add.at(self.sums, keys[ok], values[ok])
            if counted:
                np.add.at(self.color_n, keys, self._column(batch, "cn", self.color_n.dtype))
            else:
                np.add.at(self.color_n, keys[ok], self._one)

    @staticmethod
    def _column(batch: pa.RecordBatch, name: str, dtype: type | np.dtype) -> np.ndarray:
        """A column as numpy in `dtype` (NULL as 0 for counts, NaN for sums)."""
        column = batch.column(name)
        if column.null_count:
            column = column.fill_null(0) if np.dtype(dtype).kind in "iu" else column
        return np.asarray(column.to_numpy(zero_copy_only=False)).astype(dtype, copy=False)

    def flush(self) -> None:
        """Wait until every batch taken is counted (raising what counting raised)."""
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pending = []
