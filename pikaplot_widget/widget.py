"""The Jupyter widget: a jupyter_rfb remote frame buffer with traitlets, events in, frames out."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar

import jupyter_rfb.widget as rfb_widget
import numpy as np
import traitlets
from jupyter_rfb import RemoteFrameBuffer
from jupyter_rfb.widget import CSS as RFB_CSS
from jupyter_rfb.widget import JS as RFB_JS

from .comm_routing import keep_front_end_routing
from .core.viewport import Viewport
from .frames import FrameSender
from .frontend import compose_esm
from .interaction import drag_pan, wheel_zoom
from .lifecycle import Lifecycle
from .messages import Event, parse_event
from .output import SNAPSHOT_CSS, Output
from .plots.base import ViewWorker
from .plots.protocols import FrameCallback, StateCallback, ViewCallback
from .ranges import AxisUnits, UserRange
from .reading import Reading
from .runtime.memory import monitor as memory_monitor
from .series_legend import SeriesLegend
from .state_sync import StateSync
from .theming import Theming

MakeWorker = Callable[[FrameCallback, StateCallback, ViewCallback], ViewWorker]
_construct_lock = threading.Lock()  # the patch below is process-wide: one plot at a time


@contextlib.contextmanager
def _without_output_widget() -> Iterator[None]:
    """jupyter_rfb displays an Output widget for its prints when constructed: an empty output in
    the notebook ("RFBOutputContext()" once exported), or its repr printed outside IPython. Our
    handlers never print nor raise, so it is left out."""
    original = rfb_widget.display
    rfb_widget.display = lambda *args, **kwargs: None
    try:
        yield
    finally:
        rfb_widget.display = original


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


class Plot(FrameSender, StateSync, Theming, Reading, Output, SeriesLegend, RemoteFrameBuffer):
    """An interactive plot of a DuckDB-backed table. Create it with `pikaplot_widget.line(...)`
    or `pikaplot_widget.scatter(...)`.

    Wheel zooms about the pointer: x for lines, x and y together for scatter plots (over an
    axis, or with Shift for y, only that axis); drag pans; double-click resets. Every view is
    queried again at the new resolution.

    A plot whose last view is gone (its cell re-run or cleared) frees its worker thread, index,
    cursor and GPU buffers after `release_after_s` seconds and rebuilds them when shown again.
    """

    _esm = compose_esm(RFB_JS)
    _css = RFB_CSS + SNAPSHOT_CSS
    release_after_s: ClassVar[float] = 20.0

    x_range = UserRange().tag(sync=True)  # data units; set also as datetimes for time axes
    y_range = UserRange().tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("idle").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)  # e.g. memory pressure; shown briefly in the plot
    # {"x": [lo, hi] | None, "y": [lo, hi] | None, "polygon": [[x, y], ...] | None}
    selection_bounds = traitlets.Dict({"x": None, "y": None, "polygon": None}).tag(sync=True)
    _snapshot_output = traitlets.Bool(False).tag(sync=True)  # a PNG output follows the widget's

    def __init__(
        self,
        make_controller: MakeWorker,
        *,
        width: int = 800,
        height: int = 400,
        x_range: object = None,
        y_range: object = None,
        units: AxisUnits | None = None,
    ) -> None:
        """Wrap the worker made by `make_controller(on_frame, on_state, on_view)`. The worker's
        values are in axis units (`units`: x counts from an origin on time axes, log10 on log
        axes); `x_range` and everything else the user sees are in data units."""
        if int(width) < 50 or int(height) < 50:
            raise ValueError(f"width and height must be at least 50 pixels, got {width}x{height}")
        units = units or AxisUnits()
        x_axis = None if x_range is None else units.to_axis(x_range, "x_range")  # checked before
        y_axis = None if y_range is None else units.to_axis(y_range, "y_range")  # anything starts
        with _construct_lock, _without_output_widget():
            super().__init__(css_width=f"{int(width)}px", css_height=f"{int(height)}px")
        keep_front_end_routing(self.comm)  # wheels on the browser's subshell while a cell runs
        # In a kernel, worker threads reach the widget only through an event loop: the one that
        # delivered the latest message (a subshell's while a cell runs). Elsewhere (scripts,
        # tests) there is no comm to protect and a loop may exist that nobody runs.
        self._loop = _running_loop() if _in_ipython() else None
        self._sync = threading.local()  # set while this thread writes the traitlets from the worker
        self._drag: tuple[float, float, Viewport] | None = None
        self._frames_dropped = 0
        self._drawn_sent = -1
        self._hover_lock = threading.Lock()
        self._hover_next: tuple[ViewWorker, Event] | None = None
        self._hover_busy = False
        self._units = units
        self.x_origin = self._units.x_origin
        self.width, self.height = int(width), int(height)
        self._export_lock = threading.Lock()
        self._live_size: tuple[int, int, float] | None = None
        self._snapshots = []
        self._snapshot_shows = (0, -1)
        self._events_dropped = 0
        self._handler_errors = 0
        self._life = Lifecycle(
            lambda: self._themed(make_controller(self._on_frame, self._on_state, self._on_view)),
            lambda: type(self).release_after_s,
            self._forget_frame,
        )
        if x_axis is not None:
            self.controller.set_x_range(*x_axis)
        if y_axis is not None:
            self.controller.set_y_range(*y_axis)
        reported = self.controller.reported_view  # a view the worker reported before `_life` existed
        if reported is not None:
            self._apply_view(reported)
        self.observe(self._on_range_trait, names=["x_range", "y_range"])
        self_ref = weakref.ref(self)

        def on_memory(level: str, message: str) -> None:
            plot = self_ref()
            if plot is not None:
                plot._call_in_loop(setattr, plot, "notice", message)

        self._memory_listener = on_memory
        memory_monitor.add_listener(on_memory)

    # ---- from the worker thread to the kernel's event loop --------------------------------
    def _call_in_loop(self, function: Callable[..., object], *args: object) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():  # a stopped loop (a subshell gone) would hold it forever
            loop.call_soon_threadsafe(function, *args)
        else:
            function(*args)

    def _on_state(self, status: str, progress: float) -> None:
        self._call_in_loop(self._apply_state, status, progress)

    def _apply_state(self, status: str, progress: float) -> None:
        with self.hold_sync():  # one comm message for both (each is handled in the page)
            self.progress = float(progress)
            self.status = status

    def _on_view(self, view: Viewport) -> None:
        self._call_in_loop(self._apply_worker_view, view)

    def _apply_worker_view(self, view: Viewport) -> None:
        """The worker's view as it is now: a callback queued behind a running cell must not put
        back a view that the cell (or a wheel since) replaced. `view` (the one reported) serves
        while the plot is still being constructed (its worker may report before `_life` exists)."""
        life: Lifecycle | None = getattr(self, "_life", None)
        current = None if life is None else life.current.reported_view
        self._apply_view(current if current is not None else view)

    def _apply_view(self, view: Viewport) -> None:
        x, y = self._units.to_user(view.x, "x_range"), self._units.to_user(view.y, "y_range")
        if self.x_range == x and self.y_range == y:
            return  # shown already (to_array applies what the worker applied): no traitlet work
        self._sync.active = True
        try:
            with self.hold_sync():
                self.x_range, self.y_range = x, y
        finally:
            self._sync.active = False

    def _on_range_trait(self, change: Mapping[str, object]) -> None:
        if getattr(self._sync, "active", False):
            return
        lo, hi = self._units.to_axis(change["new"], str(change["name"]))  # checked by UserRange
        worker = self._ensure_worker()
        if change["name"] == "x_range":
            worker.set_x_range(lo, hi)
        else:
            worker.set_y_range(lo, hi)

    # ---- jupyter_rfb contract -------------------------------------------------------------
    def get_frame(self) -> np.ndarray | None:
        """The newest frame the worker rendered (cheap: no drawing happens here)."""
        return self.controller.last_frame

    def _rfb_handle_msg(self, widget: object, content: object, buffers: object) -> None:
        """Every message from the browser: checked, dropped (and counted) when malformed, handled
        on the thread that delivered it; nothing raises out of here."""
        if _in_ipython():
            self._loop = _running_loop() or self._loop
        try:
            event = parse_event(content)
            if event is None:
                self._events_dropped += 1
                return
            if event.kind.startswith("pikaplot_") or event.kind == "key_down":
                self._handle(event)  # ours: jupyter_rfb has nothing to add
            else:
                super()._rfb_handle_msg(widget, _clean(event), [])
        except Exception:  # never out of a comm handler; the count says it happened
            self._handler_errors += 1

    def handle_event(self, event: dict[str, object]) -> None:
        """Resize, wheel zoom, drag pan, double-click reset, views shown/removed, close."""
        checked = parse_event(event)
        if checked is None:
            self._events_dropped += 1
            return
        self._handle(checked)

    def _handle(self, checked: Event) -> None:
        kind = checked.kind
        if kind == "pikaplot_view":
            self._life.view_changed(checked.shown)
            return
        if kind == "close":
            self._close_worker(wait=False)
            return
        if self._closed:
            return
        if kind == "resize":
            self._live_size = (checked.width, checked.height, checked.ratio)
            if not self._export_lock.locked():  # an export gives the browser its size back after
                self._ensure_worker().resize(*self._live_size)
        elif kind == "wheel":
            self._wheel(checked)
        elif kind == "pointer_down" and checked.button == 1 and not self._legend_click(checked):
            view = self.controller.view
            if view is not None:
                self._drag = (checked.x, checked.y, view)
        elif kind == "pointer_move" and self._drag is not None:
            self._pan(checked)
        elif kind in ("pointer_up", "pointer_leave"):
            self._drag = None
        elif kind == "double_click":
            self.reset()
        elif kind == "key_down" and checked.key:
            self._key(checked.key)
        elif kind == "pikaplot_box":
            self._box(checked)
        elif kind == "pikaplot_lasso":
            self._lasso(checked)
        elif kind == "pikaplot_clear_selection":
            self.clear_selection()
        elif kind == "pikaplot_hover":
            self._answer_hover(checked)
        elif kind == "pikaplot_theme":
            self._front_end_theme(checked.dark)

    def _wheel(self, event: Event) -> None:
        worker = self._ensure_worker()
        layout, view = worker.layout(), worker.view
        if layout is None or view is None:
            return
        shift = "Shift" in event.modifiers
        new = wheel_zoom(view, layout, event.x, event.y, event.dy, shift, worker.zooms_both_axes)
        if new is not None:
            worker.set_view(new)
            self._apply_view(new)

    def _pan(self, event: Event) -> None:
        worker = self._ensure_worker()
        layout = worker.layout()
        if layout is None or self._drag is None:
            return
        start_x, start_y, start = self._drag
        new = drag_pan(start, layout, event.x - start_x, event.y - start_y)
        worker.set_view(new)
        self._apply_view(new)

    def _send_safely(self, content: dict[str, object], buffers: list[bytes]) -> None:
        with contextlib.suppress(Exception):  # no comm (closed, or a plain Python process)
            self.send(content, buffers)

    def _forget_frame(self) -> None:
        """Released: jupyter_rfb's copy of the last frame goes too (a re-run cell keeps its plot)."""
        self._rfb_last_frame = None

    def _show_selection(self, bounds: dict[str, object]) -> None:
        self.set_trait("selection_bounds", bounds)

    # ---- lifecycle (see lifecycle.Lifecycle) -------------------------------------------------
    @property
    def controller(self) -> ViewWorker:
        """The plot's worker (the one drawing now; closed while the plot is released)."""
        return self._life.current

    def _ensure_worker(self) -> ViewWorker:
        return self._life.worker()

    def _views_shown(self) -> int:
        return self._life.views

    @property
    def _closed(self) -> bool:
        return self._life.closed

    # ---- public API ----------------------------------------------------------------------
    def reset(self) -> None:
        """Return to the full extent of the data (y fitted to it)."""
        worker = self._ensure_worker()
        worker.reset()
        view = worker.view
        if view is not None:
            self._apply_view(view)

    @property
    def mode(self) -> str | None:
        """How the current view is drawn: "line", "markers" or "density" (None before data)."""
        return self.controller.mode

    @property
    def stats(self) -> dict[str, object]:
        """Counters and the time per step of the latest frame."""
        c = self.controller
        counters = c.counters
        return {
            "queries_run": c.query_stats.run,
            "queries_cancelled": c.query_stats.cancelled,
            "events_coalesced": max(counters.views_requested - counters.views_served, 0),
            "events_dropped": self._events_dropped,
            "handler_errors": self._handler_errors,
            "frames_rendered": c.frames_rendered,
            "frames_dropped": self._frames_dropped,
            "prefetched": counters.prefetched,
            "prefetch_errors": counters.prefetch_errors,
            "views_shown": self._life.views,
            "releases": self._life.releases,
            **c.extra_stats(),
            "extent_s": c.timings.extent,
            "progressive_s": c.timings.progressive,
            "index_s": c.timings.index,
            "query_s": c.timings.query,
            "downsample_s": c.timings.downsample,
            "render_s": c.timings.render,
        }

    def _close_worker(self, wait: bool) -> None:
        if self._life.close(wait):
            memory_monitor.remove_listener(self._memory_listener)

    def close(self, *args: object, **kwargs: object) -> None:
        """Close the widget, cancel its query and free its resources."""
        if getattr(self, "_life", None) is None:  # __init__ failed before the worker existed
            return
        self._close_worker(wait=True)
        super().close(*args, **kwargs)


def _clean(event: Event) -> dict[str, object]:
    """The checked event as the dict jupyter_rfb's own handling expects (typed fields only)."""
    out: dict[str, object] = {"type": event.kind, "timestamp": 0}
    if event.kind == "resize":
        ratio = event.ratio
        out.update(width=event.width / ratio, height=event.height / ratio, pwidth=event.width,
                   pheight=event.height, ratio=ratio)  # fmt: skip
    elif event.kind == "pikaplot_view":
        out["shown"] = event.shown
    else:
        out.update(x=event.x, y=event.y, dx=event.dx, dy=event.dy, button=event.button,
                   modifiers=tuple(sorted(event.modifiers)))  # fmt: skip
    return out
