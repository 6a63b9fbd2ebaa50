"""The one viewport type: data ranges on both axes, and the arithmetic of zoom and pan."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

# Relative to the magnitude of the values: stop zooming while float64 still resolves every pixel
# (2.2e-16 relative precision x 8192 pixels x a few ulps each). At epoch seconds (~1.7e9) this is
# a window of ~7 ms; time axes count from the data's first instant, so microseconds are reachable there.
MIN_SPAN = 4e-12
LIMIT = 2.0**1021  # ~4.5e307: ranges stay inside it, so hi - lo, midpoints and pads never overflow


@dataclass(frozen=True)
class Range:
    """A closed interval [lo, hi] with lo < hi, in axis units."""

    lo: float
    hi: float

    @classmethod
    def checked(cls, value: object, name: str) -> Range:
        """Build from a (lo, hi) pair; ValueError for non-finite or empty ranges."""
        try:
            lo, hi = (float(v) for v in value)  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a pair of numbers (lo, hi), got {value!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{name} must be finite, got {value!r}")
        if hi < lo:
            raise ValueError(f"{name} must be (lo, hi) with lo < hi, got {value!r}")
        if hi == lo:
            raise ValueError(f"{name} must not be empty, got {value!r}")
        if max(abs(lo), abs(hi)) > LIMIT:
            raise ValueError(f"{name} must lie within ±{LIMIT:.3g}, got {value!r}")
        return cls(lo, hi)

    @classmethod
    def around(cls, lo: float, hi: float, pad_fraction: float = 0.0) -> Range:
        """A range covering [lo, hi], widened by a fraction of its span (or to ±0.5 if empty), and
        kept within ±LIMIT so every span and position stays a finite float."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return cls(0.0, 1.0)
        lo, hi = max(lo, -LIMIT), min(hi, LIMIT)
        span = hi - lo
        if span <= 0:
            pad = max(abs(lo) * 0.05, 0.5)
            return cls(max(lo - pad, -LIMIT), min(hi + pad, LIMIT))
        return cls(max(lo - span * pad_fraction, -LIMIT), min(hi + span * pad_fraction, LIMIT))

    @property
    def span(self) -> float:
        """hi - lo."""
        return self.hi - self.lo

    def zoom(self, factor: float, anchor: float) -> Range:
        """Scale the span by `factor` (<1 zooms in) keeping `anchor` where it is."""
        lo = anchor - (anchor - self.lo) * factor
        hi = anchor + (self.hi - anchor) * factor
        smallest = MIN_SPAN * max(abs(lo), abs(hi), 1e-300)
        if not (hi - lo >= smallest and lo >= -LIMIT and hi <= LIMIT):
            return self  # too narrow for float64, or out past what every span can hold
        return Range(lo, hi)

    def shift(self, delta: float) -> Range:
        """Move by `delta` axis units (not past ±LIMIT)."""
        lo, hi = self.lo + delta, self.hi + delta
        if not (lo >= -LIMIT and hi <= LIMIT):
            return self
        return Range(lo, hi)

    def as_tuple(self) -> tuple[float, float]:
        """(lo, hi)."""
        return (self.lo, self.hi)


@dataclass(frozen=True)
class Viewport:
    """What the plot shows: x and y ranges; `y_auto` fits y to the data in view."""

    x: Range
    y: Range
    y_auto: bool = True

    def with_x(self, x: Range) -> Viewport:
        """Same y, new x."""
        return replace(self, x=x)

    def with_y(self, y: Range, auto: bool = False) -> Viewport:
        """Same x, new y (manual unless `auto`)."""
        return replace(self, y=y, y_auto=auto)
