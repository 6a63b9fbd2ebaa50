"""The engine seam, session side: what a plot asks of the database its data lives in.

Two engines implement it: DuckDB (`engine.session.Session`, the embedded default) and Spark
Connect (`engine.spark_session.SparkConnectSession`). Per-plot queries go through a `Reader`
(`engine.runner`); SQL differences live in the `Dialect`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pyarrow as pa

from .dialect import Dialect
from .runner import Reader
from .sources import Source


class Backend(Protocol):
    """A database plots run on."""

    dialect: Dialect

    @property
    def closed(self) -> bool: ...
    def reader(self, *, transient: bool = False) -> Reader:
        """A reader of its own for one plot; `transient` for a short query while a plot is set up."""
        ...

    def resolve(self, data: object) -> Source:
        """What the user passed as `data`, as a Source (clear errors for bad SQL or files)."""
        ...

    def query(self, source: Source, sql: str, params: list[object] | None = None) -> pa.Table:
        """A short query while a plot is set up, as Arrow."""
        ...

    def lazy(self, source: Source, sql: str, params: list[object]) -> tuple[object, Callable[[], None]]:
        """The rows of `sql` as the engine's lazy relation (DuckDB relation, Spark DataFrame), and
        what frees it."""
        ...

    def time_zone(self) -> str:
        """The zone the engine shows time-zone-aware values in."""
        ...

    def close(self) -> None: ...


def backend_for(data: object, session: Backend | None) -> Backend:
    """The backend a plot of `data` runs on: `session`, else the Spark session of a Spark DataFrame,
    else the shared in-memory DuckDB database."""
    if session is not None:
        return session
    if type(data).__module__.startswith("pyspark.sql") and type(data).__name__ == "DataFrame":
        from .spark_session import session_of  # the Spark client is optional

        return session_of(data)
    from .session import default_session

    return default_session()
