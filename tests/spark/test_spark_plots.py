"""Whole plots on Spark: frames equal pixel for pixel to the same plots on DuckDB (the line index as
cached temporary views, categorical density), selections as Spark DataFrames, and a newer view
cancelling a stale 60M-row query."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pytest

import pikaplot_widget as pk


def walk(rng, n: int) -> pa.Table:
    x = np.sort(rng.uniform(0, 1e6, n))
    return pa.table({"x": x, "y": rng.normal(size=n).cumsum(), "cat": rng.choice(list("pqrs"), n)})


def test_line_and_scatter_frames_equal_duckdb(spark_session, rng):
    table = walk(rng, 1_050_000)  # past the line index's 1M-row floor: the index is built on Spark
    before = _our_views(spark_session)  # other tests' sources that no plot used
    duck = pk.Session()
    plots = {
        name: (
            pk.line(table, "x", "y", session=session, width=420, height=220),
            pk.scatter(table, "x", "y", color="cat", session=session, width=320, height=240),
        )
        for name, session in (("duckdb", duck), ("spark", spark_session))
    }
    try:
        views = [None, (1e5, 6e5), (123_456.0, 124_999.0)]  # whole, from the index, from the rows
        for view in views:
            frames = {}
            for name, (line, scatter) in plots.items():
                if view is not None:
                    line.x_range = view
                    scatter.x_range = view
                frames[name] = (line.to_array(), scatter.to_array())
            for kind, duck_frame, spark_frame in zip(("line", "scatter"), *frames.values(), strict=True):
                differ = int((duck_frame != spark_frame).any(axis=-1).sum())
                assert differ == 0, f"{kind} at {view}: {differ} pixels differ"
                assert len(np.unique(spark_frame.reshape(-1, 4), axis=0)) > 3, f"{kind}: blank frame"
        line = plots["spark"][0]
        line.controller.wait_idle(120)
        assert line.stats["index_levels"] >= 2, line.stats  # cached temporary views on Spark
        assert line.stats["rows"] == 1_050_000
        assert len(_our_views(spark_session) - before) >= 3  # the uploads and the index levels
    finally:
        for line, scatter in plots.values():
            line.close()
            scatter.close()
        duck.close()
    assert _our_views(spark_session) - before == set(), "closed plots left views (and caches) in Spark"


def _our_views(spark_session) -> set[str]:
    """pikaplot's temporary views in the Spark session."""
    rows = spark_session.spark.sql("SHOW VIEWS").toArrow().to_pylist()
    return {r["viewName"] for r in rows if r["viewName"].startswith("__pikaplot_")}


def test_selection_is_a_spark_dataframe_counting_as_numpy(spark_session, rng):
    table = walk(rng, 50_000)
    plot = pk.scatter(table, "x", "y", session=spark_session, width=300, height=200)
    try:
        plot.to_array()
        x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
        lo, hi = np.quantile(x, [0.2, 0.7])
        ylo, yhi = np.quantile(y, [0.1, 0.8])
        plot.select(x=(lo, hi), y=(ylo, yhi))
        selected = plot.selection
        assert type(selected).__module__.startswith("pyspark.sql")
        expected = int(((x >= lo) & (x <= hi) & (y >= ylo) & (y <= yhi)).sum())
        assert selected.count() == expected
    finally:
        plot.close()


def test_a_newer_view_cancels_a_stale_60m_row_query(spark_session):
    rows = (
        "SELECT CAST(id AS DOUBLE) AS x, sin(id * 0.0001) + cos(sqrt(id)) AS y FROM range(0, 60000000, 1, 16)"
    )
    plot = pk.line(rows, "x", "y", session=spark_session, width=500, height=200)
    try:
        plot.to_array()  # the first view
        plot.controller.wait_idle(600)  # the line index is built after it
        started = plot.stats["queries_run"]
        plot.x_range = (1e6, 1e6 + 900)  # too narrow for the index: M4 over the rows in Spark
        while plot.stats["queries_run"] == started:  # the view's query has begun (0.5-1.2 s on its own)
            time.sleep(0.002)
        before = plot.stats["queries_cancelled"]
        asked = time.monotonic()
        plot.x_range = (2e6, 2e6 + 900)
        while plot.stats["queries_cancelled"] == before and time.monotonic() - asked < 5:
            time.sleep(0.01)
        took = time.monotonic() - asked
        assert plot.stats["queries_cancelled"] > before, plot.stats
        assert took < 1.0, f"the stale query was cancelled after {took:.2f} s"
        frame = plot.to_array()
        assert plot.x_range == (2e6, 2e6 + 900)
        assert len(np.unique(frame.reshape(-1, 4), axis=0)) > 3
    finally:
        plot.close()


