"""Every row of a line plot on local disk, sorted by x, so deep zooms read exactly their rows.

A view too narrow for the line index reads its rows, and a Parquet file decodes whole row groups
for that (1M rows: 15-30 ms whatever the view's width). After the index, one more pass streams x
and y (as `rows_sql` gives them) into two flat float64 files in the temp directory; a view then
reads its rows with two `os.pread` calls (from the page cache: ~1 ms for 300k rows, and no memory
of the kernel's own) and aggregates them in numpy. Evenly spaced x (a row number, a fixed sampling
rate: `EvenX`) is not written but computed, bit for bit. The files take 8 or 16 bytes a row out of
a budget per process (at most a quarter of the free disk), go when the plot closes, and are written only
when the source streams sorted by x: the pass stops at the first batch out of order. One series on
a linear x axis of DOUBLE, integers or TIMESTAMP[TZ] (`row_views.slice_bounds` turns a range into the
thresholds that pick in numpy exactly the rows the SQL range filter picks).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..runtime.memory import memory_budget
from .even_x import EvenX
from .line_rows import FAST_ROWS, rows_sql
from .row_group_bounds import read_row_group_bounds
from .runner import NEVER_CANCELLED, QueryCancelled, Reader, Ticket
from .sql import INTEGER_RANGES
from .temp_files import in_memory_filesystem, sweep_dead_kernels

if TYPE_CHECKING:
    from .line import Extent, LineColumns

VALUE_BYTES = 8  # x or y as float64
STRIDE = 4096  # every STRIDE-th x is kept in memory to find a range's rows (2 KB per 1M rows)
MIN_ROWS = 1_000_000  # smaller tables are read whole into the RowCache instead
# All stores of the process together: views read the files from the page cache, so a quarter of
# the machine's (or the container's) memory, and at least 4 GiB.
BUDGET_BYTES = max(4 * 2**30, memory_budget() // 4)
WRITE_ROWS = 1 << 20  # x computed for an even start that turned uneven is written in parts this big
DISK_SHARE = 0.25  # of the free space in the temp directory
MICROS_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP WITH TIME ZONE"})
# Axis units (seconds past the plot's origin) below this tell every microsecond apart in float64.
MAX_TIME_SECONDS = 2.0**52 / 1e6
NO_ROOM = "no room: the row-file budget or the free disk is too small"
PASS_ROW_GROUPS = 8  # a sorted Parquet source is streamed this many row groups at a time
EXACT_X_TYPES = frozenset({"DOUBLE", "FLOAT", *INTEGER_RANGES})  # axis units equal the stored values
PREFIX = "pikaplot-rows-"  # then the kernel's pid: the files of dead kernels are swept


class _Budget:
    """Bytes of disk the stores of this process may still take."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self._lock = threading.Lock()

    def take(self, size: int, directory: str) -> bool:
        with self._lock:
            free = shutil.disk_usage(directory).free
            if self.used + size > self.total or size > free * DISK_SHARE:
                return False
            self.used += size
            return True

    def give(self, size: int) -> None:
        with self._lock:
            self.used = max(self.used - size, 0)


BUDGET = _Budget(BUDGET_BYTES)


class UnsortedError(Exception):
    """The source did not stream sorted by x."""


class NoRoomError(Exception):
    """The budget or the disk has no room for the x file an uneven x needs."""


