"""Selected rows as a lazy DuckDB relation: the plot's source filtered by a box, nothing materialised."""

from __future__ import annotations

import contextlib
from typing import Protocol

import duckdb

from .session import Session
from .sources import Source
from .sql import inclusive_filter, quote_ident, valid_value_expr


class AxisColumns(Protocol):
    """What a selection needs of a plot's columns (line and scatter columns both have it)."""

    @property
    def source(self) -> Source:
        """The plot's source."""
        ...

    @property
    def x(self) -> str:
        """The x column's name."""
        ...

    @property
    def y(self) -> str:
        """The y column's name."""
        ...

    @property
    def x_type(self) -> str:
        """The x column's DuckDB type."""
        ...

    @property
    def y_type(self) -> str:
        """The y column's DuckDB type."""
        ...

    @property
    def x_origin_us(self) -> int:
        """A time x: the instant axis units count from."""
        ...

    @property
    def log_x(self) -> bool:
        """Whether x is on a log axis (axis units log10 of the value)."""
        ...

    @property
    def log_y(self) -> bool:
        """Whether y is on a log axis."""
        ...

    @property
    def x_value(self) -> str:
        """x as DOUBLE in axis units."""
        ...

    @property
    def y_value(self) -> str:
        """y as DOUBLE in axis units."""
        ...


Bounds = tuple[float, float]


def selection_filter(cols: AxisColumns, x: Bounds | None, y: Bounds | None) -> tuple[str, list[object]]:
    """Rows with valid x and y inside the bounds given (both ends included), and the bound values."""
    parts = [
        valid_value_expr(quote_ident(cols.x), cols.x_type, cols.log_x),
        valid_value_expr(quote_ident(cols.y), cols.y_type, cols.log_y),
    ]
    params: list[object] = []
    for bounds, column, type_name, value, origin, log in (
        (x, cols.x, cols.x_type, cols.x_value, cols.x_origin_us, cols.log_x),
        (y, cols.y, cols.y_type, cols.y_value, 0, cols.log_y),
    ):
        if bounds is not None:
            sql, values = inclusive_filter(quote_ident(column), type_name, value, *bounds, origin, log)
            parts.append(sql)
            params += values
    return " AND ".join(parts), params


Polygon = tuple[tuple[float, float], ...]
MAX_POLYGON_VERTICES = 256


def polygon_filter(cols: AxisColumns, polygon: Polygon) -> tuple[str, list[object]]:
    """Rows inside a polygon (axis units, even-odd rule): its bounding box first (zone maps skip row
    groups), then a ray cast to the right counting the edges crossed, every vertex a bound value."""
    if not 3 <= len(polygon) <= MAX_POLYGON_VERTICES:
        raise ValueError(f"a lasso needs 3 to {MAX_POLYGON_VERTICES} vertices, got {len(polygon)}")
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    where, params = selection_filter(cols, (min(xs), max(xs)), (min(ys), max(ys)))
    xv, yv = cols.x_value, cols.y_value
    terms: list[str] = []
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if y0 == y1:
            continue  # a horizontal edge is never crossed by a horizontal ray
        terms.append(f"CAST(({yv} > ?) <> ({yv} > ?) AND {xv} < ? + ({yv} - ?) * ? AS INTEGER)")
        params += [y0, y1, x0, y0, (x1 - x0) / (y1 - y0)]
    if not terms:
        return "FALSE", []
    return f"{where} AND ({' + '.join(terms)}) % 2 = 1", params


class SelectedRows:
    """The rows of a plot's source inside a selection, on a cursor of their own (so reading them
    never collides with the plot's queries). `relation` runs the query each time it is read."""

    def __init__(
        self,
        session: Session,
        cols: AxisColumns,
        x: Bounds | None,
        y: Bounds | None,
        polygon: Polygon | None = None,
    ) -> None:
        where, params = selection_filter(cols, x, y) if polygon is None else polygon_filter(cols, polygon)
        self.cursor = session.cursor()
        cols.source.prepare(self.cursor)
        self.relation: duckdb.DuckDBPyRelation = self.cursor.sql(
            f"SELECT * FROM {cols.source.from_sql} WHERE {where}", params=params
        )
        self.x, self.y, self.polygon = x, y, polygon

    def close(self) -> None:
        """Free the cursor (the relation can no longer be read)."""
        with contextlib.suppress(duckdb.Error):
            self.cursor.close()
