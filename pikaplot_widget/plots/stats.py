"""What a plot's worker counts and times, for `Plot.stats`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Timings:
    """Seconds spent per step for the latest exact frame."""

    extent: float = 0.0
    progressive: float = 0.0  # from creation to the approximate first frame
    index: float = 0.0
    query: float = 0.0
    downsample: float = 0.0
    render: float = 0.0


@dataclass
class Counters:
    """What the worker did: views asked for and served, prefetches."""

    views_requested: int = 0
    views_served: int = 0
    prefetched: int = 0
    prefetch_errors: int = 0  # prefetches that failed (the view itself will show its own error)
