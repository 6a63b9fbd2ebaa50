"""The points a line frame drew, with what each pixel column stands for (rows, first/last/min/max)
and, with several series, the series of each point (hidden series are left out)."""

from __future__ import annotations

import numpy as np

from ...engine.line import LineData
from ...render.chart.layout import ChartLayout
from ..drawn import Drawn


def line_drawn(data: LineData, layout: ChartLayout, hidden: frozenset[int] = frozenset()) -> Drawn:
    """Each drawn point in CSS pixels with its x, y and its pixel column's summary."""
    ratio = layout.spec.ratio
    px = np.asarray(layout.x_to_px(data.x), np.float64) / ratio
    py = np.asarray(layout.y_to_px(data.y), np.float64) / ratio
    fields: dict[str, np.ndarray] = {"x": data.x, "y": data.y}
    groups: dict[str, np.ndarray] = {}
    stats, columns = data.column_stats, data.point_column
    shown = np.ones(data.x.size, bool)
    if stats is not None and columns is not None and stats.column.size:
        key, group_key = columns.astype(np.int64), stats.column.astype(np.int64)
        if data.series is not None and stats.series is not None:
            # One key per series and pixel column, increasing with both (groups are sorted so).
            stride = data.columns + 3
            key = data.series * stride + key + 1
            group_key = stats.series * stride + group_key + 1
        fields["column"] = key
        groups = {
            "column": group_key, "rows": stats.rows, "first": stats.first,
            "last": stats.last, "min": stats.low, "max": stats.high,
        }  # fmt: skip
    if data.series is not None and data.series_names:
        names = np.asarray(data.series_names, dtype=object)
        fields["series"] = names[data.series]
        shown = ~np.isin(data.series, np.fromiter(hidden, np.int64, len(hidden)))
    inside = _in_area(px, py, layout) & shown
    return Drawn("line", px[inside], py[inside], {k: v[inside] for k, v in fields.items()}, groups)


def _in_area(px: np.ndarray, py: np.ndarray, layout: ChartLayout) -> np.ndarray:
    area, ratio = layout.area, layout.spec.ratio
    left, right = area.left / ratio, area.right / ratio
    top, bottom = area.top / ratio, area.bottom / ratio
    return np.isfinite(px) & np.isfinite(py) & (px >= left) & (px <= right) & (py >= top) & (py <= bottom)
