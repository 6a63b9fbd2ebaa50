"""Count bounds from every level of the density index, and the provider's markers-or-density
choice made from a coarse level first, against brute-force counts on random data and views."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pikaplot_widget.engine.runner import NEVER_CANCELLED, QueryStats
from pikaplot_widget.engine.scatter import ScatterColumns, fetch_scatter_extent
from pikaplot_widget.engine.sources import resolve_source
from pikaplot_widget.plots.scatter import provider as provider_module
from pikaplot_widget.plots.scatter.density_index import build_density_index
from pikaplot_widget.plots.scatter.provider import ScatterProvider


def random_boxes(rng, count):
    for _ in range(count):
        cx, cy = rng.normal(0, 1), rng.normal(0, 1)
        hw, hh = 10 ** rng.uniform(-1.5, 0.7), 10 ** rng.uniform(-1.5, 0.7)
        yield (cx - hw, cx + hw, cy - hh, cy + hh)


def table(rng, n=80_000):
    x, y = rng.normal(size=n), rng.normal(size=n)
    cat = rng.choice(np.array(["a", "b", "c"]), n)
    return pa.table({"x": x, "y": y, "cat": cat}), x, y


def test_every_level_brackets_the_true_count(rng, session, runner):
    data, x, y = table(rng)
    source = resolve_source(data, session)
    source.prepare(runner.cursor)
    for color in (None, "cat"):
        cols = ScatterColumns.checked(source, "x", "y", color=color)
        extent = fetch_scatter_extent(runner, cols)
        index = build_density_index(runner, cols, extent, budget=2**22, min_rows=0)
        assert index is not None and len(index.levels) > 2
        for box in random_boxes(rng, 15):
            true = int(((x >= box[0]) & (x <= box[1]) & (y >= box[2]) & (y <= box[3])).sum())
            finer = (0, 1 << 62)
            for level in range(len(index.levels)):
                surely, possibly = index.count_bounds(box, level)
                assert surely <= true <= possibly
                if level:  # a coarser level is never tighter
                    assert surely <= finer[0] and possibly >= finer[1]
                finer = (surely, possibly)


def test_mode_follows_the_true_count(rng, session, monkeypatch):
    monkeypatch.setattr(provider_module, "COARSE_BOUNDS", 64)
    data, x, y = table(rng)
    source = resolve_source(data, session)
    columns = ScatterColumns.checked(source, "x", "y")
    limit = 2_000
    provider = ScatterProvider(
        columns, session.reader(), QueryStats(), marker_limit=limit, resident="never", index_min_rows=0
    )
    try:
        provider.scan_extent(None, NEVER_CANCELLED)
        provider.build_index(None, NEVER_CANCELLED)
        assert provider.index is not None
        modes = set()
        for box in random_boxes(rng, 40):
            true = int(((x >= box[0]) & (x <= box[1]) & (y >= box[2]) & (y <= box[3])).sum())
            mode, bound = provider.mode_for(box, NEVER_CANCELLED)
            assert mode == ("markers" if true <= limit else "density")
            assert bound >= true
            modes.add(mode)
        assert modes == {"markers", "density"}
    finally:
        provider.close()
