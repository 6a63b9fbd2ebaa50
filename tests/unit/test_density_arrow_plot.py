"""pk.scatter on a pyarrow Table end to end: the density index and exact views are binned from the
table's buffers, and the frames' counts equal numpy's histogram2d and a direct SQL count."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import pikaplot_widget as pk
from pikaplot_widget.core.viewport import Range, Viewport


def test_arrow_table_plot_counts_like_numpy_and_sql(rng, session):
    n = 2_100_000  # past the density index's MIN_ROWS
    x = rng.normal(0, 1, n)
    y = rng.normal(0, 1, n) * 0.5 + x
    cat = rng.choice(np.array(["a", "b", "c"]), n)
    table = pa.table({"x": x, "y": y, "cat": pa.array(cat).dictionary_encode()})
    p = pk.scatter(table, "x", "y", color="cat", session=session, gpu_points="never", marker_limit=1000)
    try:
        p.to_array()
        provider = p.controller.provider
        assert provider.arrow is not None  # the numpy path
        assert p.stats["view_source"] == "index" and p.stats["index_grid"] > 0
        index = provider.index
        assert index is not None and index.levels[0].planes is not None
        assert int(index.levels[0].planes.sum()) == n
        probe = session.cursor()
        probe.register("arrow_points", table)
        for _ in range(3):
            cx, cy, half = rng.normal(0, 0.5), rng.normal(0, 0.5), 10 ** rng.uniform(-1.2, -0.6)
            box = (cx - half, cx + half, cy - half, cy + half)
            p.controller.set_view(Viewport(Range(box[0], box[1]), Range(box[2], box[3]), y_auto=False))
            p.to_array()
            grid = p.controller.data.grid
            assert p.mode == "density" and p.stats["view_source"] == "rows" and grid.exact
            sql = "SELECT count(*) FROM arrow_points WHERE x BETWEEN ? AND ? AND y BETWEEN ? AND ?"
            assert grid.total == probe.execute(sql, list(box)).fetchone()[0]
            height, width = grid.counts.shape
            reference, _, _ = np.histogram2d(x, y, bins=[width, height], range=[box[:2], box[2:]])
            assert np.abs(grid.counts - reference.T).sum() <= 2
            for k, name in enumerate(provider.extent.categories):
                chosen = cat == name
                plane, _, _ = np.histogram2d(
                    x[chosen], y[chosen], bins=[width, height], range=[box[:2], box[2:]]
                )
                assert np.abs(grid.planes[k] - plane.T).sum() <= 2
        probe.close()
    finally:
        p.close()
