"""A plot's reader on Spark Connect: queries tagged so a newer view can interrupt them, progress
from the session's progress handler, results as Arrow."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from .dialect import SPARK, Dialect
from .runner import (
    NEVER_CANCELLED,
    ExclusiveGate,
    ProgressCallback,
    QueryCancelled,
    ReaderClosedError,
    Ticket,
)

if TYPE_CHECKING:
    from .sources import Source

INTERRUPT_REPEAT_S = 0.05  # an interrupt sent before Spark registered the operation is repeated...
INTERRUPT_FOR_S = 2.0  # ...this long at most
_tags = itertools.count(1)


class SparkQueryError(RuntimeError):
    """Spark refused or failed a query; the message is Spark's first line (its error class and text)."""


class SparkConnection(Protocol):
    """The parts of a Spark Connect session (`pyspark.sql.connect.session.SparkSession`) used here."""

    def sql(self, sqlQuery: str, args: list[object] | None = None) -> SparkFrame: ...  # noqa: N803
    def addTag(self, tag: str) -> None: ...  # noqa: N802
    def removeTag(self, tag: str) -> None: ...  # noqa: N802
    def interruptTag(self, tag: str) -> list[str]: ...  # noqa: N802
    def registerProgressHandler(self, handler: Callable[..., None]) -> None: ...  # noqa: N802
    def removeProgressHandler(self, handler: Callable[..., None]) -> None: ...  # noqa: N802


class SparkFrame(Protocol):
    """The parts of a Spark Connect DataFrame used here."""

    def toArrow(self) -> pa.Table: ...  # noqa: N802


def first_line(error: BaseException) -> str:
    """Spark's message without the JVM stack trace it carries."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class ProgressRouter:
    """One progress handler per Spark session; it runs on the thread that started the query, so each
    reader's callback is found by thread. Progress is completed ÷ total tasks of the query's stages
    and never goes backwards (stages appear as the query runs)."""

    def __init__(self, spark: SparkConnection) -> None:
        self._spark = spark
        self._local = threading.local()
        spark.registerProgressHandler(self._handle)

    def close(self) -> None:
        """Stop listening (the Spark session keeps its other handlers)."""
        with contextlib.suppress(Exception):
            self._spark.removeProgressHandler(self._handle)

    @contextlib.contextmanager
    def reporting(self, on_progress: ProgressCallback | None) -> Iterator[None]:
        """Send this thread's query progress to `on_progress` while the block runs."""
        self._local.callback, self._local.best = on_progress, 0.0
        try:
            yield
        finally:
            self._local.callback = None

    def _handle(self, stages: object = None, inflight_tasks: int = 0, operation_id: object = None,
                done: bool = False, **_: object) -> None:  # fmt: skip
        callback = getattr(self._local, "callback", None)
        if callback is None:
            return
        total = completed = 0
        for stage in stages or ():  # type: ignore[attr-defined]
            total += int(getattr(stage, "num_tasks", 0))
            completed += int(getattr(stage, "num_completed_tasks", 0))
        if total == 0:  # no stages yet (or an operation without any, e.g. an analysis): nothing to say
            return
        # `done` marks the end of each of a query's operations, not of the query: left to the caller.
        best = max(float(getattr(self._local, "best", 0.0)), min(completed / total, 1.0))
        self._local.best = best
        with contextlib.suppress(Exception):  # a failing callback must not fail the query
            callback(best)


