"""Memory pressure from psutil and the container's cgroup, and evicting caches before the OOM killer acts.

Levels by the share of memory in use: green < 60 % <= yellow < 80 % <= orange < 95 % <= red. The share is
the host's (psutil) or, in a container (a JupyterHub pod), the tightest cgroup's usage over its limit,
whichever is higher. At orange and red the monitor asks the registered evictors (result cache, GPU buffer
pool, density indexes, DuckDB's memory_limit; each part of the package registers its own) in turn to
free memory until usage is back under the 70 % target, and tells its listeners (the plots say so in the
widget). An evictor may have a cooldown: it is skipped until that long after its last run, so its effect
is measured before it is asked again. After a few calm checks in a row (green or yellow) the monitor
calls the registered restorers, which give back step by step what the evictors took (DuckDB's limit).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import psutil

LEVELS = ("green", "yellow", "orange", "red")
PRESSURE_LEVELS = ("orange", "red")
DEFAULT_THRESHOLDS = (0.60, 0.80, 0.95)
DEFAULT_TARGET = 0.70
DEFAULT_RESTORE_AFTER = 5  # calm checks in a row before the restorers run
HISTORY = 100  # evictions and restores kept

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
UNLIMITED = 2**62  # cgroup v1 writes "no limit" as a huge number (9223372036854771712); at or past: none

UsageReader = Callable[[], float]
Evictor = Callable[[], int]  # frees what it can; returns bytes freed (an estimate)
Restorer = Callable[[], int]  # gives back what an evictor took; returns bytes given back (0: nothing left)
Listener = Callable[[str, str], None]  # (level, message)
Clock = Callable[[], float]  # seconds, for cooldowns


# ---- cgroup v1 / v2 ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Files:
    limit: str
    usage: str
    inactive: str  # key in memory.stat: reclaimable page cache, not counted as in use


_V2 = _Files("memory.max", "memory.current", "inactive_file")
_V1 = _Files("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")


@dataclass(frozen=True)
class CgroupMemory:
    """One cgroup with a finite memory limit: its directory, limit and usage in bytes (the usage without
    the inactive page cache the kernel reclaims before it kills)."""

    path: Path
    limit: int
    current: int

    @property
    def share(self) -> float:
        """Usage over the limit (0..1, more when over)."""
        return self.current / self.limit if self.limit > 0 else 1.0

    @property
    def available(self) -> int:
        """Bytes left under the limit."""
        return max(self.limit - self.current, 0)


def _read_bytes(path: Path) -> int | None:
    """A byte count from a cgroup file; None for "max", the v1 unlimited sentinel, or no readable number."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    value = int(text)
    return value if value < UNLIMITED else None


def _read_stat(path: Path, key: str) -> int:
    """One counter of a memory.stat file (0 when the file or the key is missing)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _memory_hierarchies(proc_cgroup: Path) -> list[tuple[_Files, str]]:
    """(v1 or v2 files, cgroup path) of each hierarchy with the memory controller, from /proc/self/cgroup."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return []
    found: list[tuple[_Files, str]] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and not controllers:
            found.append((_V2, path))
        elif "memory" in controllers.split(","):
            found.append((_V1, path))
    return found


