"""A DuckDB database and the cursors the plots query it with."""

from __future__ import annotations

import atexit
import itertools
import threading

import duckdb

# Progress is reported by query_progress() only with these settings, and DuckDB's own
# printed (or ipywidgets) progress bar must stay off: the widget draws its own.
_CURSOR_SETTINGS = (
    "SET enable_progress_bar = true",
    "SET enable_progress_bar_print = false",
    "SET progress_bar_time = 0",
)


class Session:
    """One DuckDB database: a writer connection and reader cursors for queries.

    Args:
        path: database file, or None for an in-memory database.
        threads: DuckDB worker threads (None: DuckDB's default, one per core).
        memory_limit: e.g. "4GB" (None: DuckDB's default).
        temp_directory: where DuckDB spills (None: DuckDB's default).
        connection: an existing DuckDB connection to wrap instead of opening one.
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.connection = connection if connection is not None else duckdb.connect(path or ":memory:")
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self._configure(self.connection)
        if threads is not None:
            self.connection.execute("SET threads = ?", [int(threads)])
        if memory_limit is not None:
            self.connection.execute("SET memory_limit = ?", [str(memory_limit)])
        if temp_directory is not None:
            self.connection.execute("SET temp_directory = ?", [str(temp_directory)])

    @staticmethod
    def _configure(con: duckdb.DuckDBPyConnection) -> None:
        for statement in _CURSOR_SETTINGS:
            con.execute(statement)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new reader cursor with progress reporting on and DuckDB's own bar off."""
        with self._lock:
            cur = self.connection.cursor()
        self._configure(cur)
        return cur

    def unique_name(self, prefix: str) -> str:
        """A fresh name for an object this session registers."""
        return f"__pikaplot_{prefix}_{next(self._names)}"

    def close(self) -> None:
        """Close the writer connection (and with it the database if it is ours)."""
        self.connection.close()


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
def _close_default() -> None:
    if _default is not None:
        _default.close()
