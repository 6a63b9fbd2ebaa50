"""Viewport state and the worker that turns a viewport into a frame: engine → downsample → render."""

from __future__ import annotations

import atexit
import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .downsample import lttb, minmax_lttb
from .engine.line import Extent, LineColumns, LineData, fetch_extent, fetch_line
from .engine.runner import QueryCancelled, QueryRunner
from .engine.session import Session
from .render.canvas import Canvas
from .render.chart import ChartLayout, ChartSpec, chart_layers
from .viewport import Range, Viewport

FrameCallback = Callable[[np.ndarray, bool], None]
StateCallback = Callable[[str, float], None]
ViewCallback = Callable[[Viewport], None]
_EXTENT_GENERATION = 1 << 62  # the extent scan is never stale; only close() stops it
Y_PAD = 0.05
_live_controllers: weakref.WeakSet[LineController] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Stop workers and queries before the interpreter tears DuckDB down."""
    for controller in list(_live_controllers):
        controller.close()


@dataclass
class Timings:
    """Seconds spent per step for the latest exact frame."""

    extent: float = 0.0
    query: float = 0.0
    downsample: float = 0.0
    render: float = 0.0


@dataclass
class Labels:
    """Text around the plot."""

    title: str = ""
    x_label: str = ""
    y_label: str = ""


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
        self.labels = labels
        self.max_points = max_points
        self._downsample = {"minmax_lttb": minmax_lttb, "lttb": lttb}[downsampler]
        self.on_frame, self.on_state, self.on_view = on_frame, on_state, on_view
        cursor = session.cursor()
        columns.source.prepare(cursor)
        self.runner = QueryRunner(cursor)
        self._cond = threading.Condition()
        self._generation = 1
        self._done_generation = 0
        self._size = (int(width), int(height), 1.0)
        self._view: Viewport | None = None
        self._extent: Extent | None = None
        self._data: LineData | None = None
        self._frame: np.ndarray | None = None
        self._canvas: Canvas | None = None
        self._min_left = 0  # the left margin only grows (until reset), so columns stay put
        self._closed = False
        self.error: str | None = None
        self.timings = Timings()
        self.frames_rendered = 0
        self._worker = threading.Thread(target=self._run, name="pikaplot-controller", daemon=True)
        self._worker.start()
        _live_controllers.add(self)

    # ---- state changes (any thread) ----------------------------------------------------------
    def _bump(self, view: Viewport | None = None, size: tuple[int, int, float] | None = None) -> None:
        with self._cond:
            if view is not None:
                self._view = view
            if size is not None:
                self._size = size
            self._generation += 1
            generation = self._generation
            self._cond.notify_all()
        self.runner.cancel_older_than(generation)

    @property
    def view(self) -> Viewport | None:
        """The current viewport (None until the data's extent is known)."""
        with self._cond:
            return self._view

    @property
    def extent(self) -> Extent | None:
        """Bounds of the data, once scanned."""
        with self._cond:
            return self._extent

    @property
    def size(self) -> tuple[int, int, float]:
        """(width, height) in physical pixels and the pixel ratio."""
        with self._cond:
            return self._size

    def resize(self, width: int, height: int, ratio: float = 1.0) -> None:
        """New frame size in physical pixels."""
        size = (max(int(width), 1), max(int(height), 1), float(ratio) if ratio > 0 else 1.0)
        if size != self.size:
            self._min_left = 0
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
            self._min_left = 0
            self._bump(view=_initial_view(extent))

    def layout(self) -> ChartLayout | None:
        """Layout of the current view and size (for mapping pointer positions to data)."""
        view = self.view
        if view is None:
            return None
        return ChartLayout(self._spec(view, self.size))

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

    @property
    def last_frame(self) -> np.ndarray | None:
        """The newest frame drawn (exact or preview)."""
        with self._cond:
            return self._frame

    # ---- worker ----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._done_generation >= self._generation:
                    self._cond.wait()
                if self._closed:
                    return
                generation, view, size = self._generation, self._view, self._size
            try:
                self._produce(generation, view, size)
            except QueryCancelled:
                continue
            except Exception as error:  # shown in the widget; the worker keeps serving
                self._fail(generation, view, size, error)

    def _state(self, status: str, progress: float = 0.0) -> None:
        if self.on_state is not None:
            self.on_state(status, progress)

    def _progress(self, fraction: float) -> None:
        self._state("querying", fraction)

    def _produce(self, generation: int, view: Viewport | None, size: tuple[int, int, float]) -> None:
        extent = self.extent
        if extent is None:
            self._state("querying", 0.0)
            started = time.perf_counter()
            extent = fetch_extent(self.runner, self.columns, self._progress, _EXTENT_GENERATION)
            self.timings.extent = time.perf_counter() - started
            with self._cond:
                self._extent = extent
                if self._view is None:
                    self._view = _initial_view(extent)
                view = self._view
            if self.on_view is not None:
                self.on_view(view)
        assert view is not None
        spec = self._spec(view, size)
        columns = ChartLayout(spec).area.width
        data = self._data
        if data is None or data.x_range != view.x.as_tuple() or data.columns != columns:
            if data is not None:  # redraw what we have at the new view while the query runs
                self._publish(generation, self._draw(view, size, data), exact=False)
            self._state("querying", 0.0)
            started = time.perf_counter()
            data = fetch_line(
                self.runner, self.columns, extent, view.x.as_tuple(), columns, self._progress, generation
            )
            self.timings.query = time.perf_counter() - started
            data = self._reduce(data)
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
                fitted_layout = ChartLayout(self._spec(view, size))
                self._min_left = max(self._min_left, fitted_layout.area.left)
                if fitted_layout.area.width != data.columns:
                    with self._cond:  # wider labels narrowed the plot: query again for it
                        self._generation += 1
                    return
        self._state("rendering", 1.0)
        started = time.perf_counter()
        frame = self._draw(view, size, data)
        self.timings.render = time.perf_counter() - started
        self._publish(generation, frame, exact=True)
        with self._cond:
            self.error = None
        self._state("idle", 0.0)

    def _reduce(self, data: LineData) -> LineData:
        if not self.max_points or data.x.size <= self.max_points:
            self.timings.downsample = 0.0
            return data
        started = time.perf_counter()
        keep = self._downsample(data.x, data.y, self.max_points)
        self.timings.downsample = time.perf_counter() - started
        return LineData(
            data.x[keep],
            data.y[keep],
            data.kind,
            data.rows_in_view,
            data.y_min_in_view,
            data.y_max_in_view,
            data.x_range,
            data.columns,
        )

    def _spec(
        self,
        view: Viewport,
        size: tuple[int, int, float],
        data: LineData | None = None,
        message: str = "",
        error: bool = False,
    ) -> ChartSpec:
        width, height, ratio = size
        spec = ChartSpec(
            min_left=self._min_left,
            width=width,
            height=height,
            ratio=ratio,
            x_range=view.x.as_tuple(),
            y_range=view.y.as_tuple(),
            x_is_time=self.columns.x_is_time,
            title=self.labels.title,
            x_label=self.labels.x_label,
            y_label=self.labels.y_label,
            message=message,
            error=error,
        )
        if data is not None:
            spec.x, spec.y = data.x, data.y
        return spec

    def _draw(
        self,
        view: Viewport,
        size: tuple[int, int, float],
        data: LineData | None,
        message: str = "",
        error: bool = False,
    ) -> np.ndarray:
        extent = self.extent
        if not message and extent is not None and extent.empty:
            message = "no data"
        elif not message and data is not None and data.rows_in_view == 0 and data.x.size == 0:
            message = "no data in this range"
        spec = self._spec(view, size, data, message, error)
        width, height, _ = size
        if self._canvas is None or (self._canvas.width, self._canvas.height) != (width, height):
            if self._canvas is not None:
                self._canvas.destroy()
            self._canvas = Canvas(width, height)
        return self._canvas.draw(chart_layers(ChartLayout(spec)))

    def _publish(self, generation: int, frame: np.ndarray, exact: bool) -> None:
        with self._cond:
            if generation != self._generation and exact:
                return
            self._frame = frame
            self.frames_rendered += 1
            if exact:
                self._done_generation = generation
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame(frame, exact)

    def _fail(
        self, generation: int, view: Viewport | None, size: tuple[int, int, float], error: Exception
    ) -> None:
        message = f"{type(error).__name__}: {error}".strip()
        first_line = message.splitlines()[0] if message else type(error).__name__
        with self._cond:
            self.error = message
        self._state(f"error: {first_line}", 0.0)
        try:
            frame = self._draw(view or Viewport(Range(0, 1), Range(0, 1)), size, None, message, error=True)
        except Exception:
            frame = np.full((size[1], size[0], 4), 255, np.uint8)
        with self._cond:
            self._frame = frame
            self._done_generation = max(self._done_generation, generation)
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame(frame, True)

    def close(self) -> None:
        """Stop the worker, cancel any query and free the GPU texture."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self.runner.close()
        self._worker.join(timeout=5)
        if self._canvas is not None:
            self._canvas.destroy()
            self._canvas = None

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed


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
