"""Nearest drawn point to the pointer: a linear scan for few points, a uniform grid for many.

The front end (js/spatial.js) follows the same rule, so hover in the browser and `Plot.pick` in
Python agree: the nearest point within `radius` pixels, ties to the lower index.
"""

from __future__ import annotations

import math

import numpy as np

LINEAR_BELOW = 250  # points: below this a scan is faster than building a grid
CELL_PX = 16.0  # grid cell size in pixels


class PointIndex:
    """Points in pixel coordinates, queried for the nearest one to a position."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        finite = np.isfinite(x) & np.isfinite(y)
        self.ids = np.flatnonzero(finite)
        self.x, self.y = x[finite], y[finite]
        self.grid: dict[tuple[int, int], np.ndarray] | None = None
        if self.x.size >= LINEAR_BELOW:
            cells_x = np.floor(self.x / CELL_PX).astype(np.int64)
            cells_y = np.floor(self.y / CELL_PX).astype(np.int64)
            order = np.lexsort((cells_y, cells_x))
            keys = np.stack([cells_x[order], cells_y[order]], axis=1)
            starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)])
            ends = np.r_[starts[1:], order.size]
            self.grid = {
                (int(keys[s, 0]), int(keys[s, 1])): order[s:e] for s, e in zip(starts, ends, strict=True)
            }

    def __len__(self) -> int:
        return int(self.x.size)

    def nearest(self, px: float, py: float, radius: float) -> int | None:
        """The index (into the arrays given) of the nearest point within `radius`, else None."""
        if not (math.isfinite(px) and math.isfinite(py)) or self.x.size == 0:
            return None
        if self.grid is None:
            candidates = np.arange(self.x.size)
        else:
            reach = math.ceil(radius / CELL_PX)
            cx, cy = math.floor(px / CELL_PX), math.floor(py / CELL_PX)
            found = [
                self.grid[key]
                for i in range(cx - reach, cx + reach + 1)
                for j in range(cy - reach, cy + reach + 1)
                if (key := (i, j)) in self.grid
            ]
            if not found:
                return None
            candidates = np.sort(np.concatenate(found))
        d2 = (self.x[candidates] - px) ** 2 + (self.y[candidates] - py) ** 2
        best = int(np.argmin(d2))  # argmin: the first of equals, so ties go to the lower index
        if d2[best] > radius * radius:
            return None
        return int(self.ids[candidates[best]])
