"""The line plot's worker: engine → downsample → render for each viewport.

Beyond the newest view (High) it prefetches the neighbouring views into the result cache
(Normal) and drops the line index when the plot closes (Low); see `plots.base.ViewWorker`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np

from ...core.errors import user_message
from ...core.types import Labels, Size
from ...core.viewport import Range, Viewport
from ...engine.axes import count_not_positive
from ...engine.backend import Backend
from ...engine.line import Extent, LineColumns, LineData
from ...engine.runner import QueryCancelled, Ticket
from ..base import ViewWorker
from ..drawn import Drawn
from ..protocols import FrameCallback, StateCallback, ViewCallback
from ..selection import Selection
from .hover import line_drawn
from .index_geometry import MIN_ROWS as INDEX_MIN_ROWS
from .index_geometry import Pyramid
from .painter import LinePainter
from .provider import LineProvider

Y_PAD = 0.05
PROGRESSIVE_MIN_ROWS = 5_000_000  # smaller tables get their exact frame about as fast
PROGRESSIVE_BUDGET_S = 1.0
PREVIEW_DELAY_S = 0.05  # rows read faster than this need no preview frame
# Neighbouring views are prefetched only once the user paused this long after an exact frame: a
# prefetch that runs while views keep coming delays the next one by a query (it finishes before
# the worker sees the new view) and takes a core from it.
PREFETCH_IDLE_S = 0.12


class LineWorker(ViewWorker):
    """A line plot's worker: M4 views from the line index or the rows, y fitted to the view."""

    fits_y = True
    mode = "line"

    def __init__(
        self,
        columns: LineColumns,
        session: Backend,
        *,
        width: int,
        height: int,
        labels: Labels,
        max_points: int | None = None,
        downsampler: str = "minmax_lttb",
        colors: np.ndarray | None = None,
        line_width: float | None = None,
        on_frame: FrameCallback | None = None,
        on_state: StateCallback | None = None,
        on_view: ViewCallback | None = None,
    ) -> None:
        names = columns.series.names if columns.series is not None else ()
        self.painter: LinePainter = LinePainter(
            labels, columns.x_is_time, columns.x_origin_us, columns.scale, names, colors, line_width,
            columns.series.by or "" if columns.series is not None else "",
        )  # fmt: skip
        super().__init__(
            width=width, height=height, painter=self.painter,
            on_frame=on_frame, on_state=on_state, on_view=on_view,
        )  # fmt: skip
        self.columns = columns
        self.provider: LineProvider = LineProvider(
            columns, session.reader(), self.query_stats, max_points, downsampler
        )
        self.selection = Selection(session, columns, self.painter, self.redraw, columns.series)
        self._data: LineData | None = None
        self._exact_at = 0.0  # time.monotonic() of the newest exact frame
        self._session = session
        self._row_store_done = threading.Event()  # set once the row files are written (or not)
        self.start()

    def _prepare_data(self) -> object:
        """Extent, first frame and index (see ViewWorker); then the row files, on a thread."""
        known = self.provider.extent is not None
        try:
            return super()._prepare_data()
        finally:  # also when the index build failed: views then read rows, the files help them most
            if not known and self.provider.extent is not None:
                threading.Thread(target=self._write_row_store, name="pikaplot-rows", daemon=True).start()

    def _write_row_store(self) -> None:
        """Stream the rows to the plot's row files on a reader of its own (views go on)."""
        try:
            store = self.provider.row_store
            extent = self.extent
            if extent is None or self._closed or store.refusal(self.columns, extent):
                store.state = "not used" if extent is None else store.refusal(self.columns, extent)
                return
            reader = self._session.reader(transient=True)
            try:
                reader.attach(self.columns.source)
                try:
                    self.provider.build_row_store(reader, self._lifetime)
                finally:
                    reader.detach(self.columns.source)
            finally:
                reader.close()
        except Exception as error:  # the plot works without the files
            self.provider.row_store.state = f"failed: {user_message(error)}"
        finally:
            self._row_store_done.set()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until the current view is drawn, prefetching is done and the row files are
        written (or refused); False on timeout."""
        deadline = time.monotonic() + timeout
        if not super().wait_idle(timeout):
            return False
        if self._closed or self.provider.extent is None:  # no extent (its scan failed): no files come
            return True
        return self._row_store_done.wait(max(deadline - time.monotonic(), 0.0))

    def _initial_view(self, extent: object) -> Viewport:
        """The full extent, y fitted."""
        assert isinstance(extent, Extent)
        return _initial_view(extent)

    def extra_stats(self) -> dict[str, object]:
        """Line-specific counters for `Plot.stats`."""
        extent, series = self.extent, self.columns.series
        return {
            "rows": extent.rows if extent else 0,
            "skipped_rows": extent.invalid_rows if extent else 0,
            "log_skipped_rows": self.painter.log_skipped,
            "cache_hits": self.provider.cache_hits,
            "index_levels": len(self.pyramid.tables) if self.pyramid else 0,
            "index_error": self.provider.index_error,
            "row_store": self.provider.row_store.state,
            "row_store_bytes": self.provider.row_store.bytes if self.provider.row_store.ready else 0,
            "series_shown": series.count if series else 1,
            "series_dropped": series.series_dropped if series else 0,
            "rows_dropped": series.rows_dropped if series else 0,
        }

    @property
    def series_names(self) -> tuple[str, ...]:
        """The series of a plot of several (empty for one)."""
        return self.painter.names

    def set_hidden(self, hidden: frozenset[int]) -> None:
        """Hide these series (numbers into `series_names`) and draw again; y refits to the rest."""
        with self._cond:
            if hidden == self.painter.hidden:
                return
            self.painter.hidden = hidden
        self.selection.set_hidden(hidden)  # the selected rows follow what is shown
        self.redraw()

    def legend_entry(self, x: float, y: float) -> int | None:
        """The series whose legend entry is at CSS pixel (x, y), if any."""
        layout = self.layout()
        return None if layout is None else self.painter.legend_entry(layout, x, y)

    @property
    def id(self) -> int:
        """Identifies this plot's entries in the shared result cache."""
        return self.provider.id

    @property
    def extent(self) -> Extent | None:
        """Bounds of the data, once scanned."""
        return self.provider.extent

    @property
    def pyramid(self) -> Pyramid | None:
        """The line index, once built (None for small data)."""
        return self.provider.pyramid

    @property
    def data(self) -> LineData | None:
        """The points of the newest exact frame."""
        with self._cond:
            return self._data

    def _extent_known(self, extent: object) -> None:
        """Large tables get a sampled first look while the index is built."""
        assert isinstance(extent, Extent)
        self.painter.set_log_skipped(
            count_not_positive(self.provider.runner, self.columns, self._lifetime, self.columns.series)
        )
        if extent.rows >= PROGRESSIVE_MIN_ROWS and self.columns.series is None:  # samples mix series
            self._draw_first_look(extent)
        if extent.rows >= INDEX_MIN_ROWS:
            self._exact_before_index()

    def _exact_before_index(self) -> None:
        """The first exact frame from one M4 query over the rows, before the line index is built:
        ~1.6x a plain scan where the build (its GROUP BY has ~rows/256 groups) takes 3-4x. Views
        asked for meanwhile come next, from the index. A failure here only leaves it to them."""
        with self._cond:
            generation, view, size, ticket = self._generation, self._view, self._size, self._ticket
        try:
            self._produce(generation, view, size, ticket)  # the extent is known: no recursion
        except QueryCancelled:
            pass
        except Exception as error:
            self.counters.prefetch_errors += 1
            self.last_prefetch_error = user_message(error)

    def _draw_first_look(self, extent: Extent) -> None:
        """A quick approximate frame from sampled rows while the exact one is computed."""
        sample = self.provider.sample(extent, PROGRESSIVE_BUDGET_S)
        if sample is None:
            return
        with self._cond:
            view, generation, size = self._view, self._generation, self._size
        if view is None:
            return
        view = _fit_y(view, sample) if view.y_auto else view
        shown = "row-group bounds" if sample.kind == "bounds" else "sampled rows"
        note = f"approximate: {sample.rows_in_view:,} {shown}; exact view follows"
        frame = self.painter.draw(view, size, sample, note=note)
        self.timings.progressive = time.perf_counter() - self._started
        self._publish(generation, frame, exact=False)
        self._state("querying", 0.0)

    def _produce(self, generation: int, view: Viewport | None, size: Size, ticket: Ticket) -> None:
        self._prepare_data()
        view = self.view if view is None else view
        assert view is not None
        columns = self.painter.columns(view, size)
        data = self._data
        x_range = view.x.as_tuple()
        # A view the index or the row files answer takes milliseconds: its "querying" and
        # "rendering" would be two more state changes per zoom that nobody sees (the overlay shows
        # progress after 150 ms), so only slower ones report them.
        quick = True
        if data is None or data.x_range != x_range or data.columns != columns:
            preview = None
            quick = data is not None and self.provider.answers_quickly(x_range, columns)
            if data is not None and not quick:
                # Rows must be read from the source: if that takes a while, redraw what we have at
                # the new view (a timer thread a view: ~0.1-0.2 ms, so not for the row files).
                old, shown = data, view
                preview = threading.Timer(
                    PREVIEW_DELAY_S,
                    lambda: self._publish(generation, self._paint(shown, size, old), exact=False),
                )
                preview.start()
            if not quick:
                self._state("querying", 0.0)
            started = time.perf_counter()
            try:
                data = self.provider.query(x_range, columns, ticket, self._progress)
            finally:
                if preview is not None:
                    preview.cancel()
            self.timings.query = time.perf_counter() - started
            self.timings.downsample = self.provider.downsample_s
            with self._cond:
                self._data = data
                if generation != self._generation:
                    return  # stale: the loop starts over with the newer viewport
        if view.y_auto:
            fitted = _fit_y(view, data, self.painter.hidden)
            if fitted != view:
                with self._cond:
                    if generation == self._generation:
                        self._view = fitted
                view = fitted
                if self.on_view is not None:
                    self.on_view(view)
        # Every exact frame's labels widen the margin for the views after it (the first frame's,
        # of the whole extent, are usually the widest): fewer views narrow the plot and query twice.
        if self.painter.keep_margin(view, size) != data.columns:
            with self._cond:  # wider labels narrowed the plot: query again for it
                self._generation += 1
            return
        if not quick:
            self._state("rendering", 1.0)
        started = time.perf_counter()
        drawn: list[Drawn] = []  # the points for hover, found while the GPU draws the frame

        def find_drawn() -> None:
            drawn.append(self._drawn_of(data, view, size))

        frame = self._paint(view, size, data, find_drawn)
        self.timings.render = time.perf_counter() - started
        if not drawn:
            find_drawn()
        self._publish(generation, frame, exact=True, drawn=drawn[0])
        with self._cond:
            self._exact_at = time.monotonic()
            self.error = None
            if generation == self._generation:
                self._prefetch = _neighbours(view.x, self.extent)
                self._cond.notify_all()
        self._state("idle", 0.0)

    def _drawn_of(self, data: LineData, view: Viewport, size: Size) -> Drawn:
        return line_drawn(data, self.painter.layout(view, size), self.painter.hidden)

    def _prefetch_one(self, x_range: tuple[float, float], size: Size, ticket: Ticket) -> None:
        """Query a neighbouring view into the result cache (Normal priority: a new view cancels it),
        once no new view came for PREFETCH_IDLE_S after the last exact frame."""
        with self._cond:
            generation = self._generation
            wait = self._exact_at + PREFETCH_IDLE_S - time.monotonic()
            if wait > 0:
                self._cond.wait_for(lambda: self._generation != generation or self._closed, wait)
            if self._generation != generation or self._closed:
                return
        view = self.view
        if view is None:
            return
        columns = self.painter.columns(view, size)
        if self.provider.cached_view(x_range, columns) is None:
            self.provider.query(x_range, columns, ticket)
            self.counters.prefetched += 1

    def _paint(
        self,
        view: Viewport,
        size: Size,
        data: LineData | None,
        while_gpu_draws: Callable[[], object] | None = None,
    ) -> np.ndarray:
        extent, message = self.extent, ""
        if extent is not None and extent.empty:
            message = "no data"
        elif data is not None and data.rows_in_view == 0 and data.x.size == 0:
            message = "no data in this range"
        return self.painter.draw(view, size, data, message, while_gpu_draws=while_gpu_draws)


