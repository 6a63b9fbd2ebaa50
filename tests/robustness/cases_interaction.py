"""Fault cases: malformed wheel and pointer events (handlers never raise; bad input is dropped
and counted in plot.stats["events_dropped"]; the plot keeps drawing correct frames)."""

from __future__ import annotations

import math
import random

import numpy as np

import pikaplot_widget as pk
from tests.robustness.checks import (
    LINE,
    SCATTER,
    assert_same_range,
    assert_y_fits,
    centre,
    deliver,
    dropped,
    expect_dropped,
    frame,
    rng,
    run_threads,
    send,
    series_pixels,
    session,
    table,
    wheel,
)
from tests.robustness.registry import case

NAN, INF = float("nan"), float("inf")


def drawn_line() -> tuple[pk.Plot, np.ndarray, np.ndarray]:
    """A drawn line plot of a 10k-row random walk, and its data."""
    s = session()
    x = np.arange(10_000.0)
    y = np.cumsum(rng(40).normal(size=x.size))
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s)
    frame(plot, LINE)
    return plot, x, y


_MISSING = object()  # a field to leave out


def _wheel_event(**fields: object) -> dict[str, object]:
    """A well-formed wheel event at the plot's middle, with `fields` replaced (or left out)."""
    event: dict[str, object] = {"type": "wheel", "x": 400, "y": 200, "dx": 0, "dy": -100}
    event.update({"modifiers": [], "buttons": [], "timestamp": 0})
    for key, value in fields.items():
        if value is _MISSING:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def expect_all_dropped(events: list[object], kind: str = "line") -> None:
    """Each event is dropped and counted; after each, a correct frame of the same view."""
    if kind == "line":
        plot, x, y = drawn_line()
        shape = LINE
    else:
        plot, x, y = drawn_scatter()
        shape = SCATTER
    view = (plot.x_range, plot.y_range)
    for event in events:
        expect_dropped(plot, event)
        frame(plot, shape)
        assert (plot.x_range, plot.y_range) == view, (
            f"the view moved: {(plot.x_range, plot.y_range)} != {view}"
        )
    if kind == "line":
        assert_y_fits(plot, x, y)


def drawn_scatter() -> tuple[pk.Plot, np.ndarray, np.ndarray]:
    """A drawn scatter plot of 5000 normal points, and its data."""
    s = session()
    g = rng(41)
    x, y = g.normal(size=5000), g.normal(size=5000)
    table(s, "t", x=x, y=y)
    plot = pk.scatter("t", "x", "y", session=s)
    frame(plot, SCATTER)
    return plot, x, y


# ---- wheel -------------------------------------------------------------------------------------
@case("interaction-wheel-missing-fields")
def wheel_missing_fields() -> None:
    """Wheel events without x, y or dy (or with nothing but the type) are dropped."""
    events = [_wheel_event(**{f: _MISSING}) for f in ("x", "y", "dy")]
    expect_all_dropped([*events, {"type": "wheel"}])


@case("interaction-wheel-strings")
def wheel_strings() -> None:
    """Wheel fields that are strings (even numeric-looking ones) are dropped."""
    expect_all_dropped([_wheel_event(x="abc"), _wheel_event(dy="-100"), _wheel_event(y="")])


@case("interaction-wheel-none")
def wheel_none() -> None:
    """Wheel x, y or dy of None are dropped."""
    expect_all_dropped([_wheel_event(**{f: None}) for f in ("x", "y", "dy")])


@case("interaction-wheel-odd-modifiers")
def wheel_odd_modifiers() -> None:
    """modifiers/buttons that are None, a number or a string never raise; the view stays finite."""
    plot, _, _ = drawn_line()
    for fields in ({"modifiers": None}, {"buttons": None}, {"buttons": 5}, {"modifiers": "Shift"}):
        deliver(plot, _wheel_event(**fields))
        frame(plot, LINE)
        lo, hi = plot.x_range
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, plot.x_range


