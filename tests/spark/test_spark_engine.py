"""The same random data in DuckDB and in Spark (Spark Connect, local[2]): M4 per pixel column and
density bins equal cell for cell, and equal to numpy; time axes; progress and cancellation of a
60M-row query; the same clear errors."""

from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.runner import QueryCancelled, Ticket
from pikaplot_widget.engine.scatter import ScatterColumns, fetch_scatter_extent
from pikaplot_widget.engine.sources import time_origin_us
from pikaplot_widget.engine.spark_reader import SparkQueryError
from pikaplot_widget.plots.scatter.density import fetch_density

M4_FIELDS = ("x_first", "y_first", "x_at_min", "y_min", "x_at_max", "y_max", "x_last", "y_last", "n")


def random_table(rng, n: int) -> pa.Table:
    """Unsorted unique x, y with NaN and NULL, a category column."""
    x = rng.permutation(np.linspace(0.0, 1000.0, n)) + rng.uniform(0, 1e-4, n)
    y = rng.normal(size=n).cumsum()
    y[rng.random(n) < 0.04] = np.nan
    mask = rng.random(n) < 0.03
    cats = rng.choice(np.array(["a", "b", "c", "d"]), size=n, p=[0.5, 0.3, 0.15, 0.05])
    return pa.table({"x": x, "y": pa.array(y, mask=mask), "cat": cats, "v": rng.normal(size=n)})


def numpy_m4(x, y, lo, hi, x0, x1, columns):
    """First, last, min and max (with their x) and the row count per pixel column, brute force."""
    inside = (x >= lo) & (x <= hi)
    x, y = x[inside], y[inside]
    col = np.floor((x - x0) * (columns / (x1 - x0))).astype(np.int64)
    keep = (col >= -1) & (col <= columns)
    out = {}
    for c in np.unique(col[keep]):
        xs, ys = x[col == c], y[col == c]
        ok = np.isfinite(ys)
        if not ok.any():
            continue
        xv, yv = xs[ok], ys[ok]
        out[int(c)] = (xv.min(), yv[xv.argmin()], xv[yv.argmin()], yv.min(), xv[yv.argmax()], yv.max(),
                       xv.max(), yv[xv.argmax()], xs.size)  # fmt: skip
    return out


def m4_rows(reader, cols, extent, x_range, columns):
    """The M4 rows DuckDB or Spark returns for a view (the SQL path, as a dict per column)."""
    x0, x1 = x_range
    width = (x1 - x0) / columns
    lo, hi = max(x0 - width, extent.x_min), min(x1 + width, extent.x_max)
    params = [*cols.range_params(lo, hi), x0, columns / (x1 - x0), columns]
    table = reader.run(cols.m4_sql(with_gaps=True), params).to_pylist()
    return {r["col"]: tuple(r[f] for f in M4_FIELDS) for r in table if r["x_first"] is not None}, (lo, hi)


def test_m4_equal_on_duckdb_spark_and_numpy(spark_session, rng):
    table = random_table(rng, 60_000)
    duck = pk.Session()
    sources = {"duckdb": duck.resolve(table), "spark": spark_session.resolve(table)}
    readers = {"duckdb": duck.reader(), "spark": spark_session.reader()}
    x = table.column("x").to_numpy()
    y = table.column("y").to_numpy(zero_copy_only=False).astype(float)
    try:
        cols = {name: LineColumns.checked(src, "x", "y") for name, src in sources.items()}
        for reader, src in zip(readers.values(), sources.values(), strict=True):
            reader.attach(src)
        extents = {name: fetch_extent(readers[name], cols[name]) for name in readers}
        assert extents["duckdb"] == extents["spark"]
        for _ in range(8):
            a, b = np.sort(rng.uniform(0, 1000, 2))
            columns = int(rng.integers(20, 400))
            got = {n: m4_rows(readers[n], cols[n], extents[n], (a, b), columns) for n in readers}
            (duck_rows, bounds), (spark_rows, _) = got["duckdb"], got["spark"]
            assert spark_rows == duck_rows, "Spark's M4 differs from DuckDB's"
            reference = numpy_m4(x, y, *bounds, a, b, columns)
            assert sorted(spark_rows) == sorted(reference)
            for c, row in reference.items():
                assert spark_rows[c] == pytest.approx(row, rel=0, abs=0), f"column {c}"
    finally:
        for reader in readers.values():
            reader.close()
        duck.close()


