"""A line plot's frames: the M4 points of a view as the chart's series."""

from __future__ import annotations

from ...engine.line import LineData
from ...render.chart.layout import ChartLayout, ChartSpec
from ..painter import Painter


class LinePainter(Painter):
    """Draws the points of a `LineData` as a polyline (with markers where points stand alone)."""

    def add_data(self, spec: ChartSpec, data: object) -> None:
        """The points; their snapped pixel columns only when `data` was queried for this exact view."""
        if not isinstance(data, LineData):
            return
        spec.x, spec.y = data.x, data.y
        if data.x_range == spec.x_range and data.columns == ChartLayout(spec).area.width:
            spec.column_x = data.column_x