@case("interaction-wheel-nan-inf")
def wheel_nan_inf() -> None:
    """Wheel fields that are NaN or ±inf are dropped."""
    expect_all_dropped(
        [
            _wheel_event(x=NAN),
            _wheel_event(y=INF),
            _wheel_event(dy=NAN),
            _wheel_event(dy=INF),
            _wheel_event(dy=-INF),
        ]
    )


@case("interaction-wheel-lists-dicts")
def wheel_lists_dicts() -> None:
    """Wheel fields that are lists, nested dicts or numbers where lists belong are dropped."""
    expect_all_dropped(
        [
            _wheel_event(x=[1, 2]),
            _wheel_event(dy=[100]),
            _wheel_event(x={"a": {"b": {"c": 1}}}),
            _wheel_event(dy={"value": -100}),
            _wheel_event(modifiers=3.5),
            _wheel_event(modifiers={"Shift": True}),
        ]
    )


@case("interaction-wheel-scatter")
def wheeldrawn_scatter() -> None:
    """The same malformed wheels on a scatter plot (which zooms both axes) are dropped."""
    expect_all_dropped(
        [_wheel_event(x=NAN), _wheel_event(dy="1"), _wheel_event(y=None), {"type": "wheel"}], "scatter"
    )


@case("interaction-wheel-huge-values")
def wheel_huge_values() -> None:
    """Wheel x/dy of ±1e308 never raise and leave a finite, non-empty view."""
    plot, _, _ = drawn_line()
    for event in (
        _wheel_event(x=1e308),
        _wheel_event(dy=1e308),
        _wheel_event(dy=-1e308),
        _wheel_event(y=-1e308),
    ):
        deliver(plot, event)
        frame(plot, LINE)
        lo, hi = plot.x_range
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, plot.x_range
    assert dropped(plot) >= 0


@case("interaction-zoom-in-limit")
def zoom_in_limit() -> None:
    """300 wheel steps in at one point: a finite, non-empty view with y fitted to its rows."""
    plot, x, y = drawn_line()
    cx, cy = centre(plot)
    for _ in range(300):
        wheel(plot, cx, cy, -600)
    frame(plot, LINE)
    lo, hi = plot.x_range
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, plot.x_range
    if ((x >= lo) & (x <= hi)).any():
        assert_y_fits(plot, x, y)


@case("interaction-zoom-out-limit")
def zoom_out_limit() -> None:
    """600 big wheel steps out (a factor of 32 each, past float64's range): the view stays finite."""
    plot, x, y = drawn_line()
    cx, cy = centre(plot)
    for _ in range(600):
        wheel(plot, cx, cy, 3000)
    image = frame(plot, LINE)
    lo, hi = plot.x_range
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, plot.x_range
    assert series_pixels(image) > 0, "the data vanished"
    assert_y_fits(plot, x, y)


# ---- pointer -----------------------------------------------------------------------------------
def _pointer(kind: str, **fields: object) -> dict[str, object]:
    event: dict[str, object] = {"type": kind, "x": 400, "y": 200, "button": 1, "buttons": [1]}
    event.update({"modifiers": [], "timestamp": 0, **fields})
    return event


@case("interaction-pointer-malformed")
def pointer_malformed() -> None:
    """pointer_down/move with missing, None, string or NaN positions are dropped mid-drag."""
    plot, x, y = drawn_line()
    view = plot.x_range
    for event in (_pointer("pointer_down", x=None), _pointer("pointer_down", y="top")):
        expect_dropped(plot, event)
    bare = _pointer("pointer_down")
    del bare["x"]
    expect_dropped(plot, bare)
    send(plot, **_pointer("pointer_down"))
    for bad in (
        _pointer("pointer_move", x=None),
        _pointer("pointer_move", x=NAN),
        _pointer("pointer_move", y=INF),
    ):
        expect_dropped(plot, bad)
    send(plot, **_pointer("pointer_up", buttons=[]))
    frame(plot, LINE)
    assert plot.x_range == view, f"the view moved: {plot.x_range} != {view}"
    assert_y_fits(plot, x, y)


