"""The one colour and size table of the plots (RGBA floats, sizes in CSS pixels).

Colours live in a `Theme` value (`LIGHT`, `DARK`) that layouts, legends and painters receive;
sizes are the same in every theme.
"""

from __future__ import annotations

from dataclasses import dataclass

Color = tuple[float, float, float, float]

THEME_CHOICES = ("auto", "light", "dark")


@dataclass(frozen=True)
class Theme:
    """Every colour a frame uses."""

    name: str
    background: Color
    grid: Color
    axis: Color
    text: Color
    muted_text: Color
    error_text: Color
    series: Color
    selection: Color  # a line plot's selected x-span
    dimmed: Color  # laid over what a scatter selection leaves out

    @property
    def dark(self) -> bool:
        """Whether text is light on a dark background."""
        return sum(self.background[:3]) < 1.5

    def css(self, color: Color) -> str:
        """A colour as CSS hex (for the front end)."""
        return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in color[:3])


LIGHT = Theme(
    name="light",
    background=(1.0, 1.0, 1.0, 1.0),
    grid=(0.90, 0.91, 0.93, 1.0),
    axis=(0.35, 0.37, 0.40, 1.0),
    text=(0.15, 0.16, 0.18, 1.0),
    muted_text=(0.42, 0.44, 0.48, 1.0),
    error_text=(0.75, 0.10, 0.10, 1.0),
    series=(0.12, 0.40, 0.80, 1.0),
    selection=(0.12, 0.40, 0.80, 0.14),
    dimmed=(1.0, 1.0, 1.0, 0.72),
)

DARK = Theme(
    name="dark",
    background=(0.07, 0.07, 0.08, 1.0),  # JupyterLab's dark --jp-layout-color0 is #111
    grid=(0.19, 0.20, 0.22, 1.0),
    axis=(0.60, 0.62, 0.66, 1.0),
    text=(0.87, 0.88, 0.90, 1.0),
    muted_text=(0.62, 0.64, 0.68, 1.0),
    error_text=(1.0, 0.47, 0.44, 1.0),
    series=(0.36, 0.62, 1.0, 1.0),
    selection=(0.36, 0.62, 1.0, 0.20),
    dimmed=(0.07, 0.07, 0.08, 0.72),
)

THEMES = {"light": LIGHT, "dark": DARK}


def checked_theme(theme: object) -> str:
    """The theme choice ("auto", "light" or "dark"), or ValueError naming the argument."""
    if not isinstance(theme, str) or theme not in THEME_CHOICES:
        raise ValueError(f"theme must be one of {', '.join(map(repr, THEME_CHOICES))}, got {theme!r}")
    return theme


def resolve_theme(choice: str, front_end_dark: bool | None) -> Theme:
    """The theme drawn for a choice; "auto" follows the front end (light without one)."""
    if choice == "auto":
        return DARK if front_end_dark else LIGHT
    return THEMES[choice]


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
