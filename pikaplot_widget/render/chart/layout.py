"""Compose one frame of a 2D chart: plot area, grid, axes, tick labels, title, series, messages."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...core.log_ticks import log_ticks
from ...core.scale import AxisScale
from ...core.ticks import Ticks, max_ticks_for, numeric_ticks, time_ticks
from ...core.zoned_ticks import zoned_time_ticks
from .. import theme
from ..layers.base import Layer
from ..layers.shapes import LineLayer, MarkerLayer, RectLayer, finite_points
from ..layers.text import TextLayer
from ..text import GlyphAtlas, glyph_atlas
from ..theme import LIGHT, Theme
from .legend import Legend, legend_layers, legend_width


@dataclass(frozen=True)
class PlotArea:
    """The rectangle (physical pixels) where data is drawn, inside a frame of width x height."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        """x of the right edge."""
        return self.left + self.width

    @property
    def bottom(self) -> int:
        """y of the bottom edge."""
        return self.top + self.height


Clip = tuple[int, int, int, int]  # left, top, width, height in physical pixels
DataLayers = Callable[["ChartLayout", Clip], list[Layer]]  # what a plot kind draws in the plot area


@dataclass
class ChartSpec:
    """Everything one frame shows. Ranges and data are in axis units (seconds for time axes)."""

    width: int  # physical pixels
    height: int
    ratio: float = 1.0  # physical pixels per CSS pixel
    x_range: tuple[float, float] = (0.0, 1.0)
    y_range: tuple[float, float] = (0.0, 1.0)
    x_is_time: bool = False
    x_origin_us: int = 0  # time axes: x values are seconds since this instant (epoch microseconds)
    scale: AxisScale = field(default_factory=AxisScale)  # log axes (axis units log10) and time zone
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    message: str = ""  # e.g. "no data"; drawn in the middle of the plot area
    error: bool = False
    min_left: int = 0  # keep the left margin at least this wide (stable plot area while zooming)
    min_right: int = 0  # reserve at least this much right of the plot (e.g. for a legend)
    column_x: np.ndarray | None = None  # x of the points in pixel-column units, when snapped
    note: str = ""  # a short remark in the top-right corner, e.g. "approximate: sampled rows"
    legend: Legend | None = None  # colour bar or categories, right of the plot area
    # Selected region in axis units (x0, x1, y0, y1; None: unbounded that way), and whether what is
    # outside it is dimmed (scatter) rather than the region shaded (lines).
    selection: tuple[float | None, float | None, float | None, float | None] | None = None
    dim_outside: bool = False
    selection_polygon: tuple[tuple[float, float], ...] | None = None  # a lasso (axis units), outlined
    # Draws the data instead of the line series: (layout, clip rectangle) -> layers
    data_layers: DataLayers | None = None
    theme: Theme = LIGHT  # the colours of everything drawn


@functools.lru_cache(maxsize=256)
def axis_ticks(kind: str, lo: float, hi: float, max_ticks: int, origin_us: int = 0, tz: str = "") -> Ticks:
    """The ticks of one axis, remembered: a frame's layout is built several times per view (the
    columns to query, the margin, the frame, the drawn points) and ticks were most of its cost."""
    if kind == "zoned":
        return zoned_time_ticks(lo, hi, max_ticks, origin_us, tz)
    if kind == "time":
        return time_ticks(lo, hi, max_ticks, origin_us=origin_us)
    return (log_ticks if kind == "log" else numeric_ticks)(lo, hi, max_ticks)


class ChartLayout:
    """Margins and fonts for a frame size; maps data to pixels and back."""

    def __init__(self, spec: ChartSpec) -> None:
        r = spec.ratio
        self.spec = spec
        self.font = glyph_atlas(theme.px(theme.FONT_PX, r))
        self.title_font = glyph_atlas(theme.px(theme.TITLE_FONT_PX, r))
        pad = theme.px(theme.PAD_PX, r)
        self.y_ticks = self._y_ticks_guess()
        label_width = max((self.font.measure(t) for t in self.y_ticks.labels), default=0.0)
        left = max(int(label_width) + theme.px(theme.TICK_LENGTH_PX, r) + 2 * pad, spec.min_left)
        top = (self.title_font.line_height + 2 * pad) if (spec.title or spec.y_label) else 2 * pad
        bottom = self.font.line_height * (2 if (spec.x_label or self._has_offset()) else 1) + 3 * pad
        right = max(3 * pad, int(self.font.measure("0000") / 2))
        if spec.min_right:  # a reserved column keeps the plot area the same from view to view
            right = max(right, spec.min_right)
        elif spec.legend is not None:
            right = max(right, legend_width(spec.legend, self.font, r))
        width = max(spec.width - left - right, 1)
        height = max(spec.height - top - bottom, 1)
        self.area = PlotArea(left, top, width, height)
        ticks_x = max_ticks_for(width, theme.MIN_TICK_SPACING_PX * r)
        lo, hi = spec.x_range
        if spec.x_is_time and spec.scale.zoned:
            self.x_ticks = axis_ticks("zoned", lo, hi, ticks_x, spec.x_origin_us, spec.scale.tz)
        elif spec.x_is_time:
            self.x_ticks = axis_ticks("time", lo, hi, ticks_x, spec.x_origin_us)
        else:
            self.x_ticks = axis_ticks("log" if spec.scale.log_x else "numeric", lo, hi, ticks_x)

    def _y_ticks_guess(self) -> Ticks:
        height_guess = max(self.spec.height - 60 * self.spec.ratio, 1)
        lo, hi = self.spec.y_range
        kind = "log" if self.spec.scale.log_y else "numeric"
        return axis_ticks(kind, lo, hi, max_ticks_for(height_guess, 50 * self.spec.ratio))

    def _has_offset(self) -> bool:
        return self.spec.x_is_time  # dates are shown once under the time labels

    def x_to_px(self, x: np.ndarray | float) -> np.ndarray | float:
        """Axis units to physical pixel x."""
        x0, x1 = self.spec.x_range
        return self.area.left + (np.asarray(x, np.float64) - x0) / (x1 - x0) * self.area.width

    def y_to_px(self, y: np.ndarray | float) -> np.ndarray | float:
        """Axis units to physical pixel y (up is up)."""
        y0, y1 = self.spec.y_range
        return self.area.top + (y1 - np.asarray(y, np.float64)) / (y1 - y0) * self.area.height

    def px_to_x(self, px: float) -> float:
        """Physical pixel x to axis units."""
        x0, x1 = self.spec.x_range
        return x0 + (px - self.area.left) / self.area.width * (x1 - x0)

    def px_to_y(self, py: float) -> float:
        """Physical pixel y to axis units."""
        y0, y1 = self.spec.y_range
        return y1 - (py - self.area.top) / self.area.height * (y1 - y0)


def chart_layers(layout: ChartLayout) -> list[Layer]:
    """The layers of one frame, back to front."""
    spec, area, r = layout.spec, layout.area, layout.spec.ratio
    look = spec.theme
    clip = (area.left, area.top, area.width, area.height)
    grid_rects: list[tuple[float, float, float, float]] = []
    axis_rects: list[tuple[float, float, float, float]] = []
    one = theme.px(1, r)
    tick_len = theme.px(theme.TICK_LENGTH_PX, r)
    text = TextLayer(layout.font)
    pad = theme.px(theme.PAD_PX, r)
    x_px = np.floor(layout.x_to_px(np.asarray(layout.x_ticks.values, np.float64))).astype(int).tolist()
    for px, label in zip(x_px, layout.x_ticks.labels, strict=True):
        if area.left <= px <= area.right:
            grid_rects.append((px, area.top, px + one, area.bottom))
            axis_rects.append((px, area.bottom, px + one, area.bottom + tick_len))
            text.add(label, px, area.bottom + tick_len + pad // 2, look.text, "center", "top")
    y_ticks = layout.y_ticks
    y_px = np.floor(layout.y_to_px(np.asarray(y_ticks.values, np.float64))).astype(int).tolist()
    for py, label in zip(y_px, y_ticks.labels, strict=True):
        if area.top <= py <= area.bottom:
            grid_rects.append((area.left, py, area.right, py + one))
            axis_rects.append((area.left - tick_len, py, area.left, py + one))
            text.add(label, area.left - tick_len - pad // 2, py, look.text, "right", "middle")
    minor_len = max(tick_len // 2, one)
    for value in layout.x_ticks.minor:
        px = math.floor(float(layout.x_to_px(value)))
        if area.left <= px <= area.right:
            axis_rects.append((px, area.bottom, px + one, area.bottom + minor_len))
    for value in y_ticks.minor:
        py = math.floor(float(layout.y_to_px(value)))
        if area.top <= py <= area.bottom:
            axis_rects.append((area.left - minor_len, py, area.left, py + one))
    axis_rects += [
        (area.left - one, area.top, area.left, area.bottom + one),
        (area.left - one, area.bottom, area.right, area.bottom + one),
    ]
    grid = _rect_layer(grid_rects, look.grid, clip)
    axes = _rect_layer(axis_rects, look.axis, None)

    second_row = area.bottom + tick_len + pad + layout.font.line_height
    if layout.x_ticks.offset_label:
        text.add(layout.x_ticks.offset_label, area.right, second_row, look.muted_text, "right", "top")
    if spec.x_label:
        text.add(spec.x_label, area.left + area.width / 2, second_row, look.text, "center", "top")
    title = TextLayer(layout.title_font)
    if spec.title:
        title.add(spec.title, area.left + area.width / 2, pad, look.text, "center", "top")
    if spec.y_label:
        text.add(spec.y_label, pad, area.top - pad // 2, look.text, "left", "bottom")

    if spec.note:
        text.add(spec.note, area.right - pad, area.top + pad // 2, look.muted_text, "right", "top")
    data = spec.data_layers(layout, clip) if spec.data_layers is not None else series_layers(layout, clip)
    layers: list[Layer] = [grid, *data, *selection_layers(layout, clip), axes, text, title]
    if spec.legend is not None:
        layers += legend_layers(spec.legend, area.right, area.top, area.bottom, layout.font, r, look)
    if spec.message:
        note = TextLayer(layout.title_font)
        color = look.error_text if spec.error else look.muted_text
        for i, line in enumerate(_wrap(spec.message, layout.title_font, area.width - 2 * pad)[:6]):
            y = area.top + area.height / 2 + (i - 0.5) * layout.title_font.line_height
            note.add(line, area.left + area.width / 2, y, color, "center", "middle")
        layers.append(note)
    return layers


def selection_layers(layout: ChartLayout, clip: Clip) -> list[Layer]:
    """The selection: its region shaded, or (dim_outside) everything around it dimmed."""
    spec, area, look = layout.spec, layout.area, layout.spec.theme
    if spec.selection is None:
        return []
    x0, x1, y0, y1 = spec.selection

    def px(value: float | None, edge: float) -> float:
        return (
            edge if value is None else min(max(float(layout.x_to_px(value)), area.left - 1), area.right + 1)
        )

    def py(value: float | None, edge: float) -> float:
        return (
            edge if value is None else min(max(float(layout.y_to_px(value)), area.top - 1), area.bottom + 1)
        )

    left, right = px(x0, area.left), px(x1, area.right)
    bottom, top = py(y0, area.bottom), py(y1, area.top)
    if not spec.dim_outside:
        return [_rect_layer([(left, top, right, bottom)], look.selection, clip)]
    outside = [
        (area.left, area.top, area.right, top),
        (area.left, bottom, area.right, area.bottom),
        (area.left, top, left, bottom),
        (right, top, area.right, bottom),
    ]
    layers: list[Layer] = [
        _rect_layer([r for r in outside if r[2] > r[0] and r[3] > r[1]], look.dimmed, clip)
    ]
    if spec.selection_polygon:
        ring = [*spec.selection_polygon, spec.selection_polygon[0]]
        points = np.array([[float(layout.x_to_px(x)), float(layout.y_to_px(y))] for x, y in ring])
        layers.append(LineLayer(points, look.series, 0.75 * spec.ratio, clip))
    return layers


def series_layers(layout: ChartLayout, clip: tuple[int, int, int, int]) -> list[Layer]:
    """The spec's one series in the theme's look (`polyline_layers`)."""
    spec, r, look = layout.spec, layout.spec.ratio, layout.spec.theme
    if spec.x.size == 0:
        return []
    px = layout.area.left + spec.column_x if spec.column_x is not None else layout.x_to_px(spec.x)
    points = np.column_stack([px, layout.y_to_px(spec.y)])
    half_width, radius = theme.LINE_WIDTH_PX * r / 2, theme.MARKER_RADIUS_PX * r
    return polyline_layers(layout, clip, points, look.series, half_width, radius)


def polyline_layers(
    layout: ChartLayout,
    clip: Clip,
    points: np.ndarray,
    rgba: tuple[float, float, float, float],
    half_width: float,
    marker_radius: float,
) -> list[Layer]:
    """A line through pixel `points`, plus markers where points stand alone or are few enough to
    tell apart."""
    valid = finite_points(points)
    layers: list[Layer] = [LineLayer(points, rgba, half_width, clip)]
    isolated = valid & ~np.r_[False, valid[:-1]] & ~np.r_[valid[1:], False]
    sparse = valid.sum() * 8 * layout.spec.ratio < layout.area.width
    marked = points[valid] if sparse else points[isolated]
    if len(marked):
        layers.append(MarkerLayer(marked, rgba, marker_radius, clip))
    return layers


def _rect_layer(
    rects: list[tuple[float, float, float, float]],
    color: tuple[float, ...],
    clip: tuple[int, int, int, int] | None,
) -> RectLayer:
    boxes = np.asarray(rects, np.float32).reshape(-1, 4)
    return RectLayer(boxes, np.tile(np.asarray(color, np.float32), (len(boxes), 1)), clip)


def _wrap(message: str, font: GlyphAtlas, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in message.splitlines() or [""]:
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}".strip()
            if current and font.measure(candidate) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines
