"""Interaction latency as a user sees it in JupyterLab: wheel in the browser -> new frame shown.

A temporary notebook plots benchmarks/data/walk_100000000.parquet (100M rows) with pikaplot,
straight from the Parquet file ("parquet") or from a DuckDB in-memory table ("duckdb").
JupyterLab and headless Debian chromium (Playwright) run it; then N wheel zooms at seeded random
points over the plot (a double-click reset every 15). Each is timed in the page, from the
wheel event's timeStamp to the next animation frame after the overlay's instant preview (perceived:
the last exact frame scaled to the new view, no round trip), and from the wheel
event's timeStamp to the `load` of the plot's <img>:
  first: the first new frame (a JPEG; a preview of the old data at the new view if the view's
         rows must be read), and
  exact: the last new JPEG of the move, the exact frame (the kernel reported idle and the <img>
         stayed quiet for 400 ms after it, past jupyter_rfb's lossless PNG re-send at 0.3 s).
Moves do not overlap. The kernel logs its status and `plot.stats` to a JSON-lines file. The zoom
direction's random draw is taken every move (since the peer was added), so every configuration gets
the same sequence of draws.

The peer, "plotly-resampler" (issue 12): its own JupyterLab and kernel read the same file's x/y
columns with pyarrow into numpy and show `FigureWidgetResampler` with one `Scattergl` trace (hf_x, hf_y) at
its defaults (1000 shown samples) and the same size, with plotly's scrollZoom on (see
benchmarks/browser_peer.py). The same seeded wheel script runs at the same fractions of its plot
area (plotly's xy drag rectangle; pikaplot's are of its whole image, which holds the axes too).
Timed in the page from the wheel event's timeStamp, with plotly's events:
  perceived: the next animation frame after plotly's synchronous client-side zoom of the drawing
             (`plotly_relayouting`);
  first/exact: the first/last `plotly_update`/`plotly_restyle` event: the kernel's update with
             plotly-resampler's new points for the view, emitted by plotly once they are drawn
             (nothing client-side emits these here; the page also checks that a new x array was
             drawn). plotly's own redraw of the old points at the new range, 50 ms after the wheel
             (when it sends the relayout to the kernel), does not count: it is reported as 'client'.
             One update comes per move, so first = exact. The move is over 400 ms after the last
             plotly event once the update came (or after 5 s without one).
The reset is plotly's "Reset axes" button (a double-click only autoranges over the points shown).
plotly.js clamps each wheel event to a zoom factor of e^0.1 (about 10%), pikaplot zooms 2x per 600 px
of dy, so the same script leaves plotly's views wider: the comparison table prints both medians of
the view span. With --peer-wheel matched, each wheel event of the script reaches the peer as
ceil(0.231 |dy| / 20) events of equal size (<= 20 px, back to back, timed from the first), which zoom
plotly by 2^(dy/600) like pikaplot. plotly-resampler is not in the venv:

    pip install --target /tmp/prpeer -c <(python -m pip freeze | grep -v -e '^-e' -e '@ ') \
        plotly-resampler anywidget   # the constraints keep numpy etc. at the venv's versions
    python benchmarks/browser_latency.py --config parquet,plotly-resampler --peer-path /tmp/prpeer

    python benchmarks/browser_latency.py [--moves 60] [--config parquet,duckdb,plotly-resampler]

Raw latencies go to benchmarks/data/browser_latency.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.browser.lab
from tests.browser.lab import LabServer, Notebook, launch_chromium, open_and_run_all, start_lab, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/: the peer's side
from browser_peer import (
    PEER,
    PEER_GRAPH,
    PEER_MARK_JS,
    PEER_PLOT_AREA,
    PEER_RECORDER_JS,
    PEER_RESET,
    PEER_SETTLED_JS,
    analyse_peer,
    peer_cells,
    peer_wheel_steps,
)
from browser_trace import WS_TRACE_JS, breakdown, kernel_trace_cell

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data" / "walk_100000000.parquet"
OUT = REPO / "benchmarks" / "data" / "browser_latency.json"
CONFIGS = ("parquet", "duckdb", PEER)
WIDTH, HEIGHT = 800, 400
VIEWPORT = {"width": 1440, "height": 1200}
PLOT = "plot = pk.line"  # marker: text in the source of the cell that creates the plot
SHOW = "# show the plot"  # marker of the cell whose output is the plot
QUIET_MS = 400  # a move is over once the kernel is idle and no frame came for this long
NO_FRAME_MS = 5000  # ... or, if no frame came at all, after this long
MOVE_TIMEOUT_S = 300
RESET_EVERY = 15
MIN_SPAN, P_ZOOM_IN = 2_000.0, 0.6  # below MIN_SPAN x units, zoom out; else zoom in with P_ZOOM_IN
TRACE = {"on": False}  # --trace: stamps on both sides per move (benchmarks/browser_trace.py)

# Installed on the plot's <img> and overlay: every src set, load (+ the next animation frame),
# status change and wheel event, with performance.now() times. URL.createObjectURL is wrapped
# to know each frame's type: jupyter_rfb sends every new frame as a JPEG, and re-sends the last
# one as a lossless PNG 0.3 s later.
RECORDER_JS = """
([img, overlay]) => {
  const rec = { events: [], img, overlay, status: overlay.dataset.status || null, types: {} };
  window.__pkLatency = rec;
  const now = () => performance.now();
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = (object) => {
    const url = createObjectURL.call(URL, object);
    rec.types[url] = object && object.type;
    return url;
  };
  // a short name per source: blob URLs as they are, data URLs (frames sent inline) numbered
  const names = new Map();
  let named = 0;
  rec.key = (src) => {
    if (src.length < 200) return src;
    if (!names.has(src)) {
      names.set(src, `data#${named++}`);
      if (names.size > 64) names.delete(names.keys().next().value);
    }
    return names.get(src);
  };
  new MutationObserver(() => rec.events.push({ kind: 'src', t: now(), src: rec.key(img.src) }))
    .observe(img, { attributes: true, attributeFilter: ['src'] });
  img.addEventListener('load', () => {
    const t = now(), full = img.src, src = rec.key(full);
    const type = rec.types[full] || (full.startsWith('data:') ? full.slice(5, full.indexOf(';')) : null);
    delete rec.types[full];
    rec.events.push({ kind: 'load', t, src, type });
    requestAnimationFrame(() => rec.events.push({ kind: 'paint', t: now(), src }));
  });
  new MutationObserver(() => {
    const status = overlay.dataset.status;
    if (status !== rec.status) {
      rec.status = status;
      rec.events.push({ kind: 'status', t: now(), status });
    }
  }).observe(overlay, { attributes: true, attributeFilter: ['data-status'] });
  img.addEventListener('wheel', (ev) => rec.events.push({ kind: 'wheel', t: now(), ts: ev.timeStamp }),
                       { capture: true });
  img.addEventListener('dblclick', (ev) => rec.events.push({ kind: 'wheel', t: now(), ts: ev.timeStamp }),
                       { capture: true });
}
"""

# True once the move that started at t0 (events from index `start` on) is over.
SETTLED_JS = """
({ start, t0, quiet, nothing }) => {
  const rec = window.__pkLatency;
  if (rec.overlay.dataset.status !== 'idle') return false;
  const events = rec.events.slice(start).filter((e) => e.kind !== 'wheel');
  const t = performance.now();
  if (!events.some((e) => e.kind === 'load')) return t - t0 > nothing;
  return t - events[events.length - 1].t > quiet;
}
"""

MARK_JS = """
() => {
  const rec = window.__pkLatency, active = document.activeElement;
  rec.overlay.dataset.previewLatency = '0';
  return { t0: performance.now(), start: rec.events.length, src: rec.key(rec.img.src),
           focused: !!(active && active.closest('#rendercanvas-focus-element-container')) };
}
"""


def notebook_cells(config: str, data: Path, log_path: Path) -> list[str]:
    """The cells: imports + log helper, (table), the plot, show it, wait for the exact first frame."""
    setup = f"""\
