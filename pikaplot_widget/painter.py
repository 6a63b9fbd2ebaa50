"""Turns a viewport and its data into a frame: chart spec, layout and the GPU canvas of one plot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine.line import LineData
from .render.canvas import Canvas
from .render.chart import ChartLayout, ChartSpec, chart_layers
from .viewport import Viewport

Size = tuple[int, int, float]  # physical width, height and the pixel ratio


@dataclass
class Labels:
    """Text around the plot."""

    title: str = ""
    x_label: str = ""
    y_label: str = ""


class Painter:
    """Draws frames of one plot; keeps the left margin from shrinking while the user zooms."""

    def __init__(self, labels: Labels, x_is_time: bool) -> None:
        self.labels = labels
        self.x_is_time = x_is_time
        self.min_left = 0  # only grows (until reset/resize), so pixel columns stay put
        self._canvas: Canvas | None = None

    def spec(
        self,
        view: Viewport,
        size: Size,
        data: LineData | None = None,
        message: str = "",
        error: bool = False,
        note: str = "",
    ) -> ChartSpec:
        """Everything a frame of `view` at `size` shows."""
        width, height, ratio = size
        spec = ChartSpec(
            min_left=self.min_left, width=width, height=height, ratio=ratio,
            x_range=view.x.as_tuple(), y_range=view.y.as_tuple(), x_is_time=self.x_is_time,
            title=self.labels.title, x_label=self.labels.x_label, y_label=self.labels.y_label,
            message=message, error=error, note=note,
        )  # fmt: skip
        if data is not None:
            spec.x, spec.y = data.x, data.y
            if data.x_range == spec.x_range and data.columns == ChartLayout(spec).area.width:
                spec.column_x = data.column_x  # snapped columns: valid only for this exact view
        return spec

    def layout(self, view: Viewport, size: Size) -> ChartLayout:
        """Plot area and axis mapping of `view` at `size`."""
        return ChartLayout(self.spec(view, size))

    def columns(self, view: Viewport, size: Size) -> int:
        """Pixel columns of the plot area: the resolution a view is queried at."""
        return self.layout(view, size).area.width

    def keep_margin(self, view: Viewport, size: Size) -> int:
        """Remember the left margin `view` needs (it never shrinks); return the plot's width."""
        layout = self.layout(view, size)
        self.min_left = max(self.min_left, layout.area.left)
        return layout.area.width

    def draw(
        self,
        view: Viewport,
        size: Size,
        data: LineData | None,
        message: str = "",
        error: bool = False,
        note: str = "",
    ) -> np.ndarray:
        """Render a frame as a (height, width, 4) uint8 array."""
        spec = self.spec(view, size, data, message, error, note)
        width, height, _ = size
        if self._canvas is None or (self._canvas.width, self._canvas.height) != (width, height):
            self.close()
            self._canvas = Canvas(width, height)
        return self._canvas.draw(chart_layers(ChartLayout(spec)))

    def close(self) -> None:
        """Free the GPU texture."""
        if self._canvas is not None:
            self._canvas.destroy()
            self._canvas = None
