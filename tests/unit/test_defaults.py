"""The DuckDB settings a session gets by default, read back from a real DuckDB with current_setting:
the lean memory_limit and its growth with plots and in-memory tables, the threads, the spill folder,
and that a user's own limit, threads or connection are left as given."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine import session as session_module
from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.evictors import parse_duckdb_size
from pikaplot_widget.plots.line.index import build_pyramid, drop_pyramid

from .test_index_builds import wait_index

GiB, MiB = 2**30, 2**20


def setting(session: pk.Session, name: str) -> str:
    row = session.connection.execute("SELECT current_setting(?)::VARCHAR", [name]).fetchone()
    assert row is not None
    return str(row[0])


def duckdb_prints(limit: str | int) -> str:
    """How a plain DuckDB connection prints `limit` once set (the independent reference)."""
    con = duckdb.connect()
    value = f"{limit}B" if isinstance(limit, int) else limit
    con.execute("SET memory_limit = ?", [value])
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.close()
    assert row is not None
    return str(row[0])


def duckdb_cores() -> int:
    """DuckDB's own default thread count on this machine."""
    row = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def plenty(monkeypatch: pytest.MonkeyPatch) -> int:
    """Pretend 64 GiB are available and 128 GiB in all (the cap is then far away)."""
    monkeypatch.setattr(session_module, "available_memory", lambda: 64 * GiB)
    monkeypatch.setattr(session_module, "memory_budget", lambda: 128 * GiB)
    return 64 * GiB


def test_default_formulas_by_hand() -> None:
    cap = 16 * GiB
    assert session_module.default_memory_limit(2, 1, cap) == 384 * MiB  # 2 threads: the 384 MiB floor
    assert session_module.default_memory_limit(16, 1, cap) == 384 * MiB  # 16 x 8 MiB x 3: the floor
    assert session_module.default_memory_limit(16, 2, cap) == 512 * MiB  # 16 x 8 MiB x 4
    assert session_module.default_memory_limit(16, 4, cap) == 768 * MiB  # 16 x 8 MiB x 6
    assert session_module.default_memory_limit(32, 4, cap) == 1536 * MiB
    assert session_module.default_memory_limit(16, 4, 700 * MiB) == 700 * MiB  # never past the cap
    assert session_module.memory_cap(40 * GiB) == 10 * GiB
    assert session_module.memory_cap(100 * MiB) == 256 * MiB  # the floor
    assert session_module.default_threads(2, 16 * GiB) == 2
    assert session_module.default_threads(128, 16 * GiB) == 16
    assert session_module.default_threads(16, 300 * MiB) == 3  # 96 MiB of limit per thread
    assert session_module.default_threads(8, 10 * MiB) == 1


def test_session_defaults_read_back(plenty: int) -> None:
    session = pk.Session()
    try:
        threads = min(duckdb_cores(), 16)
        assert int(setting(session, "threads")) == threads
        assert setting(session, "memory_limit") == duckdb_prints(max(384 * MiB, threads * 16 * MiB))
        folder = Path(setting(session, "temp_directory"))
        assert folder.parent == Path(tempfile.gettempdir())
        assert folder.name.startswith(f"pikaplot-duckdb-{os.getpid()}-")
        assert setting(session, "enable_external_file_cache") == "true"
    finally:
        session.close()


def test_each_session_spills_into_a_folder_of_its_own(plenty: int) -> None:
    """Each session spills into its own folder; closing one leaves the other's spilled rows intact
    (the sum of every row, read back from the temp folder, is exact)."""
    first, second = pk.Session(memory_limit="64MB"), pk.Session(memory_limit="64MB")
    try:
        assert setting(first, "temp_directory") != setting(second, "temp_directory")
        for s in (first, second):
            s.connection.execute("CREATE TABLE t AS SELECT range::DOUBLE AS x FROM range(20000000)")
        spilled = second.connection.execute(
            "SELECT sum(temporary_storage_bytes) FROM duckdb_memory()"
        ).fetchone()
        assert spilled is not None and spilled[0] > 0  # 160 MB of rows under a 64 MB limit
        first.close()
        total = second.connection.execute("SELECT sum(x) FROM t").fetchone()
        assert total is not None and total[0] == pytest.approx(20_000_000 * 19_999_999 / 2)
    finally:
        first.close()
        second.close()


def test_small_machine_caps_limit_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "available_memory", lambda: 1200 * MiB)
    session = pk.Session()
    try:
        assert setting(session, "memory_limit") == duckdb_prints(300 * MiB)  # a quarter of 1200 MiB
        assert int(setting(session, "threads")) == min(duckdb_cores(), 3)
        for _ in range(6):
            session.reader()
        assert setting(session, "memory_limit") == duckdb_prints(300 * MiB)  # plots do not pass the cap
    finally:
        session.close()


