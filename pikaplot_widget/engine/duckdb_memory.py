"""DuckDB's side of memory pressure: its memory_limit is lowered under pressure (then left alone for a
cooldown) and raised back, by doubling on each calm check, to the limit the session had before:
never above it. `plots/evictors.py` hands these to the memory monitor."""

from __future__ import annotations

import contextlib
import math
import re
import threading
import weakref
from dataclasses import dataclass

import duckdb

from .session import Session, live_sessions

MIN_DUCKDB_LIMIT = 256 * 2**20
DUCKDB_COOLDOWN = 5.0  # seconds after lowering before DuckDB's limit may be lowered again

_UNITS = {  # unit: (bytes, multiplier)
    "byte": (1, 1024),
    "bytes": (1, 1024),
    **{unit: (1024**power, 1024) for power, unit in enumerate(("KiB", "MiB", "GiB", "TiB", "PiB"), 1)},
    **{unit: (1000**power, 1000) for power, unit in enumerate(("kB", "MB", "GB", "TB", "PB"), 1)},
}
_SIZE = re.compile(r"\s*(\d+)(?:\.(\d))?\s*([A-Za-z]+)\s*")


def parse_duckdb_size(text: str) -> int:
    """The fewest bytes DuckDB prints as `text` ("2.9 GiB": the digit after the point is the next unit's
    share of this one, rounded down), so setting them shows `text` again and stays within the original."""
    match = _SIZE.fullmatch(text)
    if match is None or match.group(3) not in _UNITS:
        raise ValueError(f"not a DuckDB size: {text!r}")
    whole, tenth = int(match.group(1)), int(match.group(2) or 0)
    unit, step = _UNITS[match.group(3)]
    return whole * unit + math.ceil(tenth * step / 10) * (unit // step)


@dataclass
class _Lowered:
    """A session whose limit the evictor lowered: the limit it had, and the setting as last left."""

    original: int
    limit: int
    text: str


_lowered: weakref.WeakKeyDictionary[Session, _Lowered] = weakref.WeakKeyDictionary()
_lowered_lock = threading.Lock()


def _set_limit(session: Session, limit: int) -> str:
    """Set the limit to exactly `limit` bytes; the setting as DuckDB prints it."""
    session.set_memory_limit(f"{int(limit)}B")
    return session.memory_limit


def _lower(session: Session) -> int:
    """Lower the limit to half of what DuckDB holds (at least 256 MiB, never up); bytes freed."""
    text = session.memory_limit
    state = _lowered.get(session)
    if state is None or state.text != text:  # first time, or set by someone else since: a new original
        state = _Lowered(parse_duckdb_size(text), parse_duckdb_size(text), text)
    used = session.memory_in_use()
    limit = min(state.limit, max(MIN_DUCKDB_LIMIT, used // 2))
    if limit >= state.limit:
        return 0
    state.limit, state.text = limit, _set_limit(session, limit)
    _lowered[session] = state
    return max(used - session.memory_in_use(), 0)


def lower_duckdb_limits() -> int:
    """Halve each session's DuckDB memory_limit (at least 256 MiB); DuckDB then frees buffers. The limit
    a session had before is remembered for `restore_duckdb_limits`."""
    freed = 0
    with _lowered_lock:
        for session in live_sessions():
            with contextlib.suppress(duckdb.Error):
                freed += _lower(session)
    return freed


def _raise(session: Session, state: _Lowered) -> int:
    """Double the session's limit, up to its original; bytes raised (0 when it is someone else's now)."""
    if session.memory_limit != state.text:
        del _lowered[session]
        return 0
    before = state.limit
    state.limit = min(state.original, before * 2)
    state.text = _set_limit(session, state.limit)
    if state.limit >= state.original:
        del _lowered[session]
    return state.limit - before


def restore_duckdb_limits() -> int:
    """One step back for every session the evictor lowered: double its limit, never past the original
    (a limit someone else set since is left alone). Bytes of limit given back."""
    raised = 0
    with _lowered_lock:
        for session, state in list(_lowered.items()):
            try:
                raised += _raise(session, state)
            except duckdb.Error:  # closed: nothing to give back
                _lowered.pop(session, None)
    return raised
