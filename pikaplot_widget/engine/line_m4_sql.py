"""M4 per group of rows in SQL: the first, last, lowest and highest row of each group (by x).

One statement serves a view (groups are pixel columns) and the line index's level 0 (groups are
buckets of rows); `LineColumns` supplies the columns, validity checks, source and dialect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .line import LineColumns

# The lowest and highest row of an M4 row as (x, y) pairs: the pair's column, its x and y columns.
_PAIRS = (("p_min", "x_at_min", "y_min"), ("p_max", "x_at_max", "y_max"))


def m4_grouped_sql(
    cols: LineColumns,
    key: str,
    key_name: str,
    where: str,
    with_gaps: bool,
    key_filter: str = "TRUE",
    paired: bool = False,
) -> str:
    """First, last, min and max of y (with their x), the first invalid x and the row count,
    per group of the SQL expression `key` over x.

    Invalid y (NULL, NaN, inf) turns into NULL x and y, which the aggregates skip (CASE into
    plain aggregates is ~2.5x faster in DuckDB than FILTER clauses); `x_gap` is left out when
    the data has no invalid rows. Parameters: those of `where`, `series_params()`, `key`, then
    `key_filter`. A `by` column joins the GROUP BY (its value as column `s`).

    `paired`: the lowest and highest row each as one arg_min/arg_max of its (x, y) pair, 6
    aggregates instead of 8. The first and last row keep a min/max of x and a scalar arg: x sorted
    in the source makes every row the new last, and an arg of a pair copies its struct at every
    update (100M Parquet rows, 2 cores: all four as pairs 2.55 s, these six 2.34 s, the eight 2.3-2.6;
    scan 1.27). An index's level 0, with ~1M groups, keeps the 8 (pairs cost +30 % memory there).
    """
    gap = "min(CASE WHEN NOT ok THEN x END)" if with_gaps else "CAST(NULL AS DOUBLE)"
    series = cols.series
    by = series is not None and series.by is not None
    d = cols.dialect
    s_in = f"{d.ident(series.by)} AS s, " if series is not None and series.by is not None else ""
    s_filter = series.filter_sql(d) if series is not None else ""
    s_out = "s, " if by else ""
    # No invalid rows anywhere (the extent counted none; a log axis may still refuse values):
    # the validity column and its CASEs go (15 % of the query's time at 10M rows).
    all_valid = not with_gaps and not (cols.log_x or cols.log_y)
    ok = "" if all_valid else f", {cols.y_valid} AS ok"
    picked = (
        "x AS xo, y AS yo"
        if all_valid
        else "CASE WHEN ok THEN x END AS xo, CASE WHEN ok THEN y END AS yo, ok"
    )
    rows = f"""
WITH rows AS (
    SELECT {s_in}{cols.x_value} AS x, {cols.y_value} AS y{ok}
    FROM {cols.source.from_sql}
    WHERE {where}{s_filter}
), binned AS (
    SELECT {s_out}{key} AS {key_name}, x, {picked}
    FROM rows
)"""
    grouped = f"""
FROM binned
WHERE {key_filter}
GROUP BY {s_out}{key_name}"""
    if not paired:
        return f"""{rows}
SELECT {s_out}{key_name},
    min(xo) AS x_first, {d.arg_min("yo", "xo")} AS y_first,
    {d.arg_min("xo", "yo")} AS x_at_min, min(yo) AS y_min,
    {d.arg_max("xo", "yo")} AS x_at_max, max(yo) AS y_max,
    max(xo) AS x_last, {d.arg_max("yo", "xo")} AS y_last,
    {gap} AS x_gap,
    count(*) AS n{grouped}
ORDER BY {s_out}{key_name}"""
    pair = d.pair("xo", "yo")
    picks = ", ".join(
        f"{d.field(name, 'x')} AS {x_name}, {d.field(name, 'y')} AS {y_name}"
        for name, x_name, y_name in _PAIRS
    )
    return f"""{rows}, m4 AS (
SELECT {s_out}{key_name},
    min(xo) AS x_first, {d.arg_min("yo", "xo")} AS y_first,
    {d.arg_min(pair, "yo")} AS p_min, {d.arg_max(pair, "yo")} AS p_max,
    max(xo) AS x_last, {d.arg_max("yo", "xo")} AS y_last,
    {gap} AS x_gap,
    count(*) AS n{grouped}
)
SELECT {s_out}{key_name}, x_first, y_first, {picks}, x_last, y_last, x_gap, n
FROM m4
ORDER BY {s_out}{key_name}"""
