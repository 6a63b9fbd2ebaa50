"""Pointer input → a new viewport: wheel zoom about the pointer, drag pan. Pure: no widget state.

Positions come in CSS pixels (as the browser sends them); `layout.spec.ratio` turns them into the
physical pixels the layout maps to data.
"""

from __future__ import annotations

import math

from .core.viewport import Viewport
from .render.chart.layout import ChartLayout

WHEEL_ZOOM_PER_PIXEL = 1 / 600  # wheel dy of 100 (one notch) scales the span by 2**(1/6)


def wheel_zoom(
    view: Viewport,
    layout: ChartLayout,
    x: float,
    y: float,
    dy: float,
    shift: bool,
    zooms_both_axes: bool,
) -> Viewport | None:
    """The view after a wheel step at (x, y), or None when it changes nothing.

    Over the y axis, or with Shift, only y zooms; over the x axis only x; elsewhere x (and y too
    for plots that zoom both axes).
    """
    ratio = layout.spec.ratio
    px, py = x * ratio, y * ratio
    factor = 2.0 ** (dy * WHEEL_ZOOM_PER_PIXEL)
    if not math.isfinite(factor) or factor == 1.0:
        return None
    area = layout.area
    over_y_axis = px < area.left and area.top <= py <= area.bottom
    over_x_axis = py > area.bottom and area.left <= px <= area.right
    zoom_x = view.with_x(view.x.zoom(factor, layout.px_to_x(px)))
    if shift or over_y_axis:
        return view.with_y(view.y.zoom(factor, layout.px_to_y(py)))
    if zooms_both_axes and not over_x_axis:
        return zoom_x.with_y(view.y.zoom(factor, layout.px_to_y(py)))
    return zoom_x


def drag_pan(start: Viewport, layout: ChartLayout, dx: float, dy: float) -> Viewport:
    """The view after dragging by (dx, dy) CSS pixels from `start`: x always, y once set by hand."""
    ratio, area = layout.spec.ratio, layout.area
    new = start.with_x(start.x.shift(-dx * ratio / area.width * start.x.span))
    if not start.y_auto:
        new = new.with_y(start.y.shift(dy * ratio / area.height * start.y.span))
    return new
