"""Fault cases: awkward values (empty, tiny, NULL/NaN/inf, spikes at the edges, extreme magnitudes)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

import pikaplot_widget as pk
from tests.robustness.checks import (
    LINE,
    SCATTER,
    assert_covers,
    assert_same_range,
    assert_y_fits,
    frame,
    rng,
    rows_of,
    series_pixels,
    session,
    skipped_of,
    table,
)
from tests.robustness.registry import case

# ---- empty and tiny --------------------------------------------------------------------------
VIEW_LIMIT = 2.0**1021  # pikaplot_widget.core.viewport.LIMIT: views stay within it


@case("data-empty-table")
def empty_table() -> None:
    """A table with no rows: line and scatter draw a frame and count 0 rows."""
    s = session()
    s.connection.execute("CREATE TABLE t (x DOUBLE, y DOUBLE)")
    line, dots = pk.line("t", "x", "y", session=s), pk.scatter("t", "x", "y", session=s)
    frame(line, LINE)
    frame(dots, SCATTER)
    assert rows_of(line) == 0 and rows_of(dots) == 0
    assert dots.stats["skipped_rows"] == 0


@case("data-header-only-csv")
def header_only_csv() -> None:
    """A CSV with only its header line: a plot of 0 rows, or a ValueError saying it has no rows."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "empty.csv"
        path.write_text("x,y\n")
        try:
            plot = pk.line(str(path), "x", "y", session=session())
        except ValueError as error:
            message = str(error)
        else:
            frame(plot, LINE)
            assert rows_of(plot) == 0, f"the header was read as data: rows = {rows_of(plot)}"
            return
        assert "no data rows" in message or "no rows" in message, message


@case("data-csv-one-row")
def csv_one_row() -> None:
    """A CSV with a header and one row is a plot of exactly 1 row at that point."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "one.csv"
        path.write_text("x,y\n1.5,2.5\n")
        plot = pk.line(str(path), "x", "y", session=session())
        frame(plot, LINE)
        assert rows_of(plot) == 1
        assert plot.x_range[0] <= 1.5 <= plot.x_range[1]
        assert plot.y_range[0] <= 2.5 <= plot.y_range[1]


@case("data-one-row")
def one_row() -> None:
    """One row: finite ranges around the point, for lines and scatter plots."""
    s = session()
    table(s, "t", x=[3.0], y=[7.0])
    for plot, shape in (
        (pk.line("t", "x", "y", session=s), LINE),
        (pk.scatter("t", "x", "y", session=s), SCATTER),
    ):
        frame(plot, shape)
        assert_covers(plot.x_range, 3.0, 3.0, "x_range")
        assert_covers(plot.y_range, 7.0, 7.0, "y_range")


@case("data-two-rows")
def two_rows() -> None:
    """Two rows: x spans both, the fitted y range holds both rows' y (numpy min/max)."""
    x, y = np.array([0.0, 1.0]), np.array([-5.0, 12.0])
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    assert_same_range(plot.x_range, (x.min(), x.max()), "x_range")
    assert_covers(plot.y_range, y.min(), y.max(), "y_range")


@case("data-all-null-y")
def all_null_y() -> None:
    """y all NULL: an empty frame, finite ranges; the scatter plot counts every row as skipped."""
    s = session()
    s.connection.execute("CREATE TABLE t AS SELECT i::DOUBLE AS x, NULL::DOUBLE AS y FROM range(1000) r(i)")
    line, dots = pk.line("t", "x", "y", session=s), pk.scatter("t", "x", "y", session=s)
    for plot, shape in ((line, LINE), (dots, SCATTER)):
        assert series_pixels(frame(plot, shape)) == 0
        assert all(math.isfinite(v) for v in (*plot.x_range, *plot.y_range)), (plot.x_range, plot.y_range)
    assert dots.stats["skipped_rows"] == 1000


