"""Log axes against linear ones on the same data: first frame and wheel-zoom latency of a line and a
scatter plot, linear vs log_y vs log_x + log_y (axis units are log10 computed in SQL, so this is
the price of log10 and the extra "value > 0" checks), plus the one count of rows a log axis drops.

    python benchmarks/log_axes.py [--rows 1e7] [--zooms 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

import pikaplot_widget as pk


def generate(session: pk.Session, n: int, seed: int = 0) -> None:
    """x = 1..n, y log-normal with 1 % zero or negative, in chunks, into table `logs`."""
    rng = np.random.default_rng(seed)
    con = session.connection
    con.execute("CREATE OR REPLACE TABLE logs (x DOUBLE, y DOUBLE)")
    chunk = 5_000_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        y = np.exp(rng.normal(0, 3, m))
        y[rng.random(m) < 0.01] = -1.0
        con.register(
            "chunk_in", pa.table({"x": np.arange(start + 1, start + m + 1, dtype=np.float64), "y": y})
        )
        con.execute("INSERT INTO logs SELECT * FROM chunk_in")
        con.unregister("chunk_in")


def send_wheel(plot: pk.Plot, x: float, y: float, dy: float) -> None:
    """The message jupyter_rfb delivers when the browser sends a wheel event."""
    event = {
        "type": "wheel",
        "x": x,
        "y": y,
        "dx": 0,
        "dy": dy,
        "modifiers": [],
        "buttons": [],
        "timestamp": 0,
    }
    plot._rfb_handle_msg(plot, event, [])


def bench(
    kind: str, session: pk.Session, zooms: int, log_x: bool, log_y: bool, rng: np.random.Generator
) -> str:
    make = pk.line if kind == "line" else pk.scatter
    started = time.perf_counter()
    plot = make("logs", "x", "y", session=session, width=800, height=400, log_x=log_x, log_y=log_y)
    plot.to_array()
    first = time.perf_counter() - started
    plot.controller.wait_idle(600)  # the index is built after the first exact frame
    times = []
    for i in range(zooms):
        layout = plot.controller.layout()
        assert layout is not None
        dy = -rng.uniform(200, 900) if i < zooms * 0.7 else rng.uniform(200, 900)
        px = rng.uniform(layout.area.left, layout.area.right) / layout.spec.ratio
        started = time.perf_counter()
        send_wheel(plot, px, 200, dy)
        plot.to_array()
        times.append(time.perf_counter() - started)
    skipped = plot.stats.get("log_skipped_rows", {})
    plot.close()
    p50, p95 = np.percentile(times, 50) * 1e3, np.percentile(times, 95) * 1e3
    axes = ("log x+y" if log_x else "log y") if log_y else ("log x" if log_x else "linear")
    return f"{kind:8s} {axes:8s} {first * 1e3:10.1f} {p50:10.1f} {p95:10.1f}   skipped {skipped}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--zooms", type=int, default=20)
    args = parser.parse_args()
    session = pk.Session()
    generate(session, int(args.rows))
    rng = np.random.default_rng(1)
    warm = pk.line("logs", "x", "y", session=session, width=200, height=100)
    warm.to_array()
    warm.close()
    print(f"# {int(args.rows):,} rows, 800x400, {args.zooms} wheel zooms (times in ms)")
    print(f"{'plot':8s} {'axes':8s} {'first':>10s} {'zoom p50':>10s} {'zoom p95':>10s}")
    for kind in ("line", "scatter"):
        for log_x, log_y in ((False, False), (False, True), (True, True)):
            print(bench(kind, session, args.zooms, log_x, log_y, rng), flush=True)
    session.close()


if __name__ == "__main__":
    main()