@pytest.mark.parametrize("limit", ["3GB", "700MiB", 5 * GiB])
def test_explicit_memory_limit_wins(plenty: int, limit: str | int) -> None:
    session = pk.Session(memory_limit=limit, threads=16)
    try:
        expected = duckdb_prints(f"{limit // MiB}MiB" if isinstance(limit, int) else limit)
        assert setting(session, "memory_limit") == expected
        session.connection.execute("CREATE TABLE t AS SELECT range::DOUBLE AS x FROM range(4000000)")
        for _ in range(5):
            session.reader()
        assert setting(session, "memory_limit") == expected  # neither plots nor tables move it
        assert setting(session, "threads") == "16"
    finally:
        session.close()


def test_wrapped_connection_keeps_its_settings(plenty: int) -> None:
    con = duckdb.connect()
    con.execute("SET memory_limit = '5GB'")
    con.execute("SET threads = 1")
    before = {
        name: str(con.execute(f"SELECT current_setting('{name}')").fetchone())
        for name in ("memory_limit", "threads", "temp_directory")
    }
    session = pk.Session(connection=con)
    session.reader()
    after = {name: str(con.execute(f"SELECT current_setting('{name}')").fetchone()) for name in before}
    assert after == before
    session.close()


def test_limit_grows_with_plots_on_many_threads(plenty: int) -> None:
    session = pk.Session(threads=32)
    try:
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 2)
        readers = [session.reader() for _ in range(4)]
        assert len(readers) == 4
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 6)  # 1.5 GiB
        for reader in readers:
            reader.close()
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 2)  # no plot open: back down
        session.reader()
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 3)
    finally:
        session.close()


def test_limit_comes_back_down_as_plots_close(plenty: int) -> None:
    """6 plots open, 5 closed: the limit is the formula's for one plot again, (1 + 2) x 32 x 8 MiB."""
    session = pk.Session(threads=32)
    try:
        readers = [session.reader() for _ in range(6)]
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 8)  # 2 GiB
        for reader in readers[1:]:
            reader.close()
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 3)  # 768 MiB
        for _ in range(10):  # many re-run cells: each opens a plot and closes the last one
            fresh = session.reader()
            readers[0].close()
            readers[0] = fresh
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 3)
    finally:
        session.close()


def test_limit_is_not_lowered_below_what_duckdb_holds(plenty: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "memory_budget", lambda: 2 * GiB)  # tables add nothing
    session = pk.Session(threads=32)
    try:
        readers = [session.reader() for _ in range(6)]
        session.connection.execute(
            "CREATE TEMP TABLE held AS SELECT range::DOUBLE AS x, random() AS y FROM range(90000000)"
        )  # ~1.4 GiB in the buffer pool, more than the 384 MiB the formula gives for no plot
        for reader in readers:
            reader.close()
        row = session.connection.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()
        assert row is not None
        held = int(row[0])
        limit = parse_duckdb_size(setting(session, "memory_limit"))
        assert held > 1 * GiB + 64 * MiB  # else the test does not test anything
        assert limit >= held - 64 * MiB  # DuckDB prints 0.1 GiB steps
        assert limit < 32 * 8 * MiB * 8 - 64 * MiB  # but it did come down from 2 GiB
    finally:
        session.close()


def test_transient_readers_do_not_count_as_plots(plenty: int) -> None:
    session = pk.Session(threads=32)
    try:
        plot = session.reader()
        setup = [session.reader(transient=True) for _ in range(4)]
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 3)
        for reader in setup:
            reader.close()
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 3)
        plot.close()
    finally:
        session.close()


def test_line_by_column_setup_does_not_raise_the_limit(plenty: int) -> None:
    """line(by=)'s top-values query runs on a transient reader: only the plot itself counts."""
    rng = np.random.default_rng(3)
    n = 20_000
    table = pa.table(
        {"x": np.arange(n, dtype=np.float64), "y": rng.normal(size=n), "g": rng.integers(0, 5, n)}
    )
    session = pk.Session(threads=32)
    try:
        plot = pk.line(table, x="x", y="y", by="g", session=session, width=200, height=120)
        plot.to_array(timeout=60)
        assert plot.stats["series_shown"] == 5
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 3)
        plot.close()
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 2)
    finally:
        session.close()


def test_closed_plots_do_not_raise_the_limit(plenty: int) -> None:
    session = pk.Session(threads=32)
    try:
        for _ in range(6):
            session.reader().close()
        session.reader()
        assert setting(session, "memory_limit") == duckdb_prints(32 * 8 * MiB * 3)  # one open plot
    finally:
        session.close()


