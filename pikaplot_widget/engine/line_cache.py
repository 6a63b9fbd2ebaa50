"""Rows of recently read x ranges kept in numpy, so that a view inside one needs no query.

Deep zooms into a Parquet file decode whole row groups whatever the view's width; reading a few
times the view's range costs about the same and keeps the next pan or zoom nearby in memory. A
table small enough is read whole once. Only one series with a DOUBLE x on a linear axis: the
numpy slice [lo, hi] then picks exactly the rows that the SQL range filter picks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .line_rows import rows_sql
from .runner import NEVER_CANCELLED, ProgressCallback, Reader, ReaderClosedError, Ticket, float_column

if TYPE_CHECKING:
    from .line import LineColumns

CACHE_ROWS = 1_000_000  # rows kept by one plot, all blocks together (x and y: 16 MB)


@dataclass(frozen=True)
class RowBlock:
    """Every row with x in [lo, hi] (DOUBLE x, axis units), sorted by x; NaN y: not valid."""

    lo: float
    hi: float
    x: np.ndarray
    y: np.ndarray

    def between(self, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        """The rows with x in [lo, hi] (inside the block's range)."""
        start = int(np.searchsorted(self.x, lo, side="left"))
        stop = int(np.searchsorted(self.x, hi, side="right"))
        return self.x[start:stop], self.y[start:stop]


class RowCache:
    """A plot's recently read row blocks, newest first, at most `max_rows` rows in all."""

    def __init__(self, max_rows: int = CACHE_ROWS) -> None:
        self.max_rows = max_rows
        self._blocks: list[RowBlock] = []
        self._lock = threading.Lock()
        self.hits = 0
        self.reads = 0

    @staticmethod
    def usable(cols: LineColumns) -> bool:
        """Whether views of these columns can be answered from row blocks."""
        return cols.series is None and cols.x_type == "DOUBLE" and not cols.log_x

    def covering(self, lo: float, hi: float) -> RowBlock | None:
        """A block holding every row of [lo, hi], if any (it becomes the newest)."""
        with self._lock:
            for i, block in enumerate(self._blocks):
                if block.lo <= lo and hi <= block.hi:
                    self._blocks.insert(0, self._blocks.pop(i))
                    self.hits += 1
                    return block
        return None

    def keep(self, block: RowBlock) -> None:
        """Remember a block, dropping the oldest ones beyond `max_rows`."""
        if block.x.size > self.max_rows:
            return
        with self._lock:
            self._blocks.insert(0, block)
            total = 0
            for i, kept in enumerate(self._blocks):
                total += kept.x.size
                if total > self.max_rows:
                    del self._blocks[i:]
                    break

    def rows(
        self,
        runner: Reader,
        cols: LineColumns,
        bounds: tuple[float, float],
        read: tuple[float, float] | None,
        ticket: Ticket = NEVER_CANCELLED,
        on_progress: ProgressCallback | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows with x in `bounds`: from a block, or by reading the range `read` (which holds
        `bounds` and at most `max_rows` rows: the caller knows) into a new block. None when no
        block covers them and there is nothing to read."""
        if runner.closed:  # kept rows do not outlive the session: the plot fails as without them
            raise ReaderClosedError("the DuckDB session of this plot was closed")
        lo, hi = bounds
        block = self.covering(lo, hi)
        if block is None:
            if read is None or not (read[0] <= lo and hi <= read[1]):
                return None
            table = runner.run(rows_sql(cols), cols.range_params(*read), on_progress, ticket)
            x, y = float_column(table, "x"), float_column(table, "y")
            if x.size and not bool(np.all(x[1:] >= x[:-1])):
                order = np.argsort(x, kind="stable")
                x, y = x[order], y[order]
            block = RowBlock(read[0], read[1], x, y)
            self.reads += 1
            self.keep(block)
        return block.between(lo, hi)
