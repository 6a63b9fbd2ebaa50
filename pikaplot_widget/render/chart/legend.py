"""What the colours mean, right of the plot area: a colour bar or a list of categories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import theme
from ..layers.base import Layer
from ..layers.image import ImageLayer
from ..layers.shapes import RectLayer
from ..layers.text import TextLayer
from ..text import GlyphAtlas
from ..theme import LIGHT, Theme

BAR_WIDTH_PX = 12
SWATCH_PX = 10
MAX_NAME_CHARS = 22


@dataclass(frozen=True)
class ColorBar:
    """A continuous colour map with (position in [0, 1], label) ticks, low at the bottom."""

    table: np.ndarray  # (256, 4) uint8
    ticks: tuple[tuple[float, str], ...]
    title: str = ""


@dataclass(frozen=True)
class CategoryLegend:
    """One swatch and name per category, in drawing order."""

    names: tuple[str, ...]
    colors: np.ndarray  # (len(names), 3) uint8
    title: str = ""
    hidden: tuple[bool, ...] = ()  # entries switched off (drawn muted, no swatch colour)


Legend = ColorBar | CategoryLegend


def _short(name: str) -> str:
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def legend_width(legend: Legend, font: GlyphAtlas, ratio: float) -> int:
    """Pixels the legend needs right of the plot area."""
    pad = theme.px(theme.PAD_PX, ratio)
    title = font.measure(legend.title) if legend.title else 0.0
    if isinstance(legend, ColorBar):
        labels = max((font.measure(label) for _, label in legend.ticks), default=0.0)
        body = theme.px(BAR_WIDTH_PX, ratio) + theme.px(theme.TICK_LENGTH_PX, ratio) + pad // 2 + labels
    else:
        names = max((font.measure(_short(n)) for n in legend.names), default=0.0)
        body = theme.px(SWATCH_PX, ratio) + pad + names
    return int(2 * pad + max(body, title) + pad)


def legend_layers(
    legend: Legend, left: int, top: int, bottom: int, font: GlyphAtlas, ratio: float, look: Theme = LIGHT
) -> list[Layer]:
    """Layers drawing the legend in the column starting at x = `left`, from `top` to `bottom`."""
    pad = theme.px(theme.PAD_PX, ratio)
    x = left + 2 * pad
    text = TextLayer(font)
    y = top
    if legend.title:
        text.add(legend.title, x, y, look.text, "left", "top")
        y += font.line_height + (font.line_height // 2 if isinstance(legend, ColorBar) else pad // 2)
    if isinstance(legend, ColorBar):
        return [*_color_bar(legend, x, y, bottom, text, ratio, look), text]
    return [*_categories(legend, x, y, bottom, font, text, ratio, look), text]


def _color_bar(
    bar: ColorBar, x: int, top: int, bottom: int, text: TextLayer, ratio: float, look: Theme
) -> list[Layer]:
    width = theme.px(BAR_WIDTH_PX, ratio)
    height = max(bottom - top, 2)
    positions = np.linspace(1.0, 0.0, height)  # top row = high end
    rows = bar.table[np.clip(np.round(positions * 255), 0, 255).astype(np.intp)]
    image = np.ascontiguousarray(np.broadcast_to(rows[:, None, :], (height, width, 4)))
    tick_len = theme.px(theme.TICK_LENGTH_PX, ratio)
    one = theme.px(1, ratio)
    marks = []
    for position, label in bar.ticks:
        y = round(top + (1.0 - position) * (height - 1))
        marks.append((x + width, y, x + width + tick_len, y + one))
        text.add(label, x + width + tick_len + 2 * one, y, look.text, "left", "middle")
    right, low = x + width, top + height
    frame = [
        (x - one, top - one, right + one, top),
        (x - one, low, right + one, low + one),
        (x - one, top, x, low),
        (right, top, right + one, low),
    ]
    boxes = np.asarray(marks + frame, np.float32).reshape(-1, 4)
    colors = np.tile(np.asarray(look.axis, np.float32), (len(boxes), 1))
    return [ImageLayer(image, x, top), RectLayer(boxes, colors)]


def _rows_top(legend: Legend, top: int, font: GlyphAtlas, ratio: float) -> int:
    """Where the first category row starts (below the title)."""
    pad = theme.px(theme.PAD_PX, ratio)
    return top + font.line_height + pad // 2 if legend.title else top


def category_at(
    legend: CategoryLegend,
    left: int,
    top: int,
    bottom: int,
    font: GlyphAtlas,
    ratio: float,
    x: float,
    y: float,
) -> int | None:
    """The entry drawn at physical pixel (x, y) by `legend_layers(legend, left, top, bottom, ...)`:
    its swatch, its name or the space between them; None elsewhere."""
    pad = theme.px(theme.PAD_PX, ratio)
    swatch = theme.px(SWATCH_PX, ratio)
    row = max(font.line_height, swatch + 2)
    first = _rows_top(legend, top, font, ratio)
    if not left + pad <= x <= left + legend_width(legend, font, ratio) or y < first:
        return None
    i = int((y - first) // row)
    if i >= len(legend.names) or first + (i + 1) * row > bottom:
        return None
    return i


def _categories(
    legend: CategoryLegend,
    x: int,
    top: int,
    bottom: int,
    font: GlyphAtlas,
    text: TextLayer,
    ratio: float,
    look: Theme,
) -> list[Layer]:
    swatch = theme.px(SWATCH_PX, ratio)
    row = max(font.line_height, swatch + 2)
    boxes, colors = [], []
    for i, (name, color) in enumerate(zip(legend.names, legend.colors, strict=True)):
        y = top + i * row
        if y + row > bottom and i < len(legend.names) - 1:
            text.add(f"… {len(legend.names) - i} more", x, y, look.muted_text, "left", "top")
            break
        middle = y + row // 2
        off = i < len(legend.hidden) and legend.hidden[i]
        boxes.append((x, middle - swatch // 2, x + swatch, middle - swatch // 2 + swatch))
        colors.append(look.grid if off else (*(np.asarray(color, np.float32) / 255.0), 1.0))
        gap = theme.px(theme.PAD_PX, ratio)
        text.add(
            _short(name), x + swatch + gap, middle, look.muted_text if off else look.text, "left", "middle"
        )
    if not boxes:
        return []
    return [RectLayer(np.asarray(boxes, np.float32), np.asarray(colors, np.float32))]
