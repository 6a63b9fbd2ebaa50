"""Fault cases: scatter density against numpy, categories, and every kind of data source."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

import pikaplot_widget as pk
from tests.robustness.checks import (
    LINE,
    SCATTER,
    Skip,
    assert_same_range,
    assert_y_fits,
    frame,
    raises,
    rng,
    rows_of,
    session,
    table,
)
from tests.robustness.registry import case


# ---- scatter density -------------------------------------------------------------------------
def _grid_vs_numpy(plot: pk.Plot, x: np.ndarray, y: np.ndarray, tolerance: float) -> None:
    """The view's counts per pixel equal numpy.histogram2d over the same box and bins."""
    data = plot.controller.data
    assert data is not None and data.mode == "density" and data.grid is not None, "not a density view"
    counts = np.asarray(data.grid.counts)
    x0, x1, y0, y1 = data.grid.box
    height, width = counts.shape
    reference = np.histogram2d(x, y, bins=[width, height], range=[[x0, x1], [y0, y1]])[0].T
    off = float(np.abs(counts - reference).sum())
    assert abs(float(counts.sum()) - float(reference.sum())) <= max(3.0, reference.sum() * tolerance), (
        f"{counts.sum()} rows counted, numpy counts {reference.sum()}"
    )
    assert off <= max(6.0, reference.sum() * tolerance), (
        f"{off:.0f} of {reference.sum():.0f} rows in wrong pixels"
    )


@case("data-scatter-density-exact")
def scatter_density_exact() -> None:
    """DuckDB-binned density (gpu_points="never") of a zoomed view equals numpy.histogram2d exactly."""
    g = rng(16)
    x, y = g.normal(size=300_000), g.normal(size=300_000)
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.scatter("t", "x", "y", session=s, marker_limit=1000, gpu_points="never")
    frame(plot, SCATTER)
    plot.x_range, plot.y_range = (-1.5, 2.0), (-0.7, 1.1)
    frame(plot, SCATTER)
    _grid_vs_numpy(plot, x, y, tolerance=0.0)


@case("data-scatter-gpu-points")
def scatter_gpu_points() -> None:
    """GPU-resident points (gpu_points="always"): the full view's density equals numpy.histogram2d."""
    g = rng(17)
    x, y = g.normal(size=300_000), g.normal(size=300_000)
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.scatter("t", "x", "y", session=s, marker_limit=1000, gpu_points="always")
    frame(plot, SCATTER)
    _grid_vs_numpy(plot, x, y, tolerance=1e-4)


@case("data-scatter-gpu-outliers")
def scatter_gpu_outliers() -> None:
    """GPU-resident points with a few outliers at 1e6: density of the core equals numpy.histogram2d."""
    g = rng(18)
    x, y = g.normal(size=300_000), g.normal(size=300_000)
    x[:3], y[:3] = [1e6, -1e6, 5e5], [1e6, 3e5, -1e6]
    s = session()
    table(s, "t", x=x, y=y)
    plot = pk.scatter("t", "x", "y", session=s, marker_limit=1000, gpu_points="always")
    frame(plot, SCATTER)
    plot.x_range, plot.y_range = (-3.0, 3.0), (-3.0, 3.0)
    frame(plot, SCATTER)
    _grid_vs_numpy(plot, x, y, tolerance=1e-4)


@case("data-categorical-25")
def categorical_25() -> None:
    """25 categories: the 20 most frequent are named, the 5 rarest are counted as "other"."""
    g = rng(19)
    names = [f"c{k:02d}" for k in range(25)]
    labels = np.repeat(names, [(k + 1) * 300 for k in range(25)])
    n = labels.size
    x, y = g.normal(size=n), g.normal(size=n)
    s = session()
    table(s, "t", x=x, y=y, kind=labels)
    plot = pk.scatter("t", "x", "y", color="kind", session=s, marker_limit=1000, gpu_points="never")
    frame(plot, SCATTER)
    counts = pd.Series(labels).value_counts()
    top = set(counts.index[:20])
    extent = plot.controller.extent
    assert extent is not None and set(extent.categories) == top, extent and extent.categories
    assert extent.has_other
    grid = plot.controller.data.grid
    assert grid is not None and grid.planes is not None, "density with categories has no planes"
    rare = ~np.isin(labels, list(top))
    x0, x1, y0, y1 = grid.box
    shown = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    other = int(np.asarray(grid.planes)[-1].sum())
    assert other == int((rare & shown).sum()), f"'other' holds {other} rows, expected {(rare & shown).sum()}"


