"""The line index's geometry: bucket sizes and counts, the levels' columns, and `Pyramid`, the
names and geometry of one plot's index tables (index.py builds and queries them)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...engine.line_series import Series

FANOUT = 16
ROWS_PER_BUCKET = 256
FINE_ROWS_PER_BUCKET = (64, 128)  # for tables whose whole index then still fits IN_MEMORY_BYTES
MIN_BUCKETS_PER_COLUMN = 4
MIN_ROWS = 1_000_000  # below this a plain M4 over the rows is as fast as the index
MAX_BUCKETS = 1 << 22
TOP_LEVEL_BUCKETS = 4096


LEVEL_COLUMNS = (
    "k",
    "x_first",
    "y_first",
    "x_at_min",
    "y_min",
    "x_at_max",
    "y_max",
    "x_last",
    "y_last",
    "x_gap",
    "n",
)
IN_MEMORY_BYTES = 96 * 2**20  # levels that fit in this budget are also kept as numpy arrays


@dataclass(frozen=True)
class Pyramid:
    """Names and geometry of the index tables of one line plot."""

    tables: tuple[str, ...]  # level 0 first
    origin: float
    bucket_width: float  # at level 0
    buckets: int  # at level 0
    series: Series | None = None  # several series: every level keeps buckets per series (column `s`)
    arrays: dict[int, dict[str, np.ndarray]] = field(default_factory=dict, compare=False, repr=False)

    def width(self, level: int) -> float:
        """Bucket width at a level, in axis units."""
        return self.bucket_width * FANOUT**level

    def level_for(self, column_width: float) -> int | None:
        """The coarsest level with at least MIN_BUCKETS_PER_COLUMN buckets per pixel column."""
        best = None
        for level in range(len(self.tables)):
            if column_width / self.width(level) >= MIN_BUCKETS_PER_COLUMN:
                best = level
        return best


def bucket_count(rows: int, rows_per_bucket: int = ROWS_PER_BUCKET, smallest: int = TOP_LEVEL_BUCKETS) -> int:
    """Level-0 buckets for a table of `rows` rows."""
    return int(min(max(math.ceil(rows / rows_per_bucket), smallest), MAX_BUCKETS))


def rows_per_bucket_for(rows: int, series_count: int = 1) -> int:
    """Level 0's rows per bucket: the smallest of FINE_ROWS_PER_BUCKET with which every level still
    fits IN_MEMORY_BYTES as numpy arrays (64 up to ~60M rows of one series, 128 up to ~120M), else
    ROWS_PER_BUCKET. A view reads its rows below 4 buckets per pixel column: at 800 columns 205k rows
    with 64-row buckets, 410k with 128, 819k with 256; above, it merges buckets in numpy."""
    for size in FINE_ROWS_PER_BUCKET:
        buckets = bucket_count(rows, size) * series_count
        if buckets * 8 * (len(LEVEL_COLUMNS) + 1) * FANOUT // (FANOUT - 1) <= IN_MEMORY_BYTES:
            return size
    return ROWS_PER_BUCKET
