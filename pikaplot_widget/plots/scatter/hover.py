"""What a scatter frame drew: markers with their values, or for density the pixel under the pointer."""

from __future__ import annotations

import math

import numpy as np

from ...engine.scatter import ScatterExtent
from ...render.chart.layout import ChartLayout
from ..drawn import Drawn
from .density import DensityGrid
from .provider import ScatterView


def scatter_drawn(view: ScatterView, layout: ChartLayout) -> Drawn:
    """Markers in CSS pixels with x, y, colour (value or category code), size and their index
    (the key a row request names); a density view draws no points."""
    points = view.points
    if points is None:
        return Drawn("density", np.empty(0), np.empty(0))
    ratio = layout.spec.ratio
    px = np.asarray(layout.x_to_px(points.x), np.float64) / ratio
    py = np.asarray(layout.y_to_px(points.y), np.float64) / ratio
    fields: dict[str, np.ndarray] = {"x": points.x, "y": points.y, "index": np.arange(points.x.size)}
    if points.color is not None:
        name = "category" if points.color.dtype == np.uint8 else "color"
        fields[name] = points.color.astype(np.int64) if name == "category" else points.color
    if points.size is not None:
        fields["size"] = points.size
    return Drawn("markers", px, py, fields)


def density_pixel(
    grid: DensityGrid, extent: ScatterExtent, layout: ChartLayout, x: float, y: float
) -> dict[str, object] | None:
    """The density pixel under (x, y) CSS pixels: its centre, rows, mean colour and categories."""
    area, ratio = layout.area, layout.spec.ratio
    height, width = grid.counts.shape
    column = math.floor(x * ratio - area.left)
    row_from_top = math.floor(y * ratio - area.top)
    if not (0 <= column < width and 0 <= row_from_top < height):
        return None
    row = height - 1 - row_from_top  # grids keep row 0 at the bottom
    x0, x1, y0, y1 = grid.box
    out: dict[str, object] = {
        "kind": "density",
        "x": x0 + (column + 0.5) * (x1 - x0) / width,
        "y": y0 + (row + 0.5) * (y1 - y0) / height,
        "rows": int(grid.counts[row, column]),
        "exact": grid.exact,
    }
    if grid.color_sum is not None and grid.color_count is not None and grid.color_count[row, column]:
        out["mean"] = float(grid.color_sum[row, column] / grid.color_count[row, column])
    if grid.planes is not None:
        names = [*extent.categories, "other"]
        counts = grid.planes[:, row, column]
        out["categories"] = {names[i]: int(c) for i, c in enumerate(counts) if c and i < len(names)}
    return out
