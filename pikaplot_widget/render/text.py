"""A glyph atlas rasterised once per font size (Pillow's bundled FreeType font) and text layout."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

CHARSET = "".join(chr(c) for c in range(32, 127)) + "−…°µ×·"
FALLBACK = "?"


@dataclass(frozen=True)
class Glyph:
    """Where a glyph sits in the atlas and how it is placed relative to the pen."""

    u0: int
    v0: int
    width: int
    height: int
    left: int  # offset from the pen x to the glyph's left edge
    top: int  # offset from the line's top (ascender) to the glyph's top edge
    advance: float


class GlyphAtlas:
    """All glyphs of CHARSET at one pixel size, packed into one 8-bit image."""

    def __init__(self, size_px: int) -> None:
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.load_default(size=size_px)
        if not isinstance(font, ImageFont.FreeTypeFont):
            raise RuntimeError("Pillow was built without FreeType: axis labels cannot be drawn")
        ascent, descent = font.getmetrics()
        self.size_px = size_px
        self.ascent, self.descent = int(ascent), int(descent)
        self.line_height = self.ascent + self.descent
        boxes = {ch: tuple(int(v) for v in font.getbbox(ch, anchor="la")) for ch in CHARSET}
        cell_w = max(b[2] - b[0] for b in boxes.values()) + 2
        cell_h = max(b[3] - b[1] for b in boxes.values()) + 2
        per_row = 16
        rows = math.ceil(len(CHARSET) / per_row)
        image = Image.new("L", (per_row * cell_w, rows * cell_h), 0)
        draw = ImageDraw.Draw(image)
        self.glyphs: dict[str, Glyph] = {}
        for i, ch in enumerate(CHARSET):
            x0, y0, x1, y1 = boxes[ch]
            cx, cy = (i % per_row) * cell_w + 1, (i // per_row) * cell_h + 1
            draw.text((cx - x0, cy - y0), ch, font=font, fill=255, anchor="la")
            self.glyphs[ch] = Glyph(cx, cy, x1 - x0, y1 - y0, x0, y0, float(font.getlength(ch)))
        self.image = np.asarray(image, dtype=np.uint8).copy()

    def glyph(self, ch: str) -> Glyph:
        """The glyph for a character, or '?' for one the atlas lacks."""
        return self.glyphs.get(ch) or self.glyphs[FALLBACK]

    def measure(self, text: str) -> float:
        """Width of `text` in pixels."""
        return sum(self.glyph(ch).advance for ch in text)

    def layout(self, text: str, x: float, y: float, align: str = "left", valign: str = "top") -> np.ndarray:
        """Quads (N, 8): x0, y0, x1, y1 on the canvas and u0, v0, u1, v1 in atlas pixels.

        (x, y) is the anchor; `align` is left/center/right, `valign` top/middle/bottom.
        """
        width = self.measure(text)
        pen = x - {"left": 0.0, "center": width / 2, "right": width}[align]
        top = y - {"top": 0.0, "middle": self.line_height / 2, "bottom": self.line_height}[valign]
        pen, top = round(pen), round(top)
        quads = []
        for ch in text:
            g = self.glyph(ch)
            if g.width > 0 and g.height > 0 and ch != " ":
                gx, gy = round(pen + g.left), top + g.top
                quads.append(
                    (gx, gy, gx + g.width, gy + g.height, g.u0, g.v0, g.u0 + g.width, g.v0 + g.height)
                )
            pen += g.advance
        return np.asarray(quads, dtype=np.float32).reshape(-1, 8)


@functools.lru_cache(maxsize=8)
def glyph_atlas(size_px: int) -> GlyphAtlas:
    """The atlas for a pixel size, built once."""
    return GlyphAtlas(size_px)