@case("data-categorical-null")
def categorical_null() -> None:
    """NULL categories are drawn as "other" (not a named category, not lost)."""
    g = rng(26)
    labels = np.array(["a"] * 3000 + ["b"] * 2000 + [None] * 1500, dtype=object)
    x, y = g.normal(size=labels.size), g.normal(size=labels.size)
    s = session()
    table(s, "t", x=x, y=y, kind=pa.array(labels, pa.string()))
    plot = pk.scatter("t", "x", "y", color="kind", session=s, marker_limit=1000, gpu_points="never")
    frame(plot, SCATTER)
    extent = plot.controller.extent
    assert extent is not None and set(extent.categories) == {"a", "b"}, extent and extent.categories
    grid = plot.controller.data.grid
    assert grid is not None and grid.planes is not None
    planes = np.asarray(grid.planes)
    assert int(planes.sum()) == labels.size, f"{planes.sum()} rows counted of {labels.size}"
    assert int(planes[-1].sum()) == 1500, f"'other' holds {planes[-1].sum()} rows, expected the 1500 NULLs"


# ---- sources --------------------------------------------------------------------------------
def _check_source(data: object, x: np.ndarray, y: np.ndarray, s: pk.Session | None = None) -> None:
    plot = pk.line(data, "x", "y", session=s or session())
    frame(plot, LINE)
    assert_same_range(plot.x_range, (float(np.nanmin(x)), float(np.nanmax(x))), "x_range")
    assert_y_fits(plot, x, y)
    assert rows_of(plot) == x.size


def _walk(n: int = 30_000, seed: int = 20) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(float(n)) * 0.5 - 100, np.cumsum(rng(seed).normal(size=n))


@case("data-pandas")
def pandas_frame() -> None:
    """A pandas DataFrame with a non-default index and int x."""
    x, y = _walk()
    df = pd.DataFrame({"x": (x * 2).astype(np.int64), "y": y}, index=np.arange(x.size)[::-1] * 3)
    _check_source(df, (x * 2).astype(np.int64).astype(np.float64), y)


@case("data-pandas-nullable")
def pandas_nullable() -> None:
    """A pandas nullable Float64 column with pd.NA: y fitted to the other rows."""
    x, y = _walk(seed=21)
    column = pd.array(y, dtype="Float64")
    column[100:200] = pd.NA
    plot = pk.line(pd.DataFrame({"x": x, "y": column}), "x", "y", session=session())
    frame(plot, LINE)
    y_nan = y.copy()
    y_nan[100:200] = np.nan
    assert_y_fits(plot, x, y_nan)


@case("data-polars")
def polars_frame() -> None:
    """A polars DataFrame (skipped when polars is not installed)."""
    try:
        import polars as pl
    except ImportError:
        raise Skip("polars is not installed") from None
    x, y = _walk(seed=22)
    _check_source(pl.DataFrame({"x": x, "y": y}), x, y)


@case("data-pyarrow-table")
def pyarrow_table() -> None:
    """A pyarrow Table in several chunks."""
    x, y = _walk(seed=23)
    parts = [pa.table({"x": x[i : i + 7000], "y": y[i : i + 7000]}) for i in range(0, x.size, 7000)]
    _check_source(pa.concat_tables(parts), x, y)


@case("data-relation-other-connection")
def relation_other_connection() -> None:
    """A DuckDB relation made on another connection than the session's."""
    x, y = _walk(seed=24)
    other = duckdb.connect()
    other.register("src", pa.table({"x": x, "y": y}))
    other.execute("CREATE TABLE w AS SELECT * FROM src")
    _check_source(other.sql("SELECT x, y FROM w WHERE y IS NOT NULL"), x, y)
    other.close()


@case("data-relation-same-connection")
def relation_same_connection() -> None:
    """A DuckDB relation made on the session's own connection."""
    x, y = _walk(seed=25)
    s = session()
    table(s, "w", x=x, y=y)
    _check_source(s.connection.sql("SELECT x, y FROM w"), x, y, s)


@case("data-bad-columns")
def bad_columns() -> None:
    """Construction raises at once: ValueError listing the columns, TypeError for a VARCHAR y."""
    s = session()
    s.connection.execute("CREATE TABLE t AS SELECT i::DOUBLE AS x, i::VARCHAR AS label FROM range(10) r(i)")
    with raises(ValueError, match="label"):
        pk.line("t", "x", "nope", session=s)
    with raises(TypeError):
        pk.line("t", "x", "label", session=s)
    with raises(TypeError):
        pk.scatter("t", "label", "x", session=s)
