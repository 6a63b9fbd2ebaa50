"""Reading a plot, not just looking at it: what is under the pointer, box zoom and selection, keys,
and the drawn points sent to the front end as Arrow. Mixed into `widget.Plot`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from .core.viewport import Viewport
from .interaction import box_ranges, key_step
from .messages import Event
from .plots.base import ViewWorker
from .plots.drawn import MAX_SENT_POINTS
from .plots.selection import checked_bounds, checked_polygon
from .ranges import AxisUnits, RangeEnd

if TYPE_CHECKING:
    import duckdb


class Reading:
    """Hover answers, `pick`, box zoom and box select, keys, `select` / `selection`."""

    _drawn_sent: int
    _hover_lock: threading.Lock
    _hover_next: tuple[ViewWorker, Event] | None
    _hover_busy: bool
    x_origin: float  # the worker's x values count from here (time axes); users see absolute values
    _units: AxisUnits  # worker axis units <-> data units (time origin, log axes, time zone)

    @property
    def controller(self) -> ViewWorker:
        """The plot's worker."""
        raise NotImplementedError

    # ---- provided by the widget --------------------------------------------------------------
    def _ensure_worker(self) -> ViewWorker:
        raise NotImplementedError

    def _apply_view(self, view: Viewport) -> None:
        raise NotImplementedError

    def _call_in_loop(self, function: Callable[..., object], *args: object) -> None:
        raise NotImplementedError

    def _send_safely(self, content: dict[str, object], buffers: list[bytes]) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the full extent."""
        raise NotImplementedError

    def _show_selection(self, bounds: dict[str, object]) -> None:
        raise NotImplementedError

    def _key(self, key: str) -> None:
        if key in ("r", "R", "Escape"):
            self.reset()
            return
        worker = self._ensure_worker()
        view = worker.view
        new = None if view is None else key_step(view, key, worker.zooms_both_axes)
        if new is not None:
            worker.set_view(new)
            self._apply_view(new)

    def _box(self, event: Event) -> None:
        """A dragged box (Shift+drag or the toolbar): zoom to it, or select the rows under it."""
        worker = self._ensure_worker()
        layout, view = worker.layout(), worker.view
        ranges = None if layout is None else box_ranges(layout, event.x, event.y, event.x1, event.y1)
        if ranges is None or view is None:
            return
        x, y = ranges
        if event.mode == "zoom":
            new = view.with_x(x).with_y(y)
            worker.set_view(new)
            self._apply_view(new)
        else:
            both = worker.zooms_both_axes
            self._select(worker, x.as_tuple(), y.as_tuple() if both else None)

    def _answer_hover(self, event: Event) -> None:
        """What is under the pointer, asked by the front end (density pixels, big point sets, the
        full row behind a marker): looked up off the loop, answered on it."""
        with self._hover_lock:  # one look-up thread per plot; a newer question replaces a waiting one
            self._hover_next = (self._ensure_worker(), event)
            if self._hover_busy:
                return
            self._hover_busy = True
        threading.Thread(target=self._look_up, name="pikaplot-hover", daemon=True).start()

    def _look_up(self) -> None:
        while True:
            with self._hover_lock:
                item, self._hover_next = self._hover_next, None
                if item is None:
                    self._hover_busy = False
                    return
            worker, event = item
            try:
                result = worker.pick(event.x, event.y, with_row=event.row)
            except Exception:
                result = None
            answer = {"type": "pikaplot_pick", "id": event.request, "result": result}
            self._call_in_loop(self._send_safely, answer, [])

    def _send_drawn(self) -> None:
        """The points of the newest exact frame as one Arrow IPC stream in a binary buffer."""
        worker = self.controller
        generation, drawn = worker.drawn
        if generation == self._drawn_sent:
            return
        self._drawn_sent = generation
        layout = worker.layout()
        meta: dict[str, object] = {"type": "pikaplot_points", "frame": generation, "kind": drawn.kind,
                                   "count": drawn.count, "sent": drawn.count <= MAX_SENT_POINTS}  # fmt: skip
        if layout is not None:
            area, ratio = layout.area, layout.spec.ratio
            meta["area"] = [area.left / ratio, area.top / ratio, area.width / ratio, area.height / ratio]
            meta["x_range"], meta["y_range"] = list(layout.spec.x_range), list(layout.spec.y_range)
            meta["x_is_time"] = layout.spec.x_is_time
            meta["x_origin"] = self.x_origin  # add to the points' x (and x_range) for absolute values
            scale = self._units.scale  # hover shows data units (10**v on log axes), times in tz
            meta["log_x"], meta["log_y"], meta["tz"] = scale.log_x, scale.log_y, scale.tz
            meta["both_axes"] = worker.zooms_both_axes
        buffers = drawn.ipc_buffers() if meta["sent"] and drawn.count else []
        self._send_safely(meta, buffers)

    # ---- reading the data -----------------------------------------------------------------
    def pick(self, x: float, y: float, with_row: bool = True) -> dict[str, object] | None:
        """What the plot shows at (x, y) CSS pixels of the plot: the nearest drawn point within a few
        pixels and what it stands for (a line's pixel column: rows, first/last/min/max; a marker: its
        values and, with `with_row`, its full row from DuckDB; a density pixel: rows, mean,
        categories), or None. Uses the last exact frame (call `to_array()` first in scripts)."""
        result = self._ensure_worker().pick(float(x), float(y), with_row=with_row)
        return None if result is None else self._units.record_to_user(result)

    def select(
        self,
        x: tuple[RangeEnd, RangeEnd] | None = None,
        y: tuple[RangeEnd, RangeEnd] | None = None,
        polygon: Sequence[tuple[float, float]] | None = None,
    ) -> None:
        """Select the rows with x in `x` and y in `y` (data units, or datetimes on a time axis as
        `x_range` takes them; None: any), or inside `polygon` (a lasso: (x, y) vertices).
        `selection` then holds them as a DuckDB relation and the next frame highlights them.
        Several series: a y list selects a row when ANY visible y column is inside; `by=` only rows
        of the shown values (hiding a series selects again)."""
        worker = self._ensure_worker()
        to_axis = self._units.bound_to_axis
        if polygon is not None:
            vertices = checked_polygon(polygon)
            worker.selection.set_polygon(tuple((to_axis(vx, "x"), to_axis(vy, "y")) for vx, vy in vertices))
        else:
            ends = self._units.selection_ends  # datetimes as x_range takes them
            bounds_x, bounds_y = checked_bounds(ends(x, "x"), "x"), checked_bounds(ends(y, "y"), "y")
            if bounds_x is not None:
                bounds_x = (to_axis(bounds_x[0], "x"), to_axis(bounds_x[1], "x"))
            if bounds_y is not None:
                bounds_y = (to_axis(bounds_y[0], "y"), to_axis(bounds_y[1], "y"))
            worker.selection.set(bounds_x, bounds_y)
        self._call_in_loop(
            self._show_selection, self._units.shown_to_user(worker.selection.shown(self.x_origin))
        )

    def _select(
        self, worker: ViewWorker, x: tuple[float, float] | None, y: tuple[float, float] | None
    ) -> None:
        """Select in the worker's units (a box dragged in the plot)."""
        worker.selection.set(x, y)
        self._call_in_loop(
            self._show_selection, self._units.shown_to_user(worker.selection.shown(self.x_origin))
        )

    def _lasso(self, event: Event) -> None:
        """A lasso drawn in the plot (CSS pixels) → the rows inside it."""
        worker = self._ensure_worker()
        layout = worker.layout()
        if layout is None or len(event.points) < 3:
            return
        ratio, area = layout.spec.ratio, layout.area

        def inside(value: float, lo: int, hi: int) -> float:  # a lasso is clipped to the plot area
            return min(max(value * ratio, lo), hi)

        polygon = tuple(
            (
                layout.px_to_x(inside(px, area.left, area.right)),
                layout.px_to_y(inside(py, area.top, area.bottom)),
            )
            for px, py in event.points
        )
        worker.selection.set_polygon(polygon)
        self._call_in_loop(
            self._show_selection, self._units.shown_to_user(worker.selection.shown(self.x_origin))
        )

    def clear_selection(self) -> None:
        """Select nothing."""
        worker = self._ensure_worker()
        worker.selection.clear()
        self._call_in_loop(self._show_selection, {"x": None, "y": None, "polygon": None})

    @property
    def selection(self) -> duckdb.DuckDBPyRelation | None:
        """The selected rows as a lazy DuckDB relation (filters pushed down, nothing materialised);
        on Spark, a Spark DataFrame (typed as DuckDB's here, the common case)."""
        return cast("duckdb.DuckDBPyRelation | None", self.controller.selection.relation)