# ---- NaN, inf, spikes ------------------------------------------------------------------------
def _with_bad_values(values: np.ndarray, seed: int) -> np.ndarray:
    out = values.copy()
    where = rng(seed).choice(out.size, 90, replace=False)
    out[where[:50]], out[where[50:70]], out[where[70:]] = np.nan, np.inf, -np.inf
    return out


@case("data-nan-inf-y-line")
def nan_inf_y_line() -> None:
    """NaN/±inf in y: y fitted to the finite values; a block of NaN leaves an empty gap."""
    x = np.arange(5000.0)
    y = _with_bad_values(np.sin(x / 100) * 10, 1)
    y[2000:2300] = np.nan
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    image = frame(plot, LINE)
    assert_same_range(plot.x_range, (x.min(), x.max()), "x_range")
    assert_y_fits(plot, x, y)
    layout = plot.controller.layout()
    a, b = round(float(layout.x_to_px(2010.0))), round(float(layout.x_to_px(2290.0)))
    r, blue = image[..., 0].astype(int), image[..., 2].astype(int)
    assert not (blue - r > 60)[:, a:b].any(), "the NaN block is not a gap"


@case("data-line-skipped-rows")
def line_skipped_rows() -> None:
    """A line plot counts rows with NULL, NaN or ±inf in x or y in plot.stats["skipped_rows"]."""
    x = _with_bad_values(np.arange(5000.0), 2)
    y = _with_bad_values(np.cos(np.arange(5000.0) / 50), 3)
    y[10:20] = np.nan
    s = session()
    table(s, "t", x=x, y=y)
    s.connection.execute("UPDATE t SET y = NULL WHERE x BETWEEN 100 AND 109")
    y[(x >= 100) & (x <= 109)] = np.nan
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    expected = int((~(np.isfinite(x) & np.isfinite(y))).sum())
    assert skipped_of(plot) == expected, f"skipped_rows {skipped_of(plot)}, numpy counts {expected}"


@case("data-nan-inf-x-line")
def nan_inf_x_line() -> None:
    """NaN/±inf in x: x_range is the finite extent; y fitted to the valid rows."""
    x = _with_bad_values(np.arange(5000.0), 2)
    y = np.cos(np.arange(5000.0) / 50)
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    finite = np.isfinite(x)
    assert_same_range(plot.x_range, (x[finite].min(), x[finite].max()), "x_range")
    assert_y_fits(plot, x, y)


@case("data-nan-inf-scatter")
def nan_inf_scatter() -> None:
    """Scatter with NaN/inf in x and y: stats["skipped_rows"] equals numpy's count of bad rows."""
    g = rng(3)
    x = _with_bad_values(g.normal(size=20_000), 4)
    y = _with_bad_values(g.normal(size=20_000), 5)
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.scatter("t", "x", "y", session=s)
    frame(plot, SCATTER)
    ok = np.isfinite(x) & np.isfinite(y)
    assert plot.stats["skipped_rows"] == int((~ok).sum()), plot.stats["skipped_rows"]
    assert_covers(plot.x_range, x[ok].min(), x[ok].max(), "x_range")
    assert_covers(plot.y_range, y[ok].min(), y[ok].max(), "y_range")


@case("data-spike-last-row")
def spike_last_row() -> None:
    """A spike in the very last row is inside the first view's fitted y range."""
    x = np.arange(10_000.0)
    y = rng(6).normal(0, 0.01, x.size)
    y[-1] = 1000.0
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    assert_y_fits(plot, x, y)


@case("data-spike-first-row")
def spike_first_row() -> None:
    """A spike in the very first row is inside the fitted y range."""
    x = np.arange(10_000.0)
    y = rng(7).normal(0, 0.01, x.size)
    y[0] = -1000.0
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    assert_y_fits(plot, x, y)


