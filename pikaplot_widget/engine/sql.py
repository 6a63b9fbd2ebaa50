"""The one place that turns names and literals into SQL text."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from .dialect import DUCKDB, Dialect

NUMERIC_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
    }
)
TEMPORAL_TYPES = frozenset(
    {"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"}
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})
# Bounds a range filter may bind for each integer type (a zoomed-out view must not overflow them).
INTEGER_RANGES = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "UTINYINT": (0, 2**8 - 1),
    "USMALLINT": (0, 2**16 - 1),
    "UINTEGER": (0, 2**32 - 1),
    "UBIGINT": (0, 2**64 - 1),
}
FLOAT32_MAX = 3.4028234663852886e38


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB (double quotes, embedded quotes doubled); `Dialect.ident` for
    SQL that may run on another engine."""
    return DUCKDB.ident(name)


def quote_string(text: str) -> str:
    """Quote a string literal (single quotes doubled). Only for user-side text such as file paths."""
    if "\x00" in text:
        raise ValueError("strings may not contain NUL characters")
    return "'" + text.replace("'", "''") + "'"


def is_numeric_type(type_name: str) -> bool:
    """True for DuckDB integer, float and DECIMAL types."""
    return type_name in NUMERIC_TYPES or type_name.startswith("DECIMAL")


def is_temporal_type(type_name: str) -> bool:
    """True for DATE and TIMESTAMP types (with or without time zone)."""
    return type_name in TEMPORAL_TYPES


def axis_value_expr(
    column_sql: str, type_name: str, origin_us: int = 0, log: bool = False, dialect: Dialect = DUCKDB
) -> str:
    """An expression giving a column as DOUBLE in axis units: for time, seconds since `origin_us`
    (microseconds since the epoch; subtracted as integers, so a plot near its origin keeps
    microseconds that float64 seconds since 1970 would round away); on a log axis log10 of the
    value, NULL where the value is not positive."""
    if log:
        return f"log10(CASE WHEN {column_sql} > 0 THEN CAST({column_sql} AS DOUBLE) END)"
    if type_name == "TIMESTAMP_NS":  # nanoseconds kept: the origin is subtracted in integers
        shift = f" - {int(origin_us) * 1000}" if origin_us else ""
        return f"(({dialect.epoch_ns(column_sql)}{shift}) / 1e9)"
    if is_temporal_type(type_name):
        shift = f" - {int(origin_us)}" if origin_us else ""
        return f"(({dialect.epoch_us(column_sql, type_name)}{shift}) / 1e6)"
    return f"CAST({column_sql} AS DOUBLE)"


def valid_value_expr(column_sql: str, type_name: str, log: bool = False, dialect: Dialect = DUCKDB) -> str:
    """A boolean expression that is true where the value is neither NULL nor NaN/inf (and, on a log
    axis, positive)."""
    positive = f" AND {column_sql} > 0" if log else ""
    if type_name in FLOAT_TYPES:
        return f"({column_sql} IS NOT NULL AND {dialect.is_finite(column_sql)}{positive})"
    return f"({column_sql} IS NOT NULL{positive})"


def range_filter_sql(column_sql: str, type_name: str, dialect: Dialect = DUCKDB) -> str:
    """`column BETWEEN ? AND ?` with the bounds cast to the column's own type (zone maps stay usable)."""
    if is_temporal_type(type_name):  # TIMESTAMP_NS: bound as integer nanoseconds (datetime has micros)
        bound = dialect.time_bound(type_name)
        return f"{column_sql} >= {bound} AND {column_sql} <= {bound}"
    return f"{column_sql} >= CAST(? AS {type_name}) AND {column_sql} <= CAST(? AS {type_name})"


