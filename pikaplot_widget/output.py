"""What survives the notebook: the plot as an array or a PNG file (at a multiple of its size), and a
PNG of the current view beside the widget view, kept up to date, for exported notebooks, GitHub and
notebooks opened without a kernel. Mixed into `widget.Plot`."""

from __future__ import annotations

import base64
import hashlib
import io
import math
import numbers
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Protocol

import anywidget
import numpy as np

from .core.errors import PlotError
from .core.types import Size
from .core.viewport import Viewport
from .messages import MAX_FRAME_PX
from .plots.base import ViewWorker

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_SCALE = 8.0


# jupyter_rfb's 1 px border would make frames 2 px smaller than asked: draw it as a shadow instead.
# The PNG output after the widget's is for viewers without the widget: hidden while it is live.
SNAPSHOT_CSS = """
div.renderview-wrapper .renderview-view { border: none; box-shadow: 0 0 0 1px rgba(127, 127, 127, 0.2); }
.pikaplot-snapshot-hidden { display: none !important; }
"""


class DisplayHandle(Protocol):
    """IPython's handle of one display output (`display(..., display_id=True)`)."""

    def update(self, obj: object, **kwargs: object) -> None: ...


def checked_scale(scale: object) -> float:
    """A render scale: a finite real number (numpy numbers too) in (0, MAX_SCALE]
    (ValueError/TypeError otherwise)."""
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a number, got {type(scale).__name__}")
    value = float(scale)
    if not (math.isfinite(value) and 0 < value <= MAX_SCALE):
        raise ValueError(f"scale must be in (0, {MAX_SCALE:g}], got {scale!r}")
    return value