def test_series_log_axes_and_time_zones_draw_as_on_duckdb(spark_session, rng):
    n = 40_000
    us = np.sort(1_774_000_000_000_000 + rng.integers(0, 4 * 86_400 * 10**6, n))
    table = pa.table({
        "t": pa.array(us, pa.timestamp("us", tz="UTC")), "a": np.exp(rng.normal(size=n).cumsum() / 50),
        "b": rng.uniform(0.5, 3, n), "sym": rng.choice(["ab", "cd", "ef"], n),
    })  # fmt: skip
    duck = pk.Session()
    made = {}
    for name, session in (("duckdb", duck), ("spark", spark_session)):
        made[name] = [
            pk.line(table, "t", "a", by="sym", log_y=True, tz="Europe/Berlin", session=session,
                    width=360, height=200),
            pk.line(table, "t", ["a", "b"], session=session, width=360, height=200),
            pk.scatter(table, "a", "b", color="b", log_x=True, session=session, width=240, height=200),
        ]  # fmt: skip
    try:
        for duck_plot, spark_plot in zip(made["duckdb"], made["spark"], strict=True):
            duck_frame, spark_frame = duck_plot.to_array(), spark_plot.to_array()
            assert int((duck_frame != spark_frame).any(axis=-1).sum()) == 0
            assert spark_plot.stats.get("series_shown") == duck_plot.stats.get("series_shown")
    finally:
        for plot in made["duckdb"] + made["spark"]:
            plot.close()
        duck.close()


def test_a_failing_view_shows_sparks_error_in_place(spark_session):
    # ANSI mode (Spark 4's default): a division by zero fails the query while it runs
    rows = "SELECT CAST(id AS DOUBLE) AS x, 1 / (id - 777) AS y FROM range(0, 2000)"
    plot = pk.line(rows, "x", "y", session=spark_session, width=300, height=150)
    try:
        with pytest.raises(pk.PlotError, match="DIVIDE_BY_ZERO"):
            plot.to_array()
        assert plot.stats["handler_errors"] == 0
    finally:
        plot.close()


def test_wall_times_and_by_values_survive_a_session_time_zone(spark_session, rng):
    """TIMESTAMP_NTZ x and `by` values draw and select as on DuckDB whatever Spark's session zone
    (here New York across its 2026-03-08 spring-forward gap, where 02:xx does not exist there)."""
    n = 6 * 60 * 20
    wall = np.datetime64("2026-03-08T00:00") + np.sort(rng.integers(0, 6 * 3600 * 10**6, n)).astype("m8[us]")
    days = np.datetime64("2026-03-01") + rng.integers(0, 22, n).astype("m8[D]")  # 22 values: filtered
    table = pa.table({"t": wall, "day": days.astype("M8[us]"), "y": rng.normal(size=n).cumsum()})
    duck = pk.Session()
    conf = spark_session.spark.conf
    zone = conf.get("spark.sql.session.timeZone")
    conf.set("spark.sql.session.timeZone", "America/New_York")
    made = []
    try:
        for session in (duck, spark_session):
            made.append(pk.line(table, "t", "y", by="day", session=session, width=360, height=200))
        frames = [plot.to_array() for plot in made]
        assert int((frames[0] != frames[1]).any(axis=-1).sum()) == 0
        lo, hi = made[0].x_range[0], made[0].x_range[0] + 3 * 3600
        for plot in made:
            plot.select(x=(lo, hi))
        counts = [made[0].selection.count("*").fetchall()[0][0], made[1].selection.count()]
        assert counts[0] == counts[1] > 0
    finally:
        conf.set("spark.sql.session.timeZone", zone)
        for plot in made:
            plot.close()
        duck.close()