def inclusive_filter(
    column_sql: str,
    type_name: str,
    value_sql: str,
    lo: float,
    hi: float,
    origin_us: int = 0,
    log: bool = False,
    dialect: Dialect = DUCKDB,
) -> tuple[str, list[object]]:
    """Rows whose axis value lies in [lo, hi]: a filter on the raw column (zone maps skip row
    groups) with bounds rounded outwards to its type, plus, where that rounding can let rows in
    (every type but DOUBLE, and every log axis), the exact check on the axis value `value_sql`."""
    sql = range_filter_sql(column_sql, type_name, dialect)
    params = range_params(type_name, lo, hi, origin_us, log, dialect)
    if type_name != "DOUBLE" or log:
        sql += f" AND {value_sql} BETWEEN ? AND ?"
        params += [lo, hi]
    return sql, params


def range_params(
    type_name: str, lo: float, hi: float, origin_us: int = 0, log: bool = False, dialect: Dialect = DUCKDB
) -> list[object]:
    """Bound values for `range_filter_sql` from axis units (for time: seconds since `origin_us`; on
    a log axis log10 of the value, the bounds widened by a few ulps so rounding loses no row)."""
    if log:
        lo, hi = max(exp10(lo) * (1 - 1e-14), 5e-324), exp10(hi) * (1 + 1e-14)
    if type_name == "TIMESTAMP_NS":
        origin_ns = int(origin_us) * 1000
        low, high = -(2**63) + 1000, 2**63 - 1000  # the extremes are infinity sentinels
        return [
            min(max(origin_ns + _floor(lo * 1e9), low), high),
            min(max(origin_ns + _ceil(hi * 1e9), low), high),
        ]
    if is_temporal_type(type_name):
        return [
            dialect.time_param(_to_micros(lo, origin_us, math.floor), type_name),
            dialect.time_param(_to_micros(hi, origin_us, math.ceil), type_name),
        ]
    if type_name == "FLOAT":
        return [max(lo, -FLOAT32_MAX), min(hi, FLOAT32_MAX)]
    if type_name == "DOUBLE":
        return [lo, hi]
    low, high = integer_bounds(type_name)
    bounds = (min(max(_floor(lo), low), high), max(min(_ceil(hi), high), low))
    return [dialect.whole_number(bound, type_name) for bound in bounds]


def exp10(value: float) -> float:
    """10 ** value, saturating to 0 and inf instead of raising OverflowError."""
    if value > 308.25:
        return math.inf
    return 0.0 if value < -400 else float(10.0**value)


def integer_bounds(type_name: str) -> tuple[int, int]:
    """The whole numbers a range filter may bind for an integer or DECIMAL column's type."""
    if type_name in INTEGER_RANGES:
        return INTEGER_RANGES[type_name]
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", type_name)
    if decimal:  # DECIMAL(p, s) holds |v| < 10**(p - s)
        whole = 10 ** (int(decimal[1]) - int(decimal[2])) - 1
        return -whole, whole
    if type_name == "UHUGEINT":
        return 0, 2**128 - 1
    return -(2**127), 2**127 - 1  # HUGEINT


def _floor(value: float) -> int:
    return math.floor(value) if math.isfinite(value) else (-(2**128) if value < 0 else 2**128)


def _ceil(value: float) -> int:
    return math.ceil(value) if math.isfinite(value) else (-(2**128) if value < 0 else 2**128)


def _to_micros(seconds: float, origin_us: int, rounding: Callable[[float], int]) -> int:
    """`origin_us` + `seconds` in microseconds since the epoch, rounded (integer arithmetic past the
    origin keeps them exact), clamped to the years 1..9999."""
    lo_us, hi_us = -62135596800 * 10**6, 253402300799 * 10**6  # 0001-01-01 .. 9999-12-31
    relative = seconds * 1e6 if math.isfinite(seconds) else math.copysign(1e30, seconds)
    micros = origin_us + rounding(min(max(relative, lo_us - origin_us - 1.0), hi_us - origin_us + 1.0))
    return min(max(micros, lo_us), hi_us)
