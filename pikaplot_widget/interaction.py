"""Pointer and key input → a new viewport: wheel zoom about the pointer, drag pan, box zoom, keys.
Pure: no widget state.

Positions come in CSS pixels (as the browser sends them); `layout.spec.ratio` turns them into the
physical pixels the layout maps to data. On a log axis the axis units are log10 of the values, so a
wheel step zooms by the same factor at every scale and a drag pans by the same ratio.
"""

from __future__ import annotations

import math

from .core.viewport import Range, Viewport
from .render.chart.layout import ChartLayout

WHEEL_ZOOM_PER_PIXEL = 1 / 600  # wheel dy of 100 (one notch) scales the span by 2**(1/6)
MIN_BOX_PX = 4  # a drag smaller than this (CSS pixels) is a click, not a box
KEY_ZOOM = 2**0.5  # + and - zoom by this factor
KEY_PAN = 0.1  # arrows pan by this share of the view
LOG_LIMIT = 400.0  # a log axis stays within 10**-400 .. 10**400 (past every float it could show)
LOG_MIN_SPAN = 1e-12  # decades: about the narrowest ratio float64 data values still resolve


def _within_log_limits(old: Viewport, new: Viewport, layout: ChartLayout) -> Viewport:
    """`new`, with any log axis that would leave ±LOG_LIMIT decades (or get narrower than the
    data's float resolution) kept as in `old`."""
    scale = layout.spec.scale

    def inside(r: Range) -> bool:
        return r.lo >= -LOG_LIMIT and r.hi <= LOG_LIMIT and r.span >= LOG_MIN_SPAN * max(1.0, abs(r.lo))

    if scale.log_x and not inside(new.x):
        new = new.with_x(old.x)
    if scale.log_y and not inside(new.y):
        new = new.with_y(old.y, old.y_auto)
    return new


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
        new = view.with_y(view.y.zoom(factor, layout.px_to_y(py)))
    elif zooms_both_axes and not over_x_axis:
        new = zoom_x.with_y(view.y.zoom(factor, layout.px_to_y(py)))
    else:
        new = zoom_x
    return _within_log_limits(view, new, layout)


def drag_pan(start: Viewport, layout: ChartLayout, dx: float, dy: float) -> Viewport:
    """The view after dragging by (dx, dy) CSS pixels from `start`: x always, y once set by hand."""
    ratio, area = layout.spec.ratio, layout.area
    new = start.with_x(start.x.shift(-dx * ratio / area.width * start.x.span))
    if not start.y_auto:
        new = new.with_y(start.y.shift(dy * ratio / area.height * start.y.span))
    return _within_log_limits(start, new, layout)


def box_ranges(layout: ChartLayout, x0: float, y0: float, x1: float, y1: float) -> tuple[Range, Range] | None:
    """The data ranges under a dragged box (CSS pixels, any two corners), clipped to the plot area;
    None for a box too small to mean anything (a click)."""
    ratio, area = layout.spec.ratio, layout.area
    left, right = sorted(
        (min(max(x0 * ratio, area.left), area.right), min(max(x1 * ratio, area.left), area.right))
    )
    top, bottom = sorted(
        (min(max(y0 * ratio, area.top), area.bottom), min(max(y1 * ratio, area.top), area.bottom))
    )
    if right - left < MIN_BOX_PX * ratio or bottom - top < MIN_BOX_PX * ratio:
        return None
    x = Range(layout.px_to_x(left), layout.px_to_x(right))
    y = Range(layout.px_to_y(bottom), layout.px_to_y(top))
    return x, y


def key_step(view: Viewport, key: str, zooms_both_axes: bool) -> Viewport | None:
    """The view after a key: +/- zoom about the centre, arrows pan by a tenth (None: reset or no-op)."""
    factor = {"+": 1 / KEY_ZOOM, "=": 1 / KEY_ZOOM, "-": KEY_ZOOM, "_": KEY_ZOOM}.get(key)
    if factor is not None:
        x = view.x.zoom(factor, (view.x.lo + view.x.hi) / 2)
        if zooms_both_axes:
            return view.with_x(x).with_y(view.y.zoom(factor, (view.y.lo + view.y.hi) / 2))
        return view.with_x(x)
    pan = {"ArrowLeft": (-1, 0), "ArrowRight": (1, 0), "ArrowDown": (0, -1), "ArrowUp": (0, 1)}.get(key)
    if pan is None:
        return None
    new = view.with_x(view.x.shift(pan[0] * view.x.span * KEY_PAN))
    if pan[1] and not view.y_auto:
        new = new.with_y(view.y.shift(pan[1] * view.y.span * KEY_PAN))
    return new
