"""Rows per pixel of a view, binned exactly: DuckDB computes each row's pixel, numpy counts them
(or DuckDB groups by pixel). The density index (density_index.py) answers coarse views faster."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .runner import NEVER_CANCELLED, ProgressCallback, QueryRunner, Ticket
from .scatter import ScatterColumns, ScatterExtent, ViewBox, _floats


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

    @property
    def total(self) -> int:
        """Rows counted in the view."""
        return int(self.counts.sum())


def density_sql(cols: ScatterColumns, extent: ScatterExtent, width: int, height: int, where: str) -> str:
    """GROUP BY pixel cell of the valid rows matching `where`.

    Parameters: x0, x scale, y0, y scale, the category names (categorical colour), then those
    of `where`.
    """
    keys = [
        f"least(CAST(floor(({cols.x_value} - ?) * ?) AS INTEGER), {int(width) - 1}) AS ix",
        f"least(CAST(floor(({cols.y_value} - ?) * ?) AS INTEGER), {int(height) - 1}) AS iy",
    ]
    aggregates = ["count(*) AS n"]
    if cols.color_kind == "category":
        code, _ = cols.category_code(extent.categories)
        keys.append(f"{code} AS cat")
    elif cols.color_kind == "numeric":
        keys.append(f"{cols.color_value} AS c")
        aggregates += ["sum(c) AS c_sum", "count(c) AS c_n"]
    group = "ix, iy, cat" if cols.color_kind == "category" else "ix, iy"
    inner = f"SELECT {', '.join(keys)} FROM {cols.source.from_sql} WHERE {cols.valid} AND {where}"
    return f"SELECT {group}, {', '.join(aggregates)} FROM ({inner}) GROUP BY {group}"


def fetch_cells(
    runner: QueryRunner,
    cols: ScatterColumns,
    extent: ScatterExtent,
    box: ViewBox,
    width: int,
    height: int,
    ticket: Ticket = NEVER_CANCELLED,
    on_progress: ProgressCallback | None = None,
    whole_table: bool = False,
) -> pa.Table:
    """The occupied cells of a width x height grid over the box: ix, iy, [cat], n, [c_sum, c_n].

    With `whole_table` the rows are not filtered (the box covers the extent).
    """
    x0, x1, y0, y1 = box
    where, filter_params = ("TRUE", []) if whole_table else cols.view_filter(box)
    sql = density_sql(cols, extent, width, height, where)
    color_params = cols.category_code(extent.categories)[1] if cols.color_kind == "category" else []
    params = [x0, width / (x1 - x0), y0, height / (y1 - y0), *color_params, *filter_params]
    return runner.run(sql, params, on_progress, ticket)


def pixel_keys_sql(cols: ScatterColumns, extent: ScatterExtent, width: int, height: int, where: str) -> str:
    """Each valid row matching `where` as its pixel number k = iy * width + ix (plus, with
    categories, category * width * height: one key per pixel and category), and its colour value
    for numeric colour. Parameters as for `density_sql`."""
    ix = f"least(CAST(floor(({cols.x_value} - ?) * ?) AS INTEGER), {int(width) - 1})"
    iy = f"least(CAST(floor(({cols.y_value} - ?) * ?) AS INTEGER), {int(height) - 1})"
    key = f"{iy} * {int(width)} + {ix}"
    if cols.color_kind == "category":  # computed by DuckDB's threads, not numpy's one
        key += f" + CAST({cols.category_code(extent.categories)[0]} AS INTEGER) * {int(width) * int(height)}"
    select = [f"{key} AS k"]
    if cols.color_kind == "numeric":
        select.append(f"{cols.color_value} AS c")
    return f"SELECT {', '.join(select)} FROM {cols.source.from_sql} WHERE {cols.valid} AND {where}"


def fetch_density(
    runner: QueryRunner,
    cols: ScatterColumns,
    extent: ScatterExtent,
    box: ViewBox,
    width: int,
    height: int,
    ticket: Ticket = NEVER_CANCELLED,
    on_progress: ProgressCallback | None = None,
    by_keys: bool = True,
) -> DensityGrid:
    """Exact rows per pixel of the view (bounds included in the last bin).

    `by_keys`: DuckDB computes each row's pixel and streams the keys, which numpy counts
    (np.bincount) a chunk at a time: 1.3-3x faster than a GROUP BY for millions of rows in view.
    Otherwise DuckDB groups by pixel and only the occupied pixels come back.
    """
    if not by_keys:
        return _density_from_cells(fetch_cells(runner, cols, extent, box, width, height, ticket, on_progress),
                                   cols, extent, box, width, height)  # fmt: skip
    x0, x1, y0, y1 = box
    where, filter_params = cols.view_filter(box)
    color_params = cols.category_code(extent.categories)[1] if cols.color_kind == "category" else []
    # the x and y parameters come in the order ix, iy appear in the SELECT: iy first
    params = [y0, height / (y1 - y0), x0, width / (x1 - x0), *color_params, *filter_params]
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
        self.counts += np.bincount(keys, minlength=self.planes * self.cells)
        if self.sums is not None and self.color_n is not None:
            values = self._column("c").astype(np.float64, copy=False)
            ok = np.isfinite(values)
            self.sums += np.bincount(keys[ok], weights=values[ok], minlength=self.cells)
            self.color_n += np.bincount(keys[ok], minlength=self.cells)
        self._pending, self._rows = [], 0


def _density_from_cells(
    table: pa.Table, cols: ScatterColumns, extent: ScatterExtent, box: ViewBox, width: int, height: int
) -> DensityGrid:
    ix = table.column("ix").to_numpy(zero_copy_only=False).astype(np.int64)
    iy = table.column("iy").to_numpy(zero_copy_only=False).astype(np.int64)
    n = table.column("n").to_numpy(zero_copy_only=False).astype(np.int64)
    cells = width * height
    flat = iy * width + ix
    counts = np.bincount(flat, weights=n, minlength=cells).astype(np.int64).reshape(height, width)
    grid = DensityGrid(counts, box)
    if cols.color_kind == "category":
        k = len(extent.categories) + 1
        cat = table.column("cat").to_numpy(zero_copy_only=False).astype(np.int64)
        planes = np.bincount(cat * cells + flat, weights=n, minlength=k * cells).astype(np.int64)
        grid = DensityGrid(counts, box, planes=planes.reshape(k, height, width))
    elif cols.color_kind == "numeric":
        c_sum = np.nan_to_num(_floats(table, "c_sum"))
        c_n = table.column("c_n").to_numpy(zero_copy_only=False).astype(np.float64)
        sums = np.bincount(flat, weights=c_sum, minlength=cells).reshape(height, width)
        color_n = np.bincount(flat, weights=c_n, minlength=cells).astype(np.int64).reshape(height, width)
        grid = DensityGrid(counts, box, color_sum=sums, color_count=color_n)
    return grid
