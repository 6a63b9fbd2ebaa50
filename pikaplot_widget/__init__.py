"""pikaplot_widget: interactive plots of tables with millions to billions of rows in Jupyter.

Data stays in DuckDB; each view is aggregated there (M4 per pixel column), downsampled with
LTTB/MinMaxLTTB when needed, rendered with wgpu and shown through jupyter_rfb.
"""

from __future__ import annotations

from .engine.line import LineColumns
from .engine.session import Session, default_session
from .memory import monitor as memory
from .render.device import gpu_info
from .sources import resolve_source
from .widget import Plot

__version__ = "0.1.0"


def line(
    data: object,
    x: str,
    y: str,
    *,
    width: int = 800,
    height: int = 400,
    title: str = "",
    x_label: str | None = None,
    y_label: str | None = None,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    max_points: int | None = None,
    downsampler: str = "minmax_lttb",
    session: Session | None = None,
) -> Plot:
    """A zoomable line plot of column `y` against column `x` of `data`.

    Args:
        data: a path or glob of Parquet/CSV/JSON files, SQL text, a table name, a DuckDB
            relation, a pandas or polars DataFrame, or a pyarrow Table.
        x: the x column (numeric, date or timestamp; time axes use seconds since the epoch).
        y: the y column (numeric).
        width, height: size in CSS pixels.
        title, x_label, y_label: text around the plot (labels default to the column names).
        x_range, y_range: the first view (default: the full extent, y fitted to the data).
        max_points: downsample the drawn points to this many with `downsampler`
            ("minmax_lttb" or "lttb"); by default every M4 point is drawn (exact).
        session: the DuckDB database to run in (default: a shared in-memory one).

    Raises:
        ValueError: an unknown column (the message lists the available ones).
        TypeError: a column that is not numeric (or, for x, not a date/time either).
        duckdb.Error: bad SQL, with DuckDB's message.
    """
    session = session or default_session()
    source = resolve_source(data, session)
    columns = LineColumns.checked(source, x, y)
    return Plot(
        columns,
        session,
        width=width,
        height=height,
        title=title,
        x_label=x_label,
        y_label=y_label,
        max_points=max_points,
        downsampler=downsampler,
        x_range=x_range,
        y_range=y_range,
    )


__all__ = ["Plot", "Session", "__version__", "gpu_info", "line", "memory"]
