"""The few SQL pieces DuckDB and Spark SQL spell differently: one `Dialect` per engine.

Everything else the plots send is plain SQL both engines read the same way. Type names are DuckDB's
everywhere (a Spark backend maps its own to them), so the checks in `sql.py` serve both.
"""

from __future__ import annotations

import datetime as dt
import decimal

EPOCH = dt.datetime(1970, 1, 1)
_MICROS_PER_DAY = 86_400 * 10**6


class Dialect:
    """DuckDB's spelling (the default engine); `SparkDialect` overrides what Spark SQL spells otherwise."""

    name = "duckdb"
    supports_nanoseconds = True  # TIMESTAMP_NS columns exist
    text_type = "VARCHAR"
    code_type = "UTINYINT"  # small category numbers
    # False: an engine in the kernel's process, whose rows numpy may read cheaply (density streams
    # each row's pixel key, 1.3-3x faster than DuckDB's GROUP BY; narrow line views read their
    # rows). True: a remote engine; everything is aggregated there (one row per pixel or column).
    aggregates_in_engine = False
    chunked_index_builds = True  # level 0 of a line index may take several statements (INSERT INTO)

    def ident(self, name: str) -> str:
        """Quote an identifier (double quotes, embedded quotes doubled)."""
        if "\x00" in name:
            raise ValueError("identifiers may not contain NUL characters")
        return '"' + name.replace('"', '""') + '"'

    def arg_min(self, value: str, key: str) -> str:
        """`value` at the row with the smallest `key` (rows with a NULL key skipped)."""
        return f"arg_min({value}, {key})"

    def arg_max(self, value: str, key: str) -> str:
        """`value` at the row with the largest `key`."""
        return f"arg_max({value}, {key})"

    def pair(self, x: str, y: str) -> str:
        """A struct of two values, fields `x` and `y` (one arg_min/arg_max picks both of a row)."""
        return f"struct_pack(x := {x}, y := {y})"

    def field(self, struct: str, name: str) -> str:
        """Field `name` of a struct column."""
        return f"struct_extract({struct}, '{name}')"

    def is_finite(self, value: str) -> str:
        """True where a floating-point value is neither NaN nor infinite."""
        return f"isfinite({value})"

    def int_div(self, value: str, divisor: int) -> str:
        """Integer division of a non-negative integer expression."""
        return f"{value} // {int(divisor)}"

    def epoch_us(self, value: str, type_name: str) -> str:
        """Microseconds since 1970-01-01 00:00 (UTC for an instant, the wall time for a plain
        TIMESTAMP) of a DATE or TIMESTAMP expression, as an integer."""
        if type_name == "DATE":
            value = f"CAST({value} AS TIMESTAMP)"
        return f"epoch_us({value})"

    def epoch_ns(self, value: str) -> str:
        """Nanoseconds since the epoch of a TIMESTAMP_NS expression."""
        return f"epoch_ns({value})"

    def time_bound(self, type_name: str) -> str:
        """SQL for one bound of a range filter on a DATE/TIMESTAMP column of `type_name`, reading one
        parameter made by `time_param`."""
        if type_name == "TIMESTAMP_NS":
            return "make_timestamp_ns(?)"
        cast_type = "TIMESTAMPTZ" if type_name == "TIMESTAMP WITH TIME ZONE" else type_name
        return f"CAST(? AS {cast_type})"

    def time_param(self, micros: int, type_name: str) -> object:
        """The bound value `time_bound` reads, for an instant `micros` microseconds since the epoch."""
        value = EPOCH + dt.timedelta(microseconds=int(micros))
        return value.replace(tzinfo=dt.timezone.utc) if type_name == "TIMESTAMP WITH TIME ZONE" else value

    def value_marker(self, type_name: str) -> str:
        """SQL reading one bound value of a column of `type_name` (an `IN` list of `by` values)."""
        return "?"

    def value_param(self, value: object, type_name: str) -> object:
        """A value of a column of `type_name` (as Arrow gave it back) bound for `value_marker`."""
        return value

    def whole_number(self, value: int, type_name: str) -> object:
        """A bound of an integer or DECIMAL column (DuckDB binds any Python int)."""
        return value

    def category_position(self, text: str, count: int) -> str:
        """1-based position of `text` in a bound list of `count` strings; `count` + 1 when absent."""
        return f"coalesce(list_position(CAST(? AS VARCHAR[]), {text}), {int(count) + 1})"

    def count_where(self, condition: str) -> str:
        """The rows where `condition` holds, as an aggregate."""
        return f"count(*) FILTER (WHERE {condition})"

    def create_table(self, table: str, select: str) -> str:
        """A statement keeping the rows of `select` as `table` (an index level)."""
        return f"CREATE OR REPLACE TABLE {table} AS {select}"

    def drop_table(self, table: str) -> tuple[str, ...]:
        """Statements dropping what `create_table` made (none fails if it is gone)."""
        return (f"DROP TABLE IF EXISTS {table}",)

    def checkpoint(self, database: str) -> str | None:
        """A statement compacting the attached `database` (DuckDB compresses the tables of an
        in-memory one as it checkpoints); None where the engine has none."""
        return f"CHECKPOINT {self.ident(database)}"