def test_in_memory_tables_raise_the_limit(plenty: int) -> None:
    session = pk.Session()
    try:
        before = parse_duckdb_size(setting(session, "memory_limit"))
        session.connection.execute(
            "CREATE TABLE big AS SELECT range::DOUBLE AS x, random() AS y FROM range(6000000)"
        )
        row = session.connection.execute(
            "SELECT sum(memory_usage_bytes + temporary_storage_bytes) FROM duckdb_memory() "
            "WHERE tag = 'IN_MEMORY_TABLE'"
        ).fetchone()
        assert row is not None and row[0] > 64 * MiB  # 6M rows x 2 doubles
        session.reader()
        after = parse_duckdb_size(setting(session, "memory_limit"))
        working = max(384 * MiB, min(duckdb_cores(), 16) * 8 * MiB * 3)
        assert after == pytest.approx(working + int(row[0]), abs=110 * MiB)  # DuckDB prints 0.1 GiB steps
        assert after > before + 32 * MiB
    finally:
        session.close()


def test_limit_set_by_someone_else_is_not_raised(plenty: int) -> None:
    session = pk.Session(threads=32)
    try:
        session.set_memory_limit("300MB")  # the user, or the memory monitor under pressure
        readers = [session.reader() for _ in range(4)]
        for reader in readers:
            reader.close()
        assert setting(session, "memory_limit") == duckdb_prints("300MB")
    finally:
        session.close()


def test_user_limit_never_changes_as_plots_open_and_close(plenty: int) -> None:
    session = pk.Session(threads=16, memory_limit="3GB")
    try:
        readers = [session.reader() for _ in range(6)]
        assert setting(session, "memory_limit") == duckdb_prints("3GB")
        for reader in readers:
            reader.close()
        session.reader(transient=True).close()
        assert setting(session, "memory_limit") == duckdb_prints("3GB")
    finally:
        session.close()


def test_file_database_spills_beside_its_file(plenty: int, tmp_path: Path) -> None:
    path = tmp_path / "data.duckdb"
    session = pk.Session(str(path))
    try:
        assert setting(session, "temp_directory") == f"{path}.tmp"
        assert setting(session, "memory_limit") == duckdb_prints(
            max(384 * MiB, min(duckdb_cores(), 16) * 32 * MiB)
        )
    finally:
        session.close()


def test_default_session_plots_a_line_within_the_lean_limit(plenty: int) -> None:
    """A real plot at defaults over a random walk: the index is built under the default limit, and a
    deep view's y range equals a direct SQL min/max of the rows in view."""
    rng = np.random.default_rng(5)
    x = np.arange(1_500_000, dtype=np.float64)
    table = pa.table({"x": x, "y": np.cumsum(rng.normal(size=x.size))})
    session = pk.Session()
    try:
        plot = pk.line(table, x="x", y="y", session=session, width=300, height=200)
        plot.to_array(timeout=120)
        wait_index(plot, 120)
        assert plot.stats["index_levels"] >= 1
        for _ in range(3):
            lo = float(rng.uniform(0, x.size - 400))
            plot.x_range = (lo, lo + 150.0)
            plot.to_array(timeout=120)
            data = plot.controller.data
            assert data is not None
            inside = table.column("y").to_numpy()[(x >= lo) & (x <= lo + 150.0)]
            assert data.y_min_in_view == pytest.approx(inside.min())
            assert data.y_max_in_view == pytest.approx(inside.max())
        assert setting(session, "memory_limit") == duckdb_prints(
            max(384 * MiB, min(duckdb_cores(), 16) * 48 * MiB)
        )
        plot.close()
    finally:
        session.close()


def test_wide_queries_run_under_the_wider_limit(plenty: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A line index built in one statement over more buckets than a chunk holds (SQL text: no range
    skips) runs under WIDE_LIMIT; the limit is the working one before and after, and level 0 counts
    every row (a direct SQL count)."""
    session = pk.Session(threads=4)
    try:
        sql = "SELECT i::DOUBLE AS x, sin(i / 500.0) AS y FROM range(300000) r(i)"
        cols = LineColumns.checked(resolve_source(sql, session), "x", "y")
        runner = session.reader()
        extent = fetch_extent(runner, cols)
        seen: list[str] = []
        run = runner.run

        def recording(query, *args, **kwargs):
            if "GROUP BY" in query and "range(300000)" in query:
                seen.append(setting(session, "memory_limit"))
            return run(query, *args, **kwargs)

        monkeypatch.setattr(runner, "run", recording)
        before = setting(session, "memory_limit")
        assert parse_duckdb_size(before) < session_module.WIDE_LIMIT
        pyramid = build_pyramid(runner, cols, extent, min_rows=0, rows_per_bucket=8, buckets_per_chunk=1000)
        assert pyramid is not None and seen == [duckdb_prints(session_module.WIDE_LIMIT)], seen
        after = parse_duckdb_size(setting(session, "memory_limit"))  # back down after the build, to
        assert after < parse_duckdb_size(before) + 64 * MiB  # the working limit or what DuckDB holds
        monkeypatch.setattr(runner, "run", run)
        level0 = runner.run(f"SELECT sum(n) AS n FROM {pyramid.tables[0]}")
        assert level0.column("n")[0].as_py() == 300_000
        drop_pyramid(runner, pyramid)
        runner.close()
    finally:
        session.close()