def _lineage(base: Path, path: str) -> list[Path]:
    """The process's cgroup directory under `base`, then its ancestors up to `base` itself."""
    parts = [part for part in PurePosixPath(path).parts if part not in ("/", ".")]
    if ".." in parts:  # outside our cgroup namespace: only the mount root is ours to read
        parts = []
    return [base.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _read_cgroup(directory: Path, files: _Files) -> CgroupMemory | None:
    """The cgroup in `directory` if it sets a finite limit and reports its usage."""
    limit = _read_bytes(directory / files.limit)
    current = _read_bytes(directory / files.usage)
    if limit is None or current is None:
        return None
    inactive = _read_stat(directory / "memory.stat", files.inactive)
    return CgroupMemory(directory, limit, current - min(inactive, current))


def cgroup_memory(root: Path | None = None, proc_cgroup: Path | None = None) -> list[CgroupMemory]:
    """Every cgroup above this process with a finite memory limit, leaf first (empty outside containers).

    `root` is where the cgroup file system is mounted (CGROUP_ROOT), `proc_cgroup` the file naming the
    process's cgroups (PROC_SELF_CGROUP); v1's memory controller lives under `root / "memory"`."""
    root = CGROUP_ROOT if root is None else root
    proc_cgroup = PROC_SELF_CGROUP if proc_cgroup is None else proc_cgroup
    found: list[CgroupMemory] = []
    for files, path in _memory_hierarchies(proc_cgroup):
        base = root if files is _V2 else root / "memory"
        for directory in _lineage(base, path):
            group = _read_cgroup(directory, files)
            if group is not None and group not in found:
                found.append(group)
    return found


def host_usage() -> float:
    """Share of the host's memory in use (0..1), as psutil reports it."""
    return psutil.virtual_memory().percent / 100.0


def system_usage(root: Path | None = None, proc_cgroup: Path | None = None) -> float:
    """Share of memory in use: the host's, or the tightest cgroup's usage over its limit if higher."""
    return max([host_usage(), *(group.share for group in cgroup_memory(root, proc_cgroup))])


def available_memory(root: Path | None = None, proc_cgroup: Path | None = None) -> int:
    """Bytes this process may still use: the host's available memory or what the cgroups leave, if less."""
    host = int(psutil.virtual_memory().available)
    return min([host, *(group.available for group in cgroup_memory(root, proc_cgroup))])


def memory_budget(root: Path | None = None, proc_cgroup: Path | None = None) -> int:
    """Bytes this process may use in all: the host's total memory or the tightest cgroup limit."""
    host = int(psutil.virtual_memory().total)
    return min([host, *(group.limit for group in cgroup_memory(root, proc_cgroup))])


# ---- the monitor ------------------------------------------------------------------------------


@dataclass
class Eviction:
    """One round of eviction: when (time.time()), at which level, usage before and after, bytes freed by
    each evictor asked, and the evictors skipped because they were cooling down."""

    at: float
    level: str
    usage_before: float
    usage_after: float
    freed: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Restore:
    """One round of restoring: when (time.time()), at which level and usage, bytes each restorer gave back."""

    at: float
    level: str
    usage: float
    restored: dict[str, int] = field(default_factory=dict)


@dataclass
class _EvictorEntry:
    order: int
    evict: Evictor
    cooldown: float
    last_run: float | None = None

    def cooling(self, now: float) -> bool:
        """Whether it ran less than `cooldown` seconds ago."""
        return self.last_run is not None and now - self.last_run < self.cooldown


class PressureMonitor:
    """Reads memory usage, maps it to a level, evicts at orange/red and restores after calm checks.
    Thresholds, the reader and the clock are injectable."""

    def __init__(
        self,
        thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS,
        target: float = DEFAULT_TARGET,
        reader: UsageReader = system_usage,
        interval: float = 1.0,
        clock: Clock = time.monotonic,
        restore_after: int = DEFAULT_RESTORE_AFTER,
    ) -> None:
        self._lock = threading.RLock()
        self._evictors: dict[str, _EvictorEntry] = {}
        self._restorers: dict[str, tuple[int, Restorer]] = {}
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._calm_checks = 0
        self.evictions: list[Eviction] = []
        self.restores: list[Restore] = []
        self.interval = interval
        self.configure(
            thresholds=thresholds, target=target, reader=reader, clock=clock, restore_after=restore_after
        )
        self.level = self.level_of(self.reader())

    def configure(
        self,
        thresholds: tuple[float, float, float] | None = None,
        target: float | None = None,
        reader: UsageReader | None = None,
        clock: Clock | None = None,
        restore_after: int | None = None,
    ) -> None:
        """Change thresholds (yellow, orange, red), the eviction target, the usage reader, the clock of the
        cooldowns (a new clock forgets the cooldowns and calm checks counted so far) or how many calm
        checks in a row come before the restorers run."""
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
            if restore_after is not None:
                if int(restore_after) < 1:
                    raise ValueError(f"restore_after must be at least 1, got {restore_after}")
                self.restore_after = int(restore_after)
            if clock is not None:
                self.clock = clock
                self._forget_history()

    def _forget_history(self) -> None:
        self._calm_checks = 0
        for entry in self._evictors.values():
            entry.last_run = None

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

    def register_evictor(self, name: str, evictor: Evictor, order: int = 50, cooldown: float = 0.0) -> None:
        """Add (or replace) something that can give memory back; lower `order` is asked first (cheap
        caches before DuckDB's memory limit). After it ran, it is skipped for `cooldown` seconds."""
        with self._lock:
            self._evictors[name] = _EvictorEntry(int(order), evictor, float(cooldown))

    def register_restorer(self, name: str, restorer: Restorer, order: int = 50) -> None:
        """Add (or replace) something that gives back, step by step, what an evictor took; it is called
        on every calm check once `restore_after` calm checks came in a row (lower `order` first)."""
        with self._lock:
            self._restorers[name] = (int(order), restorer)

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
        """Read usage; evict at orange/red, restore after calm checks; tell listeners; return the level."""
        with self._lock:
            usage = self.reader()
            level = self.level_of(usage)
            changed = level != self.level
            self.level = level
            if level in PRESSURE_LEVELS:
                self._calm_checks = 0
                message = self._evict(level, usage)
            else:
                self._calm_checks += 1
                if self._calm_checks >= self.restore_after:
                    self._restore(level, usage)
                message = f"memory {level}: {usage:.0%} in use" if changed else ""
            listeners = list(self._listeners) if message else []
        for listener in listeners:
            listener(level, message)
        return level

    def _evict(self, level: str, usage: float) -> str:
        """One eviction round, cheapest first, until usage is under the target; its message."""
        now = self.clock()
        eviction = Eviction(time.time(), level, usage, usage)
        for name, entry in sorted(self._evictors.items(), key=lambda item: item[1].order):
            if usage <= self.target:
                break
            if entry.cooling(now):
                eviction.skipped.append(name)
                continue
            eviction.freed[name] = int(entry.evict())
            entry.last_run = now
            usage = self.reader()
        eviction.usage_after = usage
        self.evictions.append(eviction)
        del self.evictions[:-HISTORY]
        freed = sum(eviction.freed.values())
        return (
            f"memory {level}: {eviction.usage_before:.0%} in use; freed {freed / 2**20:.0f} MiB "
            f"of caches ({', '.join(eviction.freed) or 'nothing to free'})"
        )

    def _restore(self, level: str, usage: float) -> None:
        """Ask every restorer for its next step; record the round if any gave something back."""
        record = Restore(time.time(), level, usage)
        for name, (_, restorer) in sorted(self._restorers.items(), key=lambda item: item[1][0]):
            given = int(restorer())
            if given > 0:
                record.restored[name] = given
        if record.restored:
            self.restores.append(record)
            del self.restores[:-HISTORY]

    @property
    def running(self) -> bool:
        """Whether the background checks run."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Check every `interval` seconds in a daemon thread (idempotent)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="pikaplot-memory", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the background checks (and wait for a check in progress, unless called from one)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval + 5.0)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()


monitor = PressureMonitor()