def png_bytes(frame: np.ndarray) -> bytes:
    """An RGBA frame as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame), "RGBA").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


class Output:
    """`to_array`, `save`, and the PNG snapshot shown where the widget cannot be."""

    # At display, the longest wait for the first exact frame before showing the PNG output. None:
    # none in a kernel of a Jupyter server, where a browser shows the widget (blocking the cell
    # would hold back the plot's progress and frames; the PNG follows once drawn), and 10 s in
    # kernels run without one (nbconvert --execute, papermill), which read outputs once.
    snapshot_wait_s: ClassVar[float | None] = None  # at display: the longest wait for the first exact frame
    snapshot_delay_s: ClassVar[float] = 1.0  # after an exact frame: quiet time before the snapshot
    width: int
    height: int
    _export_lock: threading.Lock
    _live_size: Size | None  # the browser's latest resize, physical px and ratio
    snapshot_errors: int = 0
    _snapshots: list[DisplayHandle]
    _snapshot_shows: tuple[int, int]  # (worker id, generation) of the frame the snapshot shows
    _snapshot_digest: bytes = b""  # of the pixels it shows: an unchanged frame sends nothing

    # ---- provided by the widget --------------------------------------------------------------
    @property
    def controller(self) -> ViewWorker:
        """The plot's worker."""
        raise NotImplementedError

    @property
    def _closed(self) -> bool:
        raise NotImplementedError

    def _ensure_worker(self) -> ViewWorker:
        raise NotImplementedError

    def _apply_view(self, view: Viewport) -> None:
        raise NotImplementedError

    def _views_shown(self) -> int:
        """How many browser views show the plot now."""
        raise NotImplementedError

    def _call_in_loop(self, function: Callable[..., object], *args: object) -> None:
        raise NotImplementedError

    comm: object  # the widget's comm (None once closed)

    # ---- arrays and files ----------------------------------------------------------------------
    def to_array(self, timeout: float | None = 300.0, *, scale: float = 1.0) -> np.ndarray:
        """The full plot for the current ranges as a (height, width, 4) uint8 array: its size in
        CSS pixels times `scale` (2 for a high-DPI image), whatever the screen's pixel ratio.

        Waits for the data of those ranges; axes, labels and title included. Raises `PlotError`
        when the view failed (with the message the plot shows) or the plot is closed.
        """
        factor = checked_scale(scale)
        if self._closed:
            raise PlotError("the plot is closed")
        live = self._live_size  # the browser's size wins over the one asked for (a resized view)
        css = (live[0] / live[2], live[1] / live[2]) if live else (self.width, self.height)
        wanted = (round(css[0] * factor), round(css[1] * factor), factor)
        if max(wanted[0], wanted[1]) > MAX_FRAME_PX:
            raise ValueError(
                f"scale {scale!r} makes a {wanted[0]}x{wanted[1]} image; at most {MAX_FRAME_PX} px a side"
            )
        worker = self._ensure_worker()
        with self._export_lock:
            if worker.size == wanted:
                frame = worker.wait_frame(timeout).copy()
            else:
                frame = self._render_at(worker, wanted, timeout)
        view = worker.view
        if view is not None:  # the traitlets describe the returned frame, loop or no loop
            self._apply_view(view)
        return frame

    def _render_at(self, worker: ViewWorker, size: Size, timeout: float | None) -> np.ndarray:
        """Draw the current view at `size`, then give the browser back its own size."""
        deadline = None if timeout is None else time.monotonic() + timeout
        before = worker.size
        try:
            for _ in range(3):  # a resize from the browser may land in between: draw again
                worker.resize(*size)
                left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                frame = worker.wait_frame(left)
                if frame.shape[:2] == (size[1], size[0]):
                    return frame.copy()
            raise PlotError("the plot was resized while exporting; try again")
        finally:
            worker.resize(*(self._live_size or before))

    def save(self, path: str | Path, *, scale: float = 1.0) -> Path:
        """Write the current plot as a PNG file (`scale` as in `to_array`) and return its path.
        PNG only: another suffix is refused (`PlotError` as `to_array`)."""
        target = Path(path)
        if target.suffix.lower() not in (".png", ""):
            raise ValueError(f"save writes PNG only, not {target.suffix!r} (vector output is not supported)")
        target.write_bytes(png_bytes(self.to_array(scale=scale)))
        return target

    # ---- the notebook's copy -----------------------------------------------------------------
    def _snapshot_bundle(self, wait_s: float = 0.0) -> tuple[dict[str, object], dict[str, object]]:
        """image/png of the newest exact frame and a text line for viewers that show neither the
        widget nor images, with its metadata. With `wait_s`, waits that long at most for the first
        exact frame, unless a browser shows the plot first (it then gets progress and frames; the
        PNG follows)."""
        frame = self._exact_frame(wait_s)
        # Before the first frame, a blank pixel: the output keeps one mime type, so JupyterLab
        # updates it in place (the overlay's hiding of it stays put).
        image = _base64_png(frame) if frame is not None else _PLACEHOLDER
        return {"text/plain": self._describe(), "image/png": image}, self._metadata(frame)

    def _exact_frame(self, wait_s: float) -> np.ndarray | None:
        """The exact frame of the current view, else the newest frame drawn (None before any)."""
        if self._closed:
            return None
        worker = self.controller
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return worker.wait_frame(min(0.05, max(deadline - time.monotonic(), 0.0)))
            except PlotError:  # failed or closed: the frame shows the message, if any
                return worker.last_frame
            except TimeoutError:
                if time.monotonic() >= deadline or self._views_shown():
                    return worker.last_frame

    def _describe(self) -> str:
        return f"<pikaplot {type(self).__name__} {self.width}x{self.height}: run the notebook to interact>"

    def _metadata(self, frame: np.ndarray | None = None) -> dict[str, object]:
        """The PNG's size in CSS pixels: the frame's at the browser's pixel ratio (a resized view
        shows at its own size), else the size asked for."""
        width, height = self.width, self.height
        if frame is not None and frame.shape[0] > 1:
            ratio = self._live_size[2] if self._live_size else 1.0
            width, height = round(frame.shape[1] / ratio), round(frame.shape[0] / ratio)
        return {"image/png": {"width": width, "height": height}}

    def _widget_bundle(self) -> dict[str, object]:
        """The widget view (ipywidgets' bundle, without jupyter_rfb's HTML snapshot) and our text."""
        text: dict[str, object] = {"text/plain": self._describe()}
        if self.comm is None:
            return text
        data = anywidget.AnyWidget._repr_mimebundle_(self)  # type: ignore[arg-type]
        return {WIDGET_VIEW: (data[0] if isinstance(data, tuple) else data or {})[WIDGET_VIEW], **text}

    def display(self) -> None:
        """Show the plot here (as the last expression of a cell does), with its PNG snapshot."""
        self._ipython_display_()

    def _repr_mimebundle_(self, **kwargs: object) -> tuple[dict[str, object], dict[str, object]]:
        """The widget view, a PNG of the current frame and a text line, in one bundle."""
        data, metadata = self._snapshot_bundle()
        return {**data, **self._widget_bundle()}, metadata

    def _ipython_display_(self) -> None:
        """Two outputs: the widget view, then the PNG snapshot (hidden by the overlay while the
        widget is live, refreshed after each interaction so a saved notebook shows the last view)."""
        from IPython.display import display

        display(self._widget_bundle(), raw=True)  # type: ignore[no-untyped-call]
        wait = self.snapshot_wait_s
        shows = self._shown_frame()  # before the frame is taken: a newer one then always follows
        data, metadata = self._snapshot_bundle(_default_wait() if wait is None else wait)
        handle = display(data, raw=True, metadata=metadata, display_id=True)  # type: ignore[no-untyped-call]
        if handle is not None:
            self._snapshots.append(handle)
            self._snapshot_shows = shows if data["image/png"] != _PLACEHOLDER else (0, -1)
            self._snapshot_output = True
            self._exact_frame_shown()  # a frame drawn meanwhile found no output to refresh

    def _shown_frame(self) -> tuple[int, int]:
        worker = self.controller
        return id(worker), worker.drawn[0]

    def _exact_frame_shown(self) -> None:
        """An exact frame was published: refresh the snapshots once the view has been quiet for
        `snapshot_delay_s` (the first image at once)."""
        if self._snapshots:
            first = self._snapshot_shows[1] < 0
            _refresher.schedule(self, time.monotonic() + (0.0 if first else self.snapshot_delay_s))

    def _refresh_snapshots(self) -> None:
        """Encode the current exact frame and update every PNG output of the plot (refresher thread)."""
        try:
            shows = self._shown_frame()
            if self._closed or shows == self._snapshot_shows:
                return
            try:
                frame = self.controller.wait_frame(0.0)
            except (TimeoutError, PlotError):
                return  # a newer view is on its way: its frame asks again
            self._snapshot_shows = shows
            digest = hashlib.blake2b(np.ascontiguousarray(frame).data, digest_size=16).digest()
            if digest == self._snapshot_digest:
                return  # drawn again as it was (a reload, a re-shown view): nothing to update
            self._snapshot_digest = digest
            data = {"text/plain": self._describe(), "image/png": _base64_png(frame)}
            metadata = self._metadata(frame)
            # Sent from this thread, not the kernel's loop: IPython then uses the parent of the cell
            # running now, which is what nbclient (nbconvert --execute) listens to.
            for handle in list(self._snapshots):
                handle.update(data, raw=True, metadata=metadata)
        except Exception:  # a snapshot is a courtesy: never let it break the plot
            self.snapshot_errors += 1


