"""The plot's state traitlets reach the browser behind the frame, in one message (mixed into
`widget.Plot`).

In a kernel, changes of `x_range`, `y_range`, `status` and `progress` are held back (the Python
side sees them at once) and sent together with the next exact frame's points (once the browser has
confirmed the frame, frames.py), or `state_hold_s` after the first change at the latest. A wheel
zoom changed them five times before its frame (ranges, "querying", the fitted y range,
"rendering"): five comm messages the server and the page handled ahead of the frame while the
kernel's query and render kept the cores busy. Held back, wheel -> exact frame p95 at 100M rows
was lower in 3 of 3 interleaved runs (benchmarks/RESULTS.md). The overlay shows a progress bar
only after 150 ms of "querying", so a slow query's status arriving up to `state_hold_s` late
changes nothing the user sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, ClassVar

import traitlets

HELD_KEYS = frozenset({"x_range", "y_range", "status", "progress"})


class StateSync(traitlets.HasTraits):
    """`_should_send_property` holds HELD_KEYS back on a running kernel loop; `_flush_state` sends."""

    state_hold_s: ClassVar[float] = 0.1
    _loop: asyncio.AbstractEventLoop | None = None  # the widget's (set once constructed)
    _held: set[str] | None = None
    _held_lock: threading.Lock | None = None
    _held_timer: asyncio.TimerHandle | None = None

    if TYPE_CHECKING:  # ipywidgets' (no stubs here: they would shadow them)
        _property_lock: dict[str, object]

        def send_state(self, key: object = None) -> None: ...

    def _should_send_property(self, key: str, value: object) -> bool:
        """ipywidgets asks before sending a changed trait: held keys wait (not while a front-end
        change is applied, where ipywidgets decides whether to echo it)."""
        if key in HELD_KEYS and self._loop is not None and key not in self._property_lock:
            loop = _running_loop()
            if loop is not None:
                self._hold(key, loop)
                return False
        return bool(super()._should_send_property(key, value))  # type: ignore[misc]

    def _hold(self, key: str, loop: asyncio.AbstractEventLoop) -> None:
        if self._held_lock is None:
            self._held_lock = threading.Lock()
        with self._held_lock:
            if self._held is None:
                self._held = set()
            self._held.add(key)
            if self._held_timer is None:
                self._held_timer = loop.call_later(self.state_hold_s, self._flush_state)

    def _flush_state(self) -> None:
        """Send the held keys' current values in one message (after a frame, or from the timer)."""
        if self._held_lock is None:
            return
        with self._held_lock:
            keys, self._held = self._held, None
            timer, self._held_timer = self._held_timer, None
        if timer is not None:
            timer.cancel()
        if keys:
            with contextlib.suppress(Exception):  # no comm any more (closed): nothing to tell
                self.send_state(sorted(keys))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
