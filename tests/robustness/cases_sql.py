"""Fault cases: SQL text, names and databases (injection, comments, schemas, read-only, closed)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import pikaplot_widget as pk
from tests.robustness.checks import (
    LINE,
    PlotError,
    assert_same_range,
    assert_y_fits,
    expect_plot_error,
    frame,
    raises,
    rng,
    scalar,
    series_pixels,
    session,
    table,
    wait_until,
)
from tests.robustness.registry import case

N = 5000


def _session_with_t() -> tuple[pk.Session, np.ndarray, np.ndarray]:
    """A session with table t(x, y) of N rows; the arrays for the reference."""
    s = session()
    x = np.arange(float(N))
    y = np.cumsum(rng(30).normal(size=N))
    table(s, "t", x=x, y=y)
    return s, x, y


def _count_t(s: pk.Session) -> int:
    return int(scalar(s, "SELECT count(*) FROM t"))  # type: ignore[call-overload]


def _refused(text: str, *errors: type[Exception]) -> None:
    """`text` holds a second statement: refused with ValueError (or `errors`), and t is still there."""
    s, _, _ = _session_with_t()
    with raises(ValueError, *errors):
        pk.line(text, "x", "y", session=s)
    try:
        count = _count_t(s)
    except duckdb.CatalogException as error:
        raise AssertionError(f"the second statement ran: {error}") from None
    assert count == N, f"t has {count} rows"


def _works(text: str, x_col: str = "x", y_col: str = "y") -> pk.Plot:
    """`text` is one query over t: it plots all N rows, y fitted to them."""
    s, x, y = _session_with_t()
    plot = pk.line(text, x_col, y_col, session=s)
    assert series_pixels(frame(plot, LINE)) > 100
    assert_same_range(plot.x_range, (0.0, N - 1.0), "x_range")
    assert_y_fits(plot, x, y)
    return plot


# ---- more than one statement -----------------------------------------------------------------
@case("sql-two-statements")
def two_statements() -> None:
    """`SELECT ...; DROP TABLE t` is refused (ValueError); t keeps its rows."""
    _refused("SELECT x, y FROM t; DROP TABLE t")


@case("sql-injection-closing-paren")
def injection_closing_paren() -> None:
    """`SELECT ... FROM t); DROP TABLE t; --` (closing a wrapper's parenthesis): refused or a parser
    error, and DROP never runs."""
    _refused("SELECT x, y FROM t); DROP TABLE t; --", duckdb.ParserException)


@case("sql-with-then-drop")
def with_then_drop() -> None:
    """A WITH query followed by DROP TABLE is refused."""
    _refused("WITH a AS (SELECT x, y FROM t) SELECT * FROM a;\nDROP TABLE t;")


@case("sql-create-statement")
def create_statement() -> None:
    """`CREATE TABLE z AS ...` is not a query: refused, and z does not appear."""
    s, _, _ = _session_with_t()
    with raises(ValueError, duckdb.Error):
        pk.line("CREATE TABLE z AS SELECT 1.0 AS x, 2.0 AS y", "x", "y", session=s)
    assert scalar(s, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'z'") == 0


@case("sql-column-injection")
def column_injection() -> None:
    """A column name carrying SQL is an unknown column (ValueError); t keeps its rows."""
    s, _, _ = _session_with_t()
    with raises(ValueError):
        pk.line("t", 'x" FROM t; DROP TABLE t; --', "y", session=s)
    with raises(ValueError):
        pk.line("t", "x", "y\x00", session=s)
    assert _count_t(s) == N


# ---- one statement in many spellings ---------------------------------------------------------
@case("sql-semicolon-in-literal")
def semicolon_in_literal() -> None:
    """A ';' inside a string literal does not make a second statement."""
    _works("SELECT x, y FROM t WHERE 'a;b' <> ';'")


@case("sql-semicolon-in-identifier")
def semicolon_in_identifier() -> None:
    """A ';' inside a quoted alias does not make a second statement."""
    _works('SELECT x AS "x;1", y FROM t', x_col="x;1")


@case("sql-trailing-semicolon")
def trailing_semicolon() -> None:
    """One statement with a trailing ';' and whitespace works."""
    _works("SELECT x, y FROM t;  \n")


@case("sql-trailing-comment")
def trailing_comment() -> None:
    """One statement ending in a `-- comment` (after a ';' or not) works."""
    _works("SELECT x, y FROM t -- the whole table")
    _works("SELECT x, y FROM t; -- done")


@case("sql-leading-line-comment")
def leading_line_comment() -> None:
    """SQL that starts with a `-- comment` line is SQL, not a table name."""
    _works("-- a random walk\nSELECT x, y FROM t")


@case("sql-leading-block-comment")
def leading_block_comment() -> None:
    """SQL that starts with a `/* comment */` is SQL."""
    _works("/* a random walk */ SELECT x, y FROM t")


@case("sql-with")
def with_query() -> None:
    """A WITH query works."""
    _works("WITH a AS (SELECT x, y FROM t) SELECT * FROM a")


@case("sql-from-first")
def from_first() -> None:
    """DuckDB's FROM-first syntax (`FROM t SELECT x, y` and `FROM t`) works."""
    _works("FROM t SELECT x, y")
    _works("FROM t")


@case("sql-lowercase-parenthesised")
def lowercase_parenthesised() -> None:
    """Leading whitespace, lower case and a parenthesised query work."""
    _works("   \n\tselect x, y from t")
    _works("(SELECT x, y FROM t)")


@case("sql-values")
def values_query() -> None:
    """A VALUES list works (columns col0, col1); the y range holds its values."""
    plot = pk.line("VALUES (1.0, 2.0), (2.0, 5.0), (3.0, -1.0)", "col0", "col1", session=session())
    frame(plot, LINE)
    assert_same_range(plot.x_range, (1.0, 3.0), "x_range")
    assert plot.y_range[0] <= -1.0 and plot.y_range[1] >= 5.0, plot.y_range


@case("sql-misspelt-keyword")
def misspelt_keyword() -> None:
    """`SELEC x FROM t` gives DuckDB's parser error, not "table does not exist"."""
    s, _, _ = _session_with_t()
    for text in ("SELEC x, y FROM t", "SELECT x, y FORM t"):
        with raises(duckdb.ParserException) as caught:
            pk.line(text, "x", "y", session=s)
        assert "does not exist" not in str(caught[0]), caught[0]


@case("sql-nonexistent-table")
def nonexistent_table() -> None:
    """An unknown table name raises DuckDB's catalog error naming it, at construction."""
    with raises(duckdb.CatalogException, match="nope"):
        pk.line("nope", "x", "y", session=session())


@case("sql-long-text")
def long_text() -> None:
    """A 130 kB query (a long NOT IN list) works."""
    values = ", ".join(str(-i) for i in range(1, 20_000))
    _works(f"SELECT x, y FROM t WHERE x NOT IN ({values})")


# ---- names ------------------------------------------------------------------------------------
@case("sql-schema-table")
def schema_table() -> None:
    """`schema.table` and `"odd schema"."odd table"` names work."""
    s = session()
    x = np.arange(1000.0)
    y = np.sin(x / 30)
    s.connection.execute('CREATE SCHEMA s2; CREATE SCHEMA "odd schema"')
    table(s, "tmp", x=x, y=y)
    s.connection.execute('CREATE TABLE s2.t AS FROM tmp; CREATE TABLE "odd schema"."odd table" AS FROM tmp')
    for name in ("s2.t", '"odd schema"."odd table"'):
        plot = pk.line(name, "x", "y", session=s)
        frame(plot, LINE)
        assert_y_fits(plot, x, y)


@case("sql-view")
def view_name() -> None:
    """A view's name works like a table's."""
    s, x, y = _session_with_t()
    s.connection.execute("CREATE VIEW v AS SELECT x, y * 2 AS y FROM t")
    plot = pk.line("v", "x", "y", session=s)
    frame(plot, LINE)
    assert_y_fits(plot, x, y * 2)


@case("sql-attached-catalog")
def attached_catalog() -> None:
    """A table in an attached database (`other.t`, `other.main.t`) works."""
    s = session()
    x = np.arange(1000.0)
    y = np.cos(x / 30)
    table(s, "tmp", x=x, y=y)
    s.connection.execute("ATTACH ':memory:' AS other; CREATE TABLE other.main.t AS FROM tmp")
    for name in ("other.t", "other.main.t"):
        plot = pk.line(name, "x", "y", session=s)
        frame(plot, LINE)
        assert_y_fits(plot, x, y)


@case("sql-quoted-identifiers")
def quoted_identifiers() -> None:
    """Columns and tables with quotes, spaces, ';', keywords and unicode in their names work."""
    s = session()
    x = np.arange(2000.0)
    y = np.sin(x / 40) * 3
    columns = ('we"ird x', "with space", "ünïcødé ÿ", "select", "a;b", "it's")
    data = {name: (x if i % 2 == 0 else y) for i, name in enumerate(columns)}
    for name in ("my table", 'quo"ted', "it's", "データ"):
        table(s, name, **data)
    for tname in ('"my table"', '"quo""ted"', "it's", "データ", '"データ"'):
        for xc, yc in ((columns[0], columns[1]), (columns[2], columns[3]), (columns[4], columns[5])):
            plot = pk.line(tname, xc, yc, session=s)
            frame(plot, LINE)
            assert_y_fits(plot, x, y)
            plot.close()


# ---- files and databases ------------------------------------------------------------------------
@case("sql-path-with-quote")
def path_with_quote() -> None:
    """A Parquet file in a directory whose name has a quote and a space."""
    x, y = np.arange(3000.0), np.cumsum(rng(31).normal(size=3000))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "it's here"
        folder.mkdir()
        path = folder / "walk.parquet"
        pq.write_table(pa.table({"x": x, "y": y}), path)
        plot = pk.line(str(path), "x", "y", session=session())
        frame(plot, LINE)
        assert_y_fits(plot, x, y)
        plot.close()


@case("sql-glob-no-match")
def glob_no_match() -> None:
    """A glob matching no file raises FileNotFoundError at construction."""
    with tempfile.TemporaryDirectory() as tmp, raises(FileNotFoundError):
        pk.line(str(Path(tmp) / "nothing-*.parquet"), "x", "y", session=session())


def _database_file(folder: Path, n: int) -> tuple[Path, np.ndarray, np.ndarray]:
    x = np.arange(float(n))
    y = np.cumsum(rng(32).normal(size=n))
    path = folder / "walk.duckdb"
    con = duckdb.connect(str(path))
    con.register("src", pa.table({"x": x, "y": y}))
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    con.close()
    return path, x, y


def _read_only(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, x, y = _database_file(Path(tmp), n)
        s = pk.Session(connection=duckdb.connect(str(path), read_only=True))
        plot = pk.line("t", "x", "y", session=s)
        assert series_pixels(frame(plot, LINE, timeout=60)) > 100
        assert_y_fits(plot, x, y)
        plot.x_range = (n * 0.3, n * 0.4)
        frame(plot, LINE, timeout=60)
        assert_y_fits(plot, x, y)
        plot.close()
        s.close()


@case("sql-read-only-small")
def read_only_small() -> None:
    """A read-only database connection wrapped in a Session plots a small table."""
    _read_only(10_000)


@case("sql-read-only-2m", timeout=120)
def read_only_2m() -> None:
    """A read-only database connection plots 2M rows (where the line index cannot ATTACH)."""
    _read_only(2_000_000)


@case("sql-file-database-untouched", timeout=90)
def file_database_untouched() -> None:
    """pk.Session(path) plots 1.2M rows (line index) and leaves no table behind in the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path, x, y = _database_file(Path(tmp), 1_200_000)
        s = pk.Session(str(path))
        plot = pk.line("t", "x", "y", session=s)
        frame(plot, LINE, timeout=60)
        assert_y_fits(plot, x, y)
        plot.close()
        s.close()
        con = duckdb.connect(str(path), read_only=True)
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        con.close()
        assert names == ["t"], f"tables left in the user's database: {names}"


# ---- errors at run time, closed sessions ----------------------------------------------------------
@case("sql-runtime-error")
def runtime_error() -> None:
    """SQL that fails while running: to_array raises PlotError saying why, without internal SQL."""
    sql = (
        "SELECT i::DOUBLE AS x, CAST(CASE WHEN i = 9000 THEN 'oops' ELSE i::VARCHAR END AS DOUBLE) AS y "
        "FROM range(10000) r(i)"
    )
    plot = pk.line(sql, "x", "y", session=session())
    error = expect_plot_error(plot)
    assert "oops" in str(error) or "convert" in str(error).lower(), f"message says nothing useful: {error}"
    assert str(plot.status).startswith("error"), plot.status


@case("sql-closed-session")
def closed_session() -> None:
    """session.close() under a live plot: to_array raises PlotError (new views too), never hangs."""
    s, _, _ = _session_with_t()
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    s.close()
    plot.x_range = (10.0, 20.0)
    expect_plot_error(plot)
    plot.x_range = (30.0, 40.0)
    expect_plot_error(plot)
    started = time.monotonic()
    plot.close()
    assert time.monotonic() - started < 2.0, "close() after the session closed was slow"


@case("sql-closed-session-mid-query")
def closed_session_mid_query() -> None:
    """session.close() as the plot's first query (seconds long) starts: it interrupts the query and
    returns within 2 s; to_array then raises PlotError; no crash."""
    s = session()
    plot = pk.line(
        "SELECT i::DOUBLE AS x, sin(i / 1000.0) * cos(i / 7.0) AS y FROM range(200000000) r(i)",
        "x",
        "y",
        session=s,
    )
    wait_until(lambda: plot.status == "querying", 10, "the first query to start")
    started = time.monotonic()  # at once: the query may not have reached DuckDB yet
    s.close()
    closing = time.monotonic() - started
    with raises(PlotError, TimeoutError) as caught:
        plot.to_array(timeout=20)
    assert not isinstance(caught[0], TimeoutError), "to_array hung after the session closed"
    assert closing < 2.0, f"session.close() waited {closing:.1f} s for the running query"
