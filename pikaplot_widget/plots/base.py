"""The worker behind every plot: viewport state, generations, cancellation, frames out.

A plot kind (line, scatter) subclasses `ViewWorker` with its provider (the data) and painter (the
frames), and says what its first view is (`_initial_view`), how to turn a view into a frame
(`_produce`) and what to prefetch. The newest viewport always comes first (High); prefetching
waits until it is drawn (Normal); freeing resources on close comes last (Low). A newer viewport
cancels the running query of an older one.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref

import numpy as np

from ..core.errors import PlotError, user_message
from ..core.types import Size
from ..core.viewport import Range, Viewport
from ..engine.runner import QueryCancelled, QueryStats, Ticket
from ..render.chart.layout import ChartLayout
from ..runtime.memory import monitor
from .drawn import NOTHING, Drawn
from .evictors import register_shared_evictors
from .protocols import FrameCallback, StateCallback, ViewCallback, ViewPainter, ViewProvider
from .selection import Selection
from .stats import Counters, Timings

_live_workers: weakref.WeakSet[ViewWorker] = weakref.WeakSet()


class ViewWorker:
    """Keeps the viewport and produces frames for it in a worker thread.

    Callbacks run on the worker thread; the widget forwards them to the kernel's event loop.
    """

    fits_y = False  # whether y follows the data in view (lines) or moves with x (scatter)
    zooms_both_axes = False  # whether the wheel zooms x and y together

    mode: str | None = None  # how the current view is drawn ("line", "markers", "density")

    def __init__(
        self,
        *,
        width: int,
        height: int,
        painter: ViewPainter,
        on_frame: FrameCallback | None = None,
        on_state: StateCallback | None = None,
        on_view: ViewCallback | None = None,
    ) -> None:
        self.on_frame, self.on_state, self.on_view = on_frame, on_state, on_view
        self.query_stats = QueryStats()
        self.painter = painter
        self.provider: ViewProvider
        self.selection: Selection  # set by the plot kind, which knows its columns
        self._cond = threading.Condition()
        self._generation = 1
        self._done_generation = 0
        self._ticket = Ticket(self.query_stats)  # the newest viewport's; cancelled by a newer one
        self._lifetime = Ticket(self.query_stats)  # extent scan and index build; cancelled by close()
        self._size: Size = (int(width), int(height), 1.0)
        self._view: Viewport | None = None
        self._frame: np.ndarray | None = None
        self._prefetch: list[tuple[float, float]] = []  # x ranges to warm the cache for
        self._axes_set: set[str] = set()  # axes given before the extent was known
        self._adopted = False  # whether the first view from the extent was adopted
        self._closed = False
        self._freed = threading.Event()  # set once close() has freed everything
        self._busy = False
        self.error: str | None = None  # what the newest failed view showed, until a view succeeds
        self._failed_generation = 0  # the generation whose frame is an error message
        self.last_prefetch_error: str | None = None
        self._drawn: Drawn = NOTHING  # the points of the newest exact frame (hover, pick, Arrow)
        self._drawn_generation = 0
        self.timings = Timings()
        self.counters = Counters()
        self.frames_rendered = 0
        self._started = time.perf_counter()
        self._state_lock = threading.Lock()  # the worker, the progress poller and timers report states
        self._reported_state: tuple[str, float] | None = None

    def start(self) -> None:
        """Start the worker thread (subclasses call this at the end of their __init__)."""
        register_shared_evictors()
        monitor.start()
        self._worker = threading.Thread(target=self._run, name="pikaplot-worker", daemon=True)
        self._worker.start()
        _live_workers.add(self)

    # ---- what a plot kind provides ---------------------------------------------------------
    def _initial_view(self, extent: object) -> Viewport:
        """The first view of data with this extent (the home view)."""
        raise NotImplementedError

    def _produce(self, generation: int, view: Viewport | None, size: Size, ticket: Ticket) -> None:
        """Query and draw the frame of `view`; publish it with `_publish(..., exact=True)`."""
        raise NotImplementedError

    def _prefetch_one(self, x_range: tuple[float, float], size: Size, ticket: Ticket) -> None:
        """Warm the cache for one likely next view (Normal priority)."""

    def _extent_known(self, extent: object) -> None:
        """Hook: the extent was just scanned (before the index is built)."""

    def extra_stats(self) -> dict[str, object]:
        """Counters of this plot kind for `Plot.stats`."""
        return {}

    # ---- the data, once ----------------------------------------------------------------------
    def home_view(self) -> Viewport | None:
        """The full extent of the data (None until it is known)."""
        extent = self.provider.extent
        return None if extent is None else self._initial_view(extent)

    def _prepare_data(self) -> object:
        """Scan the extent, adopt the first view, build the index: once per plot."""
        provider = self.provider
        extent = provider.extent
        if extent is not None:
            return extent
        self._state("querying", 0.0)
        started = time.perf_counter()
        extent = provider.scan_extent(lambda f: self._progress(f * 0.2), self._lifetime)
        self.timings.extent = time.perf_counter() - started
        view = self._adopt_initial_view(self._initial_view(extent))
        if self.on_view is not None:
            self.on_view(view)
        self._extent_known(extent)
        started = time.perf_counter()
        provider.build_index(lambda f: self._progress(0.2 + 0.8 * f), self._lifetime)
        self.timings.index = time.perf_counter() - started
        return extent

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
    def view(self) -> Viewport | None:
        """The current viewport (None until the data's extent is known)."""
        with self._cond:
            return self._view

    @property
    def reported_view(self) -> Viewport | None:
        """The current viewport once the data's first view is adopted (None until then)."""
        with self._cond:
            return self._view if self._adopted else None

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
        with self._cond:
            view = self._view
            if not self._adopted:  # before the extent is known: keep it over the data's first view
                self._axes_set.add("x")
        self._bump(view=view.with_x(x) if view else Viewport(x, Range(0.0, 1.0), y_auto=self.fits_y))

    def set_y_range(self, lo: float, hi: float) -> None:
        """Show y in [lo, hi] (stops fitting y to the data until reset)."""
        y = Range.checked((lo, hi), "y_range")
        with self._cond:
            view = self._view
            if not self._adopted:
                self._axes_set.add("y")
        self._bump(view=view.with_y(y) if view else Viewport(Range(0.0, 1.0), y, y_auto=False))

    def _adopt_initial_view(self, initial: Viewport) -> Viewport:
        """Once the extent is known: the initial view, keeping any axis the user already set."""
        with self._cond:
            view = self._view
            if view is None:
                view = initial
            else:
                if "x" not in self._axes_set:
                    view = view.with_x(initial.x)
                if "y" not in self._axes_set:
                    view = view.with_y(initial.y, auto=initial.y_auto)
            self._view = view
            self._axes_set.clear()
            self._adopted = True
            return view

    def redraw(self) -> None:
        """Draw the current view again (e.g. with a new selection highlighted)."""
        self._bump()

    def set_view(self, view: Viewport) -> None:
        """Replace the whole viewport."""
        self._bump(view=view)

    def reset(self) -> None:
        """Back to the full extent of the data."""
        view = self.home_view()
        if view is not None:
            self.painter.min_left = 0
            self._bump(view=view)

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
            if self._closed:
                raise PlotError("the plot is closed")
            if self._failed_generation == self._done_generation and self.error is not None:
                raise PlotError(self.error)
            if self._frame is None:
                raise PlotError("the plot has no frame")
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
    def drawn(self) -> tuple[int, Drawn]:
        """The generation of the newest exact frame and the points it drew."""
        with self._cond:
            return self._drawn_generation, self._drawn

    def pick(self, x: float, y: float, with_row: bool = False) -> dict[str, object] | None:
        """What the newest exact frame shows at (x, y) CSS pixels: the nearest drawn point (or the
        pixel, for density) and what it stands for; `with_row` adds a marker's full row."""
        _, drawn = self.drawn
        nearest = drawn.nearest(x, y)
        return None if nearest is None else drawn.record(nearest)

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
                elif prefetch is not None:
                    self._prefetch_one(prefetch, size, ticket)
            except QueryCancelled:
                pass
            except Exception as error:  # shown in the widget; the worker keeps serving
                if urgent:
                    self._fail(generation, view, size, error)
                else:
                    self.counters.prefetch_errors += 1
                    self.last_prefetch_error = user_message(error)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _state(self, status: str, progress: float = 0.0) -> None:
        """Report a status once (a quick view's repeated "idle" would cost a loop callback per zoom)."""
        if self.on_state is None:
            return
        with self._state_lock:
            if self._reported_state == (status, progress):
                return
            self._reported_state = (status, progress)
            self.on_state(status, progress)

    def _progress(self, fraction: float) -> None:
        self._state("querying", fraction)

    def _publish(self, generation: int, frame: np.ndarray, exact: bool, drawn: Drawn = NOTHING) -> None:
        with self._cond:
            if generation != self._generation:
                return  # a newer view is on its way
            if not exact and self._done_generation >= generation:
                return  # a preview that lost the race with the exact frame
            self._frame = frame
            self.frames_rendered += 1
            if exact:
                self._done_generation = generation
                self._drawn, self._drawn_generation = drawn, generation
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame(frame, exact)

    def _fail(self, generation: int, view: Viewport | None, size: Size, error: Exception) -> None:
        message = user_message(error)
        with self._cond:
            self.error = message
        self._state(f"error: {message}", 0.0)
        try:
            view = view or Viewport(Range(0, 1), Range(0, 1))
            frame = self.painter.draw(view, size, None, message, error=True)
        except Exception:  # drawing the error must not raise again: show a blank frame
            frame = np.full((size[1], size[0], 4), 255, np.uint8)
        with self._cond:
            self._frame = frame
            self._done_generation = max(self._done_generation, generation)
            self._failed_generation = self._done_generation
            self._drawn, self._drawn_generation = NOTHING, self._done_generation
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame(frame, True)

    def close(self, wait: bool = True) -> None:
        """Stop the worker, cancel any query, free the plot's index, cache entries and GPU texture
        (with `wait=False`, from the kernel's event loop, on a housekeeping thread)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            ticket = self._ticket
            self._cond.notify_all()
        ticket.cancel()
        self._lifetime.cancel()
        if wait:
            self._free()
        else:
            threading.Thread(target=self._free, name="pikaplot-close", daemon=True).start()

    def _free(self) -> None:
        """Housekeeping (Low): after the worker has stopped, free what the plot holds."""
        self._worker.join(timeout=5)
        self.selection.close()
        self.provider.close()
        self.painter.close()
        _live_workers.discard(self)
        with self._cond:  # frames are the biggest thing a released plot would keep
            self._frame, self._drawn = None, NOTHING
        self._freed.set()

    def wait_freed(self, timeout: float | None = None) -> bool:
        """Block until a closed worker has freed its thread, index, cursor and GPU texture."""
        return self._freed.wait(timeout)

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed


@atexit.register
def _close_all() -> None:
    """Stop workers and queries before the interpreter tears DuckDB down."""
    for worker in list(_live_workers):
        worker.close()
