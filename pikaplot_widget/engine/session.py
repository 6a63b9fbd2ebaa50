"""A DuckDB database: one writer connection, and a reader cursor of its own for each plot."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import threading
import weakref

import duckdb

from ..runtime.memory import available_memory
from .runner import QueryRunner

# Progress is reported by query_progress() only with these settings, and DuckDB's own
# printed (or ipywidgets) progress bar must stay off: the widget draws its own.
_CURSOR_SETTINGS = (
    "SET enable_progress_bar = true",
    "SET enable_progress_bar_print = false",
    "SET progress_bar_time = 0",
)
MEMORY_SHARE = 0.5  # default memory_limit: this share of the memory available at start
_live_sessions: weakref.WeakSet[Session] = weakref.WeakSet()


class Session:
    """One DuckDB database: a writer connection, and a reader (its own cursor) for each plot, so no
    plot ever registers, drops or queries on a cursor another plot is using.

    Args:
        path: database file, or None for an in-memory database.
        threads: DuckDB worker threads (None: DuckDB's default, one per core).
        memory_limit: bytes or a DuckDB size string such as "4GB" (None: half the available memory).
        temp_directory: where DuckDB spills (None: DuckDB's default).
        connection: an existing DuckDB connection to wrap instead of opening one.
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        threads: int | None = None,
        memory_limit: int | str | None = None,
        temp_directory: str | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.connection = connection if connection is not None else duckdb.connect(path or ":memory:")
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self._configure(self.connection)
        if threads is not None:
            self.connection.execute("SET threads = ?", [int(threads)])
        if temp_directory is not None:
            self.connection.execute("SET temp_directory = ?", [str(temp_directory)])
        if memory_limit is None:
            memory_limit = int(available_memory() * MEMORY_SHARE)
        self.set_memory_limit(memory_limit)
        self._readers: weakref.WeakSet[QueryRunner] = weakref.WeakSet()
        self.closed = False
        _live_sessions.add(self)

    @staticmethod
    def _configure(con: duckdb.DuckDBPyConnection) -> None:
        for statement in _CURSOR_SETTINGS:
            con.execute(statement)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor with progress reporting on and DuckDB's own bar off."""
        with self._lock:
            cur = self.connection.cursor()
        self._configure(cur)
        return cur

    def reader(self) -> QueryRunner:
        """A new reader on a cursor of its own, for one plot; the caller closes it (so does close())."""
        if self.closed:
            raise ValueError("this DuckDB session is closed")
        runner = QueryRunner(self.cursor())
        with self._lock:
            self._readers.add(runner)
        return runner

    @property
    def readers(self) -> tuple[QueryRunner, ...]:
        """The readers handed out and not yet garbage-collected."""
        with self._lock:
            return tuple(self._readers)

    @property
    def memory_limit(self) -> str:
        """DuckDB's current memory_limit setting, as DuckDB prints it."""
        with self._lock:
            row = self.connection.execute("SELECT current_setting('memory_limit')").fetchone()
        return str(row[0]) if row else ""

    def set_memory_limit(self, limit: int | str) -> None:
        """Set DuckDB's memory_limit (bytes, or a size string such as "2GB")."""
        value = f"{int(limit) // 2**20}MiB" if isinstance(limit, int) else str(limit)
        with self._lock:
            self.connection.execute("SET memory_limit = ?", [value])

    def memory_in_use(self) -> int:
        """Bytes DuckDB holds in its buffer pool now."""
        with self._lock:
            row = self.connection.execute(
                "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
            ).fetchone()
        return int(row[0]) if row else 0

    def unique_name(self, prefix: str) -> str:
        """A fresh name for an object this session registers."""
        return f"__pikaplot_{prefix}_{next(self._names)}"

    def close(self) -> None:
        """Close the readers and the writer connection (plots on it then fail with a clear message)."""
        self.closed = True
        for reader in self.readers:
            reader.close()
        self.connection.close()
        _live_sessions.discard(self)


def live_sessions() -> list[Session]:
    """Sessions not yet garbage-collected (the memory monitor lowers their limits)."""
    return list(_live_sessions)


_default: Session | None = None
_default_lock = threading.Lock()


def default_session() -> Session:
    """The shared in-memory session used when no `session=` is given."""
    global _default  # noqa: PLW0603
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default


@atexit.register
def _close_all() -> None:
    """Close every session before the interpreter tears DuckDB down."""
    for session in live_sessions():
        with contextlib.suppress(duckdb.Error):
            session.close()
