"""The plotly-resampler side of benchmarks/browser_latency.py: its notebook cells and page probes.

The peer notebook reads the x/y columns of the same Parquet file with pyarrow into numpy, in the
kernel, and shows `FigureWidgetResampler(go.Figure())` with `add_trace(go.Scattergl(mode="lines"),
hf_x=x, hf_y=y)` (its documented way for big data; its defaults: 1000 shown samples, MinMaxLTTB)
at the same 800x400 size, with plotly's `scrollZoom` turned on (plotly ignores the wheel on
cartesian plots otherwise). A subclass only adds a log line
after each of plotly-resampler's own update callbacks (x range and compute time), like pikaplot's
kernel log. Nothing else differs from a user's notebook.

What happens on a wheel event (plotly.js 3 in plotly 6's anywidget FigureWidget): plotly scales the
drawn plot at once (`plotly_relayouting`), redraws the old points at the new range 50 ms later
(`plotly_relayout` + `plotly_afterplot`), and sends the relayout to the kernel; plotly-resampler
answers with new points for the view, which plotly draws with `Plotly.restyle`/`Plotly.update`
(`plotly_restyle`/`plotly_update`, then `plotly_afterplot`). The page probe records every one of these
with performance.now() and whether the trace's x array is a new object at each afterplot (it is only
when data came back from the kernel: a client-side zoom keeps the old array). The reset is plotly's
"Reset axes" button, which plotly-resampler answers with the full view's points.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

PEER = "plotly-resampler"
PEER_PLOT_AREA = ".js-plotly-plot .draglayer .nsewdrag"  # the xy plot area: wheel points go here
PEER_GRAPH = ".js-plotly-plot"
# The reset: plotly's "Reset axes" button. A double-click only autoranges over the points shown
# (plotly-resampler sends nothing new for it, so the view stays where it was).
PEER_RESET = '.modebar-btn[data-title="Reset axes"]'


def peer_cells(data: Path, log_path: Path, width: int, height: int, show_marker: str) -> list[str]:
    """Imports + log helper, read the columns, build the widget, show it, log 'ready'."""
    setup = f"""\
import json, time
import numpy as np
import pyarrow.parquet as pq
import plotly.graph_objects as go
import plotly_resampler
from plotly_resampler import FigureWidgetResampler

def _log(**record):
    record.update(tag={PEER!r}, t=time.time())
    with open({str(log_path)!r}, "a") as _f:
        _f.write(json.dumps(record) + "\\n")
"""
    load = f"""\
_t = time.perf_counter()
_table = pq.read_table({str(data)!r}, columns=["x", "y"])
x = _table.column("x").to_numpy()
y = _table.column("y").to_numpy()
del _table
_log(event="table", seconds=time.perf_counter() - _t, rows=len(x))
"""
    build = f"""\
class _LoggedResampler(FigureWidgetResampler):
    \"\"\"FigureWidgetResampler + one log line after each of its update callbacks (timing only).\"\"\"

    def _logged(self, update, layout, values, force_update, reset=False):
        _started, _t = time.time(), time.perf_counter()
        update(layout, *values, force_update=force_update)
        _range = None if reset else self.layout.xaxis.range  # after a reset: autorange, stale range
        _log(event="idle", x_range=list(_range) if _range else None, started=_started,
             stats={{"query_s": time.perf_counter() - _t, "render_s": 0.0}})

    def _update_x_ranges(self, layout, *x_ranges, force_update=False):
        self._logged(super()._update_x_ranges, layout, x_ranges, force_update)

    def _update_spike_ranges(self, layout, *showspikes, force_update=False):
        self._logged(super()._update_spike_ranges, layout, showspikes, force_update, reset=True)

_t0 = time.perf_counter()
plot = _LoggedResampler(go.Figure(layout=dict(width={width}, height={height})))
plot.add_trace(go.Scattergl(mode="lines"), hf_x=x, hf_y=y)  # its way for big data: no full copy in the figure
plot._config = {{"scrollZoom": True}}
plot.observe(lambda change: change["new"] and _log(event="relayout", data=change["new"]),
             names=["_js2py_relayout"])
_build_s = time.perf_counter() - _t0
"""
    show = f"{show_marker}\nplot"
    ready = """\
_log(event="ready", exact_s=_build_s, idle_s=time.perf_counter() - _t0, x_range=[float(x[0]), float(x[-1])],
     stats={"index_s": 0.0, "version": plotly_resampler.__version__,
            "n_shown_samples": plot._global_n_shown_samples})
