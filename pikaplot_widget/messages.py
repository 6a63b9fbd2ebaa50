"""Messages from the browser, checked before anything uses them: every field is untrusted.

`parse_event` turns a jupyter_rfb event (or one of the overlay's own messages) into an `Event` with
typed, finite, bounded fields, or returns None for a message that must be dropped (the widget
counts those). Nothing here raises on bad input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

MAX_FRAME_PX = 8192  # physical pixels per side: within every adapter's texture limit
MAX_RATIO = 8.0
MAX_COORDINATE = 1e6  # CSS pixels: pointer positions beyond this are nonsense
MAX_WHEEL_DELTA = 1e4
MAX_MODIFIERS = 8
KNOWN = frozenset(
    {
        "resize", "wheel", "pointer_down", "pointer_move", "pointer_up", "pointer_enter",
        "pointer_leave", "double_click", "key_down", "key_up", "show", "hide", "close",
        "pikaplot_view", "pikaplot_hover", "pikaplot_box", "pikaplot_lasso", "pikaplot_clear_selection",
        "pikaplot_theme",
    }
)  # fmt: skip
POSITIONED = frozenset(
    {"wheel", "pointer_down", "pointer_move", "pointer_up", "double_click", "pikaplot_hover"}
)
KEYS = frozenset({"+", "=", "-", "_", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "r", "R", "Escape"})
BOX_MODES = frozenset({"zoom", "select"})
MAX_REQUEST_ID = 2**31
MAX_LASSO_POINTS = 256
MODIFIER_NAMES = frozenset({"Shift", "Control", "Alt", "Meta"})


@dataclass(frozen=True)
class Event:
    """One checked event. Positions in CSS pixels relative to the plot's top-left corner."""

    kind: str
    x: float = 0.0
    y: float = 0.0
    dx: float = 0.0
    dy: float = 0.0
    button: int = 1
    modifiers: frozenset[str] = frozenset()
    width: int = 0  # resize: physical pixels, clamped to [1, MAX_FRAME_PX]
    height: int = 0
    ratio: float = 1.0
    shown: bool = False  # pikaplot_view: a view was added (True) or removed (False)
    x1: float = 0.0  # pikaplot_box: the corner opposite (x, y)
    y1: float = 0.0
    mode: str = ""  # pikaplot_box: "zoom" or "select"
    key: str = ""  # key_down: one of KEYS (others are ignored, not dropped)
    request: int = 0  # pikaplot_hover: echoed in the answer
    row: bool = False  # pikaplot_hover: also fetch the full row behind a marker
    points: tuple[tuple[float, float], ...] = ()  # pikaplot_lasso: the vertices, CSS pixels
    dark: bool = False  # pikaplot_theme: the notebook's theme is dark


def _number(value: object, limit: float) -> float | None:
    """A finite real within ±limit, else None (bools, strings, NaN, inf, huge values)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    if not math.isfinite(number) or abs(number) > limit:
        return None
    return number


def _modifiers(value: object) -> frozenset[str] | None:
    if value is None:
        return frozenset()
    if not isinstance(value, (list, tuple)) or len(value) > MAX_MODIFIERS:
        return None
    return frozenset(v for v in value if isinstance(v, str) and v in MODIFIER_NAMES)


def _resize(content: Mapping[str, object]) -> Event | None:
    ratio = _number(content.get("ratio", content.get("pixel_ratio", 1.0)), MAX_RATIO)
    if ratio is None or ratio <= 0:
        return None
    sizes = []
    for physical, css in (("pwidth", "width"), ("pheight", "height")):
        value = _number(content.get(physical), 1e12)
        if value is None:
            css_value = _number(content.get(css), 1e12)
            value = None if css_value is None else css_value * ratio
        if value is None:
            return None
        if value < 1:
            return None  # a collapsed or negative size: keep the frame as it is
        sizes.append(int(min(round(value), MAX_FRAME_PX)))
    return Event("resize", width=sizes[0], height=sizes[1], ratio=ratio)


def _box(content: Mapping[str, object]) -> Event | None:
    mode = content.get("mode")
    corners = [_number(content.get(name), MAX_COORDINATE) for name in ("x0", "y0", "x1", "y1")]
    if mode not in BOX_MODES or any(c is None for c in corners):
        return None
    x0, y0, x1, y1 = (float(c) for c in corners if c is not None)
    return Event("pikaplot_box", x0, y0, x1=x1, y1=y1, mode=str(mode))


def _lasso(content: Mapping[str, object]) -> Event | None:
    points = content.get("points")
    if not isinstance(points, list) or not 3 <= len(points) <= MAX_LASSO_POINTS:
        return None
    vertices = []
    for point in points:
        if not isinstance(point, list) or len(point) != 2:
            return None
        x, y = _number(point[0], MAX_COORDINATE), _number(point[1], MAX_COORDINATE)
        if x is None or y is None:
            return None
        vertices.append((x, y))
    return Event("pikaplot_lasso", points=tuple(vertices))


def parse_event(content: object) -> Event | None:
    """The checked event, or None when the message is malformed or of no known type."""
    if not isinstance(content, Mapping):
        return None
    kind = content.get("type", content.get("event_type"))
    if not isinstance(kind, str) or kind not in KNOWN:
        return None
    if kind == "resize":
        return _resize(content)
    if kind == "pikaplot_view":
        shown = content.get("shown")
        return Event(kind, shown=shown) if isinstance(shown, bool) else None
    if kind == "pikaplot_theme":
        dark = content.get("dark")
        return Event(kind, dark=dark) if isinstance(dark, bool) else None
    if kind == "pikaplot_box":
        return _box(content)
    if kind == "pikaplot_lasso":
        return _lasso(content)
    if kind == "key_down":
        key = content.get("key")
        return Event(kind, key=key if isinstance(key, str) and key in KEYS else "")
    if kind not in POSITIONED:
        return Event(kind)
    x, y = _number(content.get("x"), MAX_COORDINATE), _number(content.get("y"), MAX_COORDINATE)
    modifiers = _modifiers(content.get("modifiers"))
    if x is None or y is None or modifiers is None:
        return None
    button = _number(content.get("button", 1), 64)
    if button is None:
        return None
    if kind == "pikaplot_hover":
        request, row = _number(content.get("id", 0), MAX_REQUEST_ID), content.get("row", False)
        if request is None or not isinstance(row, bool):
            return None
        return Event(kind, x, y, request=int(request), row=row)
    if kind == "wheel":
        dx = _number(content.get("dx", 0.0), MAX_WHEEL_DELTA)
        dy = _number(content.get("dy"), MAX_WHEEL_DELTA)  # required: a wheel without it is malformed
        if dx is None or dy is None:
            return None
        return Event(kind, x, y, dx, dy, int(button), modifiers)
    return Event(kind, x, y, button=int(button), modifiers=modifiers)