class SparkDialect(Dialect):
    """Spark SQL (3.5+/4.x, through Spark Connect): backtick identifiers, min_by/max_by, unix_micros,
    and time bounds bound as integers (a Python datetime would be read in the client's zone)."""

    name = "spark"
    supports_nanoseconds = False
    text_type = "STRING"
    code_type = "TINYINT"
    aggregates_in_engine = True
    chunked_index_builds = False  # a cached view takes no INSERT: level 0 is one statement

    def ident(self, name: str) -> str:
        """Quote an identifier (backticks, embedded backticks doubled)."""
        if "\x00" in name:
            raise ValueError("identifiers may not contain NUL characters")
        return "`" + name.replace("`", "``") + "`"

    def arg_min(self, value: str, key: str) -> str:
        """`value` at the row with the smallest `key`."""
        return f"min_by({value}, {key})"

    def arg_max(self, value: str, key: str) -> str:
        """`value` at the row with the largest `key`."""
        return f"max_by({value}, {key})"

    def pair(self, x: str, y: str) -> str:
        """A struct of two values, fields `x` and `y`."""
        return f"named_struct('x', {x}, 'y', {y})"

    def field(self, struct: str, name: str) -> str:
        """Field `name` of a struct column."""
        return f"{struct}.{name}"

    def is_finite(self, value: str) -> str:
        """NaN compares above every number in Spark, so |v| < inf is false for NaN and both infinities."""
        return f"abs({value}) < CAST('Infinity' AS DOUBLE)"

    def int_div(self, value: str, divisor: int) -> str:
        """Integer division (truncating; the values here are never negative)."""
        return f"{value} DIV {int(divisor)}"

    def epoch_us(self, value: str, type_name: str) -> str:
        """unix_micros for instants; wall-clock types counted from the epoch without any zone."""
        if type_name == "DATE":
            return f"(CAST(unix_date({value}) AS BIGINT) * {_MICROS_PER_DAY})"
        if type_name == "TIMESTAMP":  # Spark's TIMESTAMP_NTZ: its wall time read as UTC
            # (timestampdiff on NTZ goes through the session's zone: an hour off in a DST gap)
            parts = f"year({value}), month({value}), day({value}), hour({value}), minute({value})"
            return f"unix_micros(make_timestamp_ltz({parts}, extract(SECOND FROM {value}), 'UTC'))"
        return f"unix_micros({value})"

    def epoch_ns(self, value: str) -> str:
        """Spark has no nanosecond timestamps."""
        raise ValueError("Spark has no nanosecond timestamps")

    def time_bound(self, type_name: str) -> str:
        """The bound is an integer: days for DATE, else microseconds since the epoch."""
        if type_name == "DATE":
            return "date_from_unix_date(?)"
        if type_name == "TIMESTAMP":
            return "timestampadd(MICROSECOND, ?, TIMESTAMP_NTZ'1970-01-01 00:00:00')"
        return "timestamp_micros(?)"

    def time_param(self, micros: int, type_name: str) -> object:
        """Whole days (rounded outwards by the caller's rounding of micros) for DATE, else micros."""
        if type_name == "DATE":
            return int(micros) // _MICROS_PER_DAY
        return int(micros)

    def value_marker(self, type_name: str) -> str:
        """A TIMESTAMP_NTZ value is bound as microseconds (a naive datetime would be read in the
        client's zone)."""
        return self.time_bound(type_name) if type_name == "TIMESTAMP" else "?"

    def value_param(self, value: object, type_name: str) -> object:
        """Microseconds of the wall time for TIMESTAMP_NTZ; other values as they are."""
        if type_name == "TIMESTAMP" and isinstance(value, dt.datetime):
            return (value.replace(tzinfo=None) - EPOCH) // dt.timedelta(microseconds=1)
        return value

    def whole_number(self, value: int, type_name: str) -> object:
        """A DECIMAL bound as a Decimal (pyspark refuses Python ints past 64 bits)."""
        return decimal.Decimal(value) if type_name.startswith("DECIMAL") else value

    def category_position(self, text: str, count: int) -> str:
        """array_position is 0 where the value is absent."""
        return f"coalesce(nullif(array_position(CAST(? AS ARRAY<STRING>), {text}), 0), {int(count) + 1})"

    def count_where(self, condition: str) -> str:
        """count_if: Spark has no FILTER clause on every aggregate."""
        return f"count_if({condition})"

    def create_table(self, table: str, select: str) -> str:
        """A cached temporary view of the session, computed at once (kept in the executors' memory,
        spilling to their disks)."""
        return f"CACHE TABLE {table} AS {select}"

    def drop_table(self, table: str) -> tuple[str, ...]:
        """Free the cache, then the view."""
        return (f"UNCACHE TABLE IF EXISTS {table}", f"DROP VIEW IF EXISTS {table}")

    def checkpoint(self, database: str) -> str | None:
        """Spark keeps index levels as cached views: nothing to checkpoint."""
        return None


DUCKDB = Dialect()
SPARK = SparkDialect()
