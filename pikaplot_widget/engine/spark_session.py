"""Plots on Apache Spark through Spark Connect: the session side of the engine seam.

Only the thin client is needed in the kernel (`pip install pikaplot_widget[spark]`, which brings
`pyspark-client`); it is imported when a Spark session is first used. Column types are mapped to
DuckDB's names, so every check and SQL builder serves both engines.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import cast

import pyarrow as pa

from ..core.scale import UTC_NAME, checked_zone
from .dialect import SPARK, Dialect
from .runner import ExclusiveGate
from .sources import Source
from .spark_reader import ProgressRouter, SparkConnection, SparkQueryError, SparkReader, first_line

_TYPES = {
    "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER", "bigint": "BIGINT",
    "float": "FLOAT", "double": "DOUBLE", "date": "DATE", "string": "VARCHAR", "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",  # Spark's TIMESTAMP is an instant (LTZ)
    "timestamp_ntz": "TIMESTAMP",  # a wall-clock time, like DuckDB's TIMESTAMP
}  # fmt: skip
_FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".json": "json", ".orc": "orc"}
_NAME = re.compile(r"^(`(?:[^`]|``)+`|[A-Za-z_]\w*)(\.(`(?:[^`]|``)+`|[A-Za-z_]\w*)){0,2}$")
_SQL_START = re.compile(r"^\s*(\(|--|/\*|(select|with|from|values|table)\b)", re.IGNORECASE)
_QUIET_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")  # they print each error's JVM trace
_sessions: dict[int, SparkConnectSession] = {}  # one per Spark session, kept while it is open
_sessions_lock = threading.Lock()
_names = itertools.count(1)  # view names unique in this process, whatever session made them


def duckdb_type(spark_type: str) -> str:
    """A Spark SQL type name (`DataType.simpleString()`) as the DuckDB name the checks know."""
    lowered = spark_type.strip().lower()
    if lowered in _TYPES:
        return _TYPES[lowered]
    decimal = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", lowered)
    if decimal:
        return f"DECIMAL({decimal[1]},{decimal[2]})"
    return spark_type.upper()  # ARRAY<…>, MAP<…>, STRUCT<…>, BINARY, intervals: not plottable


class SparkConnectSession:
    """A Spark Connect session that plots run on: `Session.spark(remote="sc://host:15002")`, or the
    session of a Spark DataFrame passed as `data`.

    Each plot gets a reader of its own; queries are tagged so a newer view interrupts a stale one,
    progress comes from Spark's task counts, and line indexes are cached temporary views of the
    session (dropped with their plot).

    Args:
        spark: a `pyspark.sql.SparkSession` made with `.remote(...)` (Spark Connect).
        owned: stop `spark` when this session closes (True when pikaplot opened it).
    """

    dialect: Dialect = SPARK

    def __init__(self, spark: object, *, owned: bool = False) -> None:
        self.spark = cast(SparkConnection, spark)
        self._owned = owned
        self.index_gate = ExclusiveGate()
        self._progress = ProgressRouter(self.spark)
        self._lock = threading.Lock()
        self._readers: weakref.WeakSet[SparkReader] = weakref.WeakSet()
        self._views: dict[str, int] = {}  # temporary views made here -> readers of plots using them
        self.closed = False
        for name in _QUIET_LOGGERS:  # the errors reach the user in the plot or as exceptions
            logging.getLogger(name).setLevel(logging.CRITICAL)

    @classmethod
    def connect(cls, remote: str | None = None) -> SparkConnectSession:
        """Open a Spark Connect session to `remote` ("sc://host:15002"; default the SPARK_REMOTE
        environment variable)."""
        address = remote or os.environ.get("SPARK_REMOTE")
        if not address or not isinstance(address, str) or not address.startswith("sc://"):
            raise ValueError(
                f"remote must be a Spark Connect address like 'sc://host:15002'; got {address!r}"
            )
        # create(), not getOrCreate(): a session of its own, never the user's default one
        return cls(_spark_module().SparkSession.builder.remote(address).create(), owned=True)

    @classmethod
    def of(cls, spark: object) -> SparkConnectSession:
        """The pikaplot session wrapping a Spark session (one per Spark session)."""
        with _sessions_lock:
            found = _sessions.get(id(spark))
            if found is None or found.spark is not spark or found.closed:
                found = cls(spark)
                _sessions[id(spark)] = found
            return found

    # ---- the seam -------------------------------------------------------------------------------
    def reader(self, *, transient: bool = False) -> SparkReader:
        """A reader of its own for one plot (`transient`: a short query while a plot is set up)."""
        if self.closed:
            raise ValueError("this Spark session is closed")
        if transient:
            reader = SparkReader(self.spark, self._progress, self.index_gate, counts_as_plot=False)
        else:  # a plot's reader: the views of its source live while it uses them
            reader = SparkReader(
                self.spark, self._progress, self.index_gate,
                on_attach=self._use_views, on_detach=self._release_views,
            )  # fmt: skip
        with self._lock:
            self._readers.add(reader)
        return reader

    def query(self, source: Source, sql: str, params: list[object] | None = None) -> pa.Table:
        """A short query while a plot is set up (describe, time origin), as Arrow."""
        del source  # nothing to register: Spark sources are tables or temporary views
        try:
            return self.spark.sql(sql, args=params or None).toArrow()
        except Exception as error:
            raise SparkQueryError(first_line(error)) from None

    def lazy(self, source: Source, sql: str, params: list[object]) -> tuple[object, Callable[[], None]]:
        """The rows of `sql` as a Spark DataFrame (nothing computed until it is read); nothing to free."""
        del source
        return self.spark.sql(sql, args=params or None), _nothing

    def describe(self, source: Source) -> dict[str, str]:
        """Column names and (DuckDB-named) types; bad SQL and unknown tables fail here."""
        try:
            schema = self.spark.sql(f"SELECT * FROM {source.from_sql}").schema  # type: ignore[attr-defined]
        except Exception as error:
            raise SparkQueryError(first_line(error)) from None
        return {str(f.name): duckdb_type(f.dataType.simpleString()) for f in schema.fields}

    def resolve(self, data: object) -> Source:
        """A table name, a file path (read by the Spark cluster), SELECT text, a Spark DataFrame or an
        in-memory table (pandas, polars, Arrow: uploaded to Spark once) as a Source."""
        if isinstance(data, os.PathLike):
            data = os.fspath(data)
        views: tuple[str, ...] = ()
        if isinstance(data, str) and _text_format(data):  # CSV/JSON: read with a header and types
            reader = self.spark.read.options(header="true", inferSchema="true")  # type: ignore[attr-defined]
            frame = getattr(reader, _text_format(data))(data.strip())
            from_sql, views = self._view_of(frame)
        elif isinstance(data, str):
            from_sql = _from_string(data)
        elif is_spark_dataframe(data):
            from_sql, views = self._view_of(data)
        elif type(data).__module__.startswith(("pandas", "polars", "pyarrow")):
            table = data if isinstance(data, pa.Table) else pa.table(data)
            from_sql, views = self._view_of(self._upload(table))
            # Kept in Spark's memory, columnar: else every query decodes the uploaded rows again
            # (1M rows on local[2]: extent 19 s uncached). Dropped with the last plot on it.
            self.query(Source(from_sql, {}), f"CACHE TABLE {from_sql}")
        else:
            raise TypeError(
                "data on Spark must be a table name, a file path, SELECT text, a Spark DataFrame "
                f"or a pandas/polars DataFrame or pyarrow Table; got {type(data).__name__}"
            )
        source = Source(from_sql=from_sql, columns={}, dialect=SPARK, views=views)
        try:
            source.columns = self.describe(source)
        except Exception:
            self._drop_views(views)
            raise
        return source

    def _upload(self, table: pa.Table) -> object:
        """`table` as a Spark DataFrame. Timestamps travel as integer microseconds and become
        TIMESTAMP (with a zone in Arrow) or TIMESTAMP_NTZ (without) in Spark: pyspark would read
        naive ones in the session's zone (and refuse times in its DST gaps)."""
        d, columns, exprs = self.dialect, [], []
        for field in table.schema:
            column = table.column(field.name)
            name = d.ident(field.name)
            if pa.types.is_timestamp(field.type):
                column = column.cast(pa.timestamp("us", field.type.tz)).cast(pa.int64())
                kind = "TIMESTAMP WITH TIME ZONE" if field.type.tz else "TIMESTAMP"
                exprs.append(f"{d.time_bound(kind).replace('?', name)} AS {name}")
            else:
                exprs.append(name)
            columns.append(column)
        frame = self.spark.createDataFrame(pa.table(columns, names=table.column_names))  # type: ignore[attr-defined]
        return frame.selectExpr(*exprs)

    def _view_of(self, frame: object) -> tuple[str, tuple[str, ...]]:
        """A temporary view of `frame`: its SQL name, and the view's name to drop later."""
        name = self.unique_name("frame")
        frame.createOrReplaceTempView(name)  # type: ignore[attr-defined]
        with self._lock:
            self._views[name] = 0
        return self.dialect.ident(name), (name,)

    def _use_views(self, source: Source) -> None:
        with self._lock:
            for name in source.views:
                self._views[name] = self._views.get(name, 0) + 1

    def _release_views(self, source: Source) -> None:
        """A plot on `source` closed: drop its views once no other plot uses them."""
        unused = []
        with self._lock:
            for name in source.views:
                left = self._views.get(name, 0) - 1
                if left <= 0:
                    self._views.pop(name, None)
                    unused.append(name)
                else:
                    self._views[name] = left
        self._drop_views(tuple(unused))

    def _drop_views(self, names: tuple[str, ...]) -> None:
        for name in names:
            for statement in self.dialect.drop_table(self.dialect.ident(name)):
                with contextlib.suppress(Exception):  # gone already, or the server is
                    self.spark.sql(statement).toArrow()

    def time_zone(self) -> str:
        """The zone Spark shows TIMESTAMP (instant) values in: spark.sql.session.timeZone."""
        try:
            zone = self.spark.conf.get("spark.sql.session.timeZone")  # type: ignore[attr-defined]
            return checked_zone(str(zone)) if zone else UTC_NAME
        except Exception:
            return UTC_NAME

    def unique_name(self, prefix: str) -> str:
        """A fresh name for a temporary view this session creates."""
        return f"__pikaplot_{prefix}_{os.getpid()}_{next(_names)}"

    def close(self) -> None:
        """Close the readers and drop the temporary views made here; stop Spark if pikaplot opened it."""
        self.closed = True
        with self._lock:
            readers, views, self._views = list(self._readers), tuple(self._views), {}
        for reader in readers:
            reader.close()
        self._drop_views(views)
        self._progress.close()
        with _sessions_lock:
            if _sessions.get(id(self.spark)) is self:
                del _sessions[id(self.spark)]
        if self._owned:
            self.spark.stop()  # type: ignore[attr-defined]


