"""Kernel memory and zoom latency of a line plot over a Parquet file at the defaults a user gets.

pikaplot at defaults (`pk.line(path, ...)`: no `memory_limit`, no Session arguments) and
plotly-resampler (FigureResampler on numpy arrays read from the same file) each run in a process of their
own on the same 60 random views (widths 10^-4..1 of the x extent, random positions): `x_range` set ->
`to_array()` for pikaplot, `construct_update_data_patch` for the peer. Peak RSS is sampled by a thread
every 20 ms (psutil), per step; DuckDB's own accounting (`duckdb_memory()`) is printed beside it.

    python benchmarks/datasets.py 1e8                   # once: benchmarks/data/walk_100000000.parquet
    nice -n 10 python benchmarks/memory_defaults.py     # 100M rows, both sides, ratio
    python benchmarks/memory_defaults.py --rows 1e7 --no-peer

Diagnostic flags (labelled in the output, not defaults): --memory-limit, --threads, --file-cache
on|off, --plots 2 (a second plot on the same session), --cold (drop the page cache first; root only).
--peer-path adds a folder (a `pip install --target` of plotly-resampler) to the peer's sys.path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import parquet_path, write_parquet

MiB = 2**20
SAMPLE_S = 0.02
SETTINGS = ("memory_limit", "threads", "enable_external_file_cache", "temp_directory")
TUNING = ("memory_limit", "threads", "file_cache")


class RssSampler:
    """Peak RSS of this process per named step, sampled every 20 ms in a daemon thread."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._lock = threading.Lock()
        self.step = "python start-up"
        self.phase: Callable[[], str] | None = None  # if set, names the step from the plot's state
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        rss = int(self._process.memory_info().rss)
        with self._lock:
            step = self.phase() if self.phase is not None else self.step
            self.peaks[step] = max(self.peaks.get(step, 0), rss)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def enter(self, step: str) -> None:
        """Samples from now on count for `step`."""
        self._sample()
        with self._lock:
            self.phase, self.step = None, step
        self._sample()

    def stop(self) -> dict[str, float]:
        """Peak RSS (MiB) per step, in the order the steps came."""
        self._sample()
        self._stop.set()
        self._thread.join()
        return {step: rss / MiB for step, rss in self.peaks.items()}

    @property
    def peak_mib(self) -> float:
        with self._lock:
            return max(self.peaks.values()) / MiB


def views(extent: tuple[float, float], count: int, seed: int = 12) -> list[tuple[float, float]]:
    """Random views: widths 10^-4..1 of the extent (log-uniform), random positions inside it."""
    rng = np.random.default_rng(seed)
    lo, hi = extent
    span = hi - lo
    out = []
    for _ in range(count):
        width = span * 10 ** rng.uniform(-4, 0)
        start = lo + rng.uniform(0, span - width)
        out.append((float(start), float(start + width)))
    return out


def _duckdb_memory(connection: object) -> dict[str, object]:
    """DuckDB's accounting: MiB per tag (non-zero), the limit, and the buffer pool's use."""
    rows = connection.execute(  # type: ignore[attr-defined]
        "SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() "
        "WHERE memory_usage_bytes + temporary_storage_bytes > 0"
    ).fetchall()
    size = connection.execute("PRAGMA database_size").fetchall()  # type: ignore[attr-defined]
    limit = connection.execute("SELECT current_setting('memory_limit')").fetchone()  # type: ignore[attr-defined]
    return {
        "tags_mib": {tag: round(used / MiB, 1) for tag, used, _ in rows},
        "spilled_mib": round(sum(spill for _, _, spill in rows) / MiB, 1),
        "memory_limit": limit[0],
        "buffer_pool": size[0][-2] if size else "",
    }


