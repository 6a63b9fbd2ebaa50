"""Viewport state and the worker that turns a viewport into a frame: engine → downsample → render.

The worker serves work by priority: the newest viewport first (an interaction, High), then
prefetching the neighbouring views into the result cache (Normal); dropping the line index when
the plot closes comes last (Low). A newer viewport cancels the running query of an older one.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .engine.line import Extent, LineColumns, LineData
from .engine.pyramid import Pyramid
from .engine.runner import QueryCancelled, QueryStats, Ticket
from .engine.session import Session
from .line_provider import LineProvider
from .memory import monitor
from .painter import Labels, Painter, Size
from .render.chart import ChartLayout
from .viewport import Range, Viewport

FrameCallback = Callable[[np.ndarray, bool], None]
StateCallback = Callable[[str, float], None]
ViewCallback = Callable[[Viewport], None]
Y_PAD = 0.05
PREFETCH = True
PROGRESSIVE_MIN_ROWS = 5_000_000  # smaller tables get their exact frame about as fast
PROGRESSIVE_BUDGET_S = 1.0
PREVIEW_DELAY_S = 0.05  # rows read faster than this need no preview frame
_live_controllers: weakref.WeakSet[LineController] = weakref.WeakSet()

__all__ = ["Labels", "LineController"]


@dataclass
class Timings:
    """Seconds spent per step for the latest exact frame."""

    extent: float = 0.0
    progressive: float = 0.0  # from creation to the approximate first frame
    index: float = 0.0
    query: float = 0.0
    downsample: float = 0.0
    render: float = 0.0


@dataclass
class Counters:
    """What the worker did: views asked for and served, prefetches."""

    views_requested: int = 0
    views_served: int = 0
    prefetched: int = 0


class LineController:
    """Keeps the viewport and produces frames for it in a worker thread.

    Callbacks run on the worker thread; the widget forwards them to the kernel's event loop.
    """

    def __init__(
        self,
        columns: LineColumns,
        session: Session,
        *,
        width: int,
        height: int,
        labels: Labels,
        max_points: int | None = None,
        downsampler: str = "minmax_lttb",
        on_frame: FrameCallback | None = None,
        on_state: StateCallback | None = None,
        on_view: ViewCallback | None = None,
    ) -> None:
        self.columns = columns
        self.on_frame, self.on_state, self.on_view = on_frame, on_state, on_view
        self.query_stats = QueryStats()
        self.provider = LineProvider(columns, session.reader(), self.query_stats, max_points, downsampler)
        self.painter = Painter(labels, columns.x_is_time)
        self._cond = threading.Condition()
        self._generation = 1
        self._done_generation = 0
        self._ticket = Ticket(self.query_stats)  # the newest viewport's; cancelled by a newer one
        self._lifetime = Ticket(self.query_stats)  # extent scan and index build; cancelled by close()
        self._size: Size = (int(width), int(height), 1.0)
        self._view: Viewport | None = None
        self._data: LineData | None = None
        self._frame: np.ndarray | None = None
        self._prefetch: list[tuple[float, float]] = []
        self._closed = False
        self._busy = False
        self.error: str | None = None
        self.timings = Timings()
        self.counters = Counters()
        self.frames_rendered = 0
        self._started = time.perf_counter()
        self._worker = threading.Thread(target=self._run, name="pikaplot-controller", daemon=True)
        self._worker.start()
        _live_controllers.add(self)
        monitor.start()

    # ---- state changes (any thread) ----------------------------------------------------------
    def _bump(self, view: Viewport | None = None, size: Size | None = None) -> None:
        with self._cond:
            if view is not None:
                self._view = view
                self.counters.views_requested += 1
            if size is not None:
                self._size = size
            self._generation += 1
            stale, self._ticket = self._ticket, Ticket(self.query_stats)
            self._prefetch.clear()
            self._cond.notify_all()
        stale.cancel()

    @property
    def id(self) -> int:
        """Identifies this plot's entries in the shared result cache."""
        return self.provider.id

    @property
    def view(self) -> Viewport | None:
        """The current viewport (None until the data's extent is known)."""
        with self._cond:
            return self._view

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

    @property
    def size(self) -> Size:
        """(width, height) in physical pixels and the pixel ratio."""
        with self._cond:
            return self._size

    def resize(self, width: int, height: int, ratio: float = 1.0) -> None:
        """New frame size in physical pixels."""
        size = (max(int(width), 1), max(int(height), 1), float(ratio) if ratio > 0 else 1.0)
        if size != self.size:
            self.painter.min_left = 0
            self._bump(size=size)

    def set_x_range(self, lo: float, hi: float) -> None:
        """Show x in [lo, hi]; y keeps fitting the data unless it was set by hand."""
        x = Range.checked((lo, hi), "x_range")
        view = self.view
        self._bump(view=view.with_x(x) if view else Viewport(x, Range(0.0, 1.0), y_auto=True))

    def set_y_range(self, lo: float, hi: float) -> None:
        """Show y in [lo, hi] (stops fitting y to the data until reset)."""
        y = Range.checked((lo, hi), "y_range")
        view = self.view
        self._bump(view=view.with_y(y) if view else Viewport(Range(0.0, 1.0), y, y_auto=False))

    def set_view(self, view: Viewport) -> None:
        """Replace the whole viewport."""
        self._bump(view=view)

    def reset(self) -> None:
        """Back to the full extent of the data, y fitted."""
        extent = self.extent
        if extent is not None:
            self.painter.min_left = 0
            self._bump(view=_initial_view(extent))

    def layout(self) -> ChartLayout | None:
        """Layout of the current view and size (for mapping pointer positions to data)."""
        view = self.view
        return None if view is None else self.painter.layout(view, self.size)

    # ---- frames ----------------------------------------------------------------------------
    def wait_frame(self, timeout: float | None = None) -> np.ndarray:
        """Block until the exact frame of the current viewport is rendered; return it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._done_generation < self._generation and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError("the plot did not finish drawing in time")
                self._cond.wait(remaining)
            if self._frame is None:
                raise RuntimeError("the plot is closed")
            return self._frame

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until the current view is drawn and prefetching is done; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed and (
                self._busy or self._prefetch or self._done_generation < self._generation
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    @property
    def last_frame(self) -> np.ndarray | None:
        """The newest frame drawn (exact or preview)."""
        with self._cond:
            return self._frame

    # ---- worker ----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._done_generation >= self._generation and not self._prefetch:
                    self._cond.wait()
                if self._closed:
                    return
                urgent = self._done_generation < self._generation
                generation, view, size, ticket = self._generation, self._view, self._size, self._ticket
                prefetch = None if urgent else self._prefetch.pop(0)
                self._busy = True
            try:
                if urgent:
                    self.counters.views_served += 1
                    self._produce(generation, view, size, ticket)
                else:
                    self._prefetch_one(prefetch, size, ticket)
            except QueryCancelled:
                pass
            except Exception as error:  # shown in the widget; the worker keeps serving
                if urgent:
                    self._fail(generation, view, size, error)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _state(self, status: str, progress: float = 0.0) -> None:
        if self.on_state is not None:
            self.on_state(status, progress)

    def _progress(self, fraction: float) -> None:
        self._state("querying", fraction)

    def _prepare_data(self) -> Extent:
        """Scan the extent, show a sampled first look, build the line index: once."""
        extent = self.extent
        if extent is not None:
            return extent
        provider = self.provider
        self._state("querying", 0.0)
        started = time.perf_counter()
        extent = provider.scan_extent(lambda f: self._progress(f * 0.2), self._lifetime)
        self.timings.extent = time.perf_counter() - started
        with self._cond:
            if self._view is None:
                self._view = _initial_view(extent)
            view = self._view
        if self.on_view is not None:
            self.on_view(view)
        if extent.rows >= PROGRESSIVE_MIN_ROWS:
            self._draw_first_look(extent)
        started = time.perf_counter()
        provider.build_index(extent, lambda f: self._progress(0.2 + 0.8 * f), self._lifetime)
        self.timings.index = time.perf_counter() - started
        return extent

    def _draw_first_look(self, extent: Extent) -> None:
        """A quick approximate frame from sampled rows while the exact one is computed."""
        sample = self.provider.sample(extent, PROGRESSIVE_BUDGET_S)
        if sample is None:
            return
        with self._cond:
            view, generation, size = self._view, self._generation, self._size
        view = _fit_y(view, sample) if view.y_auto else view
        note = f"approximate: {sample.x.size:,} sampled rows; exact view follows"
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
        if data is None or data.x_range != x_range or data.columns != columns:
            preview = None
            if data is not None and not self.provider.from_index(x_range, columns):
                # Rows must be read: if that takes a while, redraw what we have at the new view.
                old = data
                preview = threading.Timer(
                    PREVIEW_DELAY_S,
                    lambda: self._publish(generation, self._paint(view, size, old), exact=False),
                )
                preview.start()
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
            fitted = _fit_y(view, data)
            if fitted != view:
                with self._cond:
                    if generation == self._generation:
                        self._view = fitted
                view = fitted
                if self.on_view is not None:
                    self.on_view(view)
                if self.painter.keep_margin(view, size) != data.columns:
                    with self._cond:  # wider labels narrowed the plot: query again for it
                        self._generation += 1
                    return
        self._state("rendering", 1.0)
        started = time.perf_counter()
        frame = self._paint(view, size, data)
        self.timings.render = time.perf_counter() - started
        self._publish(generation, frame, exact=True)
        with self._cond:
            self.error = None
            if PREFETCH and generation == self._generation:
                self._prefetch = _neighbours(view.x, self.extent)
                self._cond.notify_all()
        self._state("idle", 0.0)

    def _prefetch_one(self, x_range: tuple[float, float], size: Size, ticket: Ticket) -> None:
        """Query a neighbouring view into the result cache (Normal priority: a new view cancels it)."""
        view = self.view
        if view is None:
            return
        columns = self.painter.columns(view, size)
        if self.provider.cached(x_range, columns) is None:
            self.provider.query(x_range, columns, ticket)
            self.counters.prefetched += 1

    def _paint(self, view: Viewport, size: Size, data: LineData | None) -> np.ndarray:
        extent, message = self.extent, ""
        if extent is not None and extent.empty:
            message = "no data"
        elif data is not None and data.rows_in_view == 0 and data.x.size == 0:
            message = "no data in this range"
        return self.painter.draw(view, size, data, message)

    def _publish(self, generation: int, frame: np.ndarray, exact: bool) -> None:
        with self._cond:
            if generation != self._generation:
                return  # a newer view is on its way
            if not exact and self._done_generation >= generation:
                return  # a preview that lost the race with the exact frame
            self._frame = frame
            self.frames_rendered += 1
            if exact:
                self._done_generation = generation
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame(frame, exact)

    def _fail(self, generation: int, view: Viewport | None, size: Size, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}".strip()
        first_line = message.splitlines()[0] if message else type(error).__name__
        with self._cond:
            self.error = message
        self._state(f"error: {first_line}", 0.0)
        try:
            view = view or Viewport(Range(0, 1), Range(0, 1))
            frame = self.painter.draw(view, size, None, message, error=True)
        except Exception:  # drawing the error must not raise again: show a blank frame
            frame = np.full((size[1], size[0], 4), 255, np.uint8)
        with self._cond:
            self._frame = frame
            self._done_generation = max(self._done_generation, generation)
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame(frame, True)

    def close(self) -> None:
        """Stop the worker, cancel any query, drop the line index and free the GPU texture."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            ticket = self._ticket
            self._cond.notify_all()
        ticket.cancel()
        self._lifetime.cancel()
        self._worker.join(timeout=5)
        self.provider.close()  # housekeeping (Low): after the worker has stopped
        self.painter.close()

    @property
    def queries_run(self) -> int:
        """Queries this plot ran (on whichever reader of the session)."""
        return self.query_stats.run

    @property
    def queries_cancelled(self) -> int:
        """Queries of this plot cancelled by newer views (or by close)."""
        return self.query_stats.cancelled

    @property
    def cache_hits(self) -> int:
        """Views answered from the result cache (prefetched or seen before)."""
        return self.provider.cache_hits

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed


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


def _fit_y(view: Viewport, data: LineData) -> Viewport:
    lo, hi = data.y_min_in_view, data.y_max_in_view
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return view
    return view.with_y(Range.around(lo, hi, Y_PAD), auto=True)


@atexit.register
def _close_all() -> None:
    """Stop workers and queries before the interpreter tears DuckDB down."""
    for controller in list(_live_controllers):
        controller.close()