class SparkReader:
    """One plot's queries on a Spark Connect session, one at a time. A ticket's cancel interrupts the
    running query by its tag (Spark's interruptTag), repeated briefly in case Spark had not yet
    registered it."""

    dialect: Dialect = SPARK

    def __init__(
        self,
        spark: SparkConnection,
        progress: ProgressRouter,
        gate: ExclusiveGate,
        *,
        counts_as_plot: bool = True,
        on_attach: Callable[[Source], None] | None = None,
        on_detach: Callable[[Source], None] | None = None,
    ) -> None:
        self.spark, self._progress, self.gate = spark, progress, gate
        self.counts_as_plot = counts_as_plot
        self._on_attach, self._on_detach = on_attach, on_detach
        self._lock = threading.Lock()  # one query at a time
        self._state = threading.Lock()
        self._ticket: Ticket | None = None
        self._tag = ""
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the reader (its plot, or its session) was closed."""
        return self._closed

    @property
    def busy(self) -> bool:
        """Whether a query is running now."""
        return self._ticket is not None

    def run(
        self,
        sql: str,
        params: list[object] | None = None,
        on_progress: ProgressCallback | None = None,
        ticket: Ticket = NEVER_CANCELLED,
    ) -> pa.Table:
        """Run `sql` (`?` parameters bound by Spark) and return its result as Arrow. Raises
        QueryCancelled when the ticket is (or gets) cancelled, SparkQueryError when Spark fails it."""
        with self._lock:
            tag = self._begin(ticket)
            try:
                with self._progress.reporting(on_progress):
                    self.spark.addTag(tag)
                    try:
                        return self.spark.sql(sql, args=params or None).toArrow()
                    finally:
                        self.spark.removeTag(tag)
            except QueryCancelled:
                raise
            except Exception as error:
                if ticket.cancelled or "OPERATION_CANCELED" in str(error):
                    ticket.stats.cancelled += 1
                    raise QueryCancelled(first_line(error)) from None
                raise SparkQueryError(first_line(error)) from None
            finally:
                self._end(ticket)

    def run_batches(
        self,
        sql: str,
        params: list[object] | None,
        on_batch: Callable[[pa.RecordBatch], None],
        on_progress: ProgressCallback | None = None,
        ticket: Ticket = NEVER_CANCELLED,
    ) -> None:
        """As `run`, handing the result over batch by batch (what the plots ask Spark for is
        aggregated there: one row per pixel or pixel column, never a row per data row)."""
        for batch in self.run(sql, params, on_progress, ticket).to_batches():
            if ticket.cancelled:
                raise QueryCancelled("cancelled while reading the result")
            on_batch(batch)

    def _begin(self, ticket: Ticket) -> str:
        with self._state, ticket._lock:
            if self._closed:
                raise ReaderClosedError("the Spark session of this plot was closed")
            if ticket.cancelled:
                ticket.stats.cancelled += 1
                raise QueryCancelled("stale before it started")
            self._ticket, self._tag = ticket, f"pikaplot-{id(self):x}-{next(_tags)}"
            if ticket is not NEVER_CANCELLED:
                ticket._runner = self
            ticket.stats.run += 1
            return self._tag

    def _end(self, ticket: Ticket) -> None:
        with self._state, ticket._lock:
            self._ticket, self._tag = None, ""
            if ticket is not NEVER_CANCELLED:
                ticket._runner = None

    def _interrupt_for(self, ticket: Ticket) -> bool:
        with self._state:
            if self._ticket is not ticket:
                return False
            tag = self._tag
        cancel = threading.Thread(target=self._interrupt, args=(tag,), name="pikaplot-cancel", daemon=True)
        cancel.start()
        return True

    def _interrupt(self, tag: str) -> None:
        """Interrupt until the query is gone (Spark drops an interrupt for an operation it has not
        registered yet) or INTERRUPT_FOR_S has passed."""
        deadline = time.monotonic() + INTERRUPT_FOR_S
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                self.spark.interruptTag(tag)
            time.sleep(INTERRUPT_REPEAT_S)
            with self._state:
                if self._tag != tag:
                    return

    def attach(self, source: Source) -> None:
        """A plot uses `source` (a table, or temporary views of the session, counted)."""
        if self._on_attach is not None:
            self._on_attach(source)

    def detach(self, source: Source) -> None:
        """The plot is done with `source`: its views go once no plot uses them."""
        if self._on_detach is not None:
            self._on_detach(source)

    def index_table(self, name: str) -> str | None:
        """Index levels are cached temporary views of the session."""
        return self.dialect.ident(f"__pikaplot_{name}")

    def close(self) -> None:
        """Refuse new queries and interrupt the running one by its tag, until it stops (at most
        INTERRUPT_FOR_S); idempotent. The shared NEVER_CANCELLED ticket is never cancelled."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            tag = self._tag
        if tag:
            self._interrupt(tag)
