"""The Spark side of the engine seam that needs no server: identifier quoting, type names, the SQL
pieces each dialect spells, and the density grid a remote engine sends back."""

from __future__ import annotations

import pytest

from pikaplot_widget.engine.dialect import DUCKDB, SPARK
from pikaplot_widget.engine.scatter import ScatterColumns, ScatterExtent
from pikaplot_widget.engine.sources import Source
from pikaplot_widget.engine.spark_session import duckdb_type
from pikaplot_widget.plots.scatter.density_index import MAX_GRID, REMOTE_MAX_GRID, grid_size


def test_identifiers_are_quoted_for_each_engine():
    assert SPARK.ident("a`b c") == "`a``b c`"
    assert DUCKDB.ident('a"b') == '"a""b"'
    for dialect in (SPARK, DUCKDB):
        with pytest.raises(ValueError, match="NUL"):
            dialect.ident("a\x00b")


def test_spark_types_map_to_the_names_the_checks_know():
    expected = {
        "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT",
        "double": "DOUBLE", "float": "FLOAT", "decimal(10,2)": "DECIMAL(10,2)", "date": "DATE",
        "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP", "string": "VARCHAR",
        "boolean": "BOOLEAN", "array<int>": "ARRAY<INT>",
    }  # fmt: skip
    assert {name: duckdb_type(name) for name in expected} == expected


def test_time_bounds_are_integers_on_spark():
    micros = 1_774_751_400_123_456
    assert SPARK.time_param(micros, "TIMESTAMP") == micros
    assert SPARK.time_param(micros, "DATE") == micros // 86_400_000_000
    assert "timestamp_micros(?)" in SPARK.time_bound("TIMESTAMP WITH TIME ZONE")
    assert SPARK.epoch_us("t", "DATE").startswith("(CAST(unix_date(t)")
    with pytest.raises(ValueError, match="nanosecond"):
        SPARK.epoch_ns("t")


def test_a_remote_engine_gets_a_coarser_density_grid():
    extent = ScatterExtent(0.0, 1.0, 0.0, 1.0, 10**9, 10**9)
    columns = {"x": "DOUBLE", "y": "DOUBLE"}
    spark = ScatterColumns.checked(Source("t", columns, dialect=SPARK), "x", "y")
    duck = ScatterColumns.checked(Source("t", columns), "x", "y")
    assert grid_size(duck, extent) == MAX_GRID
    assert grid_size(spark, extent) == REMOTE_MAX_GRID < MAX_GRID
