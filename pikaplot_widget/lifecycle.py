"""A plot's worker over its life: views shown and removed, release after a grace period, rebuild
on next use, close. Thread-safe: messages, timers and user calls may come from any thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from .plots.base import ViewWorker

MakeWorker = Callable[[], ViewWorker]


class Lifecycle:
    """Owns the plot's worker. With no view left for `grace_s` seconds (its cell re-run or cleared)
    the worker is closed, freeing thread, index, cursor and GPU buffers; `worker()` rebuilds it at
    the same view. `close()` is final."""

    def __init__(
        self, make: MakeWorker, grace_s: Callable[[], float], on_release: Callable[[], None] = lambda: None
    ) -> None:
        self._make = make
        self._grace_s = grace_s
        self._on_release = on_release
        self._lock = threading.RLock()
        self._worker = make()
        self._views = 0
        self._timer: threading.Timer | None = None
        self._released = False
        self.closed = False
        self.releases = 0

    @property
    def current(self) -> ViewWorker:
        """The worker as it is (closed while released), without rebuilding it."""
        return self._worker

    @property
    def views(self) -> int:
        """Views of the plot the front end reports as shown."""
        return self._views

    def worker(self) -> ViewWorker:
        """The live worker; a released plot is rebuilt (same view and size) first."""
        with self._lock:
            if not self._released or self.closed:
                return self._worker
            old, worker = self._worker, self._make()
            view = old.view
            if view is not None:
                worker.set_x_range(*view.x.as_tuple())
                if not view.y_auto:
                    worker.set_y_range(*view.y.as_tuple())
            worker.resize(*old.size)
            worker.selection.restore(old.selection)  # the selection outlives a release
            self._worker, self._released = worker, False
            return worker

    def view_changed(self, shown: bool) -> None:
        """A view was added or removed in the front end."""
        with self._lock:
            self._views = self._views + 1 if shown else max(self._views - 1, 0)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if shown:
                self.worker()
            elif self._views == 0 and not self.closed:
                self._timer = threading.Timer(self._grace_s(), self._release_if_unseen)
                self._timer.daemon = True
                self._timer.start()

    def _release_if_unseen(self) -> None:
        """No view for the grace period: free the heavy state (on the timer's thread)."""
        with self._lock:
            if self._views > 0 or self._released or self.closed:
                return
            self._released = True
            self.releases += 1
            worker = self._worker
        worker.close(wait=True)
        with self._lock:
            if self._released and self._worker is worker:  # not rebuilt meanwhile
                self._on_release()

    def close(self, wait: bool) -> bool:
        """Close for good; False if it already was. `wait=False` frees on a housekeeping thread."""
        with self._lock:
            if self.closed:
                return False
            self.closed = True
            if self._timer is not None:
                self._timer.cancel()
            worker = self._worker
        worker.close(wait=wait)
        return True
