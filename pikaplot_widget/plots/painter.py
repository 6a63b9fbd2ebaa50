"""The shared part of every plot kind's painter: chart spec, layout, the GPU canvas of one plot."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.scale import AxisScale, not_shown_note
from ..core.types import Labels, Size
from ..core.viewport import Viewport
from ..render.canvas import Canvas
from ..render.chart.layout import ChartLayout, ChartSpec, chart_layers
from ..render.theme import LIGHT, Theme


class Painter:
    """Draws frames of one plot; keeps the left margin from shrinking while the user zooms.

    A plot kind overrides `add_data` to put what a view shows into the chart spec.
    """

    def __init__(
        self, labels: Labels, x_is_time: bool, x_origin_us: int = 0, scale: AxisScale | None = None
    ) -> None:
        self.labels = labels
        self.scale = scale or AxisScale()  # log axes and the time zone of a time x
        self.axis_note = ""  # e.g. rows a log axis cannot show; added to every frame's note
        self.log_skipped: dict[str, int] = {}  # per log axis: valid rows <= 0, not drawn
        self.x_is_time = x_is_time
        self.x_origin_us = x_origin_us  # a time x: axis values are seconds since this instant
        self.min_left = 0  # only grows (until reset/resize), so pixel columns stay put
        self.selection: tuple[float | None, float | None, float | None, float | None] | None = None
        self.dim_outside = False  # scatter plots dim what a selection leaves out
        self.selection_polygon: tuple[tuple[float, float], ...] | None = None  # a lasso, outlined
        self.theme: Theme = LIGHT  # set by the widget (its theme choice and the front end's theme)
        self._canvas: Canvas | None = None

    def spec(
        self,
        view: Viewport,
        size: Size,
        data: object = None,
        message: str = "",
        error: bool = False,
        note: str = "",
    ) -> ChartSpec:
        """Everything a frame of `view` at `size` shows (`data`: what the plot kind queried)."""
        width, height, ratio = size
        spec = ChartSpec(
            min_left=self.min_left, width=width, height=height, ratio=ratio,
            x_range=view.x.as_tuple(), y_range=view.y.as_tuple(), x_is_time=self.x_is_time,
            x_origin_us=self.x_origin_us, scale=self.scale,
            title=self.labels.title, x_label=self.labels.x_label, y_label=self.labels.y_label,
            message=message, error=error, note=" · ".join(n for n in (note, self.axis_note) if n),
        )  # fmt: skip
        spec.selection, spec.dim_outside = self.selection, self.dim_outside
        spec.selection_polygon = self.selection_polygon
        spec.theme = self.theme
        self.add_data(spec, data)
        return spec

    def set_log_skipped(self, counts: dict[str, int]) -> None:
        """Know the rows each log axis leaves out (zero or negative): noted on every frame."""
        self.log_skipped = dict(counts)
        self.axis_note = not_shown_note(counts)

    def add_data(self, spec: ChartSpec, data: object) -> None:
        """Put the data of a view (None for a layout only) into its spec; each kind knows its own."""

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
        data: object,
        message: str = "",
        error: bool = False,
        note: str = "",
        while_gpu_draws: Callable[[], object] | None = None,
    ) -> np.ndarray:
        """Render a frame as a (height, width, 4) uint8 array (`while_gpu_draws`: `Canvas.draw`)."""
        spec = self.spec(view, size, data, message, error, note)
        width, height, _ = size
        if self._canvas is None or (self._canvas.width, self._canvas.height) != (width, height):
            self.close()
            self._canvas = Canvas(width, height)
        layers = chart_layers(ChartLayout(spec))
        return self._canvas.draw(layers, spec.theme.background, while_gpu_draws)

    def close(self) -> None:
        """Free the GPU texture."""
        if self._canvas is not None:
            self._canvas.destroy()
            self._canvas = None
