"""A plot's selection: its bounds, the lazy relation of the selected rows, and the highlight."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from ..core.errors import PlotError
from ..engine.backend import Backend
from ..engine.line_series import Series
from ..engine.selection import MAX_POLYGON_VERTICES, AxisColumns, Bounds, Polygon, SelectedRows, SeriesScope
from .painter import Painter


def checked_polygon(value: object) -> Polygon:
    """A lasso as (x, y) pairs of finite floats (3 to MAX_POLYGON_VERTICES); ValueError otherwise."""
    if not isinstance(value, (list, tuple)) or not 3 <= len(value) <= MAX_POLYGON_VERTICES:
        raise ValueError(f"polygon must be 3 to {MAX_POLYGON_VERTICES} (x, y) pairs")
    return tuple(checked_bounds_pair(p) for p in value)


def checked_bounds_pair(value: object) -> tuple[float, float]:
    """One vertex: two finite numbers."""
    try:
        x, y = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(f"a polygon vertex must be a pair of numbers, got {value!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"polygon vertices must be finite, got {value!r}")
    return (x, y)


def checked_bounds(value: object, name: str) -> Bounds | None:
    """(lo, hi) as finite floats in order, or None; ValueError for anything else."""
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be None or a pair of numbers (lo, hi), got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return (min(lo, hi), max(lo, hi))


class Selection:
    """Rows of the plot's source inside x and/or y bounds; setting it redraws the plot highlighted.
    A line plot of several series selects only rows of its visible series (see
    `engine.selection.selection_filter`); hiding a series selects again."""

    def __init__(
        self,
        session: Backend,
        columns: AxisColumns,
        painter: Painter,
        redraw: Callable[[], None],
        series: Series | None = None,
    ) -> None:
        self._session, self._columns, self._painter, self._redraw = session, columns, painter, redraw
        self._scope = SeriesScope(series)
        self._lock = threading.Lock()
        self._rows: SelectedRows | None = None
        self._closed = False
        # What was selected, kept past close(): a released plot's rebuilt worker selects it again.
        self.spec: tuple[Bounds | None, Bounds | None, Polygon | None] = (None, None, None)

    def set(self, x: Bounds | None, y: Bounds | None) -> None:
        """Select the rows with x in `x` and y in `y` (None: any); both None clears."""
        if x is None and y is None:
            self.clear()
            return
        self._check_open()
        rows = SelectedRows(self._session, self._columns, x, y, scope=self._scope)
        with self._lock:
            old, self._rows = self._rows, rows
            self.spec = (x, y, None)
        if old is not None:
            old.close()
        self._follow_scope()
        self._painter.selection = (*(x or (None, None)), *(y or (None, None)))
        self._painter.selection_polygon = None
        self._redraw()

    def set_polygon(self, polygon: Polygon) -> None:
        """Select the rows inside a lasso (axis units); the highlight dims what is outside its box
        and outlines it."""
        self._check_open()
        rows = SelectedRows(self._session, self._columns, None, None, polygon, self._scope)
        with self._lock:
            old, self._rows = self._rows, rows
            self.spec = (None, None, polygon)
        if old is not None:
            old.close()
        self._follow_scope()
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        self._painter.selection = (min(xs), max(xs), min(ys), max(ys))
        self._painter.selection_polygon = polygon
        self._redraw()

    def set_hidden(self, hidden: frozenset[int]) -> None:
        """Hidden series (numbers into the series' names) are no longer selected: the rows of the
        current selection are read again without them (the caller redraws)."""
        with self._lock:
            if hidden == self._scope.hidden:
                return
            self._scope = SeriesScope(self._scope.series, hidden)
        self._follow_scope()

    def _follow_scope(self) -> None:
        """Read the selected rows again while they were read with other hidden series than now
        (a selection set while the hidden series changed)."""
        while True:
            with self._lock:
                rows, scope = self._rows, self._scope
                if rows is None or self._closed or rows.scope == scope:
                    return
            fresh = SelectedRows(self._session, self._columns, rows.x, rows.y, rows.polygon, scope)
            with self._lock:
                replaced = self._rows is rows  # else a newer selection came meanwhile: check it
                if replaced:
                    self._rows = fresh
            (rows if replaced else fresh).close()

    def restore(self, other: Selection) -> None:
        """Select what `other` (a released worker's selection) had selected."""
        x, y, polygon = other.spec
        if polygon is not None:
            self.set_polygon(polygon)
        elif x is not None or y is not None:
            self.set(x, y)

    def _check_open(self) -> None:
        if self._closed:
            raise PlotError("the plot is closed")

    def clear(self) -> None:
        """No selection (and no highlight)."""
        with self._lock:
            old, self._rows = self._rows, None
            self.spec = (None, None, None)
        if old is not None:
            old.close()
            self._painter.selection = None
            self._painter.selection_polygon = None
            self._redraw()

    @property
    def relation(self) -> object | None:
        """The selected rows (read lazily: filters are pushed down, nothing is materialised): a
        DuckDB relation, or a Spark DataFrame on Spark."""
        with self._lock:
            return None if self._rows is None else self._rows.relation

    def shown(self, x_origin: float = 0.0) -> dict[str, object]:
        """What the `selection_bounds` traitlet shows, x counted from the epoch again:
        {"x": [lo, hi] or None, "y": [lo, hi] or None, "polygon": [[x, y], ...] or None}."""
        with self._lock:
            rows = self._rows
        if rows is None:
            return {"x": None, "y": None, "polygon": None}
        x = [rows.x[0] + x_origin, rows.x[1] + x_origin] if rows.x else None
        polygon = [[px + x_origin, py] for px, py in rows.polygon] if rows.polygon else None
        return {"x": x, "y": list(rows.y) if rows.y else None, "polygon": polygon}

    def close(self) -> None:
        """Free the selection's cursor (the spec stays, for a rebuilt worker)."""
        with self._lock:
            old, self._rows = self._rows, None
            self._closed = True
        if old is not None:
            old.close()