def _neighbours(x: Range, extent: Extent | None) -> list[tuple[float, float]]:
    """Views a user is likely to go to next: pan one width left/right, zoom out 2x."""
    if extent is None or extent.empty:
        return []
    views = [x.shift(-x.span), x.shift(x.span), x.zoom(2.0, (x.lo + x.hi) / 2)]
    return [v.as_tuple() for v in views if v.hi > extent.x_min and v.lo < extent.x_max]


def _initial_view(extent: Extent) -> Viewport:
    if extent.empty:
        return Viewport(Range(0.0, 1.0), Range(0.0, 1.0), y_auto=True)
    x = Range.around(extent.x_min, extent.x_max)
    y = Range.around(extent.y_min, extent.y_max, Y_PAD)
    return Viewport(x, y, y_auto=True)


def _fit_y(view: Viewport, data: LineData, hidden: frozenset[int] = frozenset()) -> Viewport:
    lo, hi = data.y_min_in_view, data.y_max_in_view
    if data.series_bounds is not None and hidden:
        shown = np.setdiff1d(np.arange(len(data.series_bounds)), np.fromiter(hidden, np.int64, len(hidden)))
        bounds = data.series_bounds[shown]
        finite = bounds[np.isfinite(bounds).all(axis=1)]
        lo, hi = (
            (float(finite[:, 0].min()), float(finite[:, 1].max())) if finite.size else (math.nan, math.nan)
        )
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return view
    return view.with_y(Range.around(lo, hi, Y_PAD), auto=True)