import json, time
import pikaplot_widget as pk

def _log(**record):
    record.update(tag={config!r}, t=time.time())
    with open({str(log_path)!r}, "a") as _f:
        _f.write(json.dumps(record) + "\\n")
"""
    cells = [setup]
    if config == "duckdb":
        cells.append(f"""\
session = pk.Session()
_t = time.perf_counter()
session.connection.execute("CREATE TABLE walk AS SELECT * FROM read_parquet('{data}')")
_log(event="table", seconds=time.perf_counter() - _t)
""")
        source = '"walk", session=session, '
    else:
        source = f"{str(data)!r}, "
    cells.append(f"""\
_t0 = time.perf_counter()
plot = pk.line({source}x="x", y="y", width={WIDTH}, height={HEIGHT})
""")
    cells.append(f"{SHOW}\nplot")
    if TRACE["on"]:
        cells.append(kernel_trace_cell(f"{log_path}.trace"))
    cells.append("""\
plot.to_array(timeout=600)  # the exact first frame (the line index is built)
_exact_s = time.perf_counter() - _t0
plot.controller.wait_idle(600)
_idle_s = time.perf_counter() - _t0

def _on_status(change):
    if change["new"] == "idle":
        _log(event="idle", x_range=list(plot.x_range), stats=plot.stats)

