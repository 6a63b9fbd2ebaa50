"""The shared part of every plot kind's provider: its source on a reader, its cache entries, close()."""

from __future__ import annotations

from collections.abc import Hashable

from ..engine import cache
from ..engine.runner import ProgressCallback, QueryStats, Reader, Ticket
from ..engine.sources import Source


class Provider:
    """Answers a plot's questions about its data through one reader of the session.

    A plot kind adds `scan_extent` (the data's bounds, once), `build_index` (once, after the
    extent) and its per-view query; results go through the shared result cache under this
    provider's id, so closing the plot drops exactly its own entries.
    """

    def __init__(self, source: Source, runner: Reader, stats: QueryStats) -> None:
        self.id = cache.next_owner_id()
        self.source = source
        self.runner = runner
        self.stats = stats
        self.cache_hits = 0
        self.closed = False
        runner.attach(source)

    @property
    def extent(self) -> object | None:
        """The data's bounds once scanned (each kind returns its own extent type)."""
        raise NotImplementedError

    def scan_extent(self, on_progress: ProgressCallback | None, ticket: Ticket) -> object:
        """Scan the data's bounds (the first thing a plot does)."""
        raise NotImplementedError

    def build_index(self, on_progress: ProgressCallback | None, ticket: Ticket) -> None:
        """Build what makes later views fast (after the extent; small tables may get nothing)."""

    def cached(self, *key: Hashable) -> object | None:
        """This plot's result for `key`, if the cache still holds it."""
        return cache.results.get((self.id, *key))

    def remember(self, value: object, *key: Hashable) -> None:
        """Keep a result in the shared cache under this plot's id."""
        cache.results.put((self.id, *key), value)

    def release(self) -> None:
        """Free what this plot kind holds beyond cache entries and registrations (indexes, GPU)."""

    def close(self) -> None:
        """Free the kind's resources, this plot's cached results and its registrations."""
        self.closed = True
        self.release()
        cache.results.drop(lambda key: isinstance(key, tuple) and key[0] == self.id)
        self.runner.detach(self.source)
        self.runner.close()  # the plot's own cursor and its progress poller
