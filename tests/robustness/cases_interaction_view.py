"""Fault cases: resizes (clamped, or dropped when malformed) and ranges set from Python or at
construction (invalid ones raise and leave the old value)."""

from __future__ import annotations

import numpy as np

import pikaplot_widget as pk
from tests.robustness.cases_interaction import drawn_line, expect_all_dropped
from tests.robustness.checks import (
    LINE,
    MAX_SIDE,
    RANGE_ERRORS,
    assert_same_range,
    assert_y_fits,
    centre,
    deliver,
    frame,
    raises,
    rng,
    send,
    session,
    table,
    wheel,
)
from tests.robustness.registry import case

NAN, INF = float("nan"), float("inf")


# ---- resize ------------------------------------------------------------------------------------
def _resize(width: object, height: object, ratio: object = 1.0, **fields: object) -> dict[str, object]:
    event: dict[str, object] = {"type": "resize", "width": width, "height": height, "ratio": ratio}
    if isinstance(width, (int, float)) and isinstance(ratio, (int, float)) and not isinstance(width, bool):
        event["pwidth"] = width * ratio
    if isinstance(height, (int, float)) and isinstance(ratio, (int, float)) and not isinstance(height, bool):
        event["pheight"] = height * ratio
    event.update({"timestamp": 0, **fields})
    return event


@case("interaction-resize-valid")
def resize_valid() -> None:
    """A resize at ratio 2 renders at physical size; the wheel then zooms about the pointer."""
    plot, _, _ = drawn_line()
    send(plot, **_resize(400, 300, 2.0))
    frame(plot, (600, 800), scale=2.0)  # the browser's frame
    frame(plot, (300, 400))  # the CSS size, drawn again
    before = plot.x_range
    cx, cy = centre(plot)
    wheel(plot, cx, cy, -300)
    frame(plot, (600, 800), scale=2.0)
    assert plot.x_range[1] - plot.x_range[0] < (before[1] - before[0]) * 0.8


@case("interaction-resize-huge", timeout=90)
def resize_huge() -> None:
    """A resize to 1e9 x 1e9 is clamped to 8192 physical pixels per side; back to small works."""
    plot, _, _ = drawn_line()
    deliver(plot, _resize(1e9, 1e9))
    image = frame(plot, timeout=60)
    assert image.shape[:2] == (MAX_SIDE, MAX_SIDE), f"frame is {image.shape[:2]}"
    del image
    send(plot, **_resize(400, 300))
    frame(plot, (300, 400))


@case("interaction-resize-zero-negative")
def resize_zero_negative() -> None:
    """Resizes to 0x0 or negative sizes are dropped: the frame keeps its size."""
    expect_all_dropped([_resize(0, 0), _resize(-100, -50), _resize(400, 0), _resize(-1, 300)])


@case("interaction-resize-bad-ratio")
def resize_bad_ratio() -> None:
    """Resizes with a NaN, zero, negative, infinite or string pixel ratio are dropped."""
    events = [_resize(400, 300, r) for r in (NAN, 0.0, -1.0, INF)]
    events.append({"type": "resize", "width": 400, "height": 300, "ratio": "2", "timestamp": 0})
    expect_all_dropped(events)


@case("interaction-resize-malformed")
def resize_malformed() -> None:
    """Resizes without sizes, or with NaN, None, string or list sizes, are dropped."""
    expect_all_dropped(
        [
            {"type": "resize"},
            _resize(NAN, 300),
            {"type": "resize", "width": None, "height": None, "ratio": 1},
            {"type": "resize", "width": "400", "height": "300", "ratio": 1},
            {"type": "resize", "width": [400], "height": {"h": 3}, "ratio": 1},
        ]
    )


@case("interaction-unknown-types")
def unknown_types() -> None:
    """Events of unknown or empty type are dropped and counted."""
    expect_all_dropped([{"type": "frobnicate"}, {"type": ""}, {"type": "WHEEL", "x": 1, "y": 1, "dy": -100}])


# ---- ranges set from Python --------------------------------------------------------------------
BAD_RANGES: tuple[object, ...] = (
    (NAN, 1.0),
    (1.0, NAN),
    (5.0, 5.0),
    (1.0, 0.0),
    ("a", "b"),
    (-INF, 1.0),
    (0.0, INF),
    (1.0, 2.0, 3.0),
    None,
)


def _bad_ranges(name: str) -> None:
    plot, x, y = drawn_line()
    before = getattr(plot, name)
    for value in BAD_RANGES:
        try:
            setattr(plot, name, value)
        except RANGE_ERRORS:
            pass
        else:
            raise AssertionError(f"{name} = {value!r} was accepted (now {getattr(plot, name)})")
        assert getattr(plot, name) == before, f"{name} = {value!r} left {getattr(plot, name)} (was {before})"
        frame(plot, LINE)
        assert getattr(plot, name) == before, f"after {value!r} the frame shows {name} {getattr(plot, name)}"
    plot.x_range = (1000.0, 2000.0)  # a valid range still works afterwards
    frame(plot, LINE)
    assert_same_range(plot.x_range, (1000.0, 2000.0), "x_range")
    assert_y_fits(plot, x, y)


@case("interaction-set-x-range-invalid")
def set_x_range_invalid() -> None:
    """x_range = (nan, 1), (5, 5), (1, 0), ("a", "b"), inf, 3 values, None: raises, keeps the old value."""
    _bad_ranges("x_range")


@case("interaction-set-y-range-invalid")
def set_y_range_invalid() -> None:
    """The same invalid values for y_range: raises, keeps the old value."""
    _bad_ranges("y_range")


@case("interaction-set-range-constructor")
def set_range_constructor() -> None:
    """pk.line(..., x_range=bad) raises ValueError at construction."""
    s = session()
    table(s, "t", x=np.arange(100.0), y=np.arange(100.0))
    for bad in ((NAN, 1.0), (2.0, 2.0), ("a", "b")):
        with raises(*RANGE_ERRORS, TypeError):
            pk.line("t", "x", "y", session=s, x_range=bad)  # type: ignore[arg-type]


@case("interaction-constructor-range")
def constructor_range() -> None:
    """x_range given at construction is the first view; y is fitted to its rows."""
    s = session()
    x = np.arange(10_000.0)
    y = np.cumsum(rng(42).normal(size=x.size))
    table(s, "t", x=x, y=y)
    plot = pk.line("t", "x", "y", session=s, x_range=(2000.0, 3000.0))
    frame(plot, LINE)
    assert_same_range(plot.x_range, (2000.0, 3000.0), "x_range")
    assert_y_fits(plot, x, y)
