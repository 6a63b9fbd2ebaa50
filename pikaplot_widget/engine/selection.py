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
        valid_value_expr(quote_ident(cols.x), cols.x_type),
        valid_value_expr(quote_ident(cols.y), cols.y_type),
    ]
    params: list[object] = []
    for bounds, column, type_name, value, origin in (
        (x, cols.x, cols.x_type, cols.x_value, cols.x_origin_us),
        (y, cols.y, cols.y_type, cols.y_value, 0),
    ):
        if bounds is not None:
            sql, values = inclusive_filter(quote_ident(column), type_name, value, *bounds, origin)
            parts.append(sql)
            params += values
    return " AND ".join(parts), params


class SelectedRows:
    """The rows of a plot's source inside a selection, on a cursor of their own (so reading them
    never collides with the plot's queries). `relation` runs the query each time it is read."""

    def __init__(self, session: Session, cols: AxisColumns, x: Bounds | None, y: Bounds | None) -> None:
        where, params = selection_filter(cols, x, y)
        self.cursor = session.cursor()
        cols.source.prepare(self.cursor)
        self.relation: duckdb.DuckDBPyRelation = self.cursor.sql(
            f"SELECT * FROM {cols.source.from_sql} WHERE {where}", params=params
        )
        self.x, self.y = x, y

    def close(self) -> None:
        """Free the cursor (the relation can no longer be read)."""
        with contextlib.suppress(duckdb.Error):
            self.cursor.close()
