"""One line plot over walk_<n>.parquet in this process, with where its time and memory go.

Same views as `scale.py` (seed 11), timed the same way (x_range set -> to_array() returned), plus:
RSS sampled every 20 ms and DuckDB's memory per tag (duckdb_memory()) every 100 ms, each phase's
peak (first look, first exact frame, index build, views), every view's kind, width, rows, view-data
and render time. Optional experiments after the measured replay (they never change its numbers):
`--decode` times narrow row reads straight from the file; `--level0-numpy` loads every index level
into numpy (past `IN_MEMORY_BYTES`) and replays the views; `--scan` times a DuckDB min/max scan of
both columns that statistics cannot answer (the floor for a first exact frame).

    python benchmarks/billion_probe.py --n 1e9 --moves 60 --json out.json [--memory-limit 768MB]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import parquet_path
from scale import viewports


class Sampler(threading.Thread):
    """RSS every 20 ms, DuckDB memory per tag every 100 ms; peaks per named phase."""

    def __init__(self, connection: object) -> None:
        super().__init__(daemon=True)
        self.connection = connection
        self.phase = "start"
        self.rss: dict[str, float] = {}
        self.duck: dict[str, dict[str, float]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        process, tick = psutil.Process(), 0
        cursor = self.connection.cursor()
        while not self.stop.wait(0.02):
            phase = self.phase
            rss = process.memory_info().rss / 2**20
            self.rss[phase] = max(self.rss.get(phase, 0.0), rss)
            tick += 1
            if tick % 5:
                continue
            try:
                rows = cursor.execute(
                    "SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory()"
                ).fetchall()
            except Exception:  # the session closed under us
                continue
            peaks = self.duck.setdefault(phase, {})
            total = 0.0
            for tag, used, spilled in rows:
                total += used / 2**20
                if used:
                    peaks[tag] = max(peaks.get(tag, 0.0), used / 2**20)
                if spilled:
                    peaks[f"{tag} (spilled)"] = max(peaks.get(f"{tag} (spilled)", 0.0), spilled / 2**20)
            peaks["TOTAL"] = max(peaks.get("TOTAL", 0.0), total)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50_ms": statistics.median(values) * 1e3,
        "p95_ms": float(np.percentile(values, 95)) * 1e3,
        "max_ms": max(values) * 1e3,
    }


def replay(plot: object, n: int, moves: int) -> list[dict[str, object]]:
    """The scripted views; per view what served it and how long each step took."""
    records = []
    for lo, hi in viewports(n, moves):
        started = time.perf_counter()
        plot.x_range = (lo, hi)
        plot.to_array(timeout=3600)
        latency = time.perf_counter() - started
        c = plot.controller
        data = c.data
        records.append(
            {
                "width": (hi - lo) / (n - 1),
                "kind": data.kind if data is not None else "",
                "rows_in_view": data.rows_in_view if data is not None else 0,
                "latency": latency,
                "query": c.timings.query,
                "render": c.timings.render,
            }
        )
    return records


def summary(records: list[dict[str, object]]) -> dict[str, object]:
    """Percentiles overall and per kind of view."""
    out: dict[str, object] = {
        "latency": percentiles([r["latency"] for r in records]),
        "query": percentiles([r["query"] for r in records]),
        "render": percentiles([r["render"] for r in records]),
    }
    for kind in sorted({str(r["kind"]) for r in records}):
        part = [r for r in records if r["kind"] == kind]
        out[f"kind {kind}"] = {"views": len(part), **percentiles([r["latency"] for r in part])}
    return out


def decode_probe(connection: object, path: Path, n: int) -> dict[str, float]:
    """Milliseconds to read a narrow x range straight from the file (one row group decoded or two):
    through DuckDB without and with its Parquet metadata cache, and one row group through pyarrow;
    and M4 in numpy over 1M rows."""
    import pyarrow.parquet as pq

    from pikaplot_widget.engine.line_rows import m4_of_rows

    cursor = connection.cursor()
    out = {}

    def timed(label: str, read: object, rows: int) -> None:
        rng, times = np.random.default_rng(5), []
        for _ in range(7):
            lo = float(rng.uniform(0, n - rows))
            started = time.perf_counter()
            read(lo, rows)
            times.append(time.perf_counter() - started)
        out[f"{label}, {rows:,} rows: median ms of 7"] = statistics.median(times) * 1e3

    def duck(lo: float, rows: int) -> None:
        sql = f"SELECT x, y FROM read_parquet('{path}') WHERE x BETWEEN {lo} AND {lo + rows}"
        cursor.sql(sql).to_arrow_table()

    for setting in ("false", "true"):
        cursor.execute(f"SET parquet_metadata_cache = {setting}")
        for rows in (1_000, 100_000, 1_000_000):
            timed(f"duckdb, parquet_metadata_cache={setting}", duck, rows)
    cursor.execute("RESET parquet_metadata_cache")
    file = pq.ParquetFile(path)
    per_group = file.metadata.row_group(0).num_rows
    for threads in (False, True):
        timed(
            f"pyarrow read_row_group use_threads={threads}",
            lambda lo, _rows, t=threads: file.read_row_group(int(lo) // per_group, use_threads=t),
            1,
        )
    x = np.arange(1_000_000, dtype=np.float64)
    y = np.cumsum(np.random.default_rng(1).normal(size=x.size))
    started = time.perf_counter()
    for _ in range(5):
        m4_of_rows(x, y, 0.0, 800 / 1e6, 800)
    out["numpy m4_of_rows 1M rows, 800 columns: ms"] = (time.perf_counter() - started) / 5 * 1e3
    return out


def profile_deep(plot: object, n: int, moves: int, records: list[dict[str, object]]) -> str:
    """cProfile of the provider's query for the views that read rows (caches emptied first), called
    on this thread while the plot's worker is idle: where a deep zoom's time goes."""
    import cProfile
    import io
    import pstats

    from pikaplot_widget.engine import cache
    from pikaplot_widget.engine.line_cache import RowCache
    from pikaplot_widget.engine.runner import Ticket

    c = plot.controller
    c.wait_idle(600)
    provider, columns = c.provider, c.data.columns
    cache.results.drop(lambda key: True)
    provider.row_cache = RowCache()
    profiler = cProfile.Profile()
    deep = [view for view, r in zip(viewports(n, moves), records, strict=True) if r["kind"] in ("m4", "raw")]
    started = time.perf_counter()
    for x_range in deep:
        profiler.runcall(provider.query, x_range, columns, Ticket(c.query_stats))
    wall = (time.perf_counter() - started) / max(len(deep), 1)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
    return f"{len(deep)} views, {wall * 1e3:.1f} ms each (profiled)\n{text.getvalue()}"


def level0_numpy(plot: object, n: int, moves: int, sampler: Sampler) -> dict[str, object]:
    """Every level kept in numpy (level 0 past IN_MEMORY_BYTES), caches emptied, the views again."""
    from pikaplot_widget.engine import cache
    from pikaplot_widget.engine.line_cache import RowCache
    from pikaplot_widget.plots.line.index import load_levels

    provider = plot.controller.provider
    plot.controller.wait_idle(600)
    before = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    load_levels(provider.runner, provider.pyramid, budget=1 << 40)
    load_s = time.perf_counter() - started
    after = psutil.Process().memory_info().rss / 2**20
    cache.results.drop(lambda key: True)
    provider.row_cache = RowCache()
    sampler.phase = "level0 numpy views"
    records = replay(plot, n, moves)
    return {
        "load_s": load_s,
        "rss_growth_mib": after - before,
        "levels_in_numpy": sorted(provider.pyramid.arrays),
        "summary": summary(records),
        "views": records,
    }


def chunked_level0(chunks: int, checkpoint: bool) -> None:
    """The level-0 statement of the index build run as `chunks` statements over x ranges on bucket
    edges (the first creates the table, the rest insert in x order), each GROUP BY holding only its
    own buckets; with `checkpoint`, a CHECKPOINT after each (DuckDB then compresses the table)."""
    from pikaplot_widget.engine.runner import INDEX_SCHEMA, QueryRunner

    run = QueryRunner.run

    def chunked(
        self: QueryRunner, sql: str, params: list[object] | None = None, *rest: object, **named: object
    ) -> object:
        level0 = sql.startswith("CREATE OR REPLACE TABLE") and '_level_0" AS' in sql and "GROUP BY" in sql
        if not level0 or params is None or len(params) != 3:
            return run(self, sql, params, *rest, **named)
        x_min, width, last = float(params[0]), float(params[1]), int(params[2])
        buckets = last + 1
        ranged = sql.replace("\n), binned AS", ' AND "x" >= ? AND "x" < ?\n), binned AS', 1)
        table = sql.split(" AS ", 1)[0].removeprefix("CREATE OR REPLACE TABLE ")
        result = None
        for i in range(chunks):
            lo = x_min + width * (buckets * i // chunks) if i else -float("inf")
            hi = x_min + width * (buckets * (i + 1) // chunks) if i < chunks - 1 else float("inf")
            statement = ranged if i == 0 else f"INSERT INTO {table} " + ranged.split(" AS ", 1)[1]
            result = run(self, statement, [lo, hi, *params], *rest, **named)
            if checkpoint:
                run(self, f"CHECKPOINT {INDEX_SCHEMA}")
        return result

    QueryRunner.run = chunked


def experiment(args: argparse.Namespace, con: object) -> None:
    """Changes to the line index for one run, made from outside (its module stays as it is)."""
    from pikaplot_widget.engine.runner import INDEX_SCHEMA
    from pikaplot_widget.plots.line import index

    if args.attach_compress:  # index_table() attaches only when the database is missing
        con.execute(f"ATTACH ':memory:' AS {INDEX_SCHEMA} (COMPRESS)")
    if (
        args.checkpoint and not args.chunked_build
    ):  # DuckDB compresses an in-memory database's tables when it checkpoints
        build = index._build_once

        def build_then_checkpoint(runner: object, *rest: object) -> object:
            pyramid = build(runner, *rest)
            runner.run(f"CHECKPOINT {INDEX_SCHEMA}")
            return pyramid

        index._build_once = build_then_checkpoint
    if args.chunked_build:
        chunked_level0(args.chunked_build, args.checkpoint)
    if args.rows_per_bucket:
        index.build_pyramid.__kwdefaults__["rows_per_bucket"] = args.rows_per_bucket
    if args.in_memory_mib:
        index.load_levels.__defaults__ = (args.in_memory_mib * 2**20, index.NEVER_CANCELLED)
    if args.pass_row_groups:
        from pikaplot_widget.engine import row_store

        row_store.PASS_ROW_GROUPS = args.pass_row_groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1e9")
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--memory-limit", help="tuned: DuckDB memory_limit of the plot's session")
    parser.add_argument("--threads", type=int, help="tuned: DuckDB threads of the plot's session")
    parser.add_argument("--set", action="append", default=[], help="experiment: a DuckDB SET, e.g. a=b")
    parser.add_argument("--attach-compress", action="store_true", help="experiment: compressed index db")
    parser.add_argument("--checkpoint", action="store_true", help="experiment: CHECKPOINT after the build")
    parser.add_argument("--chunked-build", type=int, help="experiment: level 0 built in N x ranges")
    parser.add_argument("--rows-per-bucket", type=int, help="experiment: the line index's level 0")
    parser.add_argument("--in-memory-mib", type=int, help="experiment: index levels kept in numpy")
    parser.add_argument("--pass-row-groups", type=int, help="experiment: the row-file pass's range size")
    parser.add_argument("--decode", action="store_true")
    parser.add_argument("--level0-numpy", action="store_true")
    parser.add_argument("--scan", action="store_true")
    parser.add_argument("--profile-deep", action="store_true")
    parser.add_argument("--json", help="write everything measured here")
    args = parser.parse_args()
    n = int(float(args.n))
    path = parquet_path(n)

    import pikaplot_widget as pk
    from pikaplot_widget.engine.session import default_session

    warm = pk.line("SELECT 1.0 AS x, 2.0 AS y UNION ALL SELECT 2.0, 3.0", x="x", y="y")
    warm.to_array()
    warm.close()
    gpu = pk.gpu_info()
    changed = (
        args.attach_compress
        or args.checkpoint
        or args.chunked_build
        or args.rows_per_bucket
        or args.in_memory_mib
        or args.pass_row_groups
    )
    tuned = args.memory_limit is not None or args.threads is not None
    session = pk.Session(memory_limit=args.memory_limit, threads=args.threads) if tuned else None
    con = (session or default_session()).connection
    for assignment in args.set:
        name, value = assignment.split("=", 1)
        con.execute(f"SET {name} = '{value}'")
    experiment(args, con)
    sampler = Sampler(con)
    sampler.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sampler.phase = "first look"
    started = time.perf_counter()
    plot = pk.line(str(path), x="x", y="y", session=session, width=800, height=400)
    while plot.controller.last_frame is None:
        time.sleep(0.002)
    approx = time.perf_counter() - started
    sampler.phase = "first exact frame"
    plot.to_array(timeout=3600)
    exact = time.perf_counter() - started
    sampler.phase = "index build"
    while not plot.controller.wait_idle(0.02):  # the row files come after the index: a phase of their own
        if plot.controller.provider.row_store.state == "building":
            sampler.phase = "row files"
    indexed = time.perf_counter() - started
    stats = dict(plot.stats)
    settings = con.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit'), version()"
    ).fetchone()
    sampler.phase = "views"
    records = replay(plot, n, args.moves)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict[str, object] = {
        "n": n,
        "configuration": "tuned" if tuned or args.set or changed else "defaults",
        "memory_limit_arg": args.memory_limit,
        "threads_arg": args.threads,
        "set": args.set,
        "experiments": {
            "attach_compress": args.attach_compress,
            "checkpoint": args.checkpoint,
            "chunked_build": args.chunked_build,
            "pass_row_groups": args.pass_row_groups,
            "rows_per_bucket": args.rows_per_bucket,
            "in_memory_mib": args.in_memory_mib,
        },
        "duckdb_threads": settings[0],
        "duckdb_memory_limit_after_views": settings[1],
        "duckdb_version": settings[2],
        "cores": os.cpu_count(),
        "gpu": gpu,
        "available_mib_at_start": psutil.virtual_memory().available / 2**20,
        "first_look_s": approx,
        "first_exact_s": exact,
        "index_done_s": indexed,
        "stats": stats,
        "peak_rss_mib": peak,
        "rss_before_plot_mib": rss_before,
        "summary": summary(records),
        "views": records,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "views"}, indent=1), flush=True)
    if args.decode:
        sampler.phase = "decode probe"
        result["decode"] = decode_probe(con, path, n)
        print(json.dumps(result["decode"]), flush=True)
    if args.profile_deep:
        sampler.phase = "profile"
        result["profile_deep"] = profile_deep(plot, n, args.moves, records)
        print(result["profile_deep"], flush=True)
    if args.level0_numpy:
        result["level0_numpy"] = level0_numpy(plot, n, args.moves, sampler)
        part = {k: v for k, v in result["level0_numpy"].items() if k != "views"}
        print(json.dumps(part, indent=1), flush=True)
    plot.close()
    if args.scan:
        sampler.phase = "scan"
        started = time.perf_counter()
        con.execute(
            f"SELECT min(x + 0), max(x + 0), min(y + 0), max(y + 0) FROM read_parquet('{path}')"
        ).fetchall()
        result["full_scan_s"] = time.perf_counter() - started
        print(json.dumps({"full_scan_s": result["full_scan_s"]}), flush=True)
    sampler.stop.set()
    sampler.join()
    result["rss_peak_by_phase_mib"] = sampler.rss
    result["duckdb_peak_by_phase_mib"] = sampler.duck
    print(json.dumps({"rss": sampler.rss, "duckdb": sampler.duck}, indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
