"""Run DuckDB queries off the caller's thread, with progress and cancellation."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import duckdb
import numpy as np
import pyarrow as pa

from .dialect import DUCKDB, Dialect
from .sql import quote_string

if TYPE_CHECKING:
    from .sources import Source

ProgressCallback = Callable[[float], None]
OUT_OF_MEMORY: tuple[type[Exception], ...] = (duckdb.OutOfMemoryException,)  # an engine ran out of memory
INDEX_LOST: tuple[type[Exception], ...] = (duckdb.CatalogException,)  # an index table is gone
WRITE_FAILED: tuple[type[Exception], ...] = (duckdb.IOException, duckdb.TransactionException)  # disk full
INDEX_SCHEMA = "pikaplot_index"  # the database DuckDB keeps line index tables in
IN_MEMORY = ":memory:"  # ...where the session gives it no file (`index_files.py`)
CLOSE_WAIT_S = 5.0  # closing interrupts the running query this long at most, then waits for it


class QueryCancelled(Exception):  # noqa: N818 - reads better at the call site than "...Error"
    """The query was interrupted because a newer request made it stale."""


class ReaderClosedError(RuntimeError):
    """The reader's cursor is closed (its plot or its DuckDB session was closed): nothing can run."""


@dataclass
class QueryStats:
    """Queries run and cancelled on behalf of one owner (a plot), whatever runner ran them."""

    run: int = 0
    cancelled: int = 0


class Interruptible(Protocol):
    """A reader whose running query a ticket can interrupt."""

    def _interrupt_for(self, ticket: Ticket) -> bool: ...


class Ticket:
    """One request's right to run queries; cancelling it stops its running query and refuses new ones."""

    def __init__(self, stats: QueryStats | None = None) -> None:
        self.stats = stats if stats is not None else QueryStats()
        self._lock = threading.Lock()
        self._cancelled = False
        self._runner: Interruptible | None = None  # set while one of its queries runs

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._cancelled

    def cancel(self) -> bool:
        """Cancel; returns whether a running query was interrupted."""
        with self._lock:
            self._cancelled = True
            runner = self._runner
        return runner is not None and runner._interrupt_for(self)


NEVER_CANCELLED = Ticket()
GATE_POLL_S = 0.05  # a query waiting for the gate checks this often whether it was cancelled


