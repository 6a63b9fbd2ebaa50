"""Fault cases: column types (DECIMAL, HUGEINT, small integers, dates and timestamps zoomed far out or
to milliseconds), orderings and float32."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

import pikaplot_widget as pk
from tests.robustness.checks import (
    LINE,
    SCATTER,
    assert_covers,
    assert_same_range,
    assert_y_fits,
    centre,
    frame,
    rng,
    scalar,
    seconds,
    series_pixels,
    session,
    table,
    wheel,
)
from tests.robustness.registry import case


# ---- extreme types -------------------------------------------------------------------------
def _zoomed_out(sql: str, out: tuple[float, float]) -> pk.Plot:
    """A line plot of `sql`'s x, y zoomed out to `out`: drawn without an error, data visible."""
    s = session()
    s.connection.execute(f"CREATE TABLE t AS {sql}")
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    plot.x_range = out
    image = frame(plot, LINE)
    assert_same_range(plot.x_range, out, "x_range")
    assert series_pixels(image) > 0, "the data vanished when zoomed out"
    lo, hi = scalar(s, "SELECT min(y)::DOUBLE FROM t"), scalar(s, "SELECT max(y)::DOUBLE FROM t")
    assert_covers(plot.y_range, float(lo), float(hi), "y_range")  # type: ignore[arg-type]
    return plot


@case("data-decimal-38-zoom-out")
def decimal_38() -> None:
    """DECIMAL(38,10) x and y near the type's limit, zoomed out to ±1e40: no overflow error."""
    _zoomed_out(
        "SELECT CAST(i * 1e25 AS DECIMAL(38,10)) AS x, CAST(i % 7 AS DECIMAL(38,10)) AS y "
        "FROM range(1000) r(i)",
        (-1e40, 1e40),
    )


@case("data-hugeint-zoom-out")
def hugeint() -> None:
    """HUGEINT x up to 1e38, zoomed out to ±1e45: no overflow error."""
    _zoomed_out(
        "SELECT CAST(i AS HUGEINT) * CAST(1e35 AS HUGEINT) AS x, (i % 5)::DOUBLE AS y FROM range(1000) r(i)",
        (-1e45, 1e45),
    )


@case("data-uhugeint-zoom-out")
def uhugeint() -> None:
    """UHUGEINT x, zoomed out to (-1e45, 1e45) (a negative bound on an unsigned type)."""
    _zoomed_out(
        "SELECT CAST(i AS UHUGEINT) * CAST(1e35 AS UHUGEINT) AS x, (i % 5)::DOUBLE AS y "
        "FROM range(1000) r(i)",
        (-1e45, 1e45),
    )


@case("data-tinyint-zoom-out")
def tinyint() -> None:
    """TINYINT x and SMALLINT y, zoomed out to ±1e12: bounds clamped to the type."""
    _zoomed_out("SELECT (i % 200 - 100)::TINYINT AS x, i::SMALLINT AS y FROM range(1000) r(i)", (-1e12, 1e12))


@case("data-ubigint-view-below-zero")
def ubigint_below_zero() -> None:
    """UBIGINT x viewed entirely below 0: an empty view, no error, then back to the data."""
    s = session()
    s.connection.execute(
        "CREATE TABLE t AS SELECT i::UBIGINT AS x, (i % 9)::DOUBLE AS y FROM range(1000) r(i)"
    )
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    plot.x_range = (-1e6, -1e5)  # the data is 1e5 beyond the right edge (~80 px)
    assert series_pixels(frame(plot, LINE)) == 0, "rows outside the view were drawn"
    plot.x_range = (0.0, 999.0)
    assert series_pixels(frame(plot, LINE)) > 0


def _scatter_zoomed_out(x_sql: str, y_sql: str, out: tuple[float, float]) -> None:
    """A scatter plot of 1000 rows zoomed out to `out`: drawn without an error, every row in view."""
    s = session()
    s.connection.execute(f"CREATE TABLE t AS SELECT {x_sql} AS x, {y_sql} AS y FROM range(1000) r(i)")
    plot = pk.scatter("t", "x", "y", session=s)
    frame(plot, SCATTER)
    plot.x_range = out
    frame(plot, SCATTER)
    assert_same_range(plot.x_range, out, "x_range")
    assert plot.stats["rows_in_view"] == 1000, f"{plot.stats['rows_in_view']} rows in view"


