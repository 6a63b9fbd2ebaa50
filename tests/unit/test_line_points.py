"""The points a view draws from its M4 rows, against a per-row sort in plain Python."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pikaplot_widget.engine.line_points import m4_points
from pikaplot_widget.engine.line_rows import m4_of_rows

_POINTS = (("x_first", "y_first"), ("x_at_min", "y_min"), ("x_at_max", "y_max"), ("x_last", "y_last"))


def _reference(rows: list[dict[str, float]]) -> list[tuple[float, float, int]]:
    """Each row's points sorted by x (on a tie in the order first, lowest, highest, last, gap),
    absent ones left out, then consecutive equal points dropped."""
    points: list[tuple[float, float, int]] = []
    for row in rows:
        named = [(row[x], i, row[y]) for i, (x, y) in enumerate(_POINTS)] + [(row["x_gap"], 4, math.nan)]
        present = sorted((p for p in named if p[0] is not None and not math.isnan(p[0])), key=lambda p: p[:2])
        for x, _, y_or_none in present:
            y = math.nan if y_or_none is None else y_or_none
            if points and points[-1][0] == x and points[-1][1] == y:  # NaN (a gap) never equals
                continue
            points.append((x, y, row["col"]))
    return points


@pytest.mark.parametrize("case", range(8))
def test_points_of_m4_rows_match_a_plain_sort(rng, case):
    n = int(rng.integers(50, 40_000))
    x = rng.uniform(0, 100, n)
    if case % 2 == 0:
        x = np.round(x, 1)  # ties in x: first == min and the like
    y = np.round(np.cumsum(rng.normal(size=n)), 1 if case % 4 < 2 else 6)  # ties in y
    if case >= 4:
        y[rng.random(n) < 0.02] = np.nan  # gaps
    columns = int(rng.integers(1, 900))
    x0, x1 = sorted(rng.uniform(-10, 110, 2))
    table = m4_of_rows(x, y, x0, columns / (x1 - x0), columns)
    got = m4_points(table, (x0, x1), columns)
    want = _reference(table.to_pylist())
    assert got.x.size == len(want)
    np.testing.assert_array_equal(got.x, [p[0] for p in want])
    np.testing.assert_array_equal(got.y, [p[1] for p in want])
    assert got.point_column is not None
    np.testing.assert_array_equal(got.point_column, [p[2] for p in want])