@case("data-spike-view-edges")
def spike_view_edges() -> None:
    """Zoomed in, spikes on the first and the last row of the view are inside the fitted y range."""
    x = np.arange(100_000.0)
    y = rng(8).normal(0, 0.01, x.size)
    y[20_000], y[30_000] = -50.0, 80.0
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    plot.x_range = (20_000.0, 30_000.0)
    frame(plot, LINE)
    assert_same_range(plot.x_range, (20_000.0, 30_000.0), "x_range")
    assert_y_fits(plot, x, y)


@case("data-spike-view-edges-index", timeout=90)
def spike_view_edges_index() -> None:
    """Same with 1.5M rows (views from the line index): spikes at both ends of the view are fitted."""
    n = 1_500_000
    x = np.arange(float(n))
    y = np.cumsum(rng(9).normal(0, 0.01, n))
    y[500_000], y[600_000] = y.min() - 100, y.max() + 100
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    plot.x_range = (500_000.0, 600_000.0)
    frame(plot, LINE)
    assert_y_fits(plot, x, y)


@case("data-constant-x")
def constant_x() -> None:
    """Every row at the same x: a finite x range around it, y covers all rows."""
    y = rng(10).normal(size=1000)
    s = session()
    table(s, "t", x=np.full(1000, 5.0), y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    assert_covers(plot.x_range, 5.0, 5.0, "x_range")
    assert_covers(plot.y_range, y.min(), y.max(), "y_range")


@case("data-constant-y")
def constant_y() -> None:
    """Every row with the same y: a finite, non-empty y range around it; the line is drawn."""
    s = session()
    table(s, "t", x=np.arange(1000.0), y=np.full(1000, 3.0))
    plot = pk.line("t", "x", "y", session=s)
    image = frame(plot, LINE)
    assert_covers(plot.y_range, 3.0, 3.0, "y_range")
    assert series_pixels(image) > 300


@case("data-huge-magnitude-y")
def huge_magnitude_y() -> None:
    """y at ±1.7e308: the fitted y range stays finite; it holds both extremes up to the view limit
    (±2**1021: beyond it a span would overflow float64), and the frame draws."""
    x, y = np.arange(3.0), np.array([-1.7e308, 0.0, 1.7e308])
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    lo, hi = plot.y_range
    assert math.isfinite(lo) and math.isfinite(hi), plot.y_range
    assert lo <= -VIEW_LIMIT and hi >= VIEW_LIMIT, plot.y_range


@case("data-huge-magnitude-x")
def huge_magnitude_x() -> None:
    """x at ±1.7e308: the x range stays finite and holds both extremes up to the view limit."""
    x, y = np.array([-1.7e308, 0.0, 1.7e308]), np.array([1.0, 2.0, 3.0])
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    lo, hi = plot.x_range
    assert math.isfinite(lo) and math.isfinite(hi) and lo <= -VIEW_LIMIT and hi >= VIEW_LIMIT, plot.x_range


@case("data-huge-magnitude-scatter")
def huge_magnitude_scatter() -> None:
    """A scatter plot of points at ±1e308: finite ranges holding every point up to the view limit."""
    x = np.array([-1e308, 0.0, 1e308, 5.0])
    y = np.array([1e308, -1e308, 0.0, 5.0])
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.scatter("t", "x", "y", session=s)
    frame(plot, SCATTER)
    for got, values, name in ((plot.x_range, x, "x_range"), (plot.y_range, y, "y_range")):
        assert math.isfinite(got[0]) and math.isfinite(got[1]), (name, got)
        assert got[0] <= max(values.min(), -VIEW_LIMIT) and got[1] >= min(values.max(), VIEW_LIMIT), (
            name,
            got,
        )


@case("data-tiny-span-y")
def tiny_span_y() -> None:
    """y varying by 1e-13 around 1.0: a finite y range that holds all values."""
    y = 1.0 + np.arange(100) * 1e-15
    s = session()
    table(s, "t", x=np.arange(100.0), y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    lo, hi = plot.y_range
    assert math.isfinite(lo) and lo < hi and lo <= y.min() and hi >= y.max(), plot.y_range
