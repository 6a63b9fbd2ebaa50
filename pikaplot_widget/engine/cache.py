"""An LRU cache of query results, bounded by bytes, shared by all plots of the process."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 256 * 2**20


@dataclass
class CacheStats:
    """Counters of a ResultCache."""

    hits: int = 0
    misses: int = 0
    evicted: int = 0
    evicted_bytes: int = 0


_owner_ids = itertools.count(1)


def next_owner_id() -> int:
    """A fresh id for a plot's entries in the shared cache (keys start with it)."""
    return next(_owner_ids)


def nbytes_of(value: object) -> int:
    """Bytes held by a result: the sum of its numpy arrays (plus a small constant)."""
    total = 256
    known = getattr(value, "nbytes", None)
    if isinstance(known, int):  # results that know their own size
        return total + known
    for item in vars(value).values() if hasattr(value, "__dict__") else ():
        total += int(getattr(item, "nbytes", 0))
    return total


class ResultCache:
    """Least-recently-used results by key; evicts the oldest past `max_bytes`."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.stats = CacheStats()

    def get(self, key: Hashable) -> object | None:
        """The cached value (now the most recent), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.stats.misses += 1
                return None
            self._items.move_to_end(key)
            self.stats.hits += 1
            return item[0]

    def put(self, key: Hashable, value: object) -> None:
        """Store a value; older ones go once the cache holds more than max_bytes."""
        size = nbytes_of(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._items[key] = (value, size)
            self.bytes += size
            self._shrink_locked(self.max_bytes)

    def shrink_to(self, max_bytes: int) -> int:
        """Evict least-recently-used entries until at most `max_bytes` remain; return bytes freed."""
        with self._lock:
            return self._shrink_locked(max_bytes)

    def _shrink_locked(self, max_bytes: int) -> int:
        freed = 0
        while self._items and self.bytes > max_bytes:
            _, (_, size) = self._items.popitem(last=False)
            self.bytes -= size
            freed += size
            self.stats.evicted += 1
            self.stats.evicted_bytes += size
        return freed

    def drop(self, predicate: Callable[[Hashable], bool]) -> None:
        """Remove every entry whose key satisfies `predicate` (e.g. a closed plot's)."""
        with self._lock:
            for key in [k for k in self._items if predicate(k)]:
                self.bytes -= self._items.pop(key)[1]

    def __len__(self) -> int:
        return len(self._items)


results = ResultCache()
