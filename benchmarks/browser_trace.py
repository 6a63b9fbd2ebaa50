"""Where a wheel -> exact frame round trip goes (benchmarks/browser_latency.py --trace).

Both sides stamp wall-clock times (the kernel `time.time()`, the page `performance.timeOrigin +
performance.now()`; one machine, so one clock):

- page: the wheel event, each websocket message sent (a comm message: the wheel leaving
  jupyter_rfb's 20 ms throttle) and received (the frame's binary message among them), the <img>'s
  src set and load (already recorded by browser_latency's recorder);
- kernel: the wheel message handled, the worker's exact frame ready (worker thread), jupyter_rfb's
  request_draw / maybe-draw (frames in flight) / send (JPEG encode + comm send) on the loop, and the
  browser's frame feedback arriving.

`breakdown()` turns one move's stamps into consecutive steps (ms).
"""

from __future__ import annotations

from typing import Any

# Page side, before any page script runs: every websocket message with its time and size.
WS_TRACE_JS = """
(() => {
  const origin = performance.timeOrigin;
  const log = (window.__pkWs = []);
  const size = (data) => (typeof data === 'string' ? data.length : (data.byteLength ?? data.size ?? 0));
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const t = origin + performance.now();
    log.push({ kind: 'ws_out', t, size: size(data), binary: typeof data !== 'string' });
    if (log.length > 20000) log.splice(0, 10000);
    return send.call(this, data);
  };
  const add = WebSocket.prototype.addEventListener;
  const stamp = (ev) => log.push({ kind: 'ws_in', t: origin + performance.now(), size: size(ev.data),
                                   binary: typeof ev.data !== 'string' });
  const hooked = new WeakSet();
  const hook = (ws) => { if (!hooked.has(ws)) { hooked.add(ws); add.call(ws, 'message', stamp, true) } };
  WebSocket.prototype.addEventListener = function (type, ...rest) {
    if (type === 'message') hook(this);
    return add.call(this, type, ...rest);
  };
  const desc = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {
    configurable: true,
    get () { return desc.get.call(this) },
    set (fn) { hook(this); desc.set.call(this, fn) }
  });
})()
"""

# Kernel side: a cell run after the plot exists (names `plot` and `_log` from the notebook).
KERNEL_TRACE_CELL = """\
import json as _json, time as _time, threading as _threading
_trace_lock = _threading.Lock()
_trace_file = open(TRACE_PATH, "a", buffering=1)
def _stamp(kind, **extra):
    record = dict(kind=kind, t=_time.time(), thread=_threading.current_thread().name, **extra)
    with _trace_lock:
        _trace_file.write(_json.dumps(record) + "\\n")

def _wrap(name, before=None, after=None):
    inner = getattr(plot, name)
    def wrapped(*args, **kwargs):
        if before: before(*args)
        out = inner(*args, **kwargs)
        if after: after(*args)
        return out
    setattr(plot, name, wrapped)

def _msg(widget, content, buffers):
    if isinstance(content, dict) and content.get("type") in ("wheel", "double_click"):
        _stamp("k_msg", type=content.get("type"))
plot._msg_callbacks.callbacks.insert(0, _msg)  # before the plot's own handler
_worker = plot.controller
_on_frame = _worker.on_frame
def _frame_ready(frame, exact):
    _stamp("k_frame_ready", exact=bool(exact))
    _on_frame(frame, exact)
_worker.on_frame = _frame_ready
_wrap("request_draw", before=lambda: _stamp("k_request_draw", requested=plot._rfb_draw_requested))
def _maybe():
    _stamp("k_maybe_draw", requested=plot._rfb_draw_requested,
           in_flight=plot._rfb_frame_index - plot._frame_feedback.get("index", 0))
_wrap("_rfb_maybe_draw", before=_maybe)
_wrap("_rfb_send_frame", before=lambda array, lossless=False: _stamp("k_send_start", lossless=bool(lossless)),
      after=lambda array, lossless=False: _stamp("k_send_end", lossless=bool(lossless)))
_comm_send = plot.comm.send
def _traced_send(data=None, metadata=None, buffers=None):
    content = data or {}
    state = content.get("state") or {}
    custom = str((content.get("content") or {}).get("type", ""))
    what = content.get("method", "") + ":" + ",".join(sorted(state) or [custom])
    _stamp("k_comm", what=what, bytes=sum(len(b) for b in buffers or []))
    return _comm_send(data=data, metadata=metadata, buffers=buffers)
plot.comm.send = _traced_send
plot.observe(lambda change: _stamp("k_feedback", index=change["new"].get("index")), names=["_frame_feedback"])
plot.observe(lambda change: change["new"] == "idle" and _stamp("k_idle"), names=["status"])
"""


def kernel_trace_cell(path: str) -> str:
    """The kernel's cell, stamping into the JSON-lines file `path`."""
    return KERNEL_TRACE_CELL.replace("TRACE_PATH", repr(path))


def breakdown(kernel: list[dict[str, Any]], page: list[dict[str, Any]], t_wheel: float) -> dict[str, float]:
    """Consecutive steps of one move (ms), from the page's wheel time (wall clock, ms).

    wheel -> ws out (throttle) -> kernel msg -> frame ready (query + render) -> request_draw on
    the loop -> send start (jupyter_rfb's scheduling) -> send end (JPEG + comm) -> ws in (iopub,
    server, websocket) -> src set (anywidget + rAF) -> load (decode).
    """

    def first(items: list[dict[str, Any]], kind: str, after: float, **match: Any) -> float | None:
        for item in items:
            matches = all(item.get(k) == v for k, v in match.items())
            if item["kind"] == kind and item["t"] >= after and matches:
                return float(item["t"])
        return None

    def last(items: list[dict[str, Any]], kind: str, **match: Any) -> float | None:
        found = [i["t"] for i in items if i["kind"] == kind and all(i.get(k) == v for k, v in match.items())]
        return float(found[-1]) if found else None

    k = [dict(item, t=item["t"] * 1000.0) for item in kernel]
    out: dict[str, float] = {}
    ws_out = first(page, "ws_out", t_wheel)
    msg = first(k, "k_msg", t_wheel)
    ready = last(k, "k_frame_ready", exact=True)
    if ready is None:
        return out
    draw = first(k, "k_request_draw", ready)
    sends = [i for i in k if i["kind"] == "k_send_start" and i["t"] >= ready and not i.get("lossless")]
    start = float(sends[0]["t"]) if sends else None
    end = first(k, "k_send_end", start) if start is not None else None
    # the frame's message: the first big binary message in after the send began
    ws_in = None
    if start is not None:
        for item in page:
            if item["kind"] == "ws_in" and item["t"] >= start and item["binary"] and item["size"] > 4000:
                ws_in = float(item["t"])
                break
    src = first(page, "src", ws_in) if ws_in is not None else None
    load = first(page, "load", src) if src is not None else None
    chain = [("throttle", t_wheel, ws_out), ("to_kernel", ws_out, msg), ("query_render", msg, ready),
             ("to_loop", ready, draw), ("rfb_schedule", draw, start), ("encode_send", start, end),
             ("to_page", end, ws_in), ("to_src", ws_in, src), ("decode", src, load)]  # fmt: skip
    for name, a, b in chain:
        if a is not None and b is not None:
            out[name] = b - a
    out["maybe_draws"] = float(sum(1 for i in k if i["kind"] == "k_maybe_draw" and i["t"] >= ready))
    blocked = [i for i in k if i["kind"] == "k_maybe_draw" and i["t"] >= ready and i["in_flight"] >= 2]
    out["blocked_by_in_flight"] = float(len(blocked))
    return out
