"""The front end's spatial index (js/spatial.js, bundled) picks the same point as core/spatial.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pikaplot_widget.core.spatial import PointIndex

pytestmark = pytest.mark.browser
BUNDLE = Path(__file__).resolve().parents[2] / "pikaplot_widget" / "static" / "overlay.js"


@pytest.mark.parametrize("n", [120, 8000])  # both regimes: a scan and the grid
def test_js_and_python_pick_the_same_point(browser, n):
    rng = np.random.default_rng(n)
    xs, ys = rng.uniform(0, 800, n).round(2), rng.uniform(0, 500, n).round(2)
    xs[5], ys[5] = xs[3], ys[3]  # a tie: both must take the lower index
    queries = np.column_stack(
        [rng.uniform(-10, 810, 400), rng.uniform(-10, 510, 400), rng.uniform(2, 30, 400)]
    )
    queries[0] = (xs[3], ys[3], 5.0)
    python = PointIndex(xs, ys)
    expected = [python.nearest(qx, qy, r) for qx, qy, r in queries]
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=BUNDLE.read_text())
        got = page.evaluate(
            """([xs, ys, queries]) => {
                const index = new pikaplotOverlay.PointIndex(Float32Array.from(xs), Float32Array.from(ys));
                return queries.map(([x, y, r]) => index.nearest(x, y, r));
            }""",
            [xs.tolist(), ys.tolist(), queries.tolist()],
        )
    finally:
        page.close()
    assert got == expected, json.dumps(
        [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e][:5]
    )
