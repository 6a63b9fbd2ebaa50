"""Fault cases: what arrives over the widget's comm (odd content, huge or deep messages, buffers,
state updates from the front end, events after close)."""

from __future__ import annotations

import contextlib
import math
import threading
import time

import numpy as np
import traitlets

import pikaplot_widget as pk
from tests.robustness.checks import (
    LINE,
    assert_same_range,
    assert_y_fits,
    centre,
    comm_message,
    deliver,
    dropped,
    expect_dropped,
    expect_plot_error,
    frame,
    rng,
    send,
    session,
    table,
    wheel,
)
from tests.robustness.registry import case


def _line() -> tuple[pk.Plot, np.ndarray, np.ndarray]:
    s = session()
    x = np.arange(10_000.0)
    y = np.cumsum(rng(50).normal(size=x.size))
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    return plot, x, y


def _quick(plot: pk.Plot, content: object, limit_s: float = 1.0) -> None:
    """Delivering `content` is dropped, counted and handled within `limit_s`."""
    started = time.monotonic()
    expect_dropped(plot, content)
    took = time.monotonic() - started
    assert took < limit_s, f"handling one message took {took:.2f} s"


@case("protocol-content-not-dict")
def content_not_dict() -> None:
    """Message content that is None, a list, a string, a number or bytes: dropped and counted."""
    plot, _, _ = _line()
    for content in (None, [], ["type", "wheel"], "type", "wheel", 42, b"type"):
        expect_dropped(plot, content)
    frame(plot, LINE)


@case("protocol-type-not-string")
def type_not_string() -> None:
    """A "type" that is a number, None, a list or a dict: dropped and counted."""
    plot, _, _ = _line()
    for kind in (42, None, ["wheel"], {"wheel": 1}, 1.5):
        expect_dropped(plot, {"type": kind, "x": 1, "y": 1, "dy": -100})
    frame(plot, LINE)


@case("protocol-unknown-type-via-comm")
def unknown_type_via_comm() -> None:
    """A custom message of unknown type through ipywidgets' comm entry point: dropped, counted."""
    plot, _, _ = _line()
    before = dropped(plot)
    comm_message(plot, {"method": "custom", "content": {"type": "frobnicate", "payload": [1, 2]}})
    comm_message(plot, {"method": "custom", "content": {"type": "wheel", "x": "a", "y": 1, "dy": 1}})
    assert dropped(plot) == before + 2, f"events_dropped {before} -> {dropped(plot)}"
    frame(plot, LINE)


@case("protocol-unknown-method")
def unknown_method() -> None:
    """Comm messages with an unknown method or no content never raise; the plot still draws."""
    plot, _, _ = _line()
    view = plot.x_range
    comm_message(plot, {"method": "bogus"})
    comm_message(plot, {"method": "custom"})
    comm_message(plot, {"method": "request_state"})
    frame(plot, LINE)
    assert plot.x_range == view


@case("protocol-no-type")
def no_type() -> None:
    """Content without a "type" (another library's message) never raises and changes nothing."""
    plot, _, _ = _line()
    view = (plot.x_range, plot.y_range)
    for content in ({}, {"foo": 1}, {"kind": "wheel", "x": 400, "y": 200, "dy": -300}):
        deliver(plot, content)
    frame(plot, LINE)
    assert (plot.x_range, plot.y_range) == view, f"the view moved to {(plot.x_range, plot.y_range)}"


@case("protocol-oversized-strings")
def oversized_strings() -> None:
    """1 MB strings as the type or as a field: dropped, counted, each handled within a second."""
    plot, _, _ = _line()
    _quick(plot, {"type": "x" * 1_000_000})
    _quick(plot, {"type": "wheel", "x": "9" * 1_000_000, "y": 100, "dy": -100})
    _quick(plot, {"type": "resize", "width": "1" * 1_000_000, "height": 300, "ratio": 1})
    frame(plot, LINE)


@case("protocol-deeply-nested")
def deeply_nested() -> None:
    """A field holding a dict nested 50,000 levels deep: dropped, counted, no RecursionError."""
    plot, _, _ = _line()
    nested: dict[str, object] = {}
    node = nested
    for _ in range(50_000):
        child: dict[str, object] = {}
        node["a"] = child
        node = child
    _quick(plot, {"type": "wheel", "x": nested, "y": 100, "dy": -100})
    _quick(plot, {"type": "resize", "width": nested, "height": nested, "ratio": 1})
    frame(plot, LINE)


