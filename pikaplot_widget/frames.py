"""Frames out to the browser (mixed into `widget.Plot`).

The worker thread finishes a frame; one callback on the kernel's loop then sends it at once
(jupyter_rfb's `request_draw()` alone waits one more loop turn) and, for an exact frame, its drawn
points after it, so the image is not queued behind their Arrow message on the wire and in the page.
jupyter_rfb's rule stays: at most `max_buffered_frames` frames unconfirmed by the browser. The
browser's frame confirmations are not echoed back to it (ipywidgets echoes every front-end change
by default: one more message per frame on the kernel, the server and the page, read by nobody).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import traitlets


class FrameSender(traitlets.HasTraits):
    """`_on_frame` (worker thread) -> `_frame_to_browser` (the loop)."""

    # jupyter_rfb's trait (the browser's last frame shown), without the echo
    _frame_feedback = traitlets.Dict({}).tag(sync=True, echo_update=False)

    _loop: asyncio.AbstractEventLoop | None
    _frames_dropped: int

    if TYPE_CHECKING:  # provided by the widget and jupyter_rfb (no stubs here: they would shadow them)
        _rfb_draw_requested: bool

        def _call_in_loop(self, function: Callable[..., object], *args: object) -> None: ...
        def request_draw(self) -> None: ...
        def _rfb_maybe_draw(self) -> None: ...
        def _send_drawn(self) -> None: ...
        def _exact_frame_shown(self) -> None: ...

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
        """On the loop: the frame now (if the browser confirmed enough frames), then its points."""
        self.request_draw()
        if _on_running_loop():  # jupyter_rfb's bookkeeping belongs to the loop's thread
            self._rfb_maybe_draw()  # the turn request_draw() scheduled then finds nothing to do
        if exact:
            self._send_drawn()


def _on_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
