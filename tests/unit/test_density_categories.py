"""Categorical density from the rows: every plane equals a brute-force count, with NULL categories,
values past the named ones ("other"), VARCHAR and ENUM category columns, and invalid x/y rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pikaplot_widget.engine.scatter import MAX_CATEGORIES, ScatterColumns, fetch_scatter_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.scatter.density import fetch_density


@pytest.mark.parametrize("kind", ["VARCHAR", "ENUM"])
def test_category_planes_match_a_brute_force_count(session, runner, rng, kind):
    n = 60_000
    x, y = rng.normal(size=n), rng.normal(size=n)
    x[rng.random(n) < 0.01] = np.nan
    y[rng.random(n) < 0.01] = np.inf
    labels = rng.integers(0, MAX_CATEGORIES + 6, n)  # more values than get a name: "other"
    null = rng.random(n) < 0.03
    session.connection.register("frame_in", pa.table({"x": x, "y": y, "c": pa.array(labels, mask=null)}))
    values = ", ".join(f"'v{i}'" for i in range(MAX_CATEGORIES + 6))
    cat = {"VARCHAR": "'v' || c", "ENUM": f"CAST('v' || c AS ENUM({values}))"}[kind]
    session.connection.execute(f"CREATE TABLE t AS SELECT x, y, {cat} AS cat FROM frame_in")
    session.connection.unregister("frame_in")
    cols = ScatterColumns.checked(resolve_source("t", session), "x", "y", color="cat")
    extent = fetch_scatter_extent(runner, cols)
    assert len(extent.categories) == MAX_CATEGORIES and extent.has_other
    named = [f"v{v}" for v in labels]
    text = np.array([None if m else t for t, m in zip(named, null, strict=True)])
    valid = np.isfinite(x) & np.isfinite(y)
    plane_of = {name: k for k, name in enumerate(extent.categories)}
    plane = np.array([plane_of.get(t, len(extent.categories)) for t in text])  # NULL and the rest: other
    for _ in range(5):
        cx, cy, half = rng.normal(0, 0.5), rng.normal(0, 0.5), 10 ** rng.uniform(-1, 0.5)
        box = (cx - half, cx + half, cy - half, cy + half)
        width, height = int(rng.integers(16, 120)), int(rng.integers(16, 90))
        grid = fetch_density(runner, cols, extent, box, width, height)
        assert grid.planes is not None
        inside = valid & (x >= box[0]) & (x <= box[1]) & (y >= box[2]) & (y <= box[3])
        xi, yi = x[inside], y[inside]
        ix = np.minimum(np.floor((xi - box[0]) * (width / (box[1] - box[0]))), width - 1).astype(np.int64)
        iy = np.minimum(np.floor((yi - box[2]) * (height / (box[3] - box[2]))), height - 1).astype(np.int64)
        reference = np.zeros((len(extent.categories) + 1, height, width), np.int64)
        np.add.at(reference, (plane[inside], iy, ix), 1)
        np.testing.assert_array_equal(grid.planes, reference)
