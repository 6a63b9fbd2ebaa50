"""A DuckDB database: one writer connection, and a reader cursor of its own for each plot."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import tempfile
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from ..core.scale import UTC_NAME, checked_zone
from ..runtime.memory import available_memory, memory_budget, monitor
from .dialect import DUCKDB, Dialect
from .index_files import IndexFiles
from .runner import ExclusiveGate, QueryRunner

if TYPE_CHECKING:
    from .sources import Source
    from .spark_session import SparkConnectSession

# Progress is reported by query_progress() only with these settings, and DuckDB's own
# printed (or ipywidgets) progress bar must stay off: the widget draws its own.
_CURSOR_SETTINGS = (
    "SET enable_progress_bar = true",
    "SET enable_progress_bar_print = false",
    "SET progress_bar_time = 0",
)
# Defaults of a session pikaplot opens (docs/performance.md has the measurements behind them).
# Under DuckDB's own defaults (80 % of RAM, a thread per core) a line index build over a 100M-row
# Parquet file peaked at 2.5 GB on 16 cores, two at once at 4.0 GB: the hash tables of its GROUP BY
# grow with the threads and the limit. Built in one statement, it failed below about 32 MiB per thread
# with DuckDB's OutOfMemoryException instead of spilling; built in chunks of 256k buckets (1B rows:
# 15), its hash tables stay under 100 MiB: on 16 cores 384 MiB took 1B rows with views as fast as
# 1 GiB, peak RSS 980 instead of 1239-1302 MiB. Builds in one statement still get 1 GiB.
WORKING_LIMIT = 384 * 2**20  # memory_limit floor for the plots' queries
WIDE_LIMIT = 2**30  # ...while a query holds one hash table of every group (`ExclusiveGate.widened`)
BYTES_PER_THREAD = 8 * 2**20  # ...and per thread for each plot, plus two plots' worth of headroom
AVAILABLE_SHARE = 0.25  # never more than this share of the memory available at start
MIN_LIMIT = 256 * 2**20
THREAD_BYTES_MIN = 96 * 2**20  # the default threads leave at least this much limit per thread
MAX_THREADS = 16  # the default threads: DuckDB's (one per core), at most this many
LIMIT_STEP = 16 * 2**20  # the limit is refitted only when it would move by more than this
TABLES_SHARE = 0.5  # in-memory tables raise the limit (else they spill), up to this share of the budget
_temp_folders = itertools.count(1)
_live_sessions: weakref.WeakSet[Session] = weakref.WeakSet()


def memory_cap(available: int | None = None) -> int:
    """The most a default limit may be: AVAILABLE_SHARE of the memory available now (the host's or
    the container's, whichever is less), at least MIN_LIMIT."""
    available = available_memory() if available is None else int(available)
    return max(MIN_LIMIT, int(available * AVAILABLE_SHARE))


def default_memory_limit(threads: int, plots: int = 1, cap: int | None = None, wide: bool = False) -> int:
    """The memory_limit (bytes) of a session opened without one, for `plots` plots on `threads`
    threads: WORKING_LIMIT (WIDE_LIMIT while a `wide` query runs), or BYTES_PER_THREAD per thread for
    each plot and two more if that is more; at most `cap` (`memory_cap()`)."""
    cap = memory_cap() if cap is None else int(cap)
    floor = WIDE_LIMIT if wide else WORKING_LIMIT
    working = max(floor, int(threads) * BYTES_PER_THREAD * (max(int(plots), 0) + 2))
    return min(working, cap)


def default_threads(cores: int, cap: int | None = None) -> int:
    """DuckDB threads of a session opened without `threads`: one per core (as DuckDB counts them), at
    most MAX_THREADS and at most one per THREAD_BYTES_MIN of `cap` (if known, in bytes)."""
    most = MAX_THREADS if cap is None else min(MAX_THREADS, int(cap) // THREAD_BYTES_MIN)
    return max(1, min(int(cores), most))


def default_temp_directory() -> str:
    """Where an in-memory session spills: a folder of its own in the system's temp folder (DuckDB's
    default, `.tmp` in the working directory, lands beside the user's notebooks); DuckDB removes it
    when the session closes."""
    return os.path.join(tempfile.gettempdir(), f"pikaplot-duckdb-{os.getpid()}-{next(_temp_folders)}")


class Session:
    """One DuckDB database: a writer connection, and a reader (its own cursor) for each plot, so no
    plot ever registers, drops or queries on a cursor another plot is using.

    Args:
        path: database file, or None for an in-memory database.
        threads: DuckDB worker threads (None: `default_threads()`, one per core, at most 16).
        memory_limit: bytes or a DuckDB size string such as "4GB" (None: `default_memory_limit()`,
            384 MiB for one plot up to 16 threads, at most a quarter of the available memory; when
            a plot starts it grows with the number of plots and the session's in-memory tables, so
            these never spill).
        temp_directory: where DuckDB spills (None: `default_temp_directory()` for an in-memory
            database, DuckDB's `<file>.tmp` for a database file).
        connection: an existing DuckDB connection to wrap instead of opening one; its settings are
            left as they are, except those passed here.
    """

    dialect: Dialect = DUCKDB

    def __init__(
        self,
        path: str | None = None,
        *,
        threads: int | None = None,
        memory_limit: int | str | None = None,
        temp_directory: str | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        owned = connection is None
        self.connection = duckdb.connect(path or ":memory:") if connection is None else connection
        self._lock = threading.Lock()
        self._fit_lock = threading.Lock()  # one fit_limit at a time (it reads, then sets)
        # One line index build at a time on this database; wide queries refit the memory limit.
        self.index_gate = ExclusiveGate(on_widen=self.fit_limit)
        self._names = itertools.count(1)
        self._configure(self.connection)
        self._control = self.connection.cursor()  # settings and memory: never the user's connection
        self._cap: int | None = None  # set while the limit is ours to fit to the plots and tables
        self._auto_limit = (0, "")  # the limit this session set itself: bytes, and as DuckDB prints it
        self._readers: weakref.WeakSet[QueryRunner] = weakref.WeakSet()
        # The line index database: a file of this session's (the connection is ours to close), so
        # its tables neither stay in memory nor raise the limit; else in memory.
        self._index_files = IndexFiles() if owned else None
        if owned and memory_limit is None:
            self._cap = memory_cap()
        if threads is None and owned:
            threads = default_threads(self._setting_int("threads"), self._cap)
        if threads is not None:
            self.connection.execute("SET threads = ?", [int(threads)])
        if memory_limit is not None:
            self.set_memory_limit(memory_limit)
        elif self._cap is not None:
            self._set_auto_limit(default_memory_limit(self._setting_int("threads"), 0, self._cap))
        if temp_directory is None and owned and not path:
            temp_directory = default_temp_directory()
        if temp_directory is not None:
            self.connection.execute("SET temp_directory = ?", [str(temp_directory)])
        self.closed = False
        _live_sessions.add(self)
        if self._cap is not None:  # tables the user creates raise the limit as they grow
            monitor.register_restorer("duckdb tables", refit_limits)
            monitor.start()

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

    def reader(self, *, transient: bool = False) -> QueryRunner:
        """A new reader on a cursor of its own, for one plot; the caller closes it (so does close()).
        `transient`: a short-lived reader (a query while a plot is set up) that is no plot: the memory
        limit makes no room for it. Opening and closing a plot's reader refits the limit."""
        if self.closed:
            raise ValueError("this DuckDB session is closed")
        runner = QueryRunner(
            self.cursor(),
            gate=self.index_gate,
            on_close=self.fit_limit,
            counts_as_plot=not transient,
            index_location=self._index_files.location if self._index_files is not None else None,
        )
        with self._lock:
            self._readers.add(runner)
        self.fit_limit()
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
            row = self._control.execute("SELECT current_setting('memory_limit')").fetchone()
        return str(row[0]) if row else ""

    def set_memory_limit(self, limit: int | str) -> None:
        """Set DuckDB's memory_limit (bytes, or a size string such as "2GB")."""
        value = f"{int(limit) // 2**20}MiB" if isinstance(limit, int) else str(limit)
        with self._lock:
            self._control.execute("SET memory_limit = ?", [value])

    def _setting_int(self, name: str) -> int:
        with self._lock:
            row = self._control.execute("SELECT current_setting(?)::BIGINT", [name]).fetchone()
        return int(row[0]) if row else 0

    def table_bytes(self) -> int:
        """Bytes of the session's in-memory tables, in memory or spilled to the temp directory."""
        with self._lock:
            row = self._control.execute(
                "SELECT coalesce(sum(memory_usage_bytes + temporary_storage_bytes), 0) "
                "FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'"
            ).fetchone()
        return int(row[0]) if row else 0

    def fit_limit(self) -> None:
        """Under the default limit, fit it to the open plots (`default_memory_limit` for the open
        readers that count as plots) plus the in-memory tables (up to TABLES_SHARE of the memory
        budget), so scanning them reads no spilled blocks. Raised as plots open; lowered as they close,
        never below what DuckDB holds now. Only a limit this session set itself: one set by the user
        or lowered under memory pressure since is left alone."""
        if self._cap is None or self.closed:
            return
        with self._fit_lock, contextlib.suppress(duckdb.Error):
            if self.memory_limit != self._auto_limit[1]:
                return
            plots = sum(reader.counts_as_plot and not reader.closed for reader in self.readers)
            threads = self._setting_int("threads")
            working = default_memory_limit(threads, plots, self._cap, wide=self.index_gate.wide)
            tables = min(self.table_bytes(), max(int(memory_budget() * TABLES_SHARE) - working, 0))
            target = working + tables
            if target > self._auto_limit[0] + LIMIT_STEP:
                self._set_auto_limit(target)
            elif target < self._auto_limit[0] - LIMIT_STEP:
                lowered = max(target, self.memory_in_use())
                if lowered < self._auto_limit[0] - LIMIT_STEP:
                    self._set_auto_limit(lowered)

    def _set_auto_limit(self, limit: int) -> None:
        self.set_memory_limit(limit)
        self._auto_limit = (limit, self.memory_limit)

    def memory_in_use(self) -> int:
        """Bytes DuckDB holds in its buffer pool now."""
        with self._lock:
            row = self._control.execute(
                "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
            ).fetchone()
        return int(row[0]) if row else 0

    def unique_name(self, prefix: str) -> str:
        """A fresh name for an object this session registers."""
        return f"__pikaplot_{prefix}_{next(self._names)}"

    @staticmethod
    def spark(remote: str | None = None, *, spark: object | None = None) -> SparkConnectSession:
        """Plots on Apache Spark through Spark Connect instead of DuckDB: a session on the Spark
        Connect server at `remote` ("sc://host:15002"; default $SPARK_REMOTE), or on an open
        `pyspark.sql.SparkSession` (`spark=`). Needs `pip install 'pikaplot_widget[spark]'`."""
        from .spark_session import SparkConnectSession  # the Spark client is optional

        if spark is not None:
            return SparkConnectSession.of(spark)
        return SparkConnectSession.connect(remote)

    # ---- the engine seam (engine/backend.py) ------------------------------------------------
    def resolve(self, data: object) -> Source:
        """What the user passed as `data` as a Source (see `sources.resolve_source`)."""
        from .sources import resolve_source

        return resolve_source(data, self)

    def query(self, source: Source, sql: str, params: list[object] | None = None) -> pa.Table:
        """A short query on a cursor of its own (with the source's objects registered), as Arrow."""
        cursor = self.cursor()
        try:
            source.prepare(cursor)
            return cursor.sql(sql, params=params or None).to_arrow_table()
        finally:
            cursor.close()

    def lazy(self, source: Source, sql: str, params: list[object]) -> tuple[object, Callable[[], None]]:
        """A DuckDB relation of `sql` on a cursor of its own (nothing computed until it is read),
        and what closes that cursor."""
        cursor = self.cursor()
        source.prepare(cursor)
        relation = cursor.sql(sql, params=params)

        def close() -> None:
            with contextlib.suppress(duckdb.Error):
                cursor.close()

        return relation, close

    def time_zone(self) -> str:
        """The TimeZone DuckDB shows TIMESTAMPTZ in (UTC when unset or unknown to zoneinfo). Read on
        the session's own connection: where users SET TimeZone (cursors start from the global)."""
        try:
            with self._lock:
                row = self.connection.execute("SELECT current_setting('TimeZone')").fetchone()
            return checked_zone(str(row[0])) if row and row[0] else UTC_NAME
        except (duckdb.Error, ValueError, TypeError):
            return UTC_NAME

    def close(self) -> None:
        """Close the readers and the writer connection (plots on it then fail with a clear message)."""
        self.closed = True
        for reader in self.readers:
            reader.close()
        with self._lock, contextlib.suppress(duckdb.Error):
            self._control.close()
        self.connection.close()
        if self._index_files is not None:
            self._index_files.remove()
        _live_sessions.discard(self)


def refit_limits() -> int:
    """Fit every live session's own limit to its plots and tables (the memory monitor calls this on
    calm checks, so a table being created raises it before its blocks spill); gives back nothing."""
    for session in live_sessions():
        with contextlib.suppress(Exception):  # a session closing meanwhile
            session.fit_limit()
    return 0


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
