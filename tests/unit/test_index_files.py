"""A session's line index database is a file in a folder of its own in the temp folder: its tables
do not raise the memory limit, the folder goes when the session closes, those of dead kernels are
swept, and where no file can be made the index stays in memory."""

from __future__ import annotations

import gc
import os
import tempfile
import time
import weakref

import duckdb
import numpy as np
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine import index_files
from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.runner import INDEX_SCHEMA
from pikaplot_widget.engine.session import default_memory_limit
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.line.index import build_pyramid

N = 200_000
SMALL = {"min_rows": 0, "rows_per_bucket": 4, "top_level_buckets": 64}


@pytest.fixture
def temp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(index_files, "in_memory_filesystem", lambda directory: False)
    return tmp_path


def _index_path(session: pk.Session) -> str:
    row = session.connection.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = ?", [INDEX_SCHEMA]
    ).fetchone()
    return "" if row is None or row[0] is None else str(row[0])


def _build(session: pk.Session, rng: np.random.Generator):
    """A level-0 index of N random rows on a plot's reader; its rows per bucket against numpy."""
    x = np.sort(rng.uniform(0.0, 1e6, N))
    session.connection.execute(
        "CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS x, unnest(?::DOUBLE[]) AS y",
        [x.tolist(), rng.normal(size=N).tolist()],
    )
    before = session.table_bytes()  # the user's table
    reader = session.reader()
    cols = LineColumns.checked(resolve_source("t", session), "x", "y")
    extent = fetch_extent(reader, cols)
    pyramid = build_pyramid(reader, cols, extent, **SMALL)
    assert pyramid is not None
    level0 = reader.run(f"SELECT k, n FROM {pyramid.tables[0]} ORDER BY k")
    keys, counts = level0.column("k").to_numpy(), level0.column("n").to_numpy()
    bucket = np.floor((x - extent.x_min) / pyramid.bucket_width).astype(np.int64)
    expected = np.bincount(np.minimum(bucket, pyramid.buckets - 1), minlength=pyramid.buckets)
    np.testing.assert_array_equal(counts, expected[keys])
    assert counts.sum() == N
    return reader, pyramid, before


def test_the_index_lives_in_a_file_and_does_not_raise_the_limit(temp, rng):
    session = pk.Session()
    try:
        reader, pyramid, before = _build(session, rng)
        path = _index_path(session)
        folder = os.path.dirname(path)
        assert os.path.dirname(folder) == str(temp)
        assert os.path.basename(folder).startswith(f"{index_files.PREFIX}{os.getpid()}-")
        assert os.path.getsize(path) > 0
        assert session.table_bytes() == before  # the index's tables are none of the in-memory ones
        session.fit_limit()
        threads = int(session.connection.execute("SELECT current_setting('threads')").fetchone()[0])
        expected = default_memory_limit(threads, 1, session._cap)
        assert session.memory_limit == f"{expected // 2**20}.0 MiB"
        assert reader.run(f"SELECT sum(n) FROM {pyramid.tables[0]}").column(0)[0].as_py() == N
    finally:
        session.close()
    assert not os.path.exists(folder)


def test_folders_of_dead_kernels_are_swept_and_live_ones_kept(temp, rng):
    dead = temp / f"{index_files.PREFIX}999999999-1-abc"  # no such pid
    dead.mkdir()
    (dead / "index.duckdb").write_bytes(b"\0" * 64)
    alive = temp / f"{index_files.PREFIX}1-1-abc"  # pid 1 is alive
    alive.mkdir()
    odd = temp / f"{index_files.PREFIX}\u00b2-1-abc"  # not a pid
    odd.mkdir()
    session = pk.Session()
    try:
        _build(session, rng)
    finally:
        session.close()
    assert not dead.exists() and alive.exists() and odd.exists()


def test_an_index_in_memory_counts_among_the_tables(temp, rng, monkeypatch):
    """The control of the test above: the same index in memory grows the in-memory tables."""
    monkeypatch.setattr(index_files, "in_memory_filesystem", lambda directory: True)
    session = pk.Session()
    try:
        _, _, before = _build(session, rng)
        assert session.table_bytes() > before + 2**20
    finally:
        session.close()


def test_no_file_where_the_temp_folder_is_in_memory_or_cannot_take_one(temp, rng, monkeypatch):
    monkeypatch.setattr(index_files, "in_memory_filesystem", lambda directory: True)
    session = pk.Session()
    try:
        _build(session, rng)
        assert _index_path(session) == ""  # an in-memory database
    finally:
        session.close()
    monkeypatch.setattr(index_files, "in_memory_filesystem", lambda directory: False)
    blocked = temp / "a file, not a folder"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    session = pk.Session()
    try:
        _build(session, rng)  # mkdtemp fails: in memory
        assert _index_path(session) == ""
    finally:
        session.close()
    monkeypatch.setattr(index_files.IndexFiles, "location", lambda self: str(temp / "gone" / "index.duckdb"))
    session = pk.Session()
    try:
        _build(session, rng)  # DuckDB cannot open the file: in memory
        assert _index_path(session) == ""
    finally:
        session.close()
    assert sorted(p.name for p in temp.iterdir()) == ["a file, not a folder"]


def test_a_wrapped_connection_keeps_its_index_in_memory(temp, rng):
    connection = duckdb.connect()
    session = pk.Session(connection=connection)
    try:
        _build(session, rng)
        assert _index_path(session) == ""
        assert not any(p.name.startswith(index_files.PREFIX) for p in temp.iterdir())
    finally:
        session.close()


def test_a_session_dropped_without_close_removes_its_folder(temp, rng):
    """A notebook that makes a session per cell and never closes one: each folder goes with its
    session (else every index stays on disk until the kernel dies and another one sweeps it)."""
    session = pk.Session()
    reader, _, _ = _build(session, rng)
    folder = os.path.dirname(_index_path(session))
    assert os.path.isdir(folder)
    reader.close()
    alive = weakref.ref(session)
    del session, reader
    deadline = time.monotonic() + 10  # the reader's progress poller lets go of it soon after
    while alive() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert alive() is None
    assert not os.path.exists(folder)
    assert not any(p.name.startswith(index_files.PREFIX) for p in temp.iterdir())
