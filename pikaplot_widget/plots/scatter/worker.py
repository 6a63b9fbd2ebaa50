"""The scatter plot's worker: for each view, markers (few rows) or a density image (many)."""

from __future__ import annotations

import time

from ...core.colors import ColormapSpec
from ...core.types import Labels, Size
from ...core.viewport import Range, Viewport
from ...engine.axes import count_not_positive
from ...engine.backend import Backend
from ...engine.runner import Ticket
from ...engine.scatter import ScatterColumns, ScatterExtent
from ..base import ViewWorker
from ..drawn import Drawn
from ..protocols import FrameCallback, StateCallback, ViewCallback
from ..selection import Selection
from .hover import density_pixel, scatter_drawn
from .painter import ScatterPainter
from .provider import MARKER_LIMIT, ScatterProvider, ScatterView

PAD = 0.04  # the first view shows the data with this margin on every side


class ScatterWorker(ViewWorker):
    """Keeps a scatter plot's viewport; x and y zoom together."""

    zooms_both_axes = True

    def __init__(
        self,
        columns: ScatterColumns,
        session: Backend,
        *,
        width: int,
        height: int,
        labels: Labels,
        colormap: ColormapSpec = "viridis",
        normalization: str = "eq_hist",
        marker_size: float | None = None,
        marker_limit: int = MARKER_LIMIT,
        gpu_points: str = "auto",
        on_frame: FrameCallback | None = None,
        on_state: StateCallback | None = None,
        on_view: ViewCallback | None = None,
    ) -> None:
        self.painter: ScatterPainter = ScatterPainter(labels, columns, colormap, normalization, marker_size)
        super().__init__(
            width=width, height=height, painter=self.painter,
            on_frame=on_frame, on_state=on_state, on_view=on_view,
        )  # fmt: skip
        self.columns = columns
        self.provider: ScatterProvider = ScatterProvider(
            columns, session.reader(), self.query_stats, marker_limit, gpu_points
        )
        self.source: str | None = None
        self.selection = Selection(session, columns, self.painter, self.redraw)
        self._data: ScatterView | None = None
        self.start()

    @property
    def extent(self) -> ScatterExtent | None:
        """Bounds, counts and colours of the data, once scanned."""
        return self.provider.extent

    @property
    def data(self) -> ScatterView | None:
        """What the newest exact frame shows."""
        with self._cond:
            return self._data

    def _initial_view(self, extent: object) -> Viewport:
        """The full extent with a small margin."""
        assert isinstance(extent, ScatterExtent)
        return _initial_view(extent)

    def _extent_known(self, extent: object) -> None:
        """The painter learns the categories and colour domain (the legend's width)."""
        assert isinstance(extent, ScatterExtent)
        self.painter.set_extent(extent)
        self.painter.set_log_skipped(count_not_positive(self.provider.runner, self.columns, self._lifetime))

    def _produce(self, generation: int, view: Viewport | None, size: Size, ticket: Ticket) -> None:
        extent = self._prepare_data()
        assert isinstance(extent, ScatterExtent)
        view = self.view if view is None else view
        assert view is not None
        self.painter.keep_margin(view, size)  # the left margin only grows: the pixel grid stays put
        area = self.painter.layout(view, size).area
        box = (view.x.lo, view.x.hi, view.y.lo, view.y.hi)
        self._state("querying", 0.0)
        started = time.perf_counter()
        data = self.provider.query(box, area.width, area.height, ticket, self._progress)
        self.timings.query = time.perf_counter() - started
        with self._cond:
            if generation != self._generation:
                return  # stale: the loop starts over with the newer viewport
            self._data = data
            self.mode, self.source = data.mode, data.source
        self._state("rendering", 1.0)
        started = time.perf_counter()
        message = "no data" if extent.empty else ""
        if not message and data.mode == "markers" and data.points is not None and data.points.x.size == 0:
            message = "no data in this range"
        drawn: list[Drawn] = []  # the points for hover, found while the GPU draws the frame

        def find_drawn() -> None:
            drawn.append(scatter_drawn(data, self.painter.layout(view, size)))

        frame = self.painter.draw(view, size, data, message, while_gpu_draws=find_drawn)
        self.timings.render = time.perf_counter() - started
        if not drawn:
            find_drawn()
        self._publish(generation, frame, exact=True, drawn=drawn[0])
        with self._cond:
            self.error = None
        self._state("idle", 0.0)

    def pick(self, x: float, y: float, with_row: bool = False) -> dict[str, object] | None:
        """The marker nearest to (x, y) CSS pixels (with its full row from DuckDB when asked), or
        the density pixel under it."""
        _, drawn = self.drawn
        data, extent, layout = self.data, self.extent, self.layout()
        if drawn.kind == "density":
            if data is None or data.grid is None or extent is None or layout is None:
                return None
            return density_pixel(data.grid, extent, layout, x, y)
        nearest = drawn.nearest(x, y)
        if nearest is None:
            return None
        record = drawn.record(nearest)
        codes = drawn.fields.get("category")
        if extent is not None and codes is not None:
            names = [*extent.categories, "other"]
            code = int(codes[nearest])
            record["category"] = names[code] if 0 <= code < len(names) else None
        if with_row:
            record["row"] = self.provider.row_at(
                float(drawn.fields["x"][nearest]), float(drawn.fields["y"][nearest])
            )
        return record

    def extra_stats(self) -> dict[str, object]:
        """Scatter-specific counters for `Plot.stats`."""
        extent, index, data = self.extent, self.provider.index, self.data
        grid = data.grid if data is not None else None
        return {
            "mode": self.mode,
            "view_source": self.source,
            "rows": extent.rows if extent else 0,
            "skipped_rows": extent.skipped_rows if extent else 0,
            "log_skipped_rows": self.painter.log_skipped,
            "rows_in_view": (grid.total if grid is not None else
                             (data.points.x.size if data is not None and data.points is not None else 0)),
            "index_grid": index.levels[0].size if index else 0,
            "index_levels": len(index.levels) if index else 0,
            "index_bytes": index.nbytes if index else 0,
            "gpu_points": resident.count if (resident := self.provider.resident) else 0,
            "view_counts_in_sql": self.provider.counted_in_sql,
            "indexes_dropped": self.provider.indexes_dropped,
            "cache_hits": self.provider.cache_hits,
        }  # fmt: skip


def _initial_view(extent: ScatterExtent) -> Viewport:
    if extent.empty:
        return Viewport(Range(0.0, 1.0), Range(0.0, 1.0), y_auto=False)
    x = Range.around(extent.x_min, extent.x_max, PAD)
    y = Range.around(extent.y_min, extent.y_max, PAD)
    return Viewport(x, y, y_auto=False)
