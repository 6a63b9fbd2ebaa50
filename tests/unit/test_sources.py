"""Every accepted kind of `data`, and clear errors for bad input."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pikaplot_widget.engine.line import LineColumns
from pikaplot_widget.engine.sources import resolve_source


@pytest.fixture
def frame():
    return pd.DataFrame({"x": np.arange(5.0), "y": [1.0, 2.0, 3.0, 4.0, 5.0], "name": list("abcde")})


def _count(session, source):
    cursor = session.cursor()
    source.prepare(cursor)
    return cursor.execute(f"SELECT count(*), sum(y) FROM {source.from_sql}").fetchone()


def test_pandas_arrow_relation_sql_and_table(session, frame):
    session.connection.execute("CREATE TABLE tbl AS SELECT * FROM frame")
    inputs = [
        frame,
        pa.Table.from_pandas(frame),
        session.connection.sql("SELECT * FROM tbl"),
        duckdb.sql("SELECT * FROM frame"),  # a relation of another connection: copied as Arrow
        "SELECT * FROM tbl",
        "tbl",
    ]
    for data in inputs:
        source = resolve_source(data, session)
        assert source.columns["x"] == "DOUBLE" and source.columns["name"] == "VARCHAR"
        assert _count(session, source) == (5, 15.0)


def test_files_and_globs(session, frame, tmp_path):
    for i in range(3):
        pq.write_table(pa.Table.from_pandas(frame), tmp_path / f"part{i}.parquet")
    frame.to_csv(tmp_path / "f.csv", index=False)
    frame.to_json(tmp_path / "f.json", orient="records")
    assert _count(session, resolve_source(str(tmp_path / "*.parquet"), session)) == (15, 45.0)
    assert _count(session, resolve_source(tmp_path / "part0.parquet", session)) == (5, 15.0)
    assert _count(session, resolve_source(str(tmp_path / "f.csv"), session)) == (5, 15.0)
    assert _count(session, resolve_source(str(tmp_path / "f.json"), session)) == (5, 15.0)


def test_path_with_quote_is_escaped(session, frame, tmp_path):
    path = tmp_path / "it's.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path)
    assert _count(session, resolve_source(str(path), session)) == (5, 15.0)


def test_missing_file(session, tmp_path):
    with pytest.raises(FileNotFoundError):
        resolve_source(str(tmp_path / "nope.parquet"), session)
    with pytest.raises(FileNotFoundError):
        resolve_source(str(tmp_path / "*.parquet"), session)


def test_bad_sql_raises_duckdb_message(session):
    with pytest.raises(duckdb.Error, match="syntax error"):
        resolve_source("SELECT x FROM WHERE", session)
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        resolve_source("SELECT * FROM no_such_table", session)


def test_unsupported_data_type(session):
    with pytest.raises(TypeError, match="data must be"):
        resolve_source(42, session)


def test_unknown_column_lists_available(session, frame):
    source = resolve_source(frame, session)
    with pytest.raises(ValueError, match=r"unknown y column 'z'.*'x', 'y', 'name'"):
        LineColumns.checked(source, "x", "z")


def test_non_numeric_columns(session, frame):
    source = resolve_source(frame, session)
    with pytest.raises(TypeError, match="VARCHAR"):
        LineColumns.checked(source, "x", "name")
    with pytest.raises(TypeError, match="numeric or date/time"):
        LineColumns.checked(source, "name", "y")
