"""Selected rows as a lazy DuckDB relation: the plot's source filtered by a box, nothing materialised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .dialect import DUCKDB, Dialect
from .line_series import Series
from .sources import Source
from .sql import axis_value_expr, inclusive_filter, valid_value_expr


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
Polygon = tuple[tuple[float, float], ...]
MAX_POLYGON_VERTICES = 256


@dataclass(frozen=True)
class SeriesScope:
    """Which series a selection sees: a line plot's series (None: one y) and those hidden (numbers
    into `series.names`)."""

    series: Series | None = None
    hidden: frozenset[int] = frozenset()

    def y_columns(self, cols: AxisColumns) -> list[tuple[str, str, str]]:
        """(quoted column, DuckDB type, axis value SQL) of each y column a row can be selected by:
        the visible ones of a y list, else the one y."""
        series, d = self.series, cols.source.dialect
        if series is None or series.by is not None:
            return [(d.ident(cols.y), cols.y_type, cols.y_value)]
        return [
            (d.ident(name), kind, axis_value_expr(d.ident(name), kind, log=cols.log_y, dialect=d))
            for i, (name, kind) in enumerate(zip(series.y_columns, series.y_types, strict=True))
            if i not in self.hidden
        ]

    def by_filter(self, dialect: Dialect = DUCKDB) -> tuple[str, list[object]]:
        """`by IN (?, ...)` over the kept, visible values of a `by` column (`TRUE` without one,
        `FALSE` when all are hidden), and its bound values."""
        series = self.series
        if series is None or series.by is None:
            return "TRUE", []
        values = [v for i, v in enumerate(series.by_values) if i not in self.hidden]
        if not values:
            return "FALSE", []
        marks = ", ".join(dialect.value_marker(series.by_type) for _ in values)
        return f"{dialect.ident(series.by)} IN ({marks})", series.bound_values(values, dialect)


YTerm = Callable[[str, str, str], tuple[str, list[object]]]


def _rows_filter(
    cols: AxisColumns, x: Bounds | None, scope: SeriesScope, y_term: YTerm | None
) -> tuple[str, list[object]]:
    """Valid x (in `x`), AND any selectable y column valid (and passing `y_term`), AND the series
    filter; every value a bound parameter, in the order the SQL reads them."""
    d = cols.source.dialect
    parts = [valid_value_expr(d.ident(cols.x), cols.x_type, cols.log_x, d)]
    params: list[object] = []
    if x is not None:
        sql, values = inclusive_filter(
            d.ident(cols.x), cols.x_type, cols.x_value, *x, cols.x_origin_us, cols.log_x, d
        )
        parts.append(sql)
        params += values
    terms = []
    for column, type_name, value in scope.y_columns(cols):
        term = valid_value_expr(column, type_name, cols.log_y, d)
        if y_term is not None:
            sql, values = y_term(column, type_name, value)
            term += f" AND {sql}"
            params += values
        terms.append(f"({term})")
    parts.append(" OR ".join(terms) if len(terms) == 1 else f"({' OR '.join(terms) or 'FALSE'})")
    sql, values = scope.by_filter(d)
    parts.append(sql)
    params += values
    return " AND ".join(parts), params


def selection_filter(
    cols: AxisColumns, x: Bounds | None, y: Bounds | None, scope: SeriesScope | None = None
) -> tuple[str, list[object]]:
    """Rows with valid x and y inside the bounds given (both ends included), and the bound values.

    Several series: with a y list a row is selected when its x is in `x` and ANY visible (not
    hidden) y column is valid and in `y` (no `y`: valid); with a `by` column only rows of the
    kept (the MAX_SERIES largest) and visible values are.
    """

    def y_term(column: str, type_name: str, value: str) -> tuple[str, list[object]]:
        assert y is not None
        return inclusive_filter(column, type_name, value, *y, 0, cols.log_y, cols.source.dialect)

    return _rows_filter(cols, x, scope or SeriesScope(), None if y is None else y_term)


def polygon_filter(
    cols: AxisColumns, polygon: Polygon, scope: SeriesScope | None = None
) -> tuple[str, list[object]]:
    """Rows inside a polygon (axis units, even-odd rule): its bounding box first (zone maps skip row
    groups), then a ray cast to the right counting the edges crossed, every vertex a bound value.
    Several series: as `selection_filter` (any visible y column inside; kept, visible `by` values)."""
    if not 3 <= len(polygon) <= MAX_POLYGON_VERTICES:
        raise ValueError(f"a lasso needs 3 to {MAX_POLYGON_VERTICES} vertices, got {len(polygon)}")
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    xv = cols.x_value
    edges = [
        (x0, y0, x1, y1)
        for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True)
        if y0 != y1  # a horizontal edge is never crossed by a horizontal ray
    ]
    if not edges:
        return "FALSE", []

    def y_term(column: str, type_name: str, yv: str) -> tuple[str, list[object]]:
        sql, params = inclusive_filter(
            column, type_name, yv, min(ys), max(ys), 0, cols.log_y, cols.source.dialect
        )
        terms: list[str] = []
        for x0, y0, x1, y1 in edges:
            terms.append(f"CAST(({yv} > ?) <> ({yv} > ?) AND {xv} < ? + ({yv} - ?) * ? AS INTEGER)")
            params += [y0, y1, x0, y0, (x1 - x0) / (y1 - y0)]
        return f"{sql} AND ({' + '.join(terms)}) % 2 = 1", params

    return _rows_filter(cols, (min(xs), max(xs)), scope or SeriesScope(), y_term)


class SelectedRows:
    """The rows of a plot's source inside a selection, as the engine's lazy relation (a DuckDB
    relation on a cursor of its own, so reading it never collides with the plot's queries; a Spark
    DataFrame). `relation` runs the query each time it is read."""

    def __init__(
        self,
        session: LazyQueries,
        cols: AxisColumns,
        x: Bounds | None,
        y: Bounds | None,
        polygon: Polygon | None = None,
        scope: SeriesScope | None = None,
    ) -> None:
        where, params = (
            selection_filter(cols, x, y, scope) if polygon is None else polygon_filter(cols, polygon, scope)
        )
        sql = f"SELECT * FROM {cols.source.from_sql} WHERE {where}"
        self.relation, self._close = session.lazy(cols.source, sql, params)
        self.x, self.y, self.polygon, self.scope = x, y, polygon, scope or SeriesScope()

    def close(self) -> None:
        """Free the relation's cursor (it can no longer be read)."""
        self._close()


class LazyQueries(Protocol):
    """An engine session that hands out lazy relations (engine/backend.py)."""

    def lazy(self, source: Source, sql: str, params: list[object]) -> tuple[object, Callable[[], None]]: ...