def run_pikaplot(n: int, count: int, args: argparse.Namespace) -> dict[str, object]:
    import pikaplot_widget as pk
    from pikaplot_widget.engine.session import default_session

    sampler = RssSampler()
    sampler.enter("import + GPU start-up")
    warm = pk.line("SELECT 1.0 AS x, 2.0 AS y UNION ALL SELECT 2.0, 3.0", x="x", y="y")
    warm.to_array()
    warm.close()
    options: dict[str, object] = {}
    if args.memory_limit:
        options["memory_limit"] = args.memory_limit
    if args.threads:
        options["threads"] = args.threads
    sampler.enter("session")
    session = pk.Session(**options) if options else default_session()  # type: ignore[arg-type]
    if args.file_cache:
        session.connection.execute(f"SET enable_external_file_cache = {args.file_cache == 'on'}")
    settings = session.connection.execute(
        "SELECT " + ", ".join(f"current_setting('{name}')" for name in SETTINGS)
    ).fetchone()
    path = str(parquet_path(n))
    started = time.perf_counter()
    plot = pk.line(path, x="x", y="y", session=session, width=800, height=400)
    worker = plot.controller

    def phase() -> str:
        if worker.extent is None:
            return "extent"
        if worker.pyramid is None:
            return "index build"
        return "first frame"

    sampler.phase = phase
    plot.to_array(timeout=3600)
    first_s = time.perf_counter() - started
    plot.controller.wait_idle(600)
    stats = plot.stats
    memory = {"after first frame": _duckdb_memory(session.connection)}
    extent = worker.extent
    assert extent is not None
    latencies: list[float] = []
    second = None
    for number in range(args.plots):
        if number == 1:
            sampler.enter("second plot: first frame")
            second = pk.line(path, x="x", y="y", session=session, width=800, height=400)
            second.to_array(timeout=3600)
            second.controller.wait_idle(600)
            memory["after second plot"] = _duckdb_memory(session.connection)
        target = plot if number == 0 else second
        assert target is not None
        sampler.enter(f"{count} zooms" + (f" (plot {number + 1})" if args.plots > 1 else ""))
        for lo, hi in views((extent.x_min, extent.x_max), count):
            started = time.perf_counter()
            target.x_range = (lo, hi)
            target.to_array(timeout=3600)
            if number == 0:
                latencies.append(time.perf_counter() - started)
        target.controller.wait_idle(600)
    memory["after zooms"] = _duckdb_memory(session.connection)
    peaks = sampler.stop()
    plot.close()
    return {
        "settings": dict(zip(SETTINGS, settings, strict=True)),
        "first_s": first_s,
        "extent_s": stats.get("extent_s"),
        "index_s": stats.get("index_s"),
        "latencies": latencies,
        "peaks_mib": peaks,
        "peak_mib": max(peaks.values()),
        "duckdb": memory,
    }


def run_plotly_resampler(n: int, count: int, args: argparse.Namespace) -> dict[str, object]:
    if args.peer_path:
        sys.path.append(args.peer_path)  # after the venv's own packages: its numpy and pandas win
    import plotly.graph_objects as go
    import pyarrow.parquet as pq
    from plotly_resampler import FigureResampler

    sampler = RssSampler()
    sampler.enter("load (Parquet -> numpy) + first figure")
    started = time.perf_counter()
    table = pq.read_table(parquet_path(n))
    x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
    del table
    fig = FigureResampler(go.Figure(), default_n_shown_samples=1000)
    fig.add_trace(go.Scattergl(name="walk"), hf_x=x, hf_y=y)
    fig.construct_update_data_patch({"xaxis.autorange": True})
    first_s = time.perf_counter() - started
    sampler.enter(f"{count} zooms")
    latencies = []
    for lo, hi in views((float(x[0]), float(x[-1])), count):
        started = time.perf_counter()
        fig.construct_update_data_patch({"xaxis.range[0]": lo, "xaxis.range[1]": hi})
        latencies.append(time.perf_counter() - started)
    peaks = sampler.stop()
    return {"first_s": first_s, "latencies": latencies, "peaks_mib": peaks, "peak_mib": max(peaks.values())}


def measure(side: str, n: int, args: argparse.Namespace) -> dict[str, object] | None:
    """Run one side in a fresh process; its RESULT line, or None (and why) if it failed."""
    passed = ["--rows", str(n), "--views", str(args.views), "--plots", str(args.plots)]
    for flag in ("memory_limit", "threads", "file_cache", "peer_path"):
        value = getattr(args, flag)
        if value:
            passed += [f"--{flag.replace('_', '-')}", str(value)]
    if args.cold and side == "pikaplot":
        drop_page_cache()
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", side, *passed], capture_output=True, text=True, check=False
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  ({side} failed, exit {proc.returncode}: {proc.stderr.strip().splitlines()[-3:]})")
    return None