"""
    return [setup, load, build, show, ready]


# Installed on the plotly graph div: wheel/dblclick (capture), plotly's events, animation frames.
PEER_RECORDER_JS = """
(gd) => {
  const rec = { events: [], gd, origin: performance.timeOrigin };
  rec.lastX = gd.data && gd.data[0] && gd.data[0].x;
  window.__prLatency = rec;
  const now = () => performance.now();
  const push = (kind, extra) => {
    const e = Object.assign({ kind, t: now() }, extra || {});
    rec.events.push(e);
    return e;
  };
  gd.addEventListener('wheel', (ev) => push('wheel', { ts: ev.timeStamp }), { capture: true });
  gd.addEventListener('click', (ev) => {
    if (ev.target.closest && ev.target.closest('.modebar-btn')) push('wheel', { ts: ev.timeStamp });
  }, { capture: true });
  gd.on('plotly_relayouting', () => {
    push('relayouting');
    requestAnimationFrame(() => push('relayouting_paint'));
  });
  gd.on('plotly_relayout', () => push('relayout'));
  const data = (via) => {
    const e = push('data', { via });
    requestAnimationFrame(() => push('paint', { of: rec.events.indexOf(e) }));
  };
  gd.on('plotly_restyle', () => data('restyle'));
  gd.on('plotly_update', () => data('update'));
  gd.on('plotly_afterplot', () => {
    const x = gd.data && gd.data[0] && gd.data[0].x;
    push('afterplot', { newData: x !== rec.lastX, points: x ? x.length : 0 });
    rec.lastX = x;
  });
}
"""

PEER_MARK_JS = "() => ({ t0: performance.now(), start: window.__prLatency.events.length })"

# True once the move that started at t0 is over: the kernel's update drawn and nothing for `quiet`
# ms, or no update for `nothing` ms.
PEER_SETTLED_JS = """
({ start, t0, quiet, nothing }) => {
  const events = window.__prLatency.events.slice(start).filter((e) => e.kind !== 'wheel');
  const t = performance.now();
  if (!events.some((e) => e.kind === 'data')) return t - t0 > nothing;
  return t - events[events.length - 1].t > quiet;
}
"""


PLOTLY_WHEEL_CLAMP = 20.0  # plotly.js: each wheel event zooms by exp(clamp(deltaY, +-20) / 200)
PIKAPLOT_WHEEL_PX_PER_DOUBLING = 600.0  # pikaplot: the span scales by 2 ** (dy / 600)


def peer_wheel_steps(dy: float) -> list[float]:
    """Equal wheel deltas, each within plotly's clamp, that zoom plotly as far as `dy` zooms pikaplot."""
    total = 200.0 * math.log(2.0) * abs(dy) / PIKAPLOT_WHEEL_PX_PER_DOUBLING  # sum of plotly deltas
    count = max(1, math.ceil(total / PLOTLY_WHEEL_CLAMP - 1e-9))
    return [math.copysign(total / count, dy)] * count


def analyse_peer(events: list[dict[str, Any]], mark: dict[str, Any]) -> dict[str, Any]:
    """Latencies (ms) of one peer move, from the wheel event's timeStamp (or the reset's click).

    perceived: the next animation frame after plotly's synchronous client-side zoom
    (`plotly_relayouting`); client: plotly's redraw of the old points at the new range;
    first / exact: the first / last `plotly_update`/`plotly_restyle` (only the kernel's updates
    cause them here; plotly emits them once the new points are drawn), *_paint the animation
    frame after it; new_points: whether an afterplot drew a new x array.
    """
    wheels = [e for e in events if e["kind"] == "wheel"]
    t0 = wheels[0]["ts"] if wheels else mark["t0"]
    after = events[events.index(wheels[0]) + 1 :] if wheels else events

    def paint_of(event: dict[str, Any]) -> float | None:
        index = events.index(event) + mark["start"]
        return next((e["t"] - t0 for e in events if e["kind"] == "paint" and e["of"] == index), None)

    datas = [e for e in after if e["kind"] == "data"]
    old = [
        e
        for e in after
        if e["kind"] == "afterplot" and not e["newData"] and (not datas or e["t"] < datas[0]["t"])
    ]
    relayouting = [e for e in after if e["kind"] == "relayouting_paint"]
    relayouts = [e for e in after if e["kind"] == "relayout"]
    new = [e for e in after if e["kind"] == "afterplot" and e["newData"]]
    result: dict[str, Any] = {
        "first_ms": datas[0]["t"] - t0 if datas else None,
        "exact_ms": datas[-1]["t"] - t0 if datas else None,
        "first_paint_ms": paint_of(datas[0]) if datas else None,
        "exact_paint_ms": paint_of(datas[-1]) if datas else None,
        "perceived_ms": relayouting[0]["t"] - t0 if relayouting else None,
        "client_ms": old[0]["t"] - t0 if old else None,
        "relayout_ms": relayouts[0]["t"] - t0 if relayouts else None,  # the relayout goes to the kernel
        "data_ms": datas[0]["t"] - t0 if datas else None,
        "dispatch_ms": t0 - mark["t0"],
        "listener_ms": wheels[0]["t"] - t0 if wheels else None,
        "wheel_events": len(wheels),
        "wheel_spread_ms": wheels[-1]["ts"] - t0 if wheels else None,  # first -> last wheel event
        "previews": max(len(datas) - 1, 0),
        "new_points": bool(new),
        "points": new[-1]["points"] if new else None,
        "via": [e["via"] for e in datas],
    }
    if datas and wheels:  # with --peer-wheel matched: from the last of the move's wheel events
        result["exact_from_last_wheel_ms"] = datas[-1]["t"] - wheels[-1]["ts"]
    return result