def _nothing() -> None:
    """Nothing to free."""


def is_spark_dataframe(data: object) -> bool:
    """Whether `data` is a Spark (Connect) DataFrame."""
    module = type(data).__module__
    return module.startswith("pyspark.sql") and type(data).__name__ == "DataFrame"


def session_of(data: object) -> SparkConnectSession:
    """The pikaplot session of a Spark DataFrame's Spark session."""
    return SparkConnectSession.of(data.sparkSession)  # type: ignore[attr-defined]


def _text_format(text: str) -> str:
    """ "csv" or "json" for a path of such a file (read through spark.read), else ""."""
    stripped = text.strip().lower()
    if "\n" in stripped or _SQL_START.match(stripped):
        return ""
    return next((fmt for suffix, fmt in _FILE_FORMATS.items() if stripped.endswith(suffix) and fmt in
                 ("csv", "json")), "")  # fmt: skip


def _from_string(text: str) -> str:
    """SELECT text as a subquery, a Parquet/ORC file path as Spark's `format`.`path`, else a table
    name. A folder without a format is refused: it may be a Delta or Iceberg table, whose files
    hold rows those tables deleted."""
    stripped = text.strip()
    if "\n" in stripped or _SQL_START.match(stripped):
        # Wrapped in SELECT * FROM (...): only a query parses there, never a statement.
        return f"(\n{stripped.rstrip(';').rstrip()}\n)"
    lowered = stripped.lower()
    formats = [fmt for suffix, fmt in _FILE_FORMATS.items() if lowered.endswith(suffix)]
    if formats:  # a file the cluster reads
        return f"{formats[0]}.{SPARK.ident(stripped)}"
    if "/" in stripped:
        raise ValueError(
            f"data {text!r} looks like a folder: give a table name, a file path ending in .parquet, "
            ".orc, .csv or .json, or SELECT text naming the format, e.g. SELECT * FROM delta.`path`"
        )
    if _NAME.match(stripped):
        parts = re.findall(r"`(?:[^`]|``)+`|[A-Za-z_]\w*", stripped)
        return ".".join(part if part.startswith("`") else SPARK.ident(part) for part in parts)
    raise ValueError(f"data {text!r} is neither a table name, a file path nor SELECT text")


def _spark_module() -> ModuleType:
    try:
        import pyspark.sql as spark_sql
    except ImportError as error:
        raise ImportError(
            "plots on Spark need the Spark Connect client: pip install 'pikaplot_widget[spark]'"
        ) from error
    return spark_sql