def test_density_bins_equal_histogram2d_on_spark(spark_session, rng):
    table = random_table(rng, 80_000)
    duck = pk.Session()
    results = {}
    for name, session in (("duckdb", duck), ("spark", spark_session)):
        source = session.resolve(table)
        reader = session.reader()
        reader.attach(source)
        try:
            plain = ScatterColumns.checked(source, "x", "y")
            by_cat = ScatterColumns.checked(source, "x", "v", color="cat")
            extent = fetch_scatter_extent(reader, plain)
            cat_extent = fetch_scatter_extent(reader, by_cat)
            box = (100.0, 700.0, -30.0, 20.0)
            grid = fetch_density(reader, plain, extent, box, 97, 61)
            cat_grid = fetch_density(reader, by_cat, cat_extent, (0.0, 1000.0, -2.0, 2.0), 50, 40)
            results[name] = (extent, grid, cat_extent, cat_grid)
        finally:
            reader.close()
    duck.close()
    (d_ext, d_grid, d_cext, d_cgrid), (s_ext, s_grid, s_cext, s_cgrid) = results["duckdb"], results["spark"]
    assert s_ext == d_ext and s_cext == d_cext
    assert s_cext.categories == ("a", "b", "c", "d")
    np.testing.assert_array_equal(s_grid.counts, d_grid.counts)
    np.testing.assert_array_equal(s_cgrid.planes, d_cgrid.planes)
    x = table.column("x").to_numpy()
    y = table.column("y").to_numpy(zero_copy_only=False).astype(float)
    ok = np.isfinite(y)
    expected, _, _ = np.histogram2d(x[ok], y[ok], bins=(97, 61), range=((100.0, 700.0), (-30.0, 20.0)))
    np.testing.assert_array_equal(s_grid.counts, expected.T.astype(np.int64))
    v = table.column("v").to_numpy()
    cat = table.column("cat").to_numpy(zero_copy_only=False)
    for plane, value in enumerate(("a", "b", "c", "d")):
        mine = cat == value
        h, _, _ = np.histogram2d(x[mine], v[mine], bins=(50, 40), range=((0.0, 1000.0), (-2.0, 2.0)))
        np.testing.assert_array_equal(s_cgrid.planes[plane], h.T.astype(np.int64))


