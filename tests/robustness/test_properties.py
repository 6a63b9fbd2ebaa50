"""Property-based tests (hypothesis, in-process): viewport arithmetic and M4's per-column extremes."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pikaplot_widget as pk
from pikaplot_widget.core.viewport import Range
from pikaplot_widget.engine.line import LineColumns, fetch_extent, fetch_line
from pikaplot_widget.engine.runner import QueryRunner
from pikaplot_widget.engine.sources import resolve_source

EPS = np.finfo(np.float64).eps
MAGNITUDE = 1e12


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    """A range somewhere within ±1e12 whose span is at least 1e-6 of its magnitude."""
    lo = draw(st.floats(-MAGNITUDE, MAGNITUDE, allow_nan=False))
    scale = max(abs(lo), 1.0)
    span = draw(st.floats(1e-6, 1e3)) * scale
    assume(math.isfinite(lo + span) and lo + span > lo)
    return Range(lo, lo + span)


factors = st.floats(1 / 16, 16).filter(lambda f: abs(f - 1.0) > 1e-6)
fractions = st.floats(0.0, 1.0)


@given(r=ranges(), factor=factors, where=fractions)
def test_zoom_keeps_the_anchor_where_it_was(r, factor, where):
    """Zooming about a point keeps that point at the same fraction of the range; the span scales."""
    anchor = r.lo + where * r.span
    zoomed = r.zoom(factor, anchor)
    assume(zoomed != r)  # at the zoom limit the range stays as it is
    before = (anchor - r.lo) / r.span
    after = (anchor - zoomed.lo) / zoomed.span
    assert after == pytest.approx(before, abs=1e-6)
    assert zoomed.span == pytest.approx(r.span * factor, rel=1e-6)
    assert zoomed.lo < zoomed.hi


@given(r=ranges(), factor=factors, where=fractions)
def test_zoom_in_then_out_returns_the_range(r, factor, where):
    """zoom(f) then zoom(1/f) about the same point gives the range back, up to float rounding."""
    anchor = r.lo + where * r.span
    there = r.zoom(factor, anchor)
    assume(there != r)
    back = there.zoom(1 / factor, anchor)
    tolerance = 64 * EPS * max(abs(r.lo), abs(r.hi), r.span)
    assert abs(back.lo - r.lo) <= tolerance and abs(back.hi - r.hi) <= tolerance, (r, back)


@given(r=ranges(), delta=st.floats(-MAGNITUDE, MAGNITUDE, allow_nan=False))
def test_shift_preserves_the_span(r, delta):
    """Shifting moves both ends by delta: the span is unchanged up to rounding."""
    moved = r.shift(delta)
    tolerance = 4 * EPS * max(abs(r.lo), abs(r.hi), abs(delta), abs(moved.lo), abs(moved.hi))
    assert abs(moved.span - r.span) <= tolerance
    assert abs(moved.lo - (r.lo + delta)) <= tolerance


# ---- M4 ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def duck():
    """One session and reader for the module (hypothesis runs many examples per test)."""
    session = pk.Session()
    runner = QueryRunner(session.cursor())
    yield session, runner
    runner.close()
    session.close()


def _columns_of(x: np.ndarray, x0: float, x1: float, columns: int) -> np.ndarray:
    """The pixel column of each x: floor((x - x0) * columns / (x1 - x0))."""
    return np.floor((x - x0) * (columns / (x1 - x0))).astype(np.int64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 4000),
    layout=st.sampled_from(["sorted", "shuffled", "duplicates", "integers"]),
    nan_share=st.sampled_from([0.0, 0.0, 0.05, 0.5]),
    columns=st.integers(1, 900),
    window=st.tuples(st.floats(-0.3, 1.2), st.floats(0.001, 1.5)),
)
def test_m4_keeps_every_columns_min_and_max(duck, seed, n, layout, nan_share, columns, window):
    """Per pixel column in view, the points fetch_line returns reach numpy's min and max of y."""
    session, runner = duck
    g = np.random.default_rng(seed)
    x = g.uniform(0, 1000, n)
    if layout == "sorted":
        x.sort()
    elif layout == "duplicates":
        x = np.round(x / 50) * 50
    elif layout == "integers":
        x = np.floor(x)
    y = np.cumsum(g.normal(size=n))
    y[g.random(n) < nan_share] = np.nan
    session.connection.register("prop_in", pa.table({"x": x, "y": y}))
    session.connection.execute("CREATE OR REPLACE TABLE prop AS SELECT * FROM prop_in")
    session.connection.unregister("prop_in")
    cols = LineColumns.checked(resolve_source("prop", session), "x", "y")
    extent = fetch_extent(runner, cols)
    x0 = 1000 * window[0]
    x1 = x0 + 1000 * window[1]

    data = fetch_line(runner, cols, extent, (x0, x1), columns)

    shown = np.isfinite(data.y)
    point_col = _columns_of(data.x[shown], x0, x1, columns)
    point_y = data.y[shown]
    valid = np.isfinite(y)
    row_col = _columns_of(x[valid], x0, x1, columns)
    row_y = y[valid]
    for c in np.unique(row_col[(row_col >= 0) & (row_col < columns)]):
        expected = row_y[row_col == c]
        got = point_y[point_col == c]
        assert got.size, f"column {c} has {expected.size} rows but no point"
        assert got.max() == expected.max(), f"column {c}: max {got.max()} != {expected.max()}"
        assert got.min() == expected.min(), f"column {c}: min {got.min()} != {expected.min()}"
    # Every point drawn is a real row.
    rows = set(zip(x[valid].tolist(), row_y.tolist(), strict=True))
    assert all(p in rows for p in zip(data.x[shown].tolist(), point_y.tolist(), strict=True))
