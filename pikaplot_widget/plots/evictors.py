"""What every plot kind shares that can give memory back: results, GPU buffers, DuckDB's buffers.

`register_shared_evictors()` hands them to the memory monitor (every worker calls it on start); each
plot kind registers its own evictors beside its provider (the scatter plot's density indexes, say).
DuckDB's memory_limit is lowered under pressure and raised back (engine/duckdb_memory.py).
"""

from __future__ import annotations

from ..engine import cache
from ..engine.duckdb_memory import (
    DUCKDB_COOLDOWN,
    MIN_DUCKDB_LIMIT,
    lower_duckdb_limits,
    parse_duckdb_size,
    restore_duckdb_limits,
)
from ..render.buffers import buffer_pool
from ..runtime.memory import monitor


def evict_results() -> int:
    """Empty the shared result cache."""
    return cache.results.shrink_to(0)


def evict_gpu_buffers() -> int:
    """Destroy every free buffer of the GPU pool."""
    return buffer_pool().trim(0)


def register_shared_evictors() -> None:
    """Give the monitor the evictors every plot shares and DuckDB's restorer (idempotent: names are
    replaced)."""
    monitor.register_evictor("results", evict_results, order=10)
    monitor.register_evictor("gpu buffers", evict_gpu_buffers, order=20)
    monitor.register_evictor("duckdb", lower_duckdb_limits, order=90, cooldown=DUCKDB_COOLDOWN)
    monitor.register_restorer("duckdb", restore_duckdb_limits)


__all__ = [
    "MIN_DUCKDB_LIMIT",
    "evict_gpu_buffers",
    "evict_results",
    "lower_duckdb_limits",
    "parse_duckdb_size",
    "register_shared_evictors",
    "restore_duckdb_limits",
]
