"""A line plot's frames: the M4 points of a view as the chart's series, one colour each, a legend."""

from __future__ import annotations

import numpy as np

from ...core.scale import AxisScale
from ...core.series_style import series_colors
from ...core.types import Labels
from ...engine.line import LineData
from ...render import theme
from ...render.chart.layout import ChartLayout, ChartSpec, Clip, polyline_layers
from ...render.chart.legend import CategoryLegend, category_at, legend_width
from ...render.layers.base import Layer
from ..painter import Painter


class LinePainter(Painter):
    """Draws the points of a `LineData` as polylines (with markers where points stand alone).

    One series keeps the theme's look unless `colors`/`line_width` say otherwise; several series
    get the category palette (or `colors`) and a legend whose hidden entries are not drawn.
    """

    def __init__(
        self,
        labels: Labels,
        x_is_time: bool,
        x_origin_us: int = 0,
        scale: AxisScale | None = None,
        names: tuple[str, ...] = (),
        colors: np.ndarray | None = None,
        line_width: float | None = None,
        legend_title: str = "",
    ) -> None:
        """`names`: the series of a plot of several (legend); `colors`: (series, 3) uint8 RGB."""
        super().__init__(labels, x_is_time, x_origin_us, scale)
        self.names = names
        self.legend_title = legend_title
        self.colors = (colors if colors is not None else series_colors(names)) if names else None
        self.single_color = None if names else colors
        self.line_width = theme.LINE_WIDTH_PX if line_width is None else line_width
        self.hidden: frozenset[int] = frozenset()
        self.min_right = 0
        if self.colors is not None:
            font = ChartLayout(ChartSpec(width=200, height=200)).font
            self.min_right = legend_width(self.legend(), font, 1.0)
        self._custom = self.colors is not None or self.single_color is not None or line_width is not None

    def legend(self) -> CategoryLegend:
        """The series legend (hidden entries muted)."""
        assert self.colors is not None
        hidden = tuple(i in self.hidden for i in range(len(self.names)))
        return CategoryLegend(self.names, self.colors, self.legend_title, hidden)

    def legend_entry(self, layout: ChartLayout, x: float, y: float) -> int | None:
        """The series whose legend entry is at CSS pixel (x, y) of `layout`, if any."""
        if self.colors is None or layout.spec.legend is None:
            return None
        area, ratio = layout.area, layout.spec.ratio
        legend = self.legend()
        return category_at(
            legend, area.right, area.top, area.bottom, layout.font, ratio, x * ratio, y * ratio
        )

    def add_data(self, spec: ChartSpec, data: object) -> None:
        """The points; their snapped pixel columns only when `data` was queried for this exact view."""
        if self.colors is not None:
            spec.min_right = round(self.min_right * spec.ratio)
            spec.legend = self.legend()
        if not isinstance(data, LineData):
            return
        spec.x, spec.y = data.x, data.y
        if data.x_range == spec.x_range and data.columns == ChartLayout(spec).area.width:
            spec.column_x = data.column_x
        if self._custom:
            spec.data_layers = lambda layout, clip: self._series_layers(layout, clip, data)

    def _series_layers(self, layout: ChartLayout, clip: Clip, data: LineData) -> list[Layer]:
        spec = layout.spec
        if spec.x.size == 0:
            return []
        px = layout.area.left + spec.column_x if spec.column_x is not None else layout.x_to_px(spec.x)
        points = np.column_stack([px, layout.y_to_px(spec.y)])
        layers: list[Layer] = []
        if data.series is None or self.colors is None:
            color = self.single_color[0] if self.single_color is not None else None
            return _polyline(layout, clip, points, color, self.line_width, self.theme.series)
        bounds = np.searchsorted(data.series, np.arange(len(self.names) + 1))
        for code in range(len(self.names)):
            if code in self.hidden or bounds[code] == bounds[code + 1]:
                continue
            part = points[bounds[code] : bounds[code + 1]]
            layers += _polyline(layout, clip, part, self.colors[code], self.line_width, self.theme.series)
        return layers


def _polyline(
    layout: ChartLayout,
    clip: Clip,
    points: np.ndarray,
    color: np.ndarray | None,
    width_px: float,
    default: tuple[float, float, float, float],
) -> list[Layer]:
    """One series: the line, plus markers where points stand alone or are few enough to tell apart."""
    r = layout.spec.ratio
    rgba = default if color is None else (*(np.asarray(color, np.float64) / 255.0), 1.0)
    radius = max(theme.MARKER_RADIUS_PX, width_px * 0.9)
    return polyline_layers(layout, clip, points, rgba, width_px * r / 2, radius * r)
