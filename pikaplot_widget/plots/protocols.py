"""What the shared worker needs of a plot kind: a provider (the data) and a painter (the frames),
and the callbacks through which it reports to the widget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ..core.types import Size
from ..core.viewport import Viewport
from ..engine.runner import ProgressCallback, Ticket
from ..render.chart.layout import ChartLayout
from ..render.theme import Theme

FrameCallback = Callable[[np.ndarray, bool], None]  # (frame, exact)
StateCallback = Callable[[str, float], None]  # (status, progress 0..1)
ViewCallback = Callable[[Viewport], None]  # the viewport changed (y fitted, first view)


class ViewProvider(Protocol):
    """What the worker asks of a plot kind's provider (see `plots.provider.Provider`)."""

    @property
    def extent(self) -> object | None:
        """The data's bounds once scanned."""
        ...

    def scan_extent(self, on_progress: ProgressCallback | None, ticket: Ticket) -> object:
        """Scan the data's bounds."""
        ...

    def build_index(self, on_progress: ProgressCallback | None, ticket: Ticket) -> None:
        """Build what makes later views fast."""
        ...

    def close(self) -> None:
        """Free everything the provider holds."""
        ...


class ViewPainter(Protocol):
    """What the worker asks of a plot kind's painter (see `plots.painter.Painter`)."""

    min_left: int
    theme: Theme  # the colours frames are drawn in

    def layout(self, view: Viewport, size: Size) -> ChartLayout:
        """Plot area and axis mapping of `view` at `size`."""
        ...

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
        """Render a frame as a (height, width, 4) uint8 array; `while_gpu_draws` runs while the GPU
        draws it."""
        ...

    def close(self) -> None:
        """Free the GPU texture."""
        ...
