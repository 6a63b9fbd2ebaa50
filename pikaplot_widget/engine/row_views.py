"""Views from the row files: the stored rows a view aggregates (the thresholds the SQL range filter
uses) and their M4, with x computed only where picked when it is evenly spaced."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .dialect import EPOCH
from .line_rows import m4_of_even_rows, m4_of_rows
from .row_store import MICROS_TYPES, RowStore
from .sql import INTEGER_RANGES, range_params

if TYPE_CHECKING:
    from .line import Extent, LineColumns, LineData


def slice_bounds(cols: LineColumns, lo: float, hi: float) -> tuple[float, float]:
    """Axis-unit thresholds [a, b] that keep exactly the stored rows the SQL range filter keeps for
    [lo, hi] (`range_params`): integers round outwards to whole numbers; timestamps to whole
    microseconds past the origin, which seconds below MAX_TIME_SECONDS tell apart."""
    if cols.x_type in INTEGER_RANGES:
        low, high = range_params(cols.x_type, lo, hi)
        return _whole(low), _whole(high)
    if cols.x_type in MICROS_TYPES:
        low, high = range_params(cols.x_type, lo, hi, cols.x_origin_us)
        return _seconds_past(low, cols.x_origin_us), _seconds_past(high, cols.x_origin_us)
    return lo, hi


def _whole(bound: object) -> float:
    """An integer bound (as `range_params` binds it on DuckDB) as float64."""
    assert isinstance(bound, int)
    return float(bound)


def _seconds_past(bound: object, origin_us: int) -> float:
    """A timestamp bound (a datetime, as `range_params` binds it) in seconds past `origin_us`, as
    the SQL's `(epoch_us - origin) / 1e6` computes it."""
    assert isinstance(bound, dt.datetime)
    naive = bound.replace(tzinfo=None) if bound.tzinfo is not None else bound
    micros = (naive - EPOCH) // dt.timedelta(microseconds=1)
    return (micros - origin_us) / 1e6


def _store_range(
    cols: LineColumns, extent: Extent, x_range: tuple[float, float], columns: int
) -> tuple[float, float] | None:
    """The thresholds of the stored rows a view aggregates (a column more each side, as
    `fetch_line` reads); None for an empty view."""
    x0, x1 = x_range
    width = (x1 - x0) / columns
    lo, hi = max(x0 - width, extent.x_min), min(x1 + width, extent.x_max)
    return slice_bounds(cols, lo, hi) if x1 > x0 and lo <= hi else None


def store_answers(
    store: RowStore, cols: LineColumns, extent: Extent, x_range: tuple[float, float], columns: int
) -> bool:
    """Whether `view_from_store` answers this view (the files are ready and hold few enough of
    its rows), without reading them."""
    bounds = _store_range(cols, extent, x_range, max(int(columns), 1))
    return store.ready and bounds is not None and store.holds(*bounds)


def view_from_store(
    store: RowStore, cols: LineColumns, extent: Extent, x_range: tuple[float, float], columns: int
) -> LineData | None:
    """M4 of a view from the stored rows (what `fetch_line` computes from the same rows); None
    when the store cannot answer it."""
    columns = max(int(columns), 1)
    bounds = _store_range(cols, extent, x_range, columns)
    if not store.ready or bounds is None:
        return None
    x0, scale = x_range[0], columns / (x_range[1] - x_range[0])
    picked = store.between_even(*bounds)
    if picked is not None:  # evenly spaced x: computed only where needed
        table = m4_of_even_rows(picked[0], picked[2], picked[1], x0, scale, columns)
    else:
        rows = store.between(*bounds)
        if rows is None:
            return None
        table = m4_of_rows(rows[0], rows[1], x0, scale, columns)
    few = len(table) == 0 or int(table.column("n").to_numpy().max()) <= 2
    return cols.view_points(table, x_range, columns, kind="raw" if few else "m4")
