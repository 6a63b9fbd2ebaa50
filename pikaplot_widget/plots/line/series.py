"""The columns of a line plot from `line()`'s arguments: one y, a list of y, or y split by a column."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace

from ...engine.backend import Backend
from ...engine.line import LineColumns
from ...engine.line_series import MAX_SERIES, by_series, y_list_series
from ...engine.sources import Source


def line_columns(
    source: Source, session: Backend, x: str, y: str | Sequence[str], by: str | None
) -> tuple[LineColumns, str]:
    """Checked columns (with their series) and a notice for the plot ("" when nothing to say)."""
    if isinstance(y, str):
        ys: tuple[str, ...] = (y,)
    elif isinstance(y, (list, tuple)) and y and all(isinstance(v, str) for v in y):
        ys = tuple(y)
    else:
        raise TypeError(f"y must be a column name or a non-empty list of them, got {y!r}")
    if by is not None and not isinstance(by, str):
        raise TypeError(f"by must be a column name, got {by!r}")
    if by is not None and len(ys) > 1:
        raise ValueError("give either a list of y columns or by=, not both")
    columns = LineColumns.checked(source, x, ys[0])
    if len(ys) > 1:
        return replace(columns, series=y_list_series(columns, ys)), ""
    if by is None:
        return columns, ""
    runner = session.reader(transient=True)
    try:
        runner.attach(source)
        series = by_series(runner, columns, by)
    finally:
        with contextlib.suppress(Exception):
            runner.detach(source)
        runner.close()
    notice = ""
    if series.series_dropped:
        notice = (
            f"{by}: showing the {MAX_SERIES} values with the most rows; {series.series_dropped:,} more "
            f"values ({series.rows_dropped:,} rows) left out"
        )
    return replace(columns, series=series), notice
