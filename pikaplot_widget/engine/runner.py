"""Run DuckDB queries off the caller's thread, with progress and cancellation."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import duckdb

ProgressCallback = Callable[[float], None]


class QueryCancelled(Exception):  # noqa: N818 - reads better at the call site than "...Error"
    """The query was interrupted because a newer request made it stale, or the runner closed."""


class QueryRunner:
    """Owns one DuckDB cursor; runs one query at a time on it and reports its progress.

    `query_progress()` and `interrupt()` only work on the object that runs the query,
    so both are called on this runner's cursor from the polling thread or from `cancel()`.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, poll_interval: float = 0.05) -> None:
        self._cursor = cursor
        self._poll_interval = poll_interval
        self._lock = threading.Lock()  # serialises queries on the cursor
        self._state = threading.Condition()
        self._running_generation: int | None = None
        self._cancel_below = 0
        self._closed = False
        self._on_progress: ProgressCallback | None = None
        self._poller = threading.Thread(target=self._poll_loop, name="pikaplot-progress", daemon=True)
        self._poller.start()
        self.queries_run = 0
        self.queries_cancelled = 0

    def run(
        self,
        sql: str,
        params: list[Any] | None = None,
        on_progress: ProgressCallback | None = None,
        generation: int = 0,
    ) -> Any:
        """Execute `sql` and return the result as a pyarrow Table. Blocks the calling thread.

        `generation` orders requests: `cancel_older_than(g)` interrupts any query of a lower
        generation, running or not yet started. Raises QueryCancelled, or the DuckDB error.
        """
        with self._lock:
            with self._state:
                if self._closed:
                    raise QueryCancelled("runner is closed")
                if generation < self._cancel_below:
                    self.queries_cancelled += 1
                    raise QueryCancelled("stale before it started")
                self._running_generation = generation
                self._on_progress = on_progress
                self._state.notify_all()
            try:
                self.queries_run += 1
                return self._cursor.sql(sql, params=params or None).to_arrow_table()
            except duckdb.InterruptException as error:
                self.queries_cancelled += 1
                raise QueryCancelled(str(error)) from None
            finally:
                with self._state:
                    self._running_generation = None
                    self._on_progress = None

    def cancel_older_than(self, generation: int) -> bool:
        """Interrupt the running query if its generation is older; refuse older ones later.

        Returns whether a running query was interrupted.
        """
        with self._state:
            self._cancel_below = max(self._cancel_below, generation)
            running = self._running_generation
            if running is None or running >= generation:
                return False
            # Under the lock, so the interrupt reaches the query it was meant for.
            self._cursor.interrupt()
            return True

    @property
    def busy(self) -> bool:
        """Whether a query is running now."""
        with self._state:
            return self._running_generation is not None

    def _poll_loop(self) -> None:
        while True:
            with self._state:
                while self._running_generation is None and not self._closed:
                    self._state.wait()
                if self._closed:
                    return
                callback = self._on_progress
            if callback is not None:
                try:
                    percent = self._cursor.query_progress()
                except duckdb.Error:
                    percent = -1.0
                if percent >= 0:
                    callback(min(max(percent / 100.0, 0.0), 1.0))
            time.sleep(self._poll_interval)

    def close(self) -> None:
        """Cancel what runs, stop the poller and close the cursor."""
        with self._state:
            if self._running_generation is not None:
                self._cursor.interrupt()
            self._closed = True
            self._state.notify_all()
        with self._lock, contextlib.suppress(duckdb.Error):
            self._cursor.close()
