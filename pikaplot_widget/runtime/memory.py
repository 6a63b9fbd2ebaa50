"""Memory pressure from psutil, and evicting caches before the machine runs short.

Levels by the share of system memory in use: green < 60 % <= yellow < 80 % <= orange < 95 % <= red.
At orange and red the monitor asks the registered evictors (result cache, GPU buffer pool,
density indexes, DuckDB's memory_limit; each part of the package registers its own) in turn to
free memory until usage is back under the 70 % target, and tells its listeners (the plots say so
in the widget).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

LEVELS = ("green", "yellow", "orange", "red")
DEFAULT_THRESHOLDS = (0.60, 0.80, 0.95)
DEFAULT_TARGET = 0.70

UsageReader = Callable[[], float]
Evictor = Callable[[], int]  # frees what it can; returns bytes freed (an estimate)
Listener = Callable[[str, str], None]  # (level, message)


def system_usage() -> float:
    """Share of system memory in use (0..1), as psutil reports it."""
    return psutil.virtual_memory().percent / 100.0


@dataclass
class Eviction:
    """One round of eviction: when, at which level, usage before and after, bytes freed by each evictor."""

    at: float
    level: str
    usage_before: float
    usage_after: float
    freed: dict[str, int] = field(default_factory=dict)


class PressureMonitor:
    """Reads memory usage, maps it to a level, evicts at orange/red. Thresholds are injectable."""

    def __init__(
        self,
        thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS,
        target: float = DEFAULT_TARGET,
        reader: UsageReader = system_usage,
        interval: float = 1.0,
    ) -> None:
        self._lock = threading.RLock()
        self._evictors: dict[str, tuple[int, Evictor]] = {}
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.evictions: list[Eviction] = []
        self.interval = interval
        self.configure(thresholds=thresholds, target=target, reader=reader)
        self.level = self.level_of(self.reader())

    def configure(
        self,
        thresholds: tuple[float, float, float] | None = None,
        target: float | None = None,
        reader: UsageReader | None = None,
    ) -> None:
        """Change thresholds (yellow, orange, red), the eviction target or the usage reader."""
        with self._lock:
            if thresholds is not None:
                yellow, orange, red = (float(t) for t in thresholds)
                if not 0 < yellow < orange < red <= 1:
                    raise ValueError(f"thresholds must rise within (0, 1], got {thresholds}")
                self.thresholds = (yellow, orange, red)
            if target is not None:
                self.target = float(target)
            if reader is not None:
                self.reader = reader

    def level_of(self, usage: float) -> str:
        """The level for a usage share."""
        yellow, orange, red = self.thresholds
        if usage >= red:
            return "red"
        if usage >= orange:
            return "orange"
        if usage >= yellow:
            return "yellow"
        return "green"

    def register_evictor(self, name: str, evictor: Evictor, order: int = 50) -> None:
        """Add (or replace) something that can give memory back; lower `order` is asked first
        (cheap caches before DuckDB's memory limit)."""
        with self._lock:
            self._evictors[name] = (int(order), evictor)

    def add_listener(self, listener: Listener) -> None:
        """Be told (level, message) when the level changes or caches are evicted."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop telling `listener`."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def check(self) -> str:
        """Read usage now; evict at orange/red; tell listeners; return the level."""
        with self._lock:
            usage = self.reader()
            level = self.level_of(usage)
            changed = level != self.level
            self.level = level
            message = ""
            if level in ("orange", "red"):
                eviction = Eviction(time.time(), level, usage, usage)
                for name, (_, evictor) in sorted(self._evictors.items(), key=lambda item: item[1][0]):
                    if usage <= self.target:
                        break
                    eviction.freed[name] = int(evictor())
                    usage = self.reader()
                eviction.usage_after = usage
                self.evictions.append(eviction)
                del self.evictions[:-100]
                freed = sum(eviction.freed.values())
                message = (
                    f"memory {level}: {eviction.usage_before:.0%} in use; freed {freed / 2**20:.0f} MiB "
                    f"of caches ({', '.join(eviction.freed) or 'nothing to free'})"
                )
            elif changed:
                message = f"memory {level}: {usage:.0%} in use"
            listeners = list(self._listeners) if (message and (changed or level in ("orange", "red"))) else []
        for listener in listeners:
            listener(level, message)
        return level

    def start(self) -> None:
        """Check every `interval` seconds in a daemon thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="pikaplot-memory", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the background checks."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()


monitor = PressureMonitor()