class _Refresher:
    """One thread refreshes the snapshots of every plot, each when its own time has come (a busy
    plot only postpones itself); PNG encoding stays off the kernel's loop."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[int, tuple[float, weakref.ref[Output]]] = {}
        self._thread: threading.Thread | None = None

    def schedule(self, plot: Output, at: float) -> None:
        """Refresh `plot` at monotonic time `at` (replacing an earlier time it had)."""
        with self._cond:
            self._due[id(plot)] = (at, weakref.ref(plot))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pikaplot-snapshot", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due:
                    self._cond.wait()
                key, (at, ref) = min(self._due.items(), key=lambda item: item[1][0])
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                del self._due[key]
            plot = ref()
            if plot is not None:
                plot._refresh_snapshots()


_refresher = _Refresher()
_PLACEHOLDER = base64.b64encode(png_bytes(np.full((1, 1, 4), (245, 245, 245, 255), np.uint8))).decode("ascii")


def _default_wait() -> float:
    """10 s where no Jupyter server started the kernel (it sets JPY_SESSION_NAME), else 0."""
    return 0.0 if os.environ.get("JPY_SESSION_NAME") else 10.0


def _base64_png(frame: np.ndarray) -> str:
    return base64.b64encode(png_bytes(frame)).decode("ascii")
