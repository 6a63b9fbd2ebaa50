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
