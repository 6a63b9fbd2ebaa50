"""Evenly spaced x (a row number, a fixed sampling rate), recognised exactly so that it need not be stored."""

from __future__ import annotations

import math

import numpy as np


class EvenX:
    """Whether the x of rows 0..n are `(start + i * step) / divisor` exactly, as float64 computes it:
    then the x file is not needed. Times (seconds past the origin as `(epoch_us - origin) / 1e6`)
    are checked in whole microseconds, other x as they are."""

    def __init__(self, divisor: float) -> None:
        self.divisor = divisor
        self.start = math.nan
        self.step = math.nan
        self.even = True

    def values(self, first: int, stop: int) -> np.ndarray:
        """The x of rows [first, stop)."""
        x = self.start + np.arange(first, stop, dtype=np.float64) * self.step
        return x / self.divisor if self.divisor != 1.0 else x

    def check(self, x: np.ndarray, first: int) -> bool:
        """Whether the rows so far and these (rows first.. of the stream) are still even."""
        if self.even and first == 0:
            if x.size < 2:
                self.even = False
            elif self.divisor == 1.0:
                self.start, self.step = float(x[0]), float(x[1] - x[0])
            else:
                self.start = float(round(x[0] * self.divisor))
                self.step = float(round(x[1] * self.divisor)) - self.start
            self.even = self.even and self.step > 0
        if self.even:  # bit for bit: -0.0 == 0.0 would let a computed +0.0 stand for a -0.0
            bits = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
            self.even = bool(np.array_equal(bits, self.values(first, first + x.size).view(np.uint64)))
        return self.even

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The x of the given rows, bit for bit as `values` computes them."""
        x = self.start + rows.astype(np.float64) * self.step
        return x / self.divisor if self.divisor != 1.0 else x

    def first_rows(
        self, targets: np.ndarray, lo: int, hi: int, x0: float = 0.0, scale: float = 1.0, strict: bool = False
    ) -> np.ndarray | None:
        """Per target t, the first row in [lo, hi) whose `(x - x0) * scale` is >= t (> t if
        `strict`), `hi` if none: what a searchsorted over the computed rows gives, without
        computing them. Estimated from the spacing and checked on a window of rows around the
        estimate; None when a check fails (the caller then computes the rows)."""
        if hi <= lo:
            return np.full(targets.size, lo, np.int64)
        guess = ((targets / scale + x0) * self.divisor - self.start) / self.step
        guess = np.minimum(np.maximum(guess, lo - _WINDOW), hi + _WINDOW)  # np.clip costs more
        base = np.floor(guess).astype(np.int64) - _WINDOW // 2
        rows = np.minimum(np.maximum(base[:, None] + _OFFSETS, lo), hi - 1)
        key = (self.at(rows) - x0) * scale
        wanted = key > targets[:, None] if strict else key >= targets[:, None]
        # rows rise along a window and so does key (each float step is monotonic): `wanted` is
        # False then True, so a row holds a wanted one when its last does
        found = wanted[:, -1]
        # The window must start before the answer and reach it (or the end of the range).
        starts_before = (base <= lo) | ~wanted[:, 0]
        reaches = found | (base + _WINDOW - 1 >= hi - 1)
        if not bool((starts_before & reaches).all()):
            return None
        return np.where(found, rows[np.arange(rows.shape[0]), wanted.argmax(axis=1)], hi)


_WINDOW = 8  # rows checked around each estimate
_OFFSETS = np.arange(_WINDOW)