def drop_page_cache() -> None:
    """Drop the kernel's page cache (root only) so the next run reads the file from disk."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as error:
        print(f"# --cold: could not drop the page cache ({error})")


def ms(seconds: float) -> float:
    return seconds * 1000


def report(n: int, ours: dict[str, object] | None, peer: dict[str, object] | None) -> None:
    """Both sides, step by step, and the ratios."""
    print(f"\n## {n:,} rows")
    for name, result in (("pikaplot", ours), ("plotly-resampler", peer)):
        if result is None:
            continue
        lat = result["latencies"]
        p50, p95 = ms(statistics.median(lat)), ms(float(np.percentile(lat, 95)))
        print(f"{name}: first frame {ms(result['first_s']):.0f} ms, zoom p50 {p50:.1f} / p95 {p95:.1f} ms")
        if name == "pikaplot":
            print(f"  settings: {result['settings']}")
            extent_ms, index_ms = ms(result["extent_s"] or 0), ms(result["index_s"] or 0)
            print(f"  extent {extent_ms:.0f} ms, index build {index_ms:.0f} ms")
        for step, mib in result["peaks_mib"].items():
            print(f"  peak RSS during {step:<38} {mib:8.0f} MiB")
        for moment, usage in result.get("duckdb", {}).items():
            print(f"  duckdb {moment}: {usage}")
    if ours is not None and peer is not None:
        ol, pl = ours["latencies"], peer["latencies"]
        print(
            f"pikaplot / plotly-resampler: peak RSS x{ours['peak_mib'] / peer['peak_mib']:.2f} "
            f"({ours['peak_mib']:.0f} / {peer['peak_mib']:.0f} MiB; floor x0.40), "
            f"zoom p50 x{statistics.median(ol) / statistics.median(pl):.2f}, "
            f"p95 x{float(np.percentile(ol, 95)) / float(np.percentile(pl, 95)):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e8", help="rows of the generated walk (default 1e8)")
    parser.add_argument("--views", type=int, default=60)
    parser.add_argument("--no-peer", action="store_true", help="skip plotly-resampler")
    parser.add_argument("--memory-limit", help="diagnostic: Session(memory_limit=...) instead of the default")
    parser.add_argument("--threads", type=int, help="diagnostic: Session(threads=...)")
    parser.add_argument("--file-cache", choices=("on", "off"), help="diagnostic: enable_external_file_cache")
    parser.add_argument("--plots", type=int, default=1, choices=(1, 2), help="2: a second plot, same session")
    parser.add_argument("--cold", action="store_true", help="drop the page cache before pikaplot's run")
    parser.add_argument("--peer-path", help="extra sys.path folder holding plotly-resampler")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = int(float(args.rows))
    if args.worker:
        run = run_pikaplot if args.worker == "pikaplot" else run_plotly_resampler
        print("RESULT " + json.dumps(run(n, args.views, args)))
        return
    path, seconds = write_parquet(n)
    tuned = [f"{flag}={getattr(args, flag)}" for flag in TUNING if getattr(args, flag)]
    vm = psutil.virtual_memory()
    print(
        f"# memory at defaults: {path.name} ({path.stat().st_size / MiB:.0f} MiB), {args.views} random "
        f"views, {os.cpu_count()} CPUs, {vm.total / 2**30:.0f} GiB ({vm.available / 2**30:.0f} GiB available)"
    )
    print(f"# pikaplot settings: {'TUNED ' + ', '.join(tuned) if tuned else 'defaults'}; plots {args.plots}")
    if seconds:
        print(f"# generated in {seconds:.1f} s")
    ours = measure("pikaplot", n, args)
    peer = None if args.no_peer else measure("plotly-resampler", n, args)
    report(n, ours, peer)


if __name__ == "__main__":
    main()
