"""Glyph atlases that grow on demand, one per pixel size, and single-line text layout.

Each character is rasterised the first time it is drawn, with the first font of the fallback chain
(`fontfiles`) that has it; a character no font has is drawn as a box ("tofu"), never as `?`.
The atlas only grows downwards, so glyphs already placed keep their atlas coordinates.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .fontfiles import FontChain, FontFile, system_chain

ATLAS_WIDTH = 512
PRELOADED = "".join(chr(c) for c in range(32, 127)) + "−…°µ×·"
TOFU = "\ufffd-tofu"  # the key of the box drawn for characters no font has


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
    """The glyphs drawn so far at one pixel size, packed in rows into one 8-bit image.

    `version` changes whenever glyphs are added, so a GPU copy knows when to upload again.
    Safe to use from several threads.
    """

    def __init__(self, size_px: int, chain: FontChain | None = None) -> None:
        self.size_px = size_px
        self.chain = chain or system_chain()
        self._fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        self._lock = threading.RLock()
        primary = self._font(self.chain.primary)
        ascent, descent = primary.getmetrics()
        self.ascent, self.descent = int(ascent), int(descent)
        self.line_height = self.ascent + self.descent
        self.image = np.zeros((max(2 * self.line_height, 16), ATLAS_WIDTH), np.uint8)
        self.version = 0
        self._pen_x, self._pen_y, self._row_height = 1, 1, 0
        self.glyphs: dict[str, Glyph] = {}
        self._runs: dict[str, _Run] = {}  # laid-out strings (tick labels recur from frame to frame)
        for ch in PRELOADED:
            self.glyph(ch)

    def _font(self, font: FontFile) -> ImageFont.FreeTypeFont:
        key = (str(font.path), font.index)
        loaded = self._fonts.get(key)
        if loaded is None:
            loaded = ImageFont.truetype(str(font.path), self.size_px, index=font.index,
                                        layout_engine=ImageFont.Layout.BASIC)  # fmt: skip
            self._fonts[key] = loaded
        return loaded

    def glyph(self, ch: str) -> Glyph:
        """The glyph for a character, rasterised on first use (a box when no font has it)."""
        found = self.glyphs.get(ch)
        if found is not None:
            return found
        with self._lock:
            found = self.glyphs.get(ch)
            if found is None:
                found = self.glyphs[ch] = self._rasterise(ch)
            return found

    def _rasterise(self, ch: str) -> Glyph:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp") or ch in "\n\r\t":
            return Glyph(0, 0, 0, 0, 0, 0, 0.0)  # controls and invisible formatting: nothing
        source = self.chain.font_for(ch)
        if source is None:
            if category == "Zs":
                return Glyph(0, 0, 0, 0, 0, 0, self.size_px / 3)
            return self.glyphs.get(TOFU) or self.glyphs.setdefault(TOFU, self._tofu())
        font = self._font(source)
        x0, y0, x1, y1 = (int(v) for v in font.getbbox(ch, anchor="ls"))
        advance = float(font.getlength(ch))
        width, height = x1 - x0, y1 - y0
        if width <= 0 or height <= 0:
            return Glyph(0, 0, 0, 0, 0, 0, advance)
        tile = Image.new("L", (width, height), 0)
        ImageDraw.Draw(tile).text((-x0, -y0), ch, font=font, fill=255, anchor="ls")
        u0, v0 = self._place(np.asarray(tile, np.uint8))
        return Glyph(u0, v0, width, height, x0, self.ascent + y0, advance)

    def _tofu(self) -> Glyph:
        """An outlined box about the size of a capital letter."""
        width = max(round(self.size_px * 0.55), 4)
        height = max(round(self.ascent * 0.8), 5)
        stroke = max(1, round(self.size_px / 14))
        box = np.zeros((height, width), np.uint8)
        box[:stroke], box[-stroke:], box[:, :stroke], box[:, -stroke:] = 255, 255, 255, 255
        u0, v0 = self._place(box)
        gap = max(1, round(self.size_px * 0.08))
        return Glyph(u0, v0, width, height, gap, self.ascent - height, float(width + 2 * gap))

    def _place(self, tile: np.ndarray) -> tuple[int, int]:
        """Copy a glyph bitmap into the next free spot (a new row, a taller image if needed)."""
        height, width = tile.shape
        width = min(width, ATLAS_WIDTH - 2)
        if self._pen_x + width + 1 > ATLAS_WIDTH:
            self._pen_x, self._pen_y, self._row_height = 1, self._pen_y + self._row_height + 1, 0
        needed = self._pen_y + height + 1
        if needed > self.image.shape[0]:
            grown = np.zeros((max(needed, 2 * self.image.shape[0]), ATLAS_WIDTH), np.uint8)
            grown[: self.image.shape[0]] = self.image
            self.image = grown
        u0, v0 = self._pen_x, self._pen_y
        self.image[v0 : v0 + height, u0 : u0 + width] = tile[:, :width]
        self._pen_x += width + 1
        self._row_height = max(self._row_height, height)
        self.version += 1
        return u0, v0

    def snapshot(self) -> tuple[int, np.ndarray]:
        """The version and the image as they are now (for a GPU upload)."""
        with self._lock:
            return self.version, self.image.copy()

    def measure(self, text: str) -> float:
        """Width of `text` in pixels."""
        return self._run(text).width

    def _run(self, text: str) -> _Run:
        """The glyphs of `text` (NFC) and its width, looked up once per string."""
        run = self._runs.get(text)
        if run is None:
            glyphs = tuple(self.glyph(ch) for ch in unicodedata.normalize("NFC", text))
            run = _Run(sum(g.advance for g in glyphs), glyphs)
            if len(self._runs) >= _MAX_RUNS:
                self._runs.clear()
            self._runs[text] = run
        return run

    def quads(
        self, text: str, x: float, y: float, align: str = "left", valign: str = "top"
    ) -> list[tuple[float, ...]]:
        """The glyph quads of `text` as rows of x0, y0, x1, y1 on the canvas and u0, v0, u1, v1 in
        atlas pixels. (x, y) is the anchor; `align` is left/center/right, `valign` top/middle/bottom."""
        run = self._run(text)
        pen = x - {"left": 0.0, "center": run.width / 2, "right": run.width}[align]
        top = y - {"top": 0.0, "middle": self.line_height / 2, "bottom": self.line_height}[valign]
        pen, top = round(pen), round(top)
        rows: list[tuple[float, ...]] = []
        for g in run.glyphs:
            if g.width > 0 and g.height > 0:
                gx, gy = round(pen + g.left), top + g.top
                u1, v1 = g.u0 + g.width, g.v0 + g.height
                rows.append((gx, gy, gx + g.width, gy + g.height, g.u0, g.v0, u1, v1))
            pen += g.advance
        return rows

    def layout(self, text: str, x: float, y: float, align: str = "left", valign: str = "top") -> np.ndarray:
        """`quads` as an (N, 8) float32 array."""
        return np.asarray(self.quads(text, x, y, align, valign), dtype=np.float32).reshape(-1, 8)


_MAX_RUNS = 4096  # strings remembered per atlas; forgotten all at once beyond that


@dataclass(frozen=True)
class _Run:
    """A string's glyphs and its width."""

    width: float
    glyphs: tuple[Glyph, ...]


@functools.lru_cache(maxsize=8)
def glyph_atlas(size_px: int) -> GlyphAtlas:
    """The atlas for a pixel size (with the system's font chain), built once and grown on use."""
    return GlyphAtlas(size_px)
