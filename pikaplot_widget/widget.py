"""The Jupyter widget: a jupyter_rfb remote frame buffer with traitlets, events in, frames out."""

from __future__ import annotations

import asyncio
import contextlib
import io
import weakref
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import traitlets
from jupyter_rfb import RemoteFrameBuffer
from jupyter_rfb.widget import CSS as RFB_CSS
from jupyter_rfb.widget import JS as RFB_JS

from .core.viewport import Viewport
from .interaction import drag_pan, wheel_zoom
from .plots.base import ViewWorker
from .plots.protocols import FrameCallback, StateCallback, ViewCallback
from .runtime.memory import monitor as memory_monitor

MakeWorker = Callable[[FrameCallback, StateCallback, ViewCallback], ViewWorker]


def _compose_esm() -> str:
    """jupyter_rfb's front end, wrapped by our overlay (built by esbuild into static/)."""
    overlay = files("pikaplot_widget").joinpath("static/overlay.js").read_text()
    if RFB_JS.count("export default") != 1:
        raise RuntimeError("unexpected jupyter_rfb front end: cannot wrap it")
    inner = RFB_JS.replace("export default", "const rfbWidget =", 1)
    return f"{inner}\n{overlay}\nexport default pikaplotOverlay.wrap(rfbWidget);\n"


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


