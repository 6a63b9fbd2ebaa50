"""Frames out to the browser (mixed into `widget.Plot`).

The worker thread finishes a frame; one callback on the kernel's loop then sends it at once
(jupyter_rfb's `request_draw()` alone waits one more loop turn). An exact frame's drawn points
(an Arrow message of ~100 KiB, for hover and the instant previews) follow once the browser has
confirmed that frame (it has set the image's source), or after `points_wait_s` at the latest: sent
right behind the frame, they reached the page during the image's load and held it up (~10 ms at
p50 in JupyterLab, benchmarks/browser_latency.py --trace).

jupyter_rfb's rule stays: at most `max_buffered_frames` frames unconfirmed by the browser. The
browser's confirmations are not echoed back to it (ipywidgets echoes every front-end change by
default: one more message per frame on the kernel, the server and the page, read by nobody).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import traitlets


class FrameSender(traitlets.HasTraits):
    """`_on_frame` (worker thread) -> `_frame_to_browser` (the loop) -> `_send_points` (the
    browser's confirmation, or a timer)."""

    points_wait_s: ClassVar[float] = 0.1  # the longest the points wait for the frame's confirmation
    # jupyter_rfb's trait (the browser's last frame shown), without the echo
    _frame_feedback = traitlets.Dict({}).tag(sync=True, echo_update=False)
    _loop: asyncio.AbstractEventLoop | None
    _frames_dropped: int
    _points_after: int | None = None  # jupyter_rfb's index of the frame the points wait for
    _points_timer: asyncio.TimerHandle | None = None

    if TYPE_CHECKING:  # provided by the widget and jupyter_rfb (no stubs here: they would shadow them)
        _rfb_draw_requested: bool
        _rfb_frame_index: int

        def _call_in_loop(self, function: Callable[..., object], *args: object) -> None: ...
        def request_draw(self) -> None: ...
        def _rfb_maybe_draw(self) -> None: ...
        def _send_drawn(self) -> None: ...
        def _exact_frame_shown(self) -> None: ...
        def _flush_state(self) -> None: ...

    def _on_frame(self, frame: np.ndarray, exact: bool) -> None:
        """A new frame from the worker thread (`frame` is the worker's `last_frame`)."""
        if self._loop is None:  # no kernel: nothing to send; keep jupyter_rfb's flag as it was
            self.request_draw()
        else:
            if self._rfb_draw_requested:  # the previous frame was never sent: dropped
                self._frames_dropped += 1
            self._call_in_loop(self._frame_to_browser, exact)
        if exact:
            self._exact_frame_shown()

    def _frame_to_browser(self, exact: bool) -> None:
        """On the loop: the frame now (if the browser confirmed enough frames); its points later."""
        self.request_draw()
        loop = _running_loop()
        if loop is None:  # jupyter_rfb's bookkeeping belongs to the loop's thread
            if exact:
                self._send_drawn()
            return
        before = self._rfb_frame_index
        self._rfb_maybe_draw()  # the turn request_draw() scheduled then finds nothing to do
        if not exact:
            return
        # this frame's index (sent now, or the next one once the browser confirms older ones)
        self._points_after = self._rfb_frame_index if self._rfb_frame_index > before else before + 1
        if self._points_timer is not None:
            self._points_timer.cancel()
        self._points_timer = loop.call_later(self.points_wait_s, self._send_points)

    @traitlets.observe("_frame_feedback")
    def _frame_confirmed(self, change: Mapping[str, object]) -> None:
        waiting = self._points_after
        feedback = change["new"]
        index = feedback.get("index") if isinstance(feedback, dict) else None
        if waiting is not None and isinstance(index, int) and index >= waiting:
            self._send_points()

    def _send_points(self) -> None:
        if self._points_timer is not None:
            self._points_timer.cancel()
            self._points_timer = None
        if self._points_after is not None:
            self._points_after = None
            self._send_drawn()  # the newest exact frame's points (sent once per frame)
        self._flush_state()  # ranges and status with them (state_sync.py)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