@case("protocol-binary-buffers")
def binary_buffers() -> None:
    """A valid wheel with binary buffers attached still zooms; a malformed one is still dropped."""
    plot, _, _ = _line()
    before = plot.x_range
    cx, cy = centre(plot)
    buffers: list[object] = [b"\x00" * 1_000_000, memoryview(b"abc"), bytearray(16)]
    event = {"type": "wheel", "x": cx, "y": cy, "dx": 0, "dy": -300, "modifiers": [], "buttons": []}
    count = dropped(plot)
    deliver(plot, event, buffers)
    frame(plot, LINE)
    assert plot.x_range[1] - plot.x_range[0] < (before[1] - before[0]) * 0.8, "the wheel did not zoom"
    assert dropped(plot) == count
    deliver(plot, {"type": "wheel", "x": None}, buffers)
    assert dropped(plot) == count + 1


@case("protocol-extra-fields")
def extra_fields() -> None:
    """A wheel with 1000 unknown extra fields is a valid wheel (zooms, not dropped)."""
    plot, _, _ = _line()
    before, count = plot.x_range, dropped(plot)
    cx, cy = centre(plot)
    extra = {f"field_{i}": [i, {"v": i}] for i in range(1000)}
    wheel(plot, cx, cy, -300, **extra)
    frame(plot, LINE)
    assert plot.x_range[1] - plot.x_range[0] < (before[1] - before[0]) * 0.8
    assert dropped(plot) == count


@case("protocol-close-then-events")
def close_then_events() -> None:
    """A "close" event, then more events: none raise, to_array raises PlotError, close() is idempotent."""
    plot, _, _ = _line()
    threads = threading.active_count()
    deliver(plot, {"type": "close"})
    for event in (
        {"type": "wheel", "x": 400, "y": 200, "dx": 0, "dy": -300, "modifiers": [], "buttons": []},
        {"type": "resize", "width": 300, "height": 200, "pwidth": 300, "pheight": 200, "ratio": 1},
        {"type": "pointer_down", "x": 400, "y": 200, "button": 1, "buttons": [1], "modifiers": []},
        {"type": "pointer_move", "x": 300, "y": 200, "button": 0, "buttons": [1], "modifiers": []},
        {"type": "double_click", "x": 300, "y": 200, "button": 1, "buttons": [], "modifiers": []},
        {"type": "close"},
    ):
        deliver(plot, event)
    expect_plot_error(plot)
    plot.close()
    plot.close()
    expect_plot_error(plot)
    deadline = time.monotonic() + 3
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.05)
    names = sorted(t.name for t in threading.enumerate())
    assert threading.active_count() <= threads, f"{threads} threads before the close, now: {names}"


@case("protocol-update-bad-range")
def update_bad_range() -> None:
    """Front-end state updates with invalid x_range values leave x_range and the frame as they were."""
    plot, x, y = _line()
    view = plot.x_range
    for value in ([math.nan, 1.0], [3.0, 3.0], ["a", "b"], [1.0], None):
        with contextlib.suppress(traitlets.TraitError, ValueError, TypeError):
            comm_message(plot, {"method": "update", "state": {"x_range": value}})
        assert plot.x_range == view, f"update to {value!r} left x_range {plot.x_range}"
        frame(plot, LINE)
        assert plot.x_range == view
    assert_y_fits(plot, x, y)


@case("protocol-update-good-range")
def update_good_range() -> None:
    """A front-end state update with a valid x_range re-queries that view (y fitted)."""
    plot, x, y = _line()
    comm_message(plot, {"method": "update", "state": {"x_range": [1000.0, 2500.0]}})
    frame(plot, LINE)
    assert_same_range(plot.x_range, (1000.0, 2500.0), "x_range")
    assert_y_fits(plot, x, y)


@case("protocol-resize-wheel-interleaved")
def resize_wheel_interleaved() -> None:
    """200 resizes interleaved with wheels: the frame has the last size, the view is finite."""
    plot, x, y = _line()
    sizes = [(300 + (i * 37) % 500, 200 + (i * 53) % 300) for i in range(200)]
    for i, (w, h) in enumerate(sizes):
        send(plot, type="resize", width=w, height=h, pwidth=w, pheight=h, ratio=1)
        send(plot, type="wheel", x=w / 2, y=h / 2, dx=0, dy=-20 if i % 2 else 25, modifiers=[], buttons=[])
    w, h = sizes[-1]
    frame(plot, (h, w))
    lo, hi = plot.x_range
    assert math.isfinite(lo) and lo < hi, plot.x_range
    if ((x >= lo) & (x <= hi)).any():
        assert_y_fits(plot, x, y)


@case("protocol-huge-modifiers")
def huge_modifiers() -> None:
    """A wheel with 100,000 modifier strings is handled within a second and never raises."""
    plot, _, _ = _line()
    cx, cy = centre(plot)
    started = time.monotonic()
    wheel(plot, cx, cy, -100, modifiers=["Meta"] * 100_000, buttons=list(range(100_000)))
    assert time.monotonic() - started < 1.0
    frame(plot, LINE)
