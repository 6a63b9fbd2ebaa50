"""The line index's geometry: bucket sizes and counts, the levels' columns, and `Pyramid`, the
names and geometry of one plot's index tables (index.py builds and queries them)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...engine.line_series import Series

FANOUT = 16
ROWS_PER_BUCKET = 256
FINE_ROWS_PER_BUCKET = 64  # for tables whose whole index then still fits IN_MEMORY_BYTES
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
IN_MEMORY_BYTES = 64 * 2**20  # levels that fit in this budget are also kept as numpy arrays


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
    """Level 0's rows per bucket: FINE_ROWS_PER_BUCKET where every level then still fits
    IN_MEMORY_BYTES as numpy arrays (up to ~45M rows of one series), else ROWS_PER_BUCKET. With the
    finer level 0, views of 205k-819k rows over 800 pixel columns merge buckets in numpy instead of
    reading their rows."""
    fine = bucket_count(rows, FINE_ROWS_PER_BUCKET) * series_count
    in_memory = fine * 8 * (len(LEVEL_COLUMNS) + 1) * FANOUT // (FANOUT - 1)
    return FINE_ROWS_PER_BUCKET if in_memory <= IN_MEMORY_BYTES else ROWS_PER_BUCKET