class ExclusiveGate:
    """Lets one heavy query (a line index build) run at a time on a database; the others wait, and
    stay cancellable while they wait. `after_others` waits as well for those already waiting."""

    def __init__(self, on_widen: Callable[[], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._active = False
        self._waiting = 0
        self._wide = 0  # queries running that need more memory than the plots' working limit
        self._on_widen = on_widen  # told when `wide` changes (the session refits its memory limit)

    @property
    def wide(self) -> bool:
        """Whether a query that needs the wider memory limit runs now (see `widened`)."""
        return self._wide > 0

    @contextlib.contextmanager
    def widened(self) -> Iterator[None]:
        """Mark a query that holds one hash table of every group (a line index built in one
        statement, a density index): the database's default memory limit is wider meanwhile."""
        with self._cond:
            self._wide += 1
        self._tell_widen()
        try:
            yield
        finally:
            with self._cond:
                self._wide -= 1
            self._tell_widen()

    def _tell_widen(self) -> None:
        if self._on_widen is not None:
            with contextlib.suppress(Exception):  # a refit that fails leaves the limit as it was
                self._on_widen()

    @contextlib.contextmanager
    def held(self, ticket: Ticket, runner: Reader, after_others: bool = False) -> Iterator[None]:
        """Hold the gate; raises QueryCancelled if the ticket is cancelled or the runner closed first."""
        with self._cond:
            if not after_others:
                self._waiting += 1
            try:
                while self._active or (after_others and self._waiting > 0):
                    if ticket.cancelled or runner.closed:
                        raise QueryCancelled("cancelled while waiting for another index build")
                    self._cond.wait(GATE_POLL_S)
                if ticket.cancelled or runner.closed:
                    raise QueryCancelled("cancelled while waiting for another index build")
                self._active = True
            finally:
                if not after_others:
                    self._waiting -= 1
                self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._active = False
                self._cond.notify_all()


class Reader(Protocol):
    """The engine seam: what plots ask of an engine, one reader per plot (DuckDB: `QueryRunner`;
    Spark Connect: `engine.spark.SparkReader`). Queries are SQL of the reader's `dialect` with `?`
    parameters; results come back as Arrow."""

    dialect: Dialect
    gate: ExclusiveGate  # one heavy build at a time per database
    counts_as_plot: bool

    @property
    def closed(self) -> bool: ...
    @property
    def busy(self) -> bool: ...
    def run(
        self,
        sql: str,
        params: list[object] | None = None,
        on_progress: ProgressCallback | None = None,
        ticket: Ticket = ...,
    ) -> pa.Table: ...
    def run_batches(
        self,
        sql: str,
        params: list[object] | None,
        on_batch: Callable[[pa.RecordBatch], None],
        on_progress: ProgressCallback | None = None,
        ticket: Ticket = ...,
    ) -> None: ...
    def attach(self, source: Source) -> None: ...
    def detach(self, source: Source) -> None: ...
    def index_table(self, name: str) -> str | None: ...
    def close(self) -> None: ...


class QueryRunner:
    """Owns one DuckDB cursor; runs one query at a time on it and reports its progress.

    `query_progress()` and `interrupt()` only work on the object that runs the query,
    so both are called on this runner's cursor from the polling thread or from a Ticket.
    Several plots may share a runner (a Session's reader pool); their queries take turns.
    """

    def __init__(
        self,
        cursor: duckdb.DuckDBPyConnection,
        poll_interval: float = 0.05,
        *,
        gate: ExclusiveGate | None = None,
        on_close: Callable[[], None] | None = None,
        counts_as_plot: bool = True,
        index_location: Callable[[], str] | None = None,
    ) -> None:
        self._cursor = cursor
        self._index_location = index_location  # where the index database goes (None: in memory)
        self.dialect = DUCKDB
        self.gate = gate if gate is not None else ExclusiveGate()  # shared by a session's readers
        self.counts_as_plot = counts_as_plot  # False: a short-lived reader the memory limit ignores
        self._on_close = on_close
        self._poll_interval = poll_interval
        self._lock = threading.Lock()  # serialises queries on the cursor
        self._state = threading.Condition()
        self._ticket: Ticket | None = None
        self._interrupting = False  # an interrupt was asked for the running query: repeat it
        self._closed = False
        self._on_progress: ProgressCallback | None = None
        self._poller = threading.Thread(target=self._poll_loop, name="pikaplot-progress", daemon=True)
        self._poller.start()

    @property
    def closed(self) -> bool:
        """Whether the reader was closed (its plot or its DuckDB session was)."""
        return self._closed

    @property
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """The cursor (for registering in-memory sources on it)."""
        return self._cursor

    def run(
        self,
        sql: str,
        params: list[object] | None = None,
        on_progress: ProgressCallback | None = None,
        ticket: Ticket = NEVER_CANCELLED,
    ) -> pa.Table:
        """Execute `sql` and return the result as a pyarrow Table. Blocks the calling thread.

        Raises QueryCancelled when the ticket is (or gets) cancelled, or the DuckDB error.
        """
        with self._running(ticket, on_progress):
            return self._cursor.sql(sql, params=params or None).to_arrow_table()

    def run_batches(
        self,
        sql: str,
        params: list[object] | None,
        on_batch: Callable[[pa.RecordBatch], None],
        on_progress: ProgressCallback | None = None,
        ticket: Ticket = NEVER_CANCELLED,
    ) -> None:
        """Execute `sql` and hand its result to `on_batch` as pyarrow RecordBatches, as they come,
        so a large result never sits in memory whole. Cancellation and progress as for `run`."""
        with self._running(ticket, on_progress):
            reader = self._cursor.sql(sql, params=params or None).arrow()
            if hasattr(reader, "to_batches"):  # duckdb 1.x returns a whole Table here
                reader = iter(reader.to_batches())
            try:
                for batch in reader:
                    if ticket.cancelled:
                        raise QueryCancelled("cancelled while streaming")
                    on_batch(batch)
            except duckdb.Error:
                if ticket.cancelled:  # interrupted between batches: not a failure
                    raise QueryCancelled("cancelled while streaming") from None
                raise
            finally:
                with contextlib.suppress(Exception):
                    reader.close()

    def attach(self, source: Source) -> None:
        """Make a source's in-memory objects (DataFrames, Arrow tables) queryable on this cursor."""
        with self._lock:
            source.prepare(self._cursor)

    def detach(self, source: Source) -> None:
        """Undo `attach` (the plot is closed)."""
        with self._lock:
            source.release(self._cursor)

    def index_table(self, name: str) -> str | None:
        """Where an index table called `name` is kept: a database attached once (shared by every
        cursor of the session) at the session's `index_location` (a file: DuckDB may drop its blocks
        from memory and read them back), else in memory. None where DuckDB refuses one (a read-only
        database)."""
        attached = self.run("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [INDEX_SCHEMA])
        if attached.column(0)[0].as_py() == 0:
            location = self._index_location() if self._index_location is not None else IN_MEMORY
            try:
                self._attach_index(location)
            except duckdb.Error as error:
                message = str(error).lower()
                if "read-only" in message or "read only" in message:
                    return None
                if location == IN_MEMORY:
                    raise
                self._attach_index(IN_MEMORY)  # no file could be made (permissions, disk full)
        return f"{self.dialect.ident(INDEX_SCHEMA)}.{self.dialect.ident(name)}"

    def _attach_index(self, location: str) -> None:
        """ATTACH the index database at `location`, unless another plot attached it first."""
        try:
            self.run(f"ATTACH {quote_string(location)} AS {self.dialect.ident(INDEX_SCHEMA)}")
        except duckdb.Error as error:
            if "already" not in str(error).lower():
                raise

    @contextlib.contextmanager
    def locked(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the cursor between queries (for registering or unregistering sources on it)."""
        with self._lock:
            yield self._cursor

    @contextlib.contextmanager
    def _running(self, ticket: Ticket, on_progress: ProgressCallback | None) -> Iterator[None]:
        with self._lock:
            with self._state, ticket._lock:
                if self._closed:
                    raise ReaderClosedError("the DuckDB session of this plot was closed")
                if ticket.cancelled:
                    ticket.stats.cancelled += 1
                    raise QueryCancelled("stale before it started")
                self._ticket = ticket
                if ticket is not NEVER_CANCELLED:  # shared by many runners: nothing to interrupt
                    ticket._runner = self
                self._on_progress = on_progress
                self._state.notify_all()
            try:
                ticket.stats.run += 1
                yield
            except duckdb.InterruptException as error:
                ticket.stats.cancelled += 1
                raise QueryCancelled(str(error)) from None
            finally:
                with self._state, ticket._lock:
                    self._ticket = None
                    if ticket is not NEVER_CANCELLED:
                        ticket._runner = None
                    self._on_progress = None
                    self._interrupting = False

    def _interrupt_for(self, ticket: Ticket) -> bool:
        with self._state:
            if self._ticket is not ticket:
                return False
            # Under the lock, so the interrupt reaches the query it was meant for. DuckDB drops an
            # interrupt that comes before the query really started: the poller repeats it.
            self._interrupting = True
            with contextlib.suppress(duckdb.Error):
                self._cursor.interrupt()
            return True

    @property
    def busy(self) -> bool:
        """Whether a query is running now."""
        with self._state:
            return self._ticket is not None

    def _poll_loop(self) -> None:
        while True:
            with self._state:
                while self._ticket is None and not self._closed:
                    self._state.wait()
                if self._closed:
                    return
                callback = self._on_progress
                if self._interrupting and self._ticket is not None:
                    with contextlib.suppress(duckdb.Error):
                        self._cursor.interrupt()
            if callback is not None:
                try:
                    percent = self._cursor.query_progress()
                except duckdb.Error:
                    percent = -1.0
                if percent >= 0:
                    callback(min(max(percent / 100.0, 0.0), 1.0))
            time.sleep(self._poll_interval)

    def close(self) -> None:
        """Cancel what runs, stop the poller and close the cursor (idempotent). The interrupt is
        repeated until the query stops: one sent as it starts may be dropped by DuckDB. Then calls
        the `on_close` hook (the session refits its memory limit)."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            self._state.notify_all()
        deadline = time.monotonic() + CLOSE_WAIT_S
        while True:
            with self._state:
                running = self._ticket is not None
                if running:
                    with contextlib.suppress(duckdb.Error):
                        self._cursor.interrupt()
            if not running or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        with self._lock, contextlib.suppress(duckdb.Error):
            self._cursor.close()
        if self._on_close is not None:
            with contextlib.suppress(duckdb.Error):
                self._on_close()


def float_column(table: pa.Table, name: str) -> np.ndarray:
    """A column of a query result as a float64 numpy array (NULL becomes NaN)."""
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
