"""Several series: 10 series x 10M rows (`by=` over one 100M-row Parquet file), zoom latency.

Rows are sorted by x with the series interleaved (x = row // series, series = row % series, each
series its own random walk), as sensors or symbols logged together. Each side runs in its own
process on the same file and replays the same seeded views (see scale.viewports):
  pikaplot:          pk.line(parquet, "x", "y", by="series") at defaults; x_range set -> to_array()
  plotly-resampler:  FigureResampler with one trace per series (hf_x/hf_y numpy arrays, defaults);
                     construct_update_data_patch per view (skipped when it is not installed)

    python benchmarks/series.py                    # 100M rows (the file is generated once)
    python benchmarks/series.py --rows 1e6         # a small run
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import CHUNK, DATA, ROW_GROUP
from scale import peak_rss_mib, viewports


def series_path(rows: int, series: int) -> Path:
    """Where the Parquet file of `rows` rows over `series` series lives."""
    return DATA / f"series_{rows}_{series}.parquet"


def series_chunks(rows: int, series: int, seed: int = 0) -> Iterator[pa.Table]:
    """Tables of x (float64), series (string) and y: one random walk per series, interleaved."""
    rng = np.random.default_rng(seed)
    levels = np.zeros(series)
    names = np.array([f"s{i:02d}" for i in range(series)])
    chunk = CHUNK // series * series  # whole rounds of all series per chunk
    for start in range(0, rows, chunk):
        m = min(chunk, rows - start)
        index = np.arange(start, start + m)
        code = index % series
        steps = rng.normal(size=m)
        y = np.empty(m)
        for s in range(series):
            at = code == s
            walk = levels[s] + np.cumsum(steps[at])
            y[at] = walk
            if walk.size:
                levels[s] = walk[-1]
        x = (index // series).astype(np.float64)
        yield pa.table({"x": x, "series": pa.array(names[code]).dictionary_encode(), "y": y})


def write_series(rows: int, series: int) -> tuple[Path, float]:
    """Write the file if it is missing; return its path and the seconds generation took (0 if reused)."""
    path = series_path(rows, series)
    if path.exists():
        return path, 0.0
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    writer: pq.ParquetWriter | None = None
    for table in series_chunks(rows, series):
        if writer is None:
            writer = pq.ParquetWriter(partial, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=ROW_GROUP)
    assert writer is not None
    writer.close()
    partial.rename(path)
    return path, time.perf_counter() - started


def run_pikaplot(path: Path, span: int, moves: int) -> dict[str, object]:
    import pikaplot_widget as pk

    warm = pk.line("SELECT 1.0 AS x, 2.0 AS y UNION ALL SELECT 2.0, 3.0", x="x", y="y")
    warm.to_array()
    warm.close()
    started = time.perf_counter()
    plot = pk.line(str(path), x="x", y="y", by="series", width=800, height=400)
    plot.to_array(timeout=3600)
    first = time.perf_counter() - started
    plot.controller.wait_idle(600)  # the line index is built (at defaults, from 1M rows up)
    ready = time.perf_counter() - started
    latencies, kinds = [], []
    for lo, hi in viewports(span, moves):
        started = time.perf_counter()
        plot.x_range = (lo, hi)
        plot.to_array(timeout=3600)
        latencies.append(time.perf_counter() - started)
        kinds.append(plot.controller.data.kind.split(" ")[0])
    stats = plot.stats
    plot.close()
    return {
        "exact_s": first, "ready_s": ready, "latencies": latencies, "kinds": kinds,
        "series": stats["series_shown"], "index_s": stats["index_s"], "peak_rss_mib": peak_rss_mib(),
    }  # fmt: skip


def run_plotly_resampler(path: Path, span: int, moves: int) -> dict[str, object]:
    import plotly.graph_objects as go
    from plotly_resampler import FigureResampler

    started = time.perf_counter()
    table = pq.read_table(path)
    names = table.column("series").to_numpy(zero_copy_only=False).astype(str)
    x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
    del table
    fig = FigureResampler(go.Figure())
    for name in sorted(set(names)):
        at = names == name
        fig.add_trace(go.Scattergl(name=name), hf_x=x[at], hf_y=y[at])
    del x, y, names
    fig.construct_update_data_patch({"xaxis.autorange": True})
    first = time.perf_counter() - started
    latencies = []
    for lo, hi in viewports(span, moves):
        started = time.perf_counter()
        fig.construct_update_data_patch({"xaxis.range[0]": lo, "xaxis.range[1]": hi})
        latencies.append(time.perf_counter() - started)
    return {"exact_s": first, "latencies": latencies, "peak_rss_mib": peak_rss_mib()}


def measure(config: str, rows: int, series: int, moves: int) -> dict[str, object] | None:
    """Run one side in its own process (its own peak RSS) and read its RESULT line."""
    command = [sys.executable, __file__, "--worker", config, "--rows", str(rows)]
    command += ["--series", str(series), "--moves", str(moves)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  ({config} failed: {proc.stderr.strip().splitlines()[-3:]})")
    return None


def ms(value: float) -> str:
    return f"{value * 1000:9.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e8, help="rows in all (default 1e8: 10 x 10M)")
    parser.add_argument("--series", type=int, default=10)
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--worker")
    args = parser.parse_args()
    rows, series = int(args.rows), args.series
    path = series_path(rows, series)
    span = rows // series  # x runs over 0 .. span - 1
    if args.worker:
        run = run_pikaplot if args.worker == "pikaplot" else run_plotly_resampler
        print("RESULT " + json.dumps(run(path, span, args.moves)))
        return
    path, seconds = write_series(rows, series)
    print(f"# {series} series x {span:,} rows ({rows:,} rows, {path.name}); {args.moves} views; 800x400")
    if seconds:
        print(f"# generated in {seconds:.1f} s")
    results = {"pikaplot": measure("pikaplot", rows, series, args.moves)}
    if importlib.util.find_spec("plotly_resampler") is not None:
        results["plotly-resampler"] = measure("plotly-resampler", rows, series, args.moves)
    else:
        print("# plotly-resampler is not installed in this environment: no peer row")
    print(f"{'side':<18}{'first':>10}{'zoom p50':>10}{'p95':>9}{'peak RSS':>10}  served by")
    for name, r in results.items():
        if r is None:
            continue
        lat = r["latencies"]
        assert isinstance(lat, list)
        kinds = r.get("kinds")
        served = (
            ", ".join(f"{k} {kinds.count(k)}" for k in sorted(set(kinds))) if isinstance(kinds, list) else ""
        )
        p50, p95 = statistics.median(lat), float(np.percentile(lat, 95))
        first = ms(float(r["exact_s"]))
        print(f"{name:<18}{first:>10}{ms(p50):>10}{ms(p95):>9}{r['peak_rss_mib']:>8.0f} MiB  {served}")
    ours, peer = results.get("pikaplot"), results.get("plotly-resampler")
    if ours is not None and peer is not None:
        a, b = ours["latencies"], peer["latencies"]
        assert isinstance(a, list)
        assert isinstance(b, list)
        print(
            f"pikaplot / plotly-resampler: p50 x{statistics.median(a) / statistics.median(b):.2f}, "
            f"p95 x{float(np.percentile(a, 95)) / float(np.percentile(b, 95)):.2f}"
        )


if __name__ == "__main__":
    main()