class Plot(RemoteFrameBuffer):
    """An interactive plot of a DuckDB-backed table. Create it with `pikaplot_widget.line(...)`
    or `pikaplot_widget.scatter(...)`.

    Wheel zooms about the pointer: x for lines, x and y together for scatter plots (over an
    axis, or with Shift for y, only that axis); drag pans; double-click resets. Every view is
    queried again at the new resolution.
    """

    _esm = _compose_esm()
    _css = RFB_CSS

    x_range = traitlets.Tuple(traitlets.Float(), traitlets.Float(), default_value=(0.0, 1.0)).tag(sync=True)
    y_range = traitlets.Tuple(traitlets.Float(), traitlets.Float(), default_value=(0.0, 1.0)).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("idle").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)  # e.g. memory pressure; shown briefly in the plot

    def __init__(
        self,
        make_controller: MakeWorker,
        *,
        width: int = 800,
        height: int = 400,
        x_range: tuple[float, float] | None = None,
        y_range: tuple[float, float] | None = None,
    ) -> None:
        """Wrap the worker made by `make_controller(on_frame, on_state, on_view)`."""
        if int(width) < 50 or int(height) < 50:
            raise ValueError(f"width and height must be at least 50 pixels, got {width}x{height}")
        quiet = contextlib.nullcontext() if _in_ipython() else contextlib.redirect_stdout(io.StringIO())
        with quiet:  # outside IPython, jupyter_rfb would print its output widget's repr
            super().__init__(css_width=f"{int(width)}px", css_height=f"{int(height)}px")
        # In a kernel, worker threads reach the widget only through its event loop. Elsewhere
        # (scripts, tests) there is no comm to protect and a loop may exist that nobody runs.
        self._loop = _running_loop() if _in_ipython() else None
        self._syncing = False
        self._drag: tuple[float, float, Viewport] | None = None
        self.controller = make_controller(self._on_frame, self._on_state, self._on_view)
        if x_range is not None:
            self.controller.set_x_range(*x_range)
        if y_range is not None:
            self.controller.set_y_range(*y_range)
        self.observe(self._on_range_trait, names=["x_range", "y_range"])
        self._frames_dropped = 0
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
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(function, *args)
        else:
            function(*args)

    def _on_frame(self, frame: np.ndarray, exact: bool) -> None:
        if self._loop is not None and self._rfb_draw_requested:  # previous frame unsent: dropped
            self._frames_dropped += 1
        self._call_in_loop(self.request_draw)

    def _on_state(self, status: str, progress: float) -> None:
        self._call_in_loop(self._apply_state, status, progress)

    def _apply_state(self, status: str, progress: float) -> None:
        self.progress = float(progress)
        self.status = status

    def _on_view(self, view: Viewport) -> None:
        self._call_in_loop(self._apply_view, view)

    def _apply_view(self, view: Viewport) -> None:
        self._syncing = True
        try:
            self.x_range = view.x.as_tuple()
            self.y_range = view.y.as_tuple()
        finally:
            self._syncing = False

    def _on_range_trait(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        if change["name"] == "x_range":
            self.controller.set_x_range(*change["new"])
        else:
            self.controller.set_y_range(*change["new"])

    # ---- jupyter_rfb contract -------------------------------------------------------------
    def get_frame(self) -> np.ndarray | None:
        """The newest frame the worker rendered (cheap: no drawing happens here)."""
        return self.controller.last_frame

    def handle_event(self, event: dict[str, Any]) -> None:
        """Resize, wheel zoom, drag pan, double-click reset, close."""
        kind = event.get("type") or event.get("event_type")
        if kind == "resize":
            ratio = float(event.get("ratio") or event.get("pixel_ratio") or 1.0)
            width = event.get("pwidth") or event.get("width", 0) * ratio
            height = event.get("pheight") or event.get("height", 0) * ratio
            self.controller.resize(round(width), round(height), ratio)
        elif kind == "wheel":
            self._wheel(event)
        elif kind == "pointer_down" and event.get("button", 1) == 1:
            view = self.controller.view
            if view is not None:
                self._drag = (float(event["x"]), float(event["y"]), view)
        elif kind == "pointer_move" and self._drag is not None:
            self._pan(event)
        elif kind in ("pointer_up", "pointer_leave"):
            self._drag = None
        elif kind == "double_click":
            self.reset()
        elif kind == "close":
            self.controller.close()

    def _wheel(self, event: dict[str, Any]) -> None:
        layout, view = self.controller.layout(), self.controller.view
        if layout is None or view is None:
            return
        shift = "Shift" in tuple(event.get("modifiers", ()))
        new = wheel_zoom(
            view, layout, float(event.get("x", 0)), float(event.get("y", 0)), float(event.get("dy", 0)),
            shift, self.controller.zooms_both_axes,
        )  # fmt: skip
        if new is not None:
            self.controller.set_view(new)
            self._apply_view(new)

    def _pan(self, event: dict[str, Any]) -> None:
        layout = self.controller.layout()
        if layout is None or self._drag is None:
            return
        start_x, start_y, start = self._drag
        new = drag_pan(start, layout, float(event["x"]) - start_x, float(event["y"]) - start_y)
        self.controller.set_view(new)
        self._apply_view(new)

    # ---- public API ----------------------------------------------------------------------
    def to_array(self, timeout: float | None = 300.0) -> np.ndarray:
        """The full plot for the current ranges as a (height, width, 4) uint8 array.

        Waits for the data of those ranges; axes, labels and title included.
        """
        frame = self.controller.wait_frame(timeout).copy()
        view = self.controller.view
        if view is not None:  # the traitlets describe the returned frame, loop or no loop
            self._apply_view(view)
        return frame

    def save(self, path: str | Path) -> Path:
        """Write the current plot as a PNG file and return its path."""
        from PIL import Image

        target = Path(path)
        Image.fromarray(self.to_array(), "RGBA").save(target, format="PNG")
        return target

    def reset(self) -> None:
        """Return to the full extent of the data (y fitted to it)."""
        self.controller.reset()
        view = self.controller.view
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
            "queries_run": c.queries_run,
            "queries_cancelled": c.queries_cancelled,
            "events_coalesced": max(counters.views_requested - counters.views_served, 0),
            "frames_rendered": c.frames_rendered,
            "frames_dropped": self._frames_dropped,
            "prefetched": counters.prefetched,
            **c.extra_stats(),
            "extent_s": c.timings.extent,
            "progressive_s": c.timings.progressive,
            "index_s": c.timings.index,
            "query_s": c.timings.query,
            "downsample_s": c.timings.downsample,
            "render_s": c.timings.render,
        }

    def close(self, *args: object, **kwargs: object) -> None:
        """Close the widget, cancel its query and free its resources."""
        controller = getattr(self, "controller", None)
        if controller is None:  # __init__ failed before the widget existed: nothing to close
            return
        memory_monitor.remove_listener(self._memory_listener)
        controller.close()
        super().close(*args, **kwargs)


__all__ = ["Plot"]
