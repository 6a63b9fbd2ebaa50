"""The points a line frame drew, with what each pixel column stands for (rows, first/last/min/max)."""

from __future__ import annotations

import numpy as np

from ...engine.line import LineData
from ...render.chart.layout import ChartLayout
from ..drawn import Drawn


def line_drawn(data: LineData, layout: ChartLayout) -> Drawn:
    """Each drawn point in CSS pixels with its x, y and its pixel column's summary."""
    ratio = layout.spec.ratio
    px = np.asarray(layout.x_to_px(data.x), np.float64) / ratio
    py = np.asarray(layout.y_to_px(data.y), np.float64) / ratio
    fields: dict[str, np.ndarray] = {"x": data.x, "y": data.y}
    groups: dict[str, np.ndarray] = {}
    stats, columns = data.column_stats, data.point_column
    if stats is not None and columns is not None and stats.column.size:
        fields["column"] = columns.astype(np.int32)
        groups = {
            "column": stats.column.astype(np.int32), "rows": stats.rows, "first": stats.first,
            "last": stats.last, "min": stats.low, "max": stats.high,
        }  # fmt: skip
    inside = _in_area(px, py, layout)
    return Drawn("line", px[inside], py[inside], {k: v[inside] for k, v in fields.items()}, groups)


def _in_area(px: np.ndarray, py: np.ndarray, layout: ChartLayout) -> np.ndarray:
    area, ratio = layout.area, layout.spec.ratio
    left, right = area.left / ratio, area.right / ratio
    top, bottom = area.top / ratio, area.bottom / ratio
    return np.isfinite(px) & np.isfinite(py) & (px >= left) & (px <= right) & (py >= top) & (py <= bottom)
