"""A plot's selection: its bounds, the lazy relation of the selected rows, and the highlight."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import duckdb

from ..engine.selection import AxisColumns, Bounds, SelectedRows
from ..engine.session import Session
from .painter import Painter


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
    """Rows of the plot's source inside x and/or y bounds; setting it redraws the plot highlighted."""

    def __init__(
        self, session: Session, columns: AxisColumns, painter: Painter, redraw: Callable[[], None]
    ) -> None:
        self._session, self._columns, self._painter, self._redraw = session, columns, painter, redraw
        self._lock = threading.Lock()
        self._rows: SelectedRows | None = None

    def set(self, x: Bounds | None, y: Bounds | None) -> None:
        """Select the rows with x in `x` and y in `y` (None: any); both None clears."""
        if x is None and y is None:
            self.clear()
            return
        rows = SelectedRows(self._session, self._columns, x, y)
        with self._lock:
            old, self._rows = self._rows, rows
        if old is not None:
            old.close()
        self._painter.selection = (*(x or (None, None)), *(y or (None, None)))
        self._redraw()

    def clear(self) -> None:
        """No selection (and no highlight)."""
        with self._lock:
            old, self._rows = self._rows, None
        if old is not None:
            old.close()
            self._painter.selection = None
            self._redraw()

    @property
    def relation(self) -> duckdb.DuckDBPyRelation | None:
        """The selected rows (read lazily: filters are pushed down, nothing is materialised)."""
        with self._lock:
            return None if self._rows is None else self._rows.relation

    @property
    def bounds(self) -> dict[str, list[float] | None]:
        """{"x": [lo, hi] or None, "y": ...}: what the `selection_bounds` traitlet shows."""
        with self._lock:
            rows = self._rows
        if rows is None:
            return {"x": None, "y": None}
        return {"x": list(rows.x) if rows.x else None, "y": list(rows.y) if rows.y else None}

    def close(self) -> None:
        """Free the selection's cursor."""
        with self._lock:
            old, self._rows = self._rows, None
        if old is not None:
            old.close()
