"""Where a line plot's data comes from: extent, sampled first look, line index, per-view M4, cache."""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
from dataclasses import replace

import numpy as np

from ...core.downsample import lttb, minmax_lttb
from ...engine.line import Extent, LineColumns, LineData, fetch_extent, fetch_line, fetch_sample
from ...engine.line_cache import RowCache
from ...engine.row_group_bounds import fetch_row_group_bounds
from ...engine.row_store import RowStore
from ...engine.row_views import store_answers, view_from_store
from ...engine.runner import (
    INDEX_LOST,
    OUT_OF_MEMORY,
    WRITE_FAILED,
    ProgressCallback,
    QueryCancelled,
    QueryStats,
    Reader,
    ReaderClosedError,
    Ticket,
)
from ..provider import Provider
from .index import build_pyramid, drop_pyramid, fetch_from_pyramid, rows_between
from .index_geometry import MIN_ROWS as INDEX_MIN_ROWS
from .index_geometry import Pyramid

WIDE_READ_ROWS = 1 << 18  # the most rows read for the row cache beyond a view's own


class LineProvider(Provider):
    """Answers "what to draw for this x range at this many pixel columns" for one plot."""

    def __init__(
        self,
        columns: LineColumns,
        runner: Reader,
        stats: QueryStats,
        max_points: int | None = None,
        downsampler: str = "minmax_lttb",
    ) -> None:
        super().__init__(columns.source, runner, stats)
        self.columns = columns
        self.max_points = max_points
        self._downsample = {"minmax_lttb": minmax_lttb, "lttb": lttb}[downsampler]
        self._extent: Extent | None = None
        self.pyramid: Pyramid | None = None
        self.index_error = ""  # why the line index could not be built ("" when it was, or not needed)
        self.downsample_s = 0.0  # time the last reduce() took
        self.row_cache = RowCache()  # rows of recent narrow views (one series)
        self.row_store = RowStore()  # every row on local disk, written after the index (one series)
        # Between the extent and the end of the index build: views (the first exact frame) run M4
        # in DuckDB, no rows read here (the index follows; reading a 1M-row table whole for one
        # frame churned 16 MB a plot).
        self.index_pending = False

    @property
    def extent(self) -> Extent | None:
        """Bounds of the data, once scanned."""
        return self._extent

    def scan_extent(self, on_progress: ProgressCallback | None, ticket: Ticket) -> Extent:
        """Bounds of the data (from statistics where the source has clean ones)."""
        self._extent = fetch_extent(self.runner, self.columns, on_progress, ticket)
        self.index_pending = self._extent.rows >= INDEX_MIN_ROWS
        return self._extent

    def sample(self, extent: Extent, budget_s: float) -> LineData | None:
        """An approximate first look, or None if it is not quick (unsorted x): kind "bounds" from the
        row-group statistics of a sorted Parquet source (`rows_in_view`: row groups), else
        "sample" from rows of narrow windows (`rows_in_view`: rows)."""
        ticket = Ticket(self.stats)
        timer = threading.Timer(budget_s, ticket.cancel)
        timer.start()
        try:
            bounds = fetch_row_group_bounds(self.runner, self.columns, ticket)
            if bounds is not None:
                x, y = bounds.envelope()
                kind, count = "bounds", int(bounds.rows.size)
            else:
                x, y = fetch_sample(self.runner, self.columns, extent, ticket=ticket)
                kind, count = "sample", int(x.size)
        except QueryCancelled:
            return None
        finally:
            timer.cancel()
        if x.size == 0:
            return None
        finite = y[np.isfinite(y)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (math.nan, math.nan)
        return LineData(x, y, kind, count, lo, hi, (extent.x_min, extent.x_max), 0)

    def build_index(self, on_progress: ProgressCallback | None, ticket: Ticket) -> None:
        """One pass over the source for the line index (small tables get none; when DuckDB runs out of
        memory twice or its database file cannot be written, none either, and `index_error` says why)."""
        assert self._extent is not None
        try:
            pyramid = build_pyramid(self.runner, self.columns, self._extent, on_progress, ticket)
        except (*OUT_OF_MEMORY, *WRITE_FAILED) as error:  # OOM twice, or disk full: views read the rows
            self.index_error = str(error).splitlines()[0]
            return
        finally:
            self.index_pending = False
        if self.closed and pyramid is not None:  # closed while building: nobody else will drop it
            with contextlib.suppress(Exception):
                drop_pyramid(self.runner, pyramid)
        else:
            self.pyramid = pyramid

    def from_index(self, x_range: tuple[float, float], columns: int) -> bool:
        """Whether the index answers this view (else the rows are read)."""
        pyramid = self.pyramid
        return pyramid is not None and pyramid.level_for((x_range[1] - x_range[0]) / columns) is not None

    def answers_quickly(self, x_range: tuple[float, float], columns: int) -> bool:
        """Whether the line index or the row files answer this view (milliseconds, no preview)."""
        extent = self._extent
        return self.from_index(x_range, columns) or (
            extent is not None and store_answers(self.row_store, self.columns, extent, x_range, columns)
        )

    def cached_view(self, x_range: tuple[float, float], columns: int) -> LineData | None:
        """A result kept in the cache, if any."""
        data = self.cached(x_range, columns)
        return data if isinstance(data, LineData) else None

    def query(
        self,
        x_range: tuple[float, float],
        columns: int,
        ticket: Ticket,
        on_progress: ProgressCallback | None = None,
    ) -> LineData:
        """The points to draw for a view: from the cache, the line index, or the rows."""
        data = self.cached_view(x_range, columns)
        if data is not None:
            self.cache_hits += 1
            return data
        pyramid = self.pyramid
        level = pyramid.level_for((x_range[1] - x_range[0]) / columns) if pyramid else None
        if pyramid is not None and level is not None:
            try:
                data = fetch_from_pyramid(self.runner, pyramid, level, x_range, columns, on_progress, ticket)
            except INDEX_LOST as error:  # its database was detached (a file DuckDB invalidated)
                self.pyramid = None
                self.index_error = f"the line index was lost: {str(error).splitlines()[0]}"
                return self.query(x_range, columns, ticket, on_progress)  # from the rows
        else:
            extent = self._extent
            assert extent is not None
            if self.runner.closed:  # as the row cache: the files do not outlive the plot's session
                raise ReaderClosedError("the DuckDB session of this plot was closed")
            stored = view_from_store(self.row_store, self.columns, extent, x_range, columns)
            if stored is not None:
                data = self.reduce(stored)
                self.remember(data, x_range, columns)
                return data
            width = (x_range[1] - x_range[0]) / max(columns, 1)  # fetch_line reads a column more each side
            bounds = (max(x_range[0] - width, extent.x_min), min(x_range[1] + width, extent.x_max))
            rows = rows_between(pyramid, *bounds) if pyramid else None
            read = self._read_range(bounds, rows)
            pending = self.index_pending
            data = fetch_line(
                self.runner, self.columns, extent, x_range, columns, on_progress, ticket, rows,
                None if pending else self.row_cache, None if pending else read, in_engine=pending,
            )  # fmt: skip
        data = self.reduce(data)
        self.remember(data, x_range, columns)
        return data

    def _read_range(self, bounds: tuple[float, float], rows: int | None) -> tuple[float, float] | None:
        """What to read into the row cache for a view of `bounds` (`rows` rows at most, where the
        index counted them): a small table whole; from a file, up to 8x the view's range (its row
        groups are decoded whole anyway); else the view's own rows. None: too many rows."""
        extent, pyramid = self._extent, self.pyramid
        assert extent is not None
        if pyramid is None:
            return (extent.x_min, extent.x_max) if extent.rows <= self.row_cache.max_rows else None
        if rows is None or rows > WIDE_READ_ROWS:
            return None
        if self.columns.source.from_sql.startswith("read_"):
            centre, half = (bounds[0] + bounds[1]) / 2, (bounds[1] - bounds[0]) / 2
            for factor in (8, 4, 2):
                wide = (max(centre - half * factor, extent.x_min), min(centre + half * factor, extent.x_max))
                wide_rows = rows_between(pyramid, *wide)
                if wide_rows is not None and wide_rows <= WIDE_READ_ROWS:
                    return wide
        return bounds

    def reduce(self, data: LineData) -> LineData:
        """Downsample to `max_points` with (MinMax)LTTB when the view has more points than that."""
        self.downsample_s = 0.0
        if not self.max_points or data.x.size <= self.max_points:
            return data
        started = time.perf_counter()
        if data.series is None:
            keep = self._downsample(data.x, data.y, self.max_points)
        else:  # each series on its own, to max_points each
            bounds = np.searchsorted(data.series, np.arange(len(data.series_names) + 1))
            keep = np.concatenate(
                [
                    lo + self._downsample(data.x[lo:hi], data.y[lo:hi], self.max_points)
                    if hi - lo > self.max_points
                    else np.arange(lo, hi)
                    for lo, hi in itertools.pairwise(bounds)
                ]
            ).astype(np.int64)
        self.downsample_s = time.perf_counter() - started
        column_x = None if data.column_x is None else data.column_x[keep]
        point_column = None if data.point_column is None else data.point_column[keep]
        series = None if data.series is None else data.series[keep]
        return replace(
            data, x=data.x[keep], y=data.y[keep], column_x=column_x, point_column=point_column, series=series
        )

    def build_row_store(self, reader: Reader, ticket: Ticket) -> None:
        """Write every row to the plot's row files (on `reader`, not the plot's own: views go on
        meanwhile); `row_store.state` says why when it is not written."""
        extent = self._extent
        if extent is not None and not self.closed:
            self.row_store.build(reader, self.columns, extent, ticket)

    def release(self) -> None:
        """Drop the line index, the row files and the rows kept for nearby views (up to 1M: 16 MB
        a plot, which a closed plot still referenced from the notebook would hold)."""
        self.row_store.close()
        self.row_cache = RowCache()
        pyramid, self.pyramid = self.pyramid, None
        if pyramid is not None:
            with contextlib.suppress(Exception):  # the session may already be closed
                drop_pyramid(self.runner, pyramid)