@case("data-scatter-hugeint-zoom-out")
def scatter_hugeint() -> None:
    """A scatter plot of HUGEINT x and DECIMAL(38,10) y zoomed out to ±1e45: no overflow error."""
    _scatter_zoomed_out(
        "CAST(i AS HUGEINT) * CAST(1e35 AS HUGEINT)", "CAST(i % 7 AS DECIMAL(38,10))", (-1e45, 1e45)
    )


@case("data-scatter-timestamp-ns-zoom-out")
def scatter_timestamp_ns() -> None:
    """A scatter plot of TIMESTAMP_NS x zoomed out to ±1e11 s: no conversion error."""
    _scatter_zoomed_out(
        "CAST(TIMESTAMP '2024-03-01' + to_seconds(i) AS TIMESTAMP_NS)", "(i % 5)::DOUBLE", (-1e11, 1e11)
    )


def _time_case(x_sql: str, start: dt.datetime, step_s: float, out: tuple[float, float]) -> None:
    """x of a time type: x_range in epoch seconds; zooming out past the type's range draws."""
    s = session()
    s.connection.execute(
        f"CREATE TABLE t AS SELECT {x_sql} AS x, (i % 11)::DOUBLE AS y FROM range(1000) r(i)"
    )
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    first = seconds(start)
    assert_same_range(plot.x_range, (first, first + 999 * step_s), "x_range")
    plot.x_range = out
    image = frame(plot, LINE)
    assert series_pixels(image) > 0, "the data vanished when zoomed out"
    assert_covers(plot.y_range, 0.0, 10.0, "y_range")


@case("data-date-x")
def date_x() -> None:
    """DATE x: epoch seconds of midnight; zoomed out to ±1e13 s (beyond year 1..9999)."""
    _time_case("DATE '2000-01-01' + i::INTEGER", dt.datetime(2000, 1, 1), 86400.0, (-1e13, 1e13))


@case("data-timestamp-x")
def timestamp_x() -> None:
    """TIMESTAMP x in epoch seconds; zoomed out to ±1e13 s."""
    _time_case(
        "TIMESTAMP '2024-03-01 12:00:00' + to_seconds(i)", dt.datetime(2024, 3, 1, 12), 1.0, (-1e13, 1e13)
    )


@case("data-timestamp-ns-x")
def timestamp_ns_x() -> None:
    """TIMESTAMP_NS x; zoomed out to ±1e11 s (past the ±292 years that nanoseconds hold)."""
    _time_case(
        "CAST(TIMESTAMP '2024-03-01' + to_seconds(i) AS TIMESTAMP_NS)",
        dt.datetime(2024, 3, 1),
        1.0,
        (-1e11, 1e11),
    )


@case("data-timestamptz-x")
def timestamptz_x() -> None:
    """TIMESTAMPTZ x under a non-UTC session time zone: x_range is still true epoch seconds."""
    s = session()
    s.connection.execute("SET TimeZone = 'Asia/Kolkata'")
    s.connection.execute(
        "CREATE TABLE t AS SELECT TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_seconds(i) AS x, "
        "(i % 11)::DOUBLE AS y FROM range(1000) r(i)"
    )
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    first = seconds(dt.datetime(2024, 3, 1))
    assert_same_range(plot.x_range, (first, first + 999), "x_range")
    plot.x_range = (first + 100, first + 200)
    frame(plot, LINE)
    assert_covers(plot.y_range, 0.0, 10.0, "y_range")


def _millisecond_table(s: pk.Session) -> tuple[np.ndarray, np.ndarray]:
    s.connection.execute(
        "CREATE TABLE t AS SELECT TIMESTAMP '2024-01-01' + to_milliseconds(i) AS x, i::DOUBLE AS y "
        "FROM range(100000) r(i)"
    )
    x = seconds(dt.datetime(2024, 1, 1)) + np.arange(100_000) / 1000.0
    return x, np.arange(100_000, dtype=np.float64)


