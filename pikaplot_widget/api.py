"""The public constructors: `line()` and `scatter()` check their arguments and build a `Plot`."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .core.colors import NORMALIZATIONS, ColormapSpec
from .core.colors import colormap as colormap_table
from .core.series_style import checked_line_width, series_colors
from .core.types import Labels
from .engine.axes import axis_scale
from .engine.backend import Backend, backend_for
from .engine.scatter import ScatterColumns
from .engine.sources import time_origin_us
from .plots.line.series import line_columns
from .plots.line.worker import LineWorker
from .plots.protocols import FrameCallback, StateCallback, ViewCallback
from .plots.scatter.provider import MARKER_LIMIT, MAX_MARKER_LIMIT
from .plots.scatter.worker import ScatterWorker
from .ranges import AxisUnits
from .render.theme import checked_theme
from .widget import Plot


def line(
    data: object,
    x: str,
    y: str | Sequence[str],
    by: str | None = None,
    *,
    width: int = 800,
    height: int = 400,
    title: str = "",
    x_label: str | None = None,
    y_label: str | None = None,
    x_range: tuple[object, object] | None = None,
    y_range: tuple[float, float] | None = None,
    log_x: bool = False,
    log_y: bool = False,
    tz: str | None = None,
    max_points: int | None = None,
    downsampler: str = "minmax_lttb",
    colors: Sequence[str] | Mapping[str, str] | str | None = None,
    line_width: float | None = None,
    theme: str = "auto",
    session: Backend | None = None,
) -> Plot:
    """A zoomable line plot of column `y` against column `x` of `data`: one line, one per column
    of a list `y`, or one per value of column `by`.

    Args:
        data: a path or glob of Parquet/CSV/JSON files, SQL text, a table name, a DuckDB
            relation, a pandas or polars DataFrame, or a pyarrow Table.
        x: the x column (numeric, date or timestamp; time axes use seconds since the epoch).
        y: the y column (numeric), or a list of them (one series each).
        by: a column of any type: one series per value (the 20 values with the most rows; the
            plot's notice and `stats` say how many series and rows were left out; NULL rows too).
            Several series get the category palette, a legend (click an entry to hide or show
            its series; `Plot.hidden_series` holds the hidden names) and hover names the series.
        width, height: size in CSS pixels.
        title, x_label, y_label: text around the plot (labels default to the column names).
        x_range, y_range: the first view (default: the full extent, y fitted to the data), in
            data units; x may also be given as datetime, date, numpy.datetime64 or
            pandas.Timestamp on a time axis (naive ones: wall time in `tz`; a time a DST change
            skips moves forward to the gap's end, a repeated one is its first occurrence).
        log_x, log_y: log10 axes (rows with values <= 0 are left out, counted in the note and in
            `stats["log_skipped_rows"]`; with a list of y, "y" is their total and "y:<column>"
            each column's count).
        tz: an IANA time zone ("Europe/Berlin") to show a time x in: ticks on its wall clock
            (right across DST), hover in it too. Default: the session's TimeZone for TIMESTAMPTZ
            columns, else UTC (naive timestamp columns are taken as UTC). A DATE x takes no zone.
        max_points: downsample the drawn points to this many with `downsampler`
            ("minmax_lttb" or "lttb"), per series; by default every M4 point is drawn (exact).
        colors: a list of CSS colours (names or hex) in series order, repeated when there are
            more series; one colour for every series; or a dict series name -> colour (others
            keep the palette's).
        line_width: the lines' width in CSS pixels (0, 20]; default 1.5.
        theme: "auto" (follow JupyterLab's light or dark theme; light outside a browser),
            "light" or "dark". `Plot.theme` reads and changes it later.
        session: the database to run in: a `Session` (DuckDB) or `Session.spark(...)` (Spark
            Connect); default: a shared in-memory DuckDB one, or a Spark DataFrame's own session.

    Raises:
        ValueError: an unknown column (the message lists the available ones), a bad colour,
            line width or theme.
        TypeError: a column that is not numeric (or, for x, not a date/time either).
        duckdb.Error: bad SQL, with DuckDB's message.
    """
    checked_theme(theme)
    if downsampler not in ("minmax_lttb", "lttb"):
        raise ValueError(f"downsampler must be 'minmax_lttb' or 'lttb', got {downsampler!r}")
    if max_points is not None and int(max_points) < 3:
        raise ValueError(f"max_points must be at least 3, got {max_points}")
    width_px = checked_line_width(line_width)
    session = backend_for(data, session)
    source = session.resolve(data)
    columns, notice = line_columns(source, session, x, y, by)
    columns = replace(columns, scale=axis_scale(columns.x_type, columns.y_type, session, log_x, log_y, tz))
    if columns.x_is_time:
        columns = replace(columns, x_origin_us=time_origin_us(source, session, x))
    names = columns.series.names if columns.series is not None else ()
    rgb = series_colors(names or (columns.y,), colors) if colors is not None or names else None
    y_name = (
        "" if columns.series is not None and by is None else columns.y
    )  # y columns: the legend names them
    labels = Labels(title, x if x_label is None else x_label, y_name if y_label is None else y_label)

    made_for: list[weakref.ref[Plot]] = []  # a worker rebuilt after a release keeps the hidden series

    def make(on_frame: FrameCallback, on_state: StateCallback, on_view: ViewCallback) -> LineWorker:
        worker = LineWorker(
            columns, session, width=int(width), height=int(height), labels=labels,
            max_points=max_points, downsampler=downsampler, colors=rgb, line_width=width_px,
            on_frame=on_frame, on_state=on_state, on_view=on_view,
        )  # fmt: skip
        owner = made_for[0]() if made_for else None
        if owner is not None:
            worker.set_hidden(frozenset(i for i, n in enumerate(names) if n in owner.hidden_series))
        return worker

    plot = Plot(
        make,
        width=width,
        height=height,
        x_range=x_range,
        y_range=y_range,
        units=AxisUnits(columns.x_origin_us / 1e6, columns.scale),
    )
    made_for.append(weakref.ref(plot))
    plot.notice = notice
    plot.theme = theme
    return plot


def scatter(
    data: object,
    x: str,
    y: str,
    *,
    color: str | None = None,
    size: str | float | None = None,
    width: int = 800,
    height: int = 600,
    title: str = "",
    x_label: str | None = None,
    y_label: str | None = None,
    x_range: tuple[object, object] | None = None,
    y_range: tuple[float, float] | None = None,
    log_x: bool = False,
    log_y: bool = False,
    tz: str | None = None,
    colormap: ColormapSpec = "viridis",
    normalization: str = "eq_hist",
    marker_limit: int = MARKER_LIMIT,
    gpu_points: str = "auto",
    theme: str = "auto",
    session: Backend | None = None,
) -> Plot:
    """A zoomable scatter plot of columns `x` and `y`: markers when few rows are in view, else a
    density image (rows per pixel, binned in DuckDB or read from the density index).

    Args:
        data: as for `line`.
        x, y: numeric columns (x may also be a date or timestamp).
        color: a numeric column (colour map and colour bar; the mean per pixel in density mode)
            or any other column (one colour per category with a legend: the 20 most frequent,
            the rest "other").
        size: a numeric column (marker radius from 1.5 to 8 px) or a marker diameter in pixels.
        width, height: size in CSS pixels.
        title, x_label, y_label: text around the plot (labels default to the column names).
        x_range, y_range: the first view (default: the full extent); as for `line`.
        log_x, log_y, tz: as for `line`.
        colormap: a table's name (viridis, cividis, inferno, magma, plasma, fire), a list of
            two or more colours (CSS names or hex) interpolated evenly, or an (N, 3|4) array or
            list of tuples: floats in [0, 1], uint8 in 0..255, other integers in 0..255 unless
            all are 0 or 1 (then read as floats: [(1, 0, 0), (0, 0, 1)] is red to blue).
        normalization: how rows per pixel map to colour: "eq_hist" (histogram-equalised,
            default), "log" or "linear".
        marker_limit: draw markers when at most this many rows are in view.
        gpu_points: "auto" keeps x/y of uncoloured plots in GPU memory on a real GPU and bins
            each view there with a compute shader (on a CPU adapter the density index and
            DuckDB are faster); "always" or "never" force the choice.
        theme: as for `line`.
        session: the database to run in: a `Session` (DuckDB) or `Session.spark(...)` (Spark
            Connect); default: a shared in-memory DuckDB one, or a Spark DataFrame's own session.

    Raises:
        ValueError: an unknown column, colormap, normalization or theme.
        TypeError: a non-numeric x, y or size column.
        duckdb.Error: bad SQL, with DuckDB's message.
    """
    checked_theme(theme)
    table = colormap_table(colormap)  # ValueError/TypeError naming `colormap`
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {', '.join(NORMALIZATIONS)}, got {normalization!r}")
    if gpu_points not in ("auto", "always", "never"):
        raise ValueError(f"gpu_points must be 'auto', 'always' or 'never', got {gpu_points!r}")
    if not 1 <= int(marker_limit) <= MAX_MARKER_LIMIT:
        raise ValueError(f"marker_limit must be between 1 and {MAX_MARKER_LIMIT:,}, got {marker_limit}")
    marker_size = None
    if size is not None and not isinstance(size, str):
        marker_size = float(size)
        if not 0 < marker_size <= 100:
            raise ValueError(f"size must be a column name or a diameter in (0, 100] pixels, got {size!r}")
        size = None
    session = backend_for(data, session)
    source = session.resolve(data)
    columns = ScatterColumns.checked(source, x, y, color, size)
    columns = replace(columns, scale=axis_scale(columns.x_type, columns.y_type, session, log_x, log_y, tz))
    if columns.x_is_time:
        columns = replace(columns, x_origin_us=time_origin_us(source, session, x))
    labels = Labels(title, x if x_label is None else x_label, y if y_label is None else y_label)

    def make(on_frame: FrameCallback, on_state: StateCallback, on_view: ViewCallback) -> ScatterWorker:
        return ScatterWorker(
            columns, session, width=int(width), height=int(height), labels=labels,
            colormap=table, normalization=normalization, marker_size=marker_size,
            marker_limit=marker_limit, gpu_points=gpu_points,
            on_frame=on_frame, on_state=on_state, on_view=on_view,
        )  # fmt: skip

    plot = Plot(
        make,
        width=width,
        height=height,
        x_range=x_range,
        y_range=y_range,
        units=AxisUnits(columns.x_origin_us / 1e6, columns.scale),
    )
    plot.theme = theme
    return plot
