"""Views read from the row files agree with a numpy brute force and DuckDB's M4; the files go away."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.core.errors import PlotError
from pikaplot_widget.engine import row_store
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.row_store import RowStore
from pikaplot_widget.engine.row_views import view_from_store
from pikaplot_widget.engine.sources import resolve_source


def _table(session, x, y, name="t"):
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source(name, session), "x", "y")


def _brute_m4(x, y, lo, hi, x0, scale, columns):
    """Per pixel column of the rows in [lo, hi]: (first x, last x, min y, max y) of the valid y."""
    inside = (x >= lo) & (x <= hi) & np.isfinite(y)
    col = np.floor((x - x0) * scale).astype(np.int64)
    out = {}
    for c in np.unique(col[inside]):
        sel = inside & (col == c)
        out[int(c)] = (x[sel].min(), x[sel].max(), y[sel].min(), y[sel].max())
    return out


def _random_views(rng, x_min, x_max, count):
    span_all = x_max - x_min
    for _ in range(count):
        span = span_all * 10 ** rng.uniform(-5, -1.5)
        centre = rng.uniform(x_min - span, x_max + span)  # some views run off either end
        yield (centre - span / 2, centre + span / 2), int(rng.integers(50, 1200))


@pytest.mark.parametrize("stride", [4093, 7])  # a prime: marks fall anywhere in DuckDB's batches
def test_views_from_the_row_files_match_numpy_and_duckdb(session, runner, rng, monkeypatch, stride):
    monkeypatch.setattr(row_store, "STRIDE", stride)
    n = 1_300_000 if stride > 7 else 40_000  # the big one spans two DuckDB batches
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    x = np.sort(rng.uniform(0, 1e6, n))
    x[rng.integers(0, n - 50, 200)[:, None] + np.arange(5)] = 5e5  # runs of equal x across marks
    x = np.sort(x)
    y = np.cumsum(rng.normal(size=n))
    y[rng.random(n) < 0.003] = np.nan
    y[rng.random(n) < 0.001] = np.inf  # not a valid y: a gap, as in the SQL path
    null = rng.random(n) < 0.002
    cols = _table(session, x, pa.array(y, mask=null))
    extent = fetch_extent(runner, cols)
    store = RowStore()
    assert store.build(runner, cols, extent) and store.ready and store.rows == n
    y_valid = np.where(np.isfinite(y) & ~null, y, np.nan)
    for view, columns in _random_views(rng, extent.x_min, extent.x_max, 30):
        got = view_from_store(store, cols, extent, view, columns)
        assert got is not None
        sql = fetch_line(runner, cols, extent, view, columns, in_engine=True)  # DuckDB's M4
        np.testing.assert_array_equal(got.x, sql.x)  # y may differ where x ties: checked below
        assert got.rows_in_view == sql.rows_in_view and got.kind == sql.kind
        width = (view[1] - view[0]) / columns
        lo, hi = max(view[0] - width, extent.x_min), min(view[1] + width, extent.x_max)
        scale = columns / (view[1] - view[0])
        brute = _brute_m4(x, y_valid, lo, hi, view[0], scale, columns)
        drawn = np.isfinite(got.y)
        for px, py in zip(got.x[drawn], got.y[drawn], strict=True):
            assert py in y_valid[x == px], "every point drawn is a row"
        point_column = np.floor((got.x - view[0]) * scale).astype(np.int64)
        assert set(np.unique(point_column[drawn])) == set(brute)
        for c, (x_first, x_last, y_min, y_max) in brute.items():
            mine = drawn & (point_column == c)
            assert got.x[mine].min() == x_first and got.x[mine].max() == x_last
            assert got.y[mine].min() == y_min and got.y[mine].max() == y_max
    files = os.listdir(store._dir)
    assert sorted(files) == ["x.f64", "y.f64"]
    directory = store._dir
    store.close()
    assert not os.path.exists(directory) and not store.ready
    assert view_from_store(store, cols, extent, (1.0, 2.0), 100) is None


def test_an_unsorted_source_writes_no_files(session, runner, rng, monkeypatch):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    x = rng.uniform(0, 1, 50_000)
    cols = _table(session, x, rng.normal(size=x.size))
    store = RowStore()
    before = row_store.BUDGET.used
    assert not store.build(runner, cols, fetch_extent(runner, cols))
    assert "not sorted" in store.state and store._dir is not None and not os.path.exists(store._dir)
    assert row_store.BUDGET.used == before


def test_the_budget_refuses_what_does_not_fit(session, runner, rng, monkeypatch):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store, "BUDGET", row_store._Budget(8 * 60_000))  # even x: 8 bytes a row
    cols = _table(session, np.arange(50_000.0), rng.normal(size=50_000))
    first, second = RowStore(), RowStore()
    assert first.build(runner, cols, fetch_extent(runner, cols))
    assert not second.build(runner, cols, fetch_extent(runner, cols)) and "no room" in second.state
    first.close()
    assert second.build(runner, cols, fetch_extent(runner, cols))  # the closed one gave its bytes back
    second.close()
    assert row_store.BUDGET.used == 0


def _plot_of_parquet(session, tmp_path, x, y):
    """A line plot of (x, y) written to Parquet in row groups of 100k rows, idle (index built)."""
    path = tmp_path / "walk.parquet"
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute(f"COPY frame_in TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 100000)")
    plot = pk.line(str(path), x="x", y="y", session=session, width=600, height=300)
    plot.to_array(timeout=120)
    assert plot.controller.wait_idle(120)
    return plot


def test_a_line_plot_zooms_from_its_row_files_and_deletes_them(rng, tmp_path):
    session = pk.Session()
    n = 1_200_000
    x = np.sort(rng.uniform(0, 1e5, n))
    y = np.cumsum(rng.normal(size=n))
    plot = _plot_of_parquet(session, tmp_path, x, y)
    assert plot.stats["row_store"] == "ready" and plot.stats["row_store_bytes"] == n * 16
    directory = plot.controller.provider.row_store._dir
    for lo in rng.uniform(0, 9e4, 6):
        plot.x_range = (lo, lo + 200.0)  # ~2,400 rows: below the line index
        plot.to_array(timeout=60)
        data = plot.controller.data
        inside = (x >= lo) & (x <= lo + 200.0)
        assert data.y_min_in_view == y[inside].min() and data.y_max_in_view == y[inside].max()
    assert plot.controller.provider.row_store.ready
    plot.close()
    plot.controller.wait_freed(30)
    assert not os.path.exists(directory)
    session.close()


def test_files_left_by_a_dead_kernel_are_swept(session, runner, rng, monkeypatch, tmp_path):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store.tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"{row_store.PREFIX}999999999-abc"  # no such pid
    dead.mkdir()
    (dead / "x.f64").write_bytes(b"\0" * 64)
    alive = tmp_path / f"{row_store.PREFIX}1-abc"  # pid 1 is alive
    alive.mkdir()
    cols = _table(session, np.arange(20_000.0), rng.normal(size=20_000))
    store = RowStore()
    assert store.build(runner, cols, fetch_extent(runner, cols))
    assert not dead.exists() and alive.exists() and os.path.dirname(store._dir) == str(tmp_path)
    store.close()


@pytest.mark.parametrize("x_type", ["TIMESTAMP", "TIMESTAMPTZ", "BIGINT", "INTEGER"])
def test_integer_and_time_x_pick_the_rows_the_sql_filter_picks(session, runner, rng, monkeypatch, x_type):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store, "STRIDE", 5)
    n = 30_000
    steps = rng.integers(0, 40, n)  # whole units apart, many equal
    start = 1_700_000_000_000_000 if x_type.startswith("TIMESTAMP") else -5_000
    raw = start + np.cumsum(steps)
    y = rng.normal(size=n)
    y[rng.random(n) < 0.01] = np.nan
    session.connection.register("frame_in", pa.table({"x": raw, "y": y}))
    x_sql = (
        "make_timestamp(x)"
        if x_type == "TIMESTAMP"
        else "to_timestamp(x / 1e6)"
        if x_type == "TIMESTAMPTZ"
        else "x"
    )
    session.connection.execute(
        f"CREATE OR REPLACE TABLE t AS SELECT CAST({x_sql} AS {x_type}) AS x, y FROM frame_in"
    )
    session.connection.unregister("frame_in")
    if x_type == "TIMESTAMPTZ":
        assert session.connection.execute("SELECT count(*) FROM t WHERE epoch_us(x) <> 0").fetchone()[0] == n
    origin = int(start) if x_type.startswith("TIMESTAMP") else 0
    cols = LineColumns.checked(resolve_source("t", session), "x", "y", origin)
    extent = fetch_extent(runner, cols)
    store = RowStore()
    assert store.build(runner, cols, extent), store.state
    unit = 1e-6 if origin else 1.0
    for _ in range(40):
        span = (extent.x_max - extent.x_min) * 10 ** rng.uniform(-3.5, -0.5)
        lo = rng.uniform(extent.x_min - span / 2, extent.x_max)
        if rng.random() < 0.3:  # right on a row's x, or half a unit off one
            lo = float(rng.choice(np.unique(raw - origin)) * unit + rng.choice([0.0, 0.5 * unit]))
        view, columns = (lo, lo + span), int(rng.integers(20, 400))
        got = view_from_store(store, cols, extent, view, columns)
        read = fetch_line(runner, cols, extent, view, columns)  # rows the SQL filter picks, numpy M4
        sql = fetch_line(runner, cols, extent, view, columns, in_engine=True)  # DuckDB's M4
        assert got is not None
        np.testing.assert_array_equal(got.x, read.x)  # ties in x: the same rows in the same order
        np.testing.assert_array_equal(got.y, read.y)
        assert got.rows_in_view == sql.rows_in_view and got.kind == sql.kind
        np.testing.assert_equal(
            (got.y_min_in_view, got.y_max_in_view), (sql.y_min_in_view, sql.y_max_in_view)
        )
    store.close()


def test_other_x_types_and_huge_times_get_no_row_files(session, runner, rng, monkeypatch):
    monkeypatch.setattr(row_store, "MIN_ROWS", 10)
    days = "DATE '2020-01-01' + CAST(i AS INTEGER)"
    session.connection.execute(f"CREATE TABLE d AS SELECT {days} AS x, random() AS y FROM range(100) r(i)")
    cols = LineColumns.checked(resolve_source("d", session), "x", "y")
    store = RowStore()
    assert (
        not store.build(runner, cols, fetch_extent(runner, cols))
        and store.state == "not used for these columns"
    )
    far = "make_timestamp(CAST(i * 1e15 AS BIGINT))"
    session.connection.execute(f"CREATE TABLE far AS SELECT {far} AS x, random() AS y FROM range(100) r(i)")
    cols = LineColumns.checked(resolve_source("far", session), "x", "y")  # origin 0: 3,000 years of seconds
    assert not store.build(runner, cols, fetch_extent(runner, cols)) and "too large" in store.state


def test_an_unwritable_temp_directory_leaves_views_on_the_source(session, runner, rng, monkeypatch, tmp_path):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store.tempfile, "tempdir", str(tmp_path / "missing"))  # mkdtemp fails
    monkeypatch.setattr(row_store.shutil, "disk_usage", lambda _: shutil_usage(10**12))
    cols = _table(session, np.arange(5000.0), rng.normal(size=5000))
    before = row_store.BUDGET.used
    store = RowStore()
    assert not store.build(runner, cols, fetch_extent(runner, cols))
    assert store.state.startswith("failed") and row_store.BUDGET.used == before


def shutil_usage(free):
    import collections

    return collections.namedtuple("usage", "total used free")(free, 0, free)


def test_a_temp_directory_in_memory_gets_no_row_files(session, runner, rng, monkeypatch, tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/vda / ext4 rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n/dev/vdb /tmpdisk ext4 rw 0 0\n"
        "/dev/vdc /mnt/my\\040disk xfs rw 0 0\n"
    )
    found = {
        d: row_store.in_memory_filesystem(d, str(mounts)) for d in ("/tmp/a", "/tmp", "/tmpdisk/b", "/home")
    }
    assert found == {"/tmp/a": True, "/tmp": True, "/tmpdisk/b": False, "/home": False}
    assert not row_store.in_memory_filesystem("/mnt/my disk/x", str(mounts))
    assert not row_store.in_memory_filesystem("/tmp", str(tmp_path / "absent"))
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store, "in_memory_filesystem", lambda directory: True)
    cols = _table(session, np.arange(5000.0), rng.normal(size=5000))
    before = row_store.BUDGET.used
    store = RowStore()
    assert not store.build(runner, cols, fetch_extent(runner, cols))
    assert "tmpfs" in store.state and "TMPDIR" in store.state and row_store.BUDGET.used == before


def test_views_fail_as_before_once_the_session_is_closed(rng):
    session = pk.Session()
    n = 1_100_000
    session.connection.register(
        "frame_in", pa.table({"x": np.arange(n, dtype=float), "y": rng.normal(size=n)})
    )
    session.connection.execute("CREATE TABLE walk AS SELECT * FROM frame_in")
    plot = pk.line("walk", x="x", y="y", session=session, width=400, height=200)
    plot.to_array(timeout=120)
    assert plot.controller.wait_idle(120) and plot.stats["row_store"] == "ready"
    session.close()
    plot.x_range = (1000.0, 2000.0)  # below the line index: the row files could answer it
    with pytest.raises(PlotError, match="session of this plot was closed"):
        plot.to_array(timeout=60)
    plot.close()


@pytest.mark.parametrize("row_files", [True, False])
def test_a_preview_frame_only_while_rows_are_read_from_the_source(rng, tmp_path, monkeypatch, row_files):
    """A view below the line index shows the old data at the new view first when its rows come
    from the source (decoding a row group); from the row files (milliseconds) it does not: no
    timer thread a view. With the preview due at once, every such view would draw it."""
    from pikaplot_widget.plots.line import worker as line_worker

    if not row_files:
        monkeypatch.setattr(row_store, "MIN_ROWS", 10**12)
    session = pk.Session()
    n = 1_200_000
    plot = _plot_of_parquet(session, tmp_path, np.arange(n, dtype=np.float64), np.cumsum(rng.normal(size=n)))
    assert plot.controller.provider.row_store.ready == row_files
    monkeypatch.setattr(line_worker, "PREVIEW_DELAY_S", 0.0)
    frames, views = plot.controller.frames_rendered, 6
    for lo in rng.uniform(0, n - 5000, views):
        plot.x_range = (lo, lo + 2400.0)  # below the line index
        plot.to_array(timeout=60)
        assert plot.controller.data.kind in ("raw", "m4")
    drawn = plot.controller.frames_rendered - frames
    assert drawn == views if row_files else drawn > views
    plot.close()
    session.close()
