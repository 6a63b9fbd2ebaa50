"""How the series of a line plot look: their colours (category palette or the user's) and line width."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import ImageColor

from .colors import palette

MAX_LINE_WIDTH_PX = 20.0


def parse_color(value: object, where: str) -> tuple[int, int, int]:
    """A CSS colour name or hex string as RGB bytes (ValueError naming `where` otherwise)."""
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a CSS colour name or hex string, got {value!r}")
    try:
        rgb = ImageColor.getrgb(value.strip())
    except ValueError:
        raise ValueError(
            f"{where}: unknown colour {value!r} (use a CSS name like 'tomato' or '#1f77b4')"
        ) from None
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def series_colors(names: Sequence[str], colors: object = None) -> np.ndarray:
    """(len(names), 3) uint8 colours: the category palette, replaced where `colors` says.

    `colors`: None, a list of colours taken in series order and repeated when there are more
    series (as plotly's and matplotlib's colour cycles; extra colours are unused), one colour for
    every series, or a dict series name -> colour (series it leaves out keep the palette's colour).
    """
    out = np.array(palette(len(names))[: len(names)], np.uint8)
    if colors is None:
        return out
    if isinstance(colors, Mapping):
        unknown = [str(k) for k in colors if str(k) not in names]
        if unknown:
            raise ValueError(f"colors names unknown series {unknown}; the series are {list(names)}")
        at = {name: i for i, name in enumerate(names)}
        for key, value in colors.items():
            out[at[str(key)]] = parse_color(value, f"colors[{key!r}]")
        return out
    if isinstance(colors, (list, tuple)):
        if not colors:
            raise ValueError("colors is an empty list; give at least one colour")
        parsed = [parse_color(value, f"colors[{i}]") for i, value in enumerate(colors)]
        for i in range(len(names)):
            out[i] = parsed[i % len(parsed)]
        return out
    if isinstance(colors, str):
        out[:] = parse_color(colors, "colors")
        return out
    raise TypeError(f"colors must be a list of colours or a dict series name -> colour, got {colors!r}")


def checked_line_width(value: object) -> float | None:
    """A line width in CSS pixels, in (0, MAX_LINE_WIDTH_PX] (None: the theme's); any real number,
    numpy numbers included."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"line_width must be a number of CSS pixels, got {value!r}")
    width = float(value)
    if not math.isfinite(width) or not 0 < width <= MAX_LINE_WIDTH_PX:
        raise ValueError(f"line_width must be in (0, {MAX_LINE_WIDTH_PX:g}] CSS pixels, got {value!r}")
    return width
