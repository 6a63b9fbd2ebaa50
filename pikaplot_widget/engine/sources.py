"""Turn what the user passes as `data` into something DuckDB can query, and check columns."""

from __future__ import annotations

import contextlib
import glob
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import duckdb
import pyarrow as pa

from .dialect import DUCKDB, Dialect
from .session import Session
from .sql import is_numeric_type, is_temporal_type, quote_ident, quote_string

if TYPE_CHECKING:
    from .runner import Reader

_READERS = (
    ((".parquet", ".pq"), "read_parquet"),
    ((".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt"), "read_csv"),
    ((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz"), "read_json"),
)
_NAME_PART = r'(?:[^\W\d]\w*|"(?:[^"]|"")+")'  # a bare (any script) or a "quoted" identifier
_NAME = re.compile(rf"^{_NAME_PART}(\.{_NAME_PART}){{0,2}}$")  # table, schema.table, catalog.schema.table


@dataclass
class Source:
    """A queryable table expression plus the Python objects it needs registered on each cursor."""

    from_sql: str
    columns: dict[str, str]
    registrations: dict[str, object] = field(default_factory=dict)
    dialect: Dialect = DUCKDB  # the engine the SQL runs on
    views: tuple[str, ...] = ()  # temporary views the engine made for it (dropped with its last plot)

    @property
    def skips_by_range(self) -> bool:
        """Whether a range filter on a column lets the engine skip the rest of the data (a table's
        zone maps, Parquet row-group statistics), so scanning it in x ranges costs about one scan;
        CSV/JSON files, SQL text and registered frames are read whole for each range."""
        if self.registrations or self.from_sql.startswith("("):
            return False
        return self.from_sql.startswith("read_parquet(") or not self.from_sql.startswith("read_")

    def prepare(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Register in-memory objects (DataFrames, Arrow tables) on a cursor before querying."""
        for name, obj in self.registrations.items():
            cursor.register(name, obj)

    def release(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Unregister what `prepare` registered (the plot is closed)."""
        for name in self.registrations:
            with contextlib.suppress(duckdb.Error):
                cursor.unregister(name)

    def column_type(self, name: str, role: str) -> str:
        """The (DuckDB-named) type of a column, or a ValueError naming the columns there are."""
        if not isinstance(name, str):
            raise TypeError(f"{role} must be a column name (str), got {type(name).__name__}")
        if name not in self.columns:
            available = ", ".join(repr(c) for c in self.columns) or "(none)"
            raise ValueError(f"unknown {role} column {name!r}; available columns: {available}")
        return self.columns[name]

    def numeric_column(self, name: str, role: str, allow_time: bool = False) -> str:
        """Check a column holds numbers (or times when allowed) and return its DuckDB type."""
        type_name = self.column_type(name, role)
        if is_numeric_type(type_name) or (allow_time and is_temporal_type(type_name)):
            return type_name
        wanted = "numeric or date/time" if allow_time else "numeric"
        raise TypeError(f"{role} column {name!r} has type {type_name}; a {wanted} column is needed")


def statistics_may_hide_nan(source: Source, runner: Reader) -> bool:
    """Whether DuckDB may answer min()/max() over the source from Parquet footers, whose statistics
    leave NaN out (a float column's max() is then no NaN though rows hold NaN): a Parquet reader, but
    also SQL text, a relation or a view over one (DuckDB folds their aggregates the same way). Not a
    DuckDB table (its max() is NaN where a row is), a registered frame, a CSV/JSON reader or Spark."""
    from_sql = source.from_sql
    if source.dialect is not DUCKDB or source.registrations:
        return False
    if from_sql.startswith("read_"):
        return from_sql.startswith("read_parquet(")
    parts = re.findall(_NAME_PART, from_sql)
    if from_sql.startswith("(") or not parts:
        return True
    name = parts[-1][1:-1].replace('""', '"') if parts[-1].startswith('"') else parts[-1]
    sql = (
        "SELECT (SELECT count(*) FROM duckdb_tables() WHERE lower(table_name) = lower(?)), "
        "(SELECT count(*) FROM duckdb_views() WHERE lower(view_name) = lower(?))"
    )
    try:
        tables, views = runner.run(sql, [name, name]).to_pylist()[0].values()
    except duckdb.Error:
        return True
    return not (tables > 0 and views == 0)  # only a table for sure: a view may read Parquet


def _reader_for(path: str) -> str | None:
    lowered = path.lower()
    for suffixes, reader in _READERS:
        if lowered.endswith(suffixes):
            return reader
    return None


_SQL_START = re.compile(
    r"^\s*(\(|--|/\*|(select|with|from|values|table|pivot|unpivot|summarize|describe)\b)", re.IGNORECASE
)


def _looks_like_path(text: str) -> bool:
    if "\n" in text or _SQL_START.match(text):
        return False
    return (
        _reader_for(text) is not None or os.path.exists(text) or bool(glob.has_magic(text)) or "://" in text
    )


def _one_select(text: str) -> str:
    """The text of the one SELECT statement `text` holds (DuckDB's parser error for bad SQL; a
    ValueError for several statements or one that is not a query, which must never run)."""
    statements = duckdb.extract_statements(text)
    if len(statements) != 1:
        raise ValueError(f"data must be a single SELECT query; this SQL holds {len(statements)} statements")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise ValueError(f"data must be a SELECT query, not a {statement.type.name} statement")
    return _without_trailing_semicolons(statement.query)


def _without_trailing_semicolons(query: str) -> str:
    """The query without the semicolons (and comments) it ends with, found by DuckDB's tokenizer so
    a ';' inside a string or identifier stays."""
    tokens = duckdb.tokenize(query)
    while tokens and tokens[-1][1] == duckdb.token_type.comment:
        query, tokens = query[: tokens[-1][0]], tokens[:-1]
    while tokens and tokens[-1][1] == duckdb.token_type.operator and query[tokens[-1][0] :].strip() == ";":
        query, tokens = query[: tokens[-1][0]], tokens[:-1]
    return query.strip()


def _from_string(text: str) -> str:
    if _looks_like_path(text):
        if glob.has_magic(text):
            if not glob.glob(text):
                raise FileNotFoundError(f"no files match {text!r}")
        elif not os.path.exists(text) and "://" not in text:
            raise FileNotFoundError(f"no such file: {text!r}")
        reader = _reader_for(text) or "read_parquet"
        return f"{reader}({quote_string(text)})"
    name = text.strip()
    if _NAME.match(name):  # a table or view: table, schema.table or catalog.schema.table
        parts = re.findall(_NAME_PART, name)
        return ".".join(part if part.startswith('"') else quote_ident(part) for part in parts)
    if name and not any(c.isspace() for c in name):  # one word that is not SQL: a table's own name
        return quote_ident(name)
    # Anything else is SQL; the newlines keep a trailing comment from eating the parenthesis.
    return f"(\n{_one_select(text)}\n)"


def _is_dataframe_like(data: object) -> bool:
    module = type(data).__module__
    return module.startswith(("pandas", "polars", "pyarrow")) or hasattr(data, "__arrow_c_stream__")


def resolve_source(data: object, session: Session) -> Source:
    """Resolve `data` (path/glob, SQL text, table name, relation, DataFrame, Arrow) to a Source.

    Raises the DuckDB error for bad SQL and FileNotFoundError for missing files, at once.
    """
    registrations: dict[str, object] = {}
    if isinstance(data, os.PathLike):
        data = os.fspath(data)
    if isinstance(data, str):
        from_sql = _from_string(data)
    elif isinstance(data, duckdb.DuckDBPyRelation):
        from_sql = _from_relation(data, session, registrations)
    elif _is_dataframe_like(data):
        name = session.unique_name("frame")
        registrations[name] = data
        from_sql = quote_ident(name)
    else:
        raise TypeError(
            "data must be a file path or glob, SQL text, a table name, a DuckDB relation, "
            f"a pandas/polars DataFrame or a pyarrow Table; got {type(data).__name__}"
        )
    source = Source(from_sql=from_sql, columns={}, registrations=registrations)
    source.columns = describe(source, session)
    if from_sql.startswith("read_csv(") and all(t == "VARCHAR" for t in source.columns.values()):
        _refuse_empty_csv(source, session, str(data))
    return source


def _refuse_empty_csv(source: Source, session: Session, path: str) -> None:
    """A CSV of text columns only may be a header without rows: say so instead of "not numeric"."""
    cursor = session.cursor()
    try:
        row = cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source.from_sql} LIMIT 1)").fetchone()
    finally:
        cursor.close()
    if row is not None and row[0] == 0:
        names = ", ".join(source.columns)
        raise ValueError(f"{path!r} has a header ({names}) but no data rows")


def _from_relation(
    relation: duckdb.DuckDBPyRelation, session: Session, registrations: dict[str, object]
) -> str:
    """Use the relation's SQL when the session can run it; else hand its rows over as Arrow."""
    query = relation.sql_query()
    probe = session.cursor()
    try:
        probe.execute(f"DESCRIBE SELECT * FROM ({query})")
        return f"({query})"
    except duckdb.Error:
        # The relation lives in another connection (or scans Python objects registered there).
        name = session.unique_name("relation")
        registrations[name] = relation.to_arrow_table()
        return quote_ident(name)
    finally:
        probe.close()


class SetupQueries(Protocol):
    """An engine session answering short queries while a plot is set up (engine/backend.py)."""

    def query(self, source: Source, sql: str, params: list[object] | None = None) -> pa.Table: ...


def time_origin_us(source: Source, session: SetupQueries, column: str) -> int:
    """For a time column: the first row's instant, in whole seconds as microseconds since the epoch
    (a cheap LIMIT 1, any row will do): axis values then count seconds from it, and float64 keeps
    microseconds near the data. 0 when the column has no value."""
    d = source.dialect
    name = d.ident(column)
    kind = source.columns.get(column, "TIMESTAMP")
    kind = "TIMESTAMP" if kind == "TIMESTAMP_NS" else kind  # micros are enough for an origin
    value = d.epoch_us(name if kind != "TIMESTAMP_NS" else f"CAST({name} AS TIMESTAMP)", kind)
    sql = f"SELECT {value} AS origin FROM {source.from_sql} WHERE {name} IS NOT NULL LIMIT 1"
    rows = session.query(source, sql).column(0).to_pylist()
    if not rows or rows[0] is None:
        return 0
    return int(rows[0]) // 10**6 * 10**6


def describe(source: Source, session: Session) -> dict[str, str]:
    """Column names and DuckDB types of a source (runs DESCRIBE, so bad SQL fails here)."""
    cursor = session.cursor()
    try:
        source.prepare(cursor)
        rows = cursor.execute(f"DESCRIBE SELECT * FROM {source.from_sql}").fetchall()
    finally:
        cursor.close()
    return {str(row[0]): str(row[1]) for row in rows}
