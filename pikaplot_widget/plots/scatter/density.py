"""Rows per pixel of a view, binned exactly: DuckDB computes each row's pixel, numpy counts them.
The density index (density_index.py) answers coarse views faster."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ...core.types import ViewBox
from ...engine.runner import NEVER_CANCELLED, ProgressCallback, Reader, Ticket
from ...engine.scatter import ScatterColumns, ScatterExtent, pixel_keys_params, pixel_keys_sql
from .arrow_bins import ArrowColumns, BinSpec, count_pixels


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

    DuckDB computes each row's pixel and streams the keys, which numpy counts (np.bincount) a chunk
    at a time: 1.3-3x faster than a GROUP BY by pixel for millions of rows in view. Data in an
    in-memory Arrow table (`arrow`) is binned from its buffers instead (arrow_bins.py).
    """
    if arrow is not None:
        return _density_from_arrow(arrow, cols, extent, box, width, height, ticket, on_progress)
    where, filter_params = cols.view_filter(box)
    params = [*pixel_keys_params(cols, extent, box, width, height), *filter_params]
    counter = PixelCounter(cols.color_kind, width, height, len(extent.categories) + 1)
    runner.run_batches(
        pixel_keys_sql(cols, extent, width, height, where), params, counter.add, on_progress, ticket
    )
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
    np.bincount, CHUNK_ROWS at a time, so memory stays bounded whatever the number of rows."""

    CHUNK_ROWS = 16_000_000

    def __init__(self, kind: str, width: int, height: int, categories: int = 1) -> None:
        self.kind = kind
        self.width, self.height = width, height
        self.cells = width * height
        self.planes = categories if kind == "category" else 1
        self.counts = np.zeros(self.planes * self.cells, np.int64)
        self.sums = np.zeros(self.cells) if kind == "numeric" else None
        self.color_n = np.zeros(self.cells, np.int64) if kind == "numeric" else None
        self._pending: list[pa.RecordBatch] = []
        self._rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Take one Arrow record batch; count once enough rows are pending."""
        self._pending.append(batch)
        self._rows += batch.num_rows
        if self._rows >= self.CHUNK_ROWS:
            self.flush()

    def _column(self, name: str) -> np.ndarray:
        return np.concatenate([b.column(name).to_numpy(zero_copy_only=False) for b in self._pending])

    def flush(self) -> None:
        """Count the pending rows."""
        if not self._pending:
            return
        keys = self._column("k").astype(np.intp, copy=False)  # with categories: plane * cells + pixel
        counted = "n" in self._pending[0].schema.names  # keys counted by the engine (one row per key)
        rows = self._column("n").astype(np.float64) if counted else None
        counts = np.bincount(keys, weights=rows, minlength=self.planes * self.cells)
        self.counts += counts.astype(np.int64) if counted else counts
        if self.sums is not None and self.color_n is not None:
            values = self._column("c").astype(np.float64, copy=False)
            ok = np.isfinite(values)
            self.sums += np.bincount(keys[ok], weights=values[ok], minlength=self.cells)
            if counted:
                valid = self._column("cn").astype(np.float64)
                self.color_n += np.bincount(keys, weights=valid, minlength=self.cells).astype(np.int64)
            else:
                self.color_n += np.bincount(keys[ok], minlength=self.cells)
        self._pending, self._rows = [], 0
