"""The one colour and size table of the plots (RGBA floats, sizes in CSS pixels)."""

from __future__ import annotations

BACKGROUND = (1.0, 1.0, 1.0, 1.0)
GRID = (0.90, 0.91, 0.93, 1.0)
AXIS = (0.35, 0.37, 0.40, 1.0)
TEXT = (0.15, 0.16, 0.18, 1.0)
MUTED_TEXT = (0.42, 0.44, 0.48, 1.0)
ERROR_TEXT = (0.75, 0.10, 0.10, 1.0)
SERIES = (0.12, 0.40, 0.80, 1.0)
SELECTION = (0.12, 0.40, 0.80, 0.14)  # a line plot's selected x-span
DIMMED = (1.0, 1.0, 1.0, 0.72)  # laid over what a scatter selection leaves out

FONT_PX = 12
TITLE_FONT_PX = 14
LINE_WIDTH_PX = 1.5
MARKER_RADIUS_PX = 2.5
TICK_LENGTH_PX = 4
PAD_PX = 6
MIN_TICK_SPACING_PX = 90


def px(css_px: float, ratio: float) -> int:
    """A size in CSS pixels as whole physical pixels (at least one)."""
    return max(1, round(css_px * ratio))