def test_time_axes_equal_on_duckdb_and_spark(spark_session, rng):
    n = 20_000
    start = int(dt.datetime(2026, 3, 28, tzinfo=dt.timezone.utc).timestamp() * 1e6)
    us = np.sort(start + rng.integers(0, 5 * 86_400 * 10**6, n))
    y = rng.normal(size=n).cumsum()
    duck_table = pa.table({
        "t_ltz": pa.array(us, pa.timestamp("us", tz="UTC")), "t_ntz": pa.array(us, pa.timestamp("us")),
        "d": pa.array((us // (86_400 * 10**6)).astype(np.int32), pa.date32()), "y": y,
    })  # fmt: skip
    uploaded = spark_session.resolve(pa.table({"us": us, "y": y}))
    spark_sql = (
        "SELECT timestamp_micros(us) AS t_ltz, "
        "timestampadd(MICROSECOND, us, TIMESTAMP_NTZ'1970-01-01 00:00:00') AS t_ntz, "
        f"date_from_unix_date(CAST(us DIV {86_400 * 10**6} AS INT)) AS d, y FROM {uploaded.from_sql}"
    )
    duck = pk.Session()
    sources = {
        "duckdb": (duck, duck.resolve(duck_table)),
        "spark": (spark_session, spark_session.resolve(spark_sql)),
    }
    assert sources["spark"][1].columns == sources["duckdb"][1].columns
    for column in ("t_ltz", "t_ntz", "d"):
        got = {}
        for name, (session, source) in sources.items():
            origin = time_origin_us(source, session, column)
            cols = LineColumns.checked(source, column, "y", origin)
            reader = session.reader()
            reader.attach(source)
            try:
                extent = fetch_extent(reader, cols)
                views = [(extent.x_min, extent.x_max), (extent.x_min + 3600.0, extent.x_min + 7 * 3600.0)]
                got[name] = [(v.x.tolist(), v.y.tolist()) for v in
                             (fetch_line(reader, cols, extent, r, 300) for r in views)]  # fmt: skip
            finally:
                reader.close()
        if column == "d":  # a day's rows share one x: which of them is "first" is either engine's pick
            got = {name: [_day_bounds(*view) for view in views] for name, views in got.items()}
        assert got["spark"] == got["duckdb"], column
        assert len(got["spark"][0][0]) >= 5
    duck.close()


def _day_bounds(x: list[float], y: list[float]) -> tuple[list[float], list[float], list[float]]:
    """The days drawn and each day's lowest and highest y (ties in x leave nothing else fixed)."""
    days = sorted(set(x))
    low = [min(v for t, v in zip(x, y, strict=True) if t == day) for day in days]
    high = [max(v for t, v in zip(x, y, strict=True) if t == day) for day in days]
    return days, low, high


def test_60m_row_query_reports_progress_and_is_cancelled_within_1s(spark_session):
    rows = "range(0, 60000000, 1, 16)"  # 16 partitions: progress moves by 1/16
    source = spark_session.resolve(f"SELECT CAST(id AS DOUBLE) AS x, sin(id * 0.001) AS y FROM {rows}")
    cols = LineColumns.checked(source, "x", "y")
    reader = spark_session.reader()
    progress: list[float] = []
    outcome: list[object] = []
    ticket = Ticket()
    params = [*cols.range_params(0, 6e7), 0.0, 800 / 6e7, 800]

    def run() -> None:
        try:
            outcome.append(reader.run(cols.m4_sql(), params, progress.append, ticket))
        except BaseException as error:
            outcome.append(error)
        outcome.append(time.monotonic())

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 60
    while not any(p > 0 for p in progress) and time.monotonic() < deadline and worker.is_alive():
        time.sleep(0.02)
    assert any(0 < p < 1 for p in progress), f"no progress while running: {progress}"
    cancelled_at = time.monotonic()
    ticket.cancel()
    worker.join(10)
    reader.close()
    assert isinstance(outcome[0], QueryCancelled), outcome[0]
    assert outcome[1] - cancelled_at < 1.0, f"cancel took {outcome[1] - cancelled_at:.2f} s"
    assert progress == sorted(progress) and all(0 <= p <= 1 for p in progress)


def test_bad_input_gives_the_same_clear_errors(spark_session, rng):
    table = random_table(rng, 1000)
    duck = pk.Session()
    for session in (duck, spark_session):
        unknown = r"unknown y column 'nope'; available columns: 'x', 'y', 'cat', 'v'"
        with pytest.raises(ValueError, match=unknown):
            pk.line(table, "x", "nope", session=session)
        with pytest.raises(TypeError, match="y column 'cat' has type VARCHAR; a numeric column is needed"):
            pk.line(table, "x", "cat", session=session)
        with pytest.raises(TypeError, match=r"data .* got int"):
            pk.line(12, "x", "y", session=session)
    duck.close()
    with pytest.raises(SparkQueryError, match="PARSE_SYNTAX_ERROR"):
        pk.line("SELECT (id AS x FROM range(3)", "x", "y", session=spark_session)
    with pytest.raises(SparkQueryError, match=r"UNRESOLVED_COLUMN.*`x` cannot be resolved"):
        pk.line("SELECT id FROM range(3) WHERE x > 1", "id", "id", session=spark_session)
    with pytest.raises(SparkQueryError, match="TABLE_OR_VIEW_NOT_FOUND"):
        pk.line("no_such_table", "x", "y", session=spark_session)
    with pytest.raises(ValueError, match="neither a table name"):
        pk.line("DROP TABLE t", "x", "y", session=spark_session)


def test_sources_on_spark_resolve_as_spark_reads_them(spark_session, rng, tmp_path):
    from pikaplot_widget.engine.spark_session import _from_string

    assert _from_string("db.trips") == "`db`.`trips`"
    assert _from_string("cat.`my db`.`t``x`") == "`cat`.`my db`.`t``x`"
    assert _from_string("s3://bucket/trips.parquet") == "parquet.`s3://bucket/trips.parquet`"
    with pytest.raises(ValueError, match="looks like a folder"):  # a Delta table's files hold deleted rows
        _from_string("s3://bucket/trips")
    table = random_table(rng, 5000)
    path = tmp_path / "points.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    plot = pk.line(str(path), "x", "y", session=spark_session, width=200, height=100)
    try:  # the server is local: it reads the same file
        plot.to_array()
        assert plot.stats["rows"] == 5000
    finally:
        plot.close()


def test_csv_files_are_read_with_their_header_and_types(spark_session, rng, tmp_path):
    path = tmp_path / "points.csv"
    x = np.sort(rng.uniform(0, 10, 3000))
    path.write_text(
        "x,y\n"
        + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in zip(x, rng.normal(size=x.size), strict=True))
    )
    plot = pk.line(str(path), "x", "y", session=spark_session, width=200, height=100)
    try:
        plot.to_array()
        assert plot.stats["rows"] == 3000
    finally:
        plot.close()


def test_closing_a_reader_mid_query_stops_it_and_cancels_nothing_shared(spark_session):
    from pikaplot_widget.engine.runner import NEVER_CANCELLED

    reader = spark_session.reader()
    done: list[object] = []

    def run() -> None:
        try:
            reader.run("SELECT count(DISTINCT (id * 7919) % 100000007) FROM range(0, 400000000, 1, 16)")
            done.append("finished")
        except Exception as error:
            done.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.5)
    started = time.monotonic()
    reader.close()
    worker.join(10)
    assert time.monotonic() - started < 3 and not worker.is_alive()
    assert isinstance(done[0], QueryCancelled), done
    assert not NEVER_CANCELLED.cancelled
    duck = pk.Session()
    try:
        assert duck.reader().run("SELECT 1 AS one").column(0).to_pylist() == [1]
    finally:
        duck.close()