class RowStore:
    """A plot's rows, x-sorted, in two files; `state` says whether views can use it yet."""

    def __init__(self) -> None:
        self.state = "not built"  # "building", "ready", or why there is none
        self.rows = 0
        self.bytes = 0
        self._marks = np.empty(0)
        self._dir: str | None = None
        self._fds: tuple[int | None, int] | None = None  # x (None: computed by `_even`), y
        self._even = EvenX(1.0)
        self._lock = threading.Lock()
        self._taken = [0]  # bytes of the budget held, given back once when the files go
        self._cleanup: weakref.finalize[[str, list[int]], RowStore] | None = None

    @property
    def ready(self) -> bool:
        """Whether views can be read from it."""
        return self.state == "ready"

    @staticmethod
    def refusal(cols: LineColumns, extent: Extent) -> str:
        """Why these columns get no row files ("" when they may)."""
        if not hasattr(os, "pread"):  # Windows (where the sweep's os.kill(pid, 0) would also kill)
            return "not used on this platform (no os.pread)"
        integer, timed = cols.x_type in INTEGER_RANGES, cols.x_type in MICROS_TYPES
        plain = cols.series is None and not cols.log_x and not cols.dialect.aggregates_in_engine
        if not plain or not (cols.x_type == "DOUBLE" or integer or timed):
            return "not used for these columns"
        if extent.empty or extent.rows < MIN_ROWS:
            return "not needed for a small table"
        reach = max(abs(extent.x_min), abs(extent.x_max))
        if (integer and reach > 2.0**53) or (timed and reach >= MAX_TIME_SECONDS):
            return "not used: x too large to be exact in float64"
        return ""

    def build(
        self, reader: Reader, cols: LineColumns, extent: Extent, ticket: Ticket = NEVER_CANCELLED
    ) -> bool:
        """Stream every row of the extent into the files; False (and `state` says why) when the
        columns or the source do not allow it, the budget is spent, or the ticket is cancelled."""
        refused = self.refusal(cols, extent)
        if refused:
            self.state = refused
            return False
        size = extent.rows * VALUE_BYTES  # y; x only once it turns out uneven
        temp = tempfile.gettempdir()
        _sweep(temp)  # before the budget is taken: nothing between take and the try below may raise
        if in_memory_filesystem(temp):  # tmpfs /tmp (Debian 13, Fedora, Arch): the files would be RAM
            self.state = f"not used: {temp} is in memory (tmpfs); set TMPDIR to a folder on a disk"
            return False
        if not BUDGET.take(size, temp):
            self.state = NO_ROOM
            return False
        self.bytes, self.state, self._taken = size, "building", [size]
        try:
            self._dir = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=temp)
        except OSError as error:  # a read-only or full temp directory: views read the source
            BUDGET.give(size)
            self.bytes, self.state = 0, f"failed: {error}"
            return False
        self._cleanup = weakref.finalize(self, _remove, self._dir, self._taken)
        self._even = EvenX(1e6 if cols.x_type in MICROS_TYPES else 1.0)
        try:
            self._write(reader, cols, extent, ticket)
        except UnsortedError:
            self._discard("not used: the source is not sorted by x")
            return False
        except NoRoomError:
            self._discard(NO_ROOM)
            return False
        except QueryCancelled:
            self._discard("cancelled")
            return False
        except Exception as error:  # a failed pass leaves views on their usual path
            self._discard(f"failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
            return False
        return True

    def _take_x(self, rows: int, directory: str) -> None:
        """Budget for the x file, which an uneven x needs."""
        size = rows * VALUE_BYTES
        if not BUDGET.take(size, directory):
            raise NoRoomError
        with self._lock:  # counted before a close gives the bytes back, or given back here
            if self.state == "building":
                self._taken[0] += size
                self.bytes += size
                return
        BUDGET.give(size)
        raise NoRoomError

    def _write(self, reader: Reader, cols: LineColumns, extent: Extent, ticket: Ticket) -> None:
        assert self._dir is not None
        x_path, y_path = os.path.join(self._dir, "x.f64"), os.path.join(self._dir, "y.f64")
        marks: list[np.ndarray] = []
        state = {"rows": 0, "last": -np.inf}
        even = self._even
        pending: list[Future[None]] = []  # writes run beside DuckDB making the next batch
        with (
            open(x_path, "wb") as x_file,
            open(y_path, "wb") as y_file,
            ThreadPoolExecutor(1, thread_name_prefix="pikaplot-rows-write") as writer,
        ):

            def write(x: np.ndarray | None, y: np.ndarray | None) -> None:
                if x is not None:
                    np.ascontiguousarray(x).tofile(x_file)
                if y is not None:
                    np.ascontiguousarray(y).tofile(y_file)

            def write_even(first: int, stop: int) -> None:
                for lo in range(first, stop, WRITE_ROWS):
                    write(even.values(lo, min(lo + WRITE_ROWS, stop)), None)

            def on_batch(batch: pa.RecordBatch) -> None:
                x = batch.column(0).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
                y = batch.column(1).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
                if x.size == 0:
                    return
                if x[0] < state["last"] or not bool(np.all(x[1:] >= x[:-1])):
                    raise UnsortedError
                start = int(state["rows"])
                was_even = even.even
                if not even.check(x, start) and was_even:  # uneven from here: x needs its file
                    self._take_x(extent.rows, self._dir or "")
                    pending.append(writer.submit(write_even, 0, start))  # the rows so far, as computed
                first = (-start) % STRIDE  # the batch's rows at multiples of STRIDE overall
                marks.append(x[first::STRIDE].copy())
                pending.append(writer.submit(write, None if even.even else x, y))
                while len(pending) > 1:  # at most two batches wait for the disk
                    pending.pop(0).result()
                state["rows"], state["last"] = start + x.size, float(x[-1])

            for lo, hi in pass_ranges(reader, cols, extent, ticket):
                reader.run_batches(rows_sql(cols), cols.range_params(lo, hi), on_batch, None, ticket)
            for done in pending:
                done.result()  # a failed write raises here
        rows = int(state["rows"])
        if even.even:
            os.remove(x_path)
        with self._lock:
            if self.state != "building":  # closed meanwhile: the files are gone
                return
            self.rows = rows
            self._marks = np.concatenate([*marks, np.array([state["last"]])]) if rows else np.empty(0)
            x_fd = None if even.even else os.open(x_path, os.O_RDONLY)
            self._fds = (x_fd, os.open(y_path, os.O_RDONLY))
            self.state = "ready"

    def between(
        self, lo: float, hi: float, max_rows: int = FAST_ROWS
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows with x in [lo, hi], in x order; None when not ready or more than about
        `max_rows` may be in the range."""
        with self._lock:
            window = self._window(lo, hi, max_rows)
            if window is None or self._fds is None:
                return None
            start, stop = window
            x_fd, y_fd = self._fds
            x = self._even.values(start, stop) if x_fd is None else _read(x_fd, start, stop)
            y = _read(y_fd, start, stop)
        first = int(np.searchsorted(x, lo, side="left"))
        last = int(np.searchsorted(x, hi, side="right"))
        return x[first:last], y[first:last]

    def between_even(
        self, lo: float, hi: float, max_rows: int = FAST_ROWS
    ) -> tuple[int, np.ndarray, EvenX] | None:
        """`between` where x is evenly spaced (no x file): the index of the first row with x in
        [lo, hi], the y of those rows and the `EvenX` that computes their x; None where x has a
        file, the range is too large, or a row could not be placed without computing the x around it."""
        with self._lock:
            window = self._window(lo, hi, max_rows)
            if window is None or self._fds is None or self._fds[0] is not None:
                return None
            start, stop = window
            # x > hi is x >= the next double above hi: both ends in one placement
            ends = self._even.first_rows(np.array([lo, np.nextafter(hi, np.inf)]), start, stop)
            if ends is None:
                return None
            first, last = int(ends[0]), int(ends[1])
            return first, _read(self._fds[1], first, last) if last > first else np.empty(0), self._even

    def holds(self, lo: float, hi: float, max_rows: int = FAST_ROWS) -> bool:
        """Whether `between` answers [lo, hi] (ready, and not too many rows in it)."""
        with self._lock:
            return self._window(lo, hi, max_rows) is not None

    def _window(self, lo: float, hi: float, max_rows: int) -> tuple[int, int] | None:
        """Rows (start, stop) that hold every row with x in [lo, hi], whole strides of them; None
        when not ready or more than about `max_rows`. Called with the lock held."""
        if self._fds is None or self.rows == 0:
            return None
        start = max(int(np.searchsorted(self._marks, lo, side="left")) - 1, 0) * STRIDE
        stop = min(int(np.searchsorted(self._marks, hi, side="right")) * STRIDE, self.rows)
        if stop - start > max_rows + 2 * STRIDE:
            return None
        return start, max(stop, start)

    def _discard(self, why: str) -> None:
        with self._lock:
            fds, self._fds = self._fds, None
            if self.state in ("building", "ready"):  # else it was closed first: that is why
                self.state = why
        for fd in fds or ():
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self._cleanup is not None:
            self._cleanup()  # removes the files and gives their bytes back, once

    def close(self) -> None:
        """Delete the files (the plot closed)."""
        if self.state in ("ready", "building"):
            self._discard("closed")


def pass_ranges(
    reader: Reader, cols: LineColumns, extent: Extent, ticket: Ticket = NEVER_CANCELLED
) -> list[tuple[float, float]]:
    """The x ranges the pass reads one after the other: for a Parquet source sorted by x with an
    x whose bounds are exact in axis units (floats, integers within 2^53), PASS_ROW_GROUPS row groups
    each, so DuckDB's threads decode no further ahead of the ordered stream than that (1B rows on
    16 threads: ~280 MiB outside its buffer pool in one pass); else the extent in one."""
    whole = [(extent.x_min, extent.x_max)]
    exact = cols.x_type in EXACT_X_TYPES and max(abs(extent.x_min), abs(extent.x_max)) < 2.0**53
    if not exact or cols.log_x or not cols.source.skips_by_range:
        return whole
    bounds = read_row_group_bounds(reader, cols, ticket)
    if bounds is None or bounds.rows.size <= PASS_ROW_GROUPS:
        return whole
    return bounds.split(extent.x_min, extent.x_max, PASS_ROW_GROUPS)


def _read(fd: int, start: int, stop: int) -> np.ndarray:
    """float64 values [start, stop) of a file."""
    wanted = (stop - start) * 8
    data = os.pread(fd, wanted, start * 8)
    if len(data) != wanted:
        raise OSError(f"row file ended early: {len(data)} of {wanted} bytes")
    return np.frombuffer(data, dtype=np.float64)


def _sweep(temp: str) -> None:
    """Remove the row files of kernels that died without deleting theirs (killed, say)."""
    sweep_dead_kernels(temp, PREFIX)


def _remove(directory: str, taken: list[int]) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    BUDGET.give(taken[0])