@case("data-epoch-wheel-5ms")
def epoch_wheel_5ms() -> None:
    """Epoch-second timestamps (1.7e9 s) zoomed by the wheel to a window under 0.01 s."""
    s = session()
    x, y = _millisecond_table(s)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    cx, cy = centre(plot)
    for _ in range(40):  # a factor of 2 per step: 100 s → far below 5 ms if nothing stops it
        wheel(plot, cx, cy, -600)
        frame(plot, LINE)
        if plot.x_range[1] - plot.x_range[0] < 0.005:
            break
    lo, hi = plot.x_range
    assert math.isfinite(lo) and lo < hi, plot.x_range
    assert hi - lo < 0.01, f"zoom stopped at a span of {hi - lo:.6g} s"
    if ((x >= lo) & (x <= hi)).any():
        assert_y_fits(plot, x, y)


@case("data-epoch-set-5ms")
def epoch_set_5ms() -> None:
    """x_range set to a 5 ms window of epoch-second timestamps is kept and fitted to its rows."""
    s = session()
    x, y = _millisecond_table(s)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    window = (float(x[50_000]) - 0.0005, float(x[50_005]) - 0.0005)
    plot.x_range = window
    frame(plot, LINE)
    assert abs(plot.x_range[0] - window[0]) < 1e-6 and abs(plot.x_range[1] - window[1]) < 1e-6, plot.x_range
    assert_y_fits(plot, x, y)


# ---- orderings and float32 ------------------------------------------------------------------
@case("data-unsorted-x")
def unsorted_x() -> None:
    """Shuffled rows draw exactly the same frame as sorted ones."""
    g = rng(11)
    x = g.permutation(50_000).astype(np.float64)
    y = g.normal(size=x.size)
    order = np.argsort(x)
    s = session()
    table(s, "shuffled", x=x, y=y)
    table(s, "ordered", x=x[order], y=y[order])
    a = frame(pk.line("shuffled", "x", "y", session=s), LINE)
    b = frame(pk.line("ordered", "x", "y", session=s), LINE)
    assert series_pixels(a) > 1000
    assert np.array_equal(a, b), f"{int((a != b).any(axis=2).sum())} pixels differ"


@case("data-unsorted-x-index", timeout=90)
def unsorted_x_index() -> None:
    """1.2M shuffled rows (line index): zoomed views fit y to exactly the rows in view."""
    g = rng(12)
    n = 1_200_000
    x = g.permutation(n).astype(np.float64)
    y = np.sin(x / 5000) + g.normal(0, 0.1, n)
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    assert_y_fits(plot, x, y)
    for window in ((100_000.0, 220_000.0), (700_000.0, 701_000.0)):
        plot.x_range = window
        frame(plot, LINE)
        assert_y_fits(plot, x, y)


@case("data-duplicated-x")
def duplicated_x() -> None:
    """500 rows per x value: the y fit holds every row at the view's edge values too."""
    x = np.repeat(np.arange(100.0), 500)
    y = rng(13).normal(size=x.size)
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    assert_same_range(plot.x_range, (0.0, 99.0), "x_range")
    assert_y_fits(plot, x, y)
    plot.x_range = (10.0, 20.0)
    frame(plot, LINE)
    assert_y_fits(plot, x, y)


@case("data-float32")
def float32_columns() -> None:
    """FLOAT x and y: x_range is the float32 extent; a zoomed view fits its rows' y exactly."""
    g = rng(14)
    x = np.sort(g.uniform(0, 1000, 20_000)).astype(np.float32)
    y = g.normal(size=x.size).astype(np.float32)
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    assert_same_range(plot.x_range, (x64.min(), x64.max()), "x_range")
    plot.x_range = (float(x64[5000]) + 1e-7, float(x64[6000]))  # a bound between two float32 values
    frame(plot, LINE)
    assert_y_fits(plot, x64, y64)


@case("data-line-index-2m", timeout=90)
def line_index_2m() -> None:
    """2M rows (line index): three zoomed views each fit y to exactly the rows in view."""
    n = 2_000_000
    x = np.arange(float(n))
    y = np.cumsum(rng(15).normal(size=n))
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    assert_y_fits(plot, x, y)
    for window in ((0.0, 1_000_000.0), (123_456.0, 654_321.0), (1_999_000.0, 1_999_999.0)):
        plot.x_range = window
        assert series_pixels(frame(plot, LINE)) > 100
        assert_y_fits(plot, x, y)
