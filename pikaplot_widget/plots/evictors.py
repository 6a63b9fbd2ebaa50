"""What every plot kind shares that can give memory back: results, GPU buffers, DuckDB's buffers.

`register_shared_evictors()` hands them to the memory monitor (every worker calls it on start); each
plot kind registers its own evictors beside its provider (the scatter plot's density indexes, say).
"""

from __future__ import annotations

import contextlib

import duckdb

from ..engine import cache
from ..engine.session import live_sessions
from ..render.buffers import buffer_pool
from ..runtime.memory import monitor

MIN_DUCKDB_LIMIT = 256 * 2**20


def evict_results() -> int:
    """Empty the shared result cache."""
    return cache.results.shrink_to(0)


def evict_gpu_buffers() -> int:
    """Destroy every free buffer of the GPU pool."""
    return buffer_pool().trim(0)


def lower_duckdb_limits() -> int:
    """Halve each session's DuckDB memory_limit (at least 256 MiB); DuckDB then frees buffers."""
    freed = 0
    for session in live_sessions():
        with contextlib.suppress(duckdb.Error):
            used = session.memory_in_use()
            session.set_memory_limit(max(MIN_DUCKDB_LIMIT, used // 2))
            freed += max(used - session.memory_in_use(), 0)
    return freed


def register_shared_evictors() -> None:
    """Give the monitor the evictors every plot shares (idempotent: names are replaced)."""
    monitor.register_evictor("results", evict_results, order=10)
    monitor.register_evictor("gpu buffers", evict_gpu_buffers, order=20)
    monitor.register_evictor("duckdb", lower_duckdb_limits, order=90)
