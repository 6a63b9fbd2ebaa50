"""A table the user creates in pikaplot's session raises the session's own limit as it grows (the
memory monitor refits it), so its blocks stay in memory instead of spilling to the temp directory."""

from __future__ import annotations

import threading

import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine import session as session_module
from pikaplot_widget.engine.duckdb_memory import parse_duckdb_size
from pikaplot_widget.runtime.memory import monitor

CAP = 320 * 2**20
ROWS = 40_000_000  # two DOUBLE columns: ~640 MB, twice the starting limit


@pytest.fixture
def checking_monitor():
    """The global monitor stopped, checked by hand every 50 ms, restorers after one calm check."""
    was_running, after = monitor.running, monitor.restore_after
    monitor.stop()
    monitor.configure(restore_after=1)
    stop = threading.Event()

    def check() -> None:
        while not stop.wait(0.05):
            monitor.check()

    thread = threading.Thread(target=check, daemon=True)
    thread.start()
    yield monitor
    stop.set()
    thread.join()
    monitor.configure(restore_after=after)
    if was_running:
        monitor.start()


def _create_and_measure(session: pk.Session) -> tuple[int, int, int]:
    session.connection.execute(f"CREATE TABLE big AS SELECT random() AS a, random() AS b FROM range({ROWS})")
    held, spilled = session.connection.execute(
        "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) FROM duckdb_memory() "
        "WHERE tag = 'IN_MEMORY_TABLE'"
    ).fetchone()
    return int(held), int(spilled), parse_duckdb_size(session.memory_limit)


def test_a_growing_table_raises_the_limit_instead_of_spilling(checking_monitor, monkeypatch):
    monkeypatch.setattr(session_module, "memory_cap", lambda available=None: CAP)
    session = pk.Session()
    try:
        assert parse_duckdb_size(session.memory_limit) <= CAP
        held, spilled, limit = _create_and_measure(session)
        assert held >= ROWS * 16 * 0.9 and spilled == 0, f"{spilled / 2**20:.0f} MiB spilled"
        assert limit >= held
    finally:
        session.close()
    control = pk.Session()  # the same without the refit: the table spills
    try:
        checking_monitor._restorers.pop("duckdb tables")
        _, spilled, _ = _create_and_measure(control)
        assert spilled > 0
    finally:
        control.close()
        checking_monitor.register_restorer("duckdb tables", session_module.refit_limits)
