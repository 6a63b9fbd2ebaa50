"""Connects the memory monitor to what can give memory back: results, GPU buffers, DuckDB."""

from __future__ import annotations

from .engine import cache
from .engine.session import live_sessions
from .memory import monitor
from .render.canvas import buffer_pool
from .scatter_provider import drop_density_indexes

MIN_DUCKDB_LIMIT = 256 * 2**20


def _evict_results() -> int:
    return cache.results.shrink_to(0)


def _evict_gpu_buffers() -> int:
    return buffer_pool().trim(0)


def _lower_duckdb_limits() -> int:
    """Halve each session's DuckDB memory_limit (at least 256 MiB); DuckDB then frees buffers."""
    freed = 0
    for session in live_sessions():
        try:
            used = session.connection.execute(
                "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
            ).fetchone()[0]
            session.set_memory_limit(max(MIN_DUCKDB_LIMIT, int(used) // 2))
            after = session.connection.execute(
                "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
            ).fetchone()[0]
            freed += max(int(used) - int(after), 0)
        except Exception:
            continue
    return freed


monitor.register_evictor("results", _evict_results)
monitor.register_evictor("gpu buffers", _evict_gpu_buffers)
monitor.register_evictor("density indexes", drop_density_indexes)
monitor.register_evictor("duckdb", _lower_duckdb_limits)