@case("interaction-hover-not-dropped")
def hover_not_dropped() -> None:
    """Well-formed events the plot ignores (hover moves, keys, show/hide) are not counted as dropped."""
    plot, _, _ = drawn_line()
    view, before = plot.x_range, dropped(plot)
    for event in (
        _pointer("pointer_move", buttons=[]),
        _pointer("pointer_enter", buttons=[]),
        {"type": "key_down", "key": "a", "modifiers": [], "timestamp": 0},
        {"type": "key_up", "key": "a", "modifiers": [], "timestamp": 0},
        {"type": "show", "timestamp": 0},
        {"type": "hide", "timestamp": 0},
    ):
        deliver(plot, event)
    frame(plot, LINE)
    assert dropped(plot) == before, f"events_dropped {before} -> {dropped(plot)}"
    assert plot.x_range == view


@case("interaction-drag-far")
def drag_far() -> None:
    """Dragging 6000 px (many widths) shows an empty view; double-click returns to the full extent."""
    plot, x, _ = drawn_line()
    home = plot.x_range
    send(plot, **_pointer("pointer_down"))
    send(plot, **_pointer("pointer_move", x=400 + 6000))
    send(plot, **_pointer("pointer_up", x=400 + 6000, buttons=[]))
    image = frame(plot, LINE)
    lo, hi = plot.x_range
    assert math.isfinite(lo) and math.isfinite(hi) and hi < x.min(), plot.x_range
    assert series_pixels(image) == 0
    send(plot, **_pointer("double_click"))
    frame(plot, LINE)
    assert_same_range(plot.x_range, home, "x_range after double-click")


@case("interaction-drag-huge")
def drag_huge() -> None:
    """A drag to x = ±1e308 never raises and leaves a finite, non-empty view."""
    plot, _, _ = drawn_line()
    for target in (1e308, -1e308):
        send(plot, **_pointer("pointer_down"))
        deliver(plot, _pointer("pointer_move", x=target))
        send(plot, **_pointer("pointer_up", buttons=[]))
        frame(plot, LINE)
        lo, hi = plot.x_range
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, plot.x_range


@case("interaction-events-before-data")
def events_before_data() -> None:
    """Wheel, drag and double-click sent before the first frame never raise; the frame follows."""
    s = session()
    s.connection.execute(
        "CREATE TABLE t AS SELECT i::DOUBLE AS x, sin(i / 100) AS y FROM range(3000000) r(i)"
    )
    plot = pk.line("t", "x", "y", session=s)
    wheel(plot, 400, 200, -300)
    send(plot, **_pointer("pointer_down"))
    send(plot, **_pointer("pointer_move", x=300))
    send(plot, **_pointer("pointer_up", buttons=[]))
    send(plot, **_pointer("double_click"))
    assert series_pixels(frame(plot, LINE, timeout=60)) > 100


@case("interaction-events-from-threads")
def events_from_threads() -> None:
    """4 threads delivering 150 wheel/drag events each: no exception; a finite view, y fitted."""
    plot, x, y = drawn_line()
    cx, cy = centre(plot)

    def storm(seed: int) -> None:
        r = random.Random(seed)
        for _ in range(150):
            if r.random() < 0.8:
                wheel(plot, cx + r.uniform(-100, 100), cy, r.choice((-120, 100)))
            else:
                send(plot, **_pointer("pointer_down"))
                send(plot, **_pointer("pointer_move", x=400 + r.uniform(-50, 50)))
                send(plot, **_pointer("pointer_up", buttons=[]))

    errors = run_threads([lambda i=i: storm(i) for i in range(4)])
    assert not errors, errors[:3]
    frame(plot, LINE)
    lo, hi = plot.x_range
    assert math.isfinite(lo) and lo < hi, plot.x_range
    if ((x >= lo) & (x <= hi)).any():
        assert_y_fits(plot, x, y)