plot.observe(_on_status, names=["status"])
try:
    _gpu = pk.gpu_info()
except Exception as _error:
    _gpu = {"error": repr(_error)}
_log(event="ready", exact_s=_exact_s, idle_s=_idle_s, x_range=list(plot.x_range), stats=plot.stats, gpu=_gpu)
""")
    return cells


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.validate(nb)
    nbformat.write(nb, path)


def analyse(events: list[dict[str, Any]], mark: dict[str, Any]) -> dict[str, Any]:
    """Latencies (ms) of one move from the page's events since `mark` (taken before dispatching).

    Times count from the wheel event's timeStamp in the page (from the mark if none was seen).
    first: the first new JPEG frame loaded; exact: the last one (the kernel was idle and the
    <img> quiet after it, so nothing newer was coming); a JPEG before it is a preview.
    """
    wheels = [e for e in events if e["kind"] == "wheel"]
    t0 = wheels[0]["ts"] if wheels else mark["t0"]
    jpegs = [
        e for e in events if e["kind"] == "load" and e["src"] != mark["src"] and e["type"] == "image/jpeg"
    ]
    others = [
        e for e in events if e["kind"] == "load" and e["src"] != mark["src"] and e["type"] != "image/jpeg"
    ]
    paints = {e["src"]: e["t"] for e in events if e["kind"] == "paint"}
    set_at = {e["src"]: e["t"] for e in events if e["kind"] == "src"}
    statuses = [e for e in events if e["kind"] == "status"]
    idles = [e for e in statuses if e["status"] == "idle"]
    result: dict[str, Any] = {
        "first_ms": None,
        "exact_ms": None,
        "dispatch_ms": t0 - mark["t0"],  # Playwright: page.mouse.wheel call -> the wheel event
        "listener_ms": wheels[0]["t"] - t0 if wheels else None,  # the event -> the page's listener
        "idle_ms": idles[-1]["t"] - t0 if idles else None,
        "previews": max(len(jpegs) - 1, 0),
        "other_frames": [e["type"] for e in others],  # the PNG re-sends
        "statuses": [(round(e["t"] - t0, 1), e["status"]) for e in statuses],
    }
    if jpegs:
        first, exact = jpegs[0], jpegs[-1]
        result.update(
            first_ms=first["t"] - t0,
            exact_ms=exact["t"] - t0,
            first_paint_ms=paints.get(first["src"], float("nan")) - t0,
            exact_paint_ms=paints.get(exact["src"], float("nan")) - t0,
            # whether the exact frame's src was set after the overlay showed "idle"
            exact_after_idle=bool(idles) and set_at.get(exact["src"], -1.0) >= idles[-1]["t"],
        )
    return result


class Run:
    """One configuration: the notebook open in chromium, its plot, the moves."""

    def __init__(self, nb: Notebook, config: str) -> None:
        self.nb, self.config, self.page = nb, config, nb.page
        self.image = nb.plot_image(SHOW)
        self.raw_traces: list[list[dict[str, Any]]] = []
        self.refocused = 0
        self.dialogs = 0

    def kernel_log(self, event: str) -> list[dict[str, Any]]:
        return self.nb.log(self.config, event)

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        """Wait for the notebook's 'ready' line (the exact first frame and the index exist)."""

        def ready() -> dict[str, Any] | None:
            errors = self.nb.errors()
            if errors:
                raise RuntimeError(f"the notebook printed errors:\n{errors[0][-3000:]}")
            records = self.kernel_log("ready")
            return records[-1] if records else None

        return wait_for(ready, timeout, "the notebook's 'ready' log line (first exact frame)", interval=1.0)

    def install(self) -> None:
        self.nb.wait_image_width(SHOW, WIDTH, timeout=120)
        overlay = self.nb.overlay(SHOW)
        overlay.wait_for(state="attached")
        self.page.evaluate(RECORDER_JS, [self.image.element_handle(), overlay.element_handle()])
        self.settle(self.page.evaluate(MARK_JS), quiet=1000, nothing=1500)

    def settle(self, mark: dict[str, Any], quiet: int = QUIET_MS, nothing: int = NO_FRAME_MS) -> None:
        self.page.wait_for_function(
            SETTLED_JS,
            arg={"start": mark["start"], "t0": mark["t0"], "quiet": quiet, "nothing": nothing},
            polling=20,
            timeout=MOVE_TIMEOUT_S * 1000,
        )

    def events_since(self, start: int) -> list[dict[str, Any]]:
        return self.page.evaluate("(start) => window.__pkLatency.events.slice(start)", start)

    def focus(self) -> None:
        if self.page.locator(".jp-Dialog").count():
            self.dialogs += 1
            self.nb.dismiss_dialogs()
        self.image.scroll_into_view_if_needed()
        self.image.click()  # jupyter_rfb only takes wheel events after a pointer-down on the plot

    def move(self, x: float, y: float, dy: float | None) -> dict[str, Any]:
        """One wheel (or, with dy None, a double-click reset) at page point (x, y), timed."""
        self.page.mouse.move(x, y)
        time.sleep(0.05)  # the pointer_move events go out first (20 ms throttle)
        mark = self.page.evaluate(MARK_JS)
        if not mark["focused"]:
            self.refocused += 1
            self.focus()
            self.page.mouse.move(x, y)
            time.sleep(0.05)
            mark = self.page.evaluate(MARK_JS)
        idle_before = len(self.kernel_log("idle"))
        if dy is None:
            self.page.mouse.dblclick(x, y)
        else:
            self.page.mouse.wheel(0, dy)
        self.settle(mark)
        events = self.events_since(mark["start"])
        result = analyse(events, mark)
        if TRACE["on"]:
            result["trace"] = self.trace(events, mark)
        # The overlay's instant preview: wheel event -> the next animation frame after it drew.
        perceived = float(
            self.page.evaluate("() => window.__pkLatency.overlay.dataset.previewLatency || '0'")
        )
        result["perceived_ms"] = perceived if perceived > 0 else None
        idles = self.kernel_log("idle")[idle_before:]
        if idles:
            result["x_range"] = idles[-1]["x_range"]
            stats = idles[-1]["stats"]
            result["kernel_query_ms"] = stats["query_s"] * 1000
            result["kernel_render_ms"] = stats["render_s"] * 1000
        return result

    def trace(self, events: list[dict[str, Any]], mark: dict[str, Any]) -> dict[str, float]:
        """The move's steps from the stamps of both sides (benchmarks/browser_trace.py)."""
        origin = float(self.page.evaluate("() => performance.timeOrigin"))
        wheels = [e for e in events if e["kind"] == "wheel"]
        t_wheel = origin + (wheels[0]["ts"] if wheels else mark["t0"])
        page = [dict(e, t=origin + e["t"]) for e in events if e["kind"] in ("src", "load")]
        page += self.page.evaluate("(t) => window.__pkWs.filter((e) => e.t >= t)", t_wheel - 1)
        page.sort(key=lambda e: e["t"])
        path = Path(f"{self.nb.server.log_path}.trace")
        lines = path.read_text().splitlines() if path.exists() else []
        kernel = [json.loads(line) for line in lines]
        kernel = [k for k in kernel if k["t"] * 1000 >= t_wheel - 1]
        steps = breakdown(kernel, page, t_wheel)
        # the raw stamps (ms from the wheel event) for a closer look in the JSON output
        raw = [dict(e, t=round(e["t"] - t_wheel, 2)) for e in page]
        raw += [dict(k, t=round(k["t"] * 1000 - t_wheel, 2)) for k in kernel]
        self.raw_traces.append(sorted(raw, key=lambda e: e["t"]))
        return steps

    def moves(self, n: int, seed: int, full_span: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rng = np.random.default_rng(seed)
        span = full_span
        moves: list[dict[str, Any]] = []
        resets: list[dict[str, Any]] = []
        self.focus()
        for i in range(n):
            box = self.image.bounding_box()
            if i and i % RESET_EVERY == 0:
                centre = (box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
                reset = self.move(*centre, None)
                resets.append(reset)
                span = _span(reset.get("x_range"), full_span)
                print(f"  reset: first {_fmt(reset['first_ms'])} exact {_fmt(reset['exact_ms'])} ms")
            draw = rng.random()  # drawn every move: every configuration gets the same script
            if span < MIN_SPAN:
                zoom_in = False
            elif span > full_span * 0.9:
                zoom_in = True
            else:
                zoom_in = bool(draw < P_ZOOM_IN)
            magnitude = float(rng.uniform(300, 900))
            dy = -magnitude if zoom_in else magnitude
            x = box["x"] + box["width"] * float(rng.uniform(0.15, 0.95))
            y = box["y"] + box["height"] * float(rng.uniform(0.15, 0.8))
            result = self.move(x, y, dy)
            result.update(i=i, dy=round(dy, 1), x=round(x, 1), y=round(y, 1))
            moves.append(result)
            span = _span(result.get("x_range"), span)
            print(
                f"  {i:3d} {'in ' if zoom_in else 'out'} dy {dy:+5.0f}: first {_fmt(result['first_ms'])} "
                f"exact {_fmt(result['exact_ms'])} ms ({result['previews']} previews, "
                f"idle {_fmt(result['idle_ms'])}, "
                f"kernel query {_fmt(result.get('kernel_query_ms'))} ms), x span {span:,.0f}"
            )
        return moves, resets


class PeerRun(Run):
    """plotly-resampler's FigureWidgetResampler: the same moves, timed with plotly's own events.

    `image` is its plot area (the wheel points are the same fractions of it as of pikaplot's image).
    """

    def __init__(self, nb: Notebook, config: str, matched: bool = False) -> None:
        self.nb, self.config, self.page = nb, config, nb.page
        self.matched = matched
        self.graph = nb.cell(SHOW).locator(f".jp-OutputArea-output {PEER_GRAPH}")
        self.image = nb.cell(SHOW).locator(f".jp-OutputArea-output {PEER_PLOT_AREA}")
        self.refocused = 0
        self.dialogs = 0

    def install(self) -> None:
        def drawn() -> bool:
            ok = self.graph.count() == 1 and self.graph.evaluate(
                "(gd) => !!(gd._fullLayout && gd.data && gd.data[0] && gd.data[0].x && gd.data[0].x.length)"
            )
            if ok:
                self.graph.scroll_into_view_if_needed()
            return bool(ok)

        wait_for(
            drawn,
            120,
            lambda: (
                f"plotly-resampler's graph div with its first points ({self.graph.count()} divs; "
                f"cell errors {self.nb.errors()[:2]}; page console {self.nb.console[-5:]})"
            ),
            interval=0.25,
        )
        self.page.evaluate(PEER_RECORDER_JS, self.graph.element_handle())
        self.settle(self.page.evaluate(PEER_MARK_JS), quiet=1000, nothing=1500)

    def settle(self, mark: dict[str, Any], quiet: int = QUIET_MS, nothing: int = NO_FRAME_MS) -> None:
        self.page.wait_for_function(
            PEER_SETTLED_JS,
            arg={"start": mark["start"], "t0": mark["t0"], "quiet": quiet, "nothing": nothing},
            polling=20,
            timeout=MOVE_TIMEOUT_S * 1000,
        )

    def events_since(self, start: int) -> list[dict[str, Any]]:
        return self.page.evaluate("(start) => window.__prLatency.events.slice(start)", start)

    def focus(self) -> None:
        if self.page.locator(".jp-Dialog").count():
            self.dialogs += 1
            self.nb.dismiss_dialogs()
        self.graph.scroll_into_view_if_needed()  # plotly takes the wheel without a click first

    def move(self, x: float, y: float, dy: float | None) -> dict[str, Any]:
        self.page.mouse.move(x, y)
        time.sleep(0.05)
        mark = self.page.evaluate(PEER_MARK_JS)
        idle_before = len(self.kernel_log("idle"))
        if dy is None:
            self.graph.locator(PEER_RESET).click()
        else:
            for step in peer_wheel_steps(dy) if self.matched else [dy]:
                self.page.mouse.wheel(0, step)
        self.settle(mark)
        result = analyse_peer(self.events_since(mark["start"]), mark)
        idles = self.kernel_log("idle")[idle_before:]
        ranges = [r["x_range"] for r in idles if r.get("x_range")]
        if ranges:
            result["x_range"] = ranges[-1]
        if idles:
            result["kernel_query_ms"] = sum(r["stats"]["query_s"] for r in idles) * 1000
            # Page and kernel clocks (performance.timeOrigin + now vs time.time(), one machine):
            # the first relayout sent -> plotly-resampler's first callback starts; the last callback's
            # end -> the last update drawn.
            origin = self.page.evaluate("() => window.__prLatency.origin")
            if result["relayout_ms"] is not None:
                sent = origin + mark["t0"] + result["dispatch_ms"] + result["relayout_ms"]
                result["to_kernel_ms"] = idles[0]["started"] * 1000 - sent
            if result["exact_ms"] is not None:  # the last update of the move
                arrived = origin + mark["t0"] + result["dispatch_ms"] + result["exact_ms"]
                result["from_kernel_ms"] = arrived - idles[-1]["t"] * 1000
        result["idle_ms"] = result.get("data_ms")
        if dy is None:  # what the reset did in the page and what the kernel got
            result["events"] = self.events_since(mark["start"])
            result["kernel_relayouts"] = self.kernel_log("relayout")[-2:]
        return result


def _span(x_range: list[float] | None, default: float) -> float:
    return x_range[1] - x_range[0] if x_range else default


def _fmt(value: float | None) -> str:
    return f"{value:7.1f}" if value is not None else "      -"


def run_config(
    browser: Any,
    tmp: Path,
    config: str,
    data: Path,
    moves: int,
    seed: int,
    peer_path: Path | None = None,
    peer_wheel: str = "same",
) -> dict:
    """Its own JupyterLab (and kernel): open the notebook, Run All, wait for the first frame, move."""
    root, home = tmp / config / "root", tmp / config / "home"
    root.mkdir(parents=True)
    home.mkdir(parents=True)
    env: dict[str, str] = {}
    if config == PEER and peer_path is not None:  # the peer's packages, for its kernel (and server)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(peer_path), os.environ.get("PYTHONPATH")) if p)
    server = start_lab(root, home, env=env)
    try:
        return _run_notebook(browser, server, config, data, moves, seed, peer_wheel)
    finally:
        server.stop()  # its kernel too


def _run_notebook(
    browser: Any, server: LabServer, config: str, data: Path, moves: int, seed: int, peer_wheel: str = "same"
) -> dict:
    name = f"latency_{config}.ipynb"
    if config == PEER:
        cells = peer_cells(data, server.log_path, WIDTH, HEIGHT, SHOW)
    else:
        cells = notebook_cells(config, data, server.log_path)
    write_notebook(server.root / name, cells)
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    if TRACE["on"] and config != PEER:
        context.add_init_script(WS_TRACE_JS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    nb = Notebook(page, server)
    page.on("pageerror", lambda error: nb.console.append(f"pageerror: {error}"))
    page.on("console", lambda msg: msg.type == "error" and nb.console.append(f"console error: {msg.text}"))
    try:
        started = time.perf_counter()
        open_and_run_all(page, server, name)
        run = PeerRun(nb, config, matched=peer_wheel == "matched") if config == PEER else Run(nb, config)
        ready = run.wait_ready(1800)
        ready_s = time.perf_counter() - started
        tables = nb.log(config, "table")
        loaded = "pyarrow read" if config == PEER else "CREATE TABLE"
        first = "widget built" if config == PEER else "first exact frame"
        print(
            f"\n[{config}] ready {ready_s:.1f} s after Run All"
            + (f" ({loaded} {tables[-1]['seconds']:.1f} s)" if tables else "")
            + f"; kernel: {first} {ready['exact_s']:.1f} s, idle {ready['idle_s']:.1f} s, "
            f"index {ready['stats'].get('index_s', 0.0):.1f} s"
        )
        run.install()
        full_span = _span(ready["x_range"], 1.0)
        move_results, resets = run.moves(moves, seed, full_span)
        idles = nb.log(config, "idle")
        return {
            "ready_after_run_all_s": ready_s,
            "table_s": tables[-1]["seconds"] if tables else None,
            "ready": ready,
            "moves": move_results,
            "resets": resets,
            "final_stats": idles[-1]["stats"] if idles else ready["stats"],
            "refocused": run.refocused,
            "raw_traces": getattr(run, "raw_traces", []),
            "dialogs": run.dialogs + sum(1 for line in nb.console if line.startswith("dismissed dialog")),
            "console_errors": [line for line in nb.console if not line.startswith("dismissed")][:20],
        }
    finally:
        context.close()


def percentiles(values: list[float]) -> tuple[float, float, float]:
    array = np.asarray(values, dtype=float)
    return float(np.percentile(array, 50)), float(np.percentile(array, 95)), float(array.max())


def _p50_p95(moves: list[dict[str, Any]], key: str) -> str:
    values = [m[key] for m in moves if m.get(key) is not None]
    return f"{np.percentile(values, 50):.1f} / {np.percentile(values, 95):.1f}" if values else "-"


def report(results: dict[str, dict]) -> None:
    print(f"\n## wheel -> frame shown in JupyterLab (headless chromium), ms; {WIDTH}x{HEIGHT} plot")
    stats = f"{'p95':>9}{'max':>9}"
    print(
        f"{'configuration':<14}{'N':>4}{'perceived p50':>15}{stats}{'first p50':>11}{stats}"
        f"{'exact p50':>11}{stats}{'no frame':>10}"
    )
    done = {config: result for config, result in results.items() if "moves" in result}
    for config, result in done.items():
        perceived = [m["perceived_ms"] for m in result["moves"] if m.get("perceived_ms") is not None]
        firsts = [m["first_ms"] for m in result["moves"] if m["first_ms"] is not None]
        exacts = [m["exact_ms"] for m in result["moves"] if m["exact_ms"] is not None]
        missing = sum(1 for m in result["moves"] if m["exact_ms"] is None)
        row = f"{config:<14}{len(result['moves']):>4}"
        for values, width in ((perceived, 15), (firsts, 11), (exacts, 11)):
            p50, p95, top = percentiles(values) if values else (float("nan"),) * 3
            row += f"{p50:{width}.1f}{p95:9.1f}{top:9.1f}"
        print(row + f"{missing:>10}")
    compare(done)
    for config, result in done.items():
        moves = result["moves"]
        if config == PEER:
            print(
                f"\n[{config}] p50 / p95 ms: wheel -> plotly's redraw of the old points at the new range "
                f"{_p50_p95(moves, 'client_ms')}, -> relayout sent {_p50_p95(moves, 'relayout_ms')}, "
                f"-> new points arrived {_p50_p95(moves, 'data_ms')}; relayout sent -> kernel callback "
                f"{_p50_p95(moves, 'to_kernel_ms')}, kernel update {_p50_p95(moves, 'kernel_query_ms')}, "
                f"callback end -> new points arrived {_p50_p95(moves, 'from_kernel_ms')}; "
                f"wheel -> listener {_p50_p95(moves, 'listener_ms')}; wheel events per move "
                f"{_p50_p95(moves, 'wheel_events')}, first -> last {_p50_p95(moves, 'wheel_spread_ms')}, "
                f"last -> exact {_p50_p95(moves, 'exact_from_last_wheel_ms')}; "
                f"points drawn {_p50_p95(moves, 'points')}; a new x array drawn in "
                f"{sum(1 for m in moves if m.get('new_points'))}/{len(moves)} moves; "
                f"{result['dialogs']} dialogs"
            )
            if result["console_errors"]:
                print(f"  page errors: {result['console_errors'][:5]}")
            continue
        previews = sum(1 for m in moves if m["previews"])
        before_idle = sum(1 for m in moves if m.get("exact_after_idle") is False)
        print(
            f"\n[{config}] moves with a preview frame first: {previews}; exact frame shown before the "
            f"overlay's 'idle': {before_idle}; refocused {result['refocused']}, dialogs {result['dialogs']}"
        )
        print(
            f"  p50 / p95 ms: kernel query {_p50_p95(moves, 'kernel_query_ms')}, "
            f"render {_p50_p95(moves, 'kernel_render_ms')}, "
            f"wheel -> listener {_p50_p95(moves, 'listener_ms')}, "
            f"wheel -> 'idle' shown {_p50_p95(moves, 'idle_ms')}, "
            f"Playwright wheel call -> wheel event {_p50_p95(moves, 'dispatch_ms')} (not in the table)"
        )
        print(f"  kernel stats at the end: {json.dumps(result['final_stats'])}")
        traced = [m["trace"] for m in moves if m.get("trace")]
        if traced:
            steps = list(dict.fromkeys(k for t in traced for k in t))
            print(
                "  trace p50 / p95 ms: "
                + ", ".join(
                    f"{k} {np.percentile([t[k] for t in traced if k in t], 50):.1f} / "
                    f"{np.percentile([t[k] for t in traced if k in t], 95):.1f}"
                    for k in steps
                )
            )
        if result["console_errors"]:
            print(f"  page errors: {result['console_errors'][:5]}")


def compare(done: dict[str, dict]) -> None:
    """pikaplot's configurations beside the peer's, with the ratio pikaplot / peer of each statistic."""
    peer = done.get(PEER)
    if peer is None or len(done) < 2:
        return
    print(f"\n## pikaplot vs {PEER} (same data, same seeded wheel script), ms; ratio = pikaplot / peer")
    print(f"{'statistic':<18}" + "".join(f"{c:>12}{PEER:>18}{'ratio':>8}" for c in done if c != PEER))
    full = {c: _span(r["ready"].get("x_range"), 1.0) for c, r in done.items()}
    for key, label in (("perceived_ms", "perceived"), ("first_ms", "first"), ("exact_ms", "exact")):
        for q in (50, 95):
            row = f"{label + f' p{q}':<18}"
            theirs = _quantile(peer["moves"], key, q)
            for config, result in done.items():
                if config != PEER:
                    ours = _quantile(result["moves"], key, q)
                    ratio = ours / theirs if theirs > 0 else float("nan")  # nan stays nan
                    row += f"{ours:12.1f}{theirs:18.1f}{ratio:8.2f}"
            print(row)
    row = f"{'view span p50':<18}"
    for config, result in done.items():
        if config != PEER:
            ours = _span_fraction(result["moves"], full[config])
            row += f"{ours:12.2e}{_span_fraction(peer['moves'], full[PEER]):18.2e}{'':8}"
    print(row + "  (x span after the move / full extent)")


def _quantile(moves: list[dict[str, Any]], key: str, q: float) -> float:
    values = [m[key] for m in moves if m.get(key) is not None]
    return float(np.percentile(values, q)) if values else float("nan")


def _span_fraction(moves: list[dict[str, Any]], full: float) -> float:
    spans = [_span(m.get("x_range"), full) / full for m in moves]
    return float(np.median(spans)) if spans else float("nan")


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument(
        "--config", default="parquet,duckdb", help=f"comma-separated, from {','.join(CONFIGS)}"
    )
    parser.add_argument(
        "--peer-path",
        type=Path,
        help="folder put first on the plotly-resampler kernel's PYTHONPATH "
        "(pip install --target DIR plotly-resampler anywidget)",
    )
    parser.add_argument(
        "--peer-wheel",
        choices=("same", "matched"),
        default="same",
        help="same: the peer gets the same wheel events as pikaplot; matched: each is split into "
        "events of <= 20 px that zoom plotly as far as pikaplot (2x per 600 px)",
    )
    parser.add_argument("--data", type=Path, default=DATA, help="Parquet file with sorted x and y columns")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trace", action="store_true", help="stamp each step on both sides (slower)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    configs = [c.strip() for c in args.config.split(",") if c.strip()]
    TRACE["on"] = args.trace
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configuration(s) {sorted(unknown)}; choose from {CONFIGS}")
    data = args.data.resolve()
    if not data.exists():
        parser.error(f"{data} is missing: python benchmarks/datasets.py 1e8")

    from playwright.sync_api import sync_playwright

    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up in logs as they happen
    # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so the finally blocks stop JupyterLab and chromium.
    signal.signal(signal.SIGTERM, lambda signum, frame: _raise_interrupt())
    started = time.perf_counter()
    results: dict[str, dict] = {}
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "data": str(data),
        "moves": args.moves,
        "seed": args.seed,
        "peer_wheel": args.peer_wheel,
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
    }
    with contextlib.suppress(Exception):
        meta["commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    with (
        tempfile.TemporaryDirectory(prefix="pikaplot-latency-", ignore_cleanup_errors=True) as tmp,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        meta["chromium"] = browser.version
        try:
            for config in configs:
                try:
                    results[config] = run_config(
                        browser,
                        Path(tmp),
                        config,
                        data,
                        args.moves,
                        args.seed,
                        args.peer_path,
                        args.peer_wheel,
                    )
                except Exception as error:  # report it, go on with the next configuration
                    message = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:500]}"
                    print(f"\n[{config}] failed: {message}")
                    results[config] = {"error": message}
        finally:
            browser.close()
    total = time.perf_counter() - started
    meta["total_s"] = total
    report(results)
    if not any("moves" in result for result in results.values()):
        print(f"\ntotal {total:.0f} s; every configuration failed: {args.out} left as it was")
        sys.exit(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(f"\ntotal {total:.0f} s; raw latencies in {args.out}")


if __name__ == "__main__":
    main()