def test_a_session_pikaplot_opens_is_its_own(spark_session):
    from pyspark.sql import SparkSession

    from .conftest import REMOTE

    user = SparkSession.builder.remote(REMOTE).getOrCreate()
    ours = pk.Session.spark(REMOTE)
    assert ours.spark is not user
    ours.close()
    assert user.sql("SELECT 1 AS one").toArrow().column(0).to_pylist() == [1]


def test_a_wide_decimal_axis_zooms_out_on_spark(spark_session):
    """Bounds of a DECIMAL(38,0) x far past 64 bits are bound as Decimals (pyspark refuses such ints)."""
    rows = (
        "SELECT CAST(1e20 AS DECIMAL(38,0)) + CAST(i AS DECIMAL(38,0)) * 1000 AS x, sin(i / 50.0) AS y "
        "FROM range(5000) AS r(i)"  # the same SQL on both engines
    )
    duck = pk.Session()
    plots = [pk.line(rows, "x", "y", session=s, width=240, height=120) for s in (duck, spark_session)]
    try:
        for plot in plots:
            plot.x_range = (-1e21, 1e22)  # bounds past 2**63
        frames = [plot.to_array() for plot in plots]  # (DECIMAL -> DOUBLE may round apart by an ulp)
        assert (
            int((frames[0] != frames[1]).any(axis=-1).sum()) < 0.01 * frames[0].shape[0] * frames[0].shape[1]
        )
        assert plots[1].y_range == pytest.approx(plots[0].y_range)
    finally:
        for plot in plots:
            plot.close()
        duck.close()
