"""Text with full Unicode coverage: glyphs rasterised on demand through a font fallback chain,
a box (tofu) for characters no font has, never `?`."""

from __future__ import annotations

import threading
import unicodedata

import numpy as np
import pandas as pd
import pytest
from PIL import ImageFont

import pikaplot_widget as pk
from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.fontfiles import BUNDLED, bundled_chain, read_coverage, system_chain
from pikaplot_widget.render.layers.text import TextLayer
from pikaplot_widget.render.text import TOFU, GlyphAtlas, glyph_atlas

NO_FONT_HAS = "\U0010fffd"  # plane 16 private use: in no font


def ink(atlas: GlyphAtlas, text: str) -> np.ndarray:
    """The coverage mask of `text` drawn black on white at (4, 4)."""
    layer = TextLayer(atlas)
    layer.add(text, 4, 4, (0, 0, 0, 1))
    frame = Canvas(64, 40).draw([layer])
    return frame[..., 0] < 160


def cjk_font_present() -> bool:
    return system_chain().font_for("温") is not None


@pytest.mark.parametrize("chain", ["system", "bundled"])
def test_latin_greek_cyrillic_differ_from_question_mark_and_each_other(chain):
    atlas = glyph_atlas(14) if chain == "system" else GlyphAtlas(14, bundled_chain())
    masks = {ch: ink(atlas, ch) for ch in "?éΩЖ"}
    for ch in "éΩЖ":
        assert masks[ch].sum() > 10, ch
        assert (masks[ch] != masks["?"]).sum() > 5, ch
    for a, b in (("é", "Ω"), ("é", "Ж"), ("Ω", "Ж")):
        assert (masks[a] != masks[b]).sum() > 5, (a, b)
    assert TOFU not in atlas.glyphs or all(atlas.glyphs[ch] != atlas.glyphs[TOFU] for ch in "éΩЖ")


def test_cjk_is_drawn_where_a_font_has_it_else_a_box():
    atlas = glyph_atlas(14)
    question, hot = ink(atlas, "?"), ink(atlas, "温")
    tofu = ink(atlas, NO_FONT_HAS)
    assert (hot != question).sum() > 5 and (tofu != question).sum() > 5
    if cjk_font_present():
        assert hot.sum() > tofu.sum() and (hot != tofu).sum() > 10
    else:
        assert (hot == tofu).all()
    bundled = GlyphAtlas(14, bundled_chain())  # a machine with no CJK font
    assert (ink(bundled, "温") == ink(bundled, NO_FONT_HAS)).all()
    assert (ink(bundled, "温") != ink(bundled, "?")).sum() > 5


def test_tofu_is_an_outlined_box():
    atlas = glyph_atlas(20)
    mask = ink(atlas, NO_FONT_HAS)
    ys, xs = np.nonzero(mask)
    box = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    assert box.shape[0] >= 8 and box.shape[1] >= 6
    assert box[0].all() and box[-1].all() and box[:, 0].all() and box[:, -1].all()
    assert not box[2:-2, 2:-2].any()  # hollow


def test_coverage_agrees_with_what_freetype_draws(rng):
    """A code point is in the cmap exactly when FreeType draws something other than .notdef."""
    for path in [BUNDLED, *[f.path for f in system_chain().fonts]]:
        coverage = read_coverage(path)
        font = ImageFont.truetype(str(path), 16, layout_engine=ImageFont.Layout.BASIC)  # no shaping
        notdef = np.asarray(font.getmask("\u0378"))  # unassigned: .notdef
        codes = rng.integers(0x21, 0x3000, 400)
        for code in codes:
            ch = chr(int(code))
            if not ch.isprintable() or ch.isspace() or unicodedata.category(ch).startswith("M"):
                continue  # marks combine with the previous glyph: FreeType places .notdef differently
            drawn = np.asarray(font.getmask(ch))
            is_notdef = drawn.shape == notdef.shape and (drawn == notdef).all()
            assert (int(code) in coverage) == (not is_notdef), (path.name, hex(int(code)))


def test_atlas_grows_and_keeps_what_it_placed():
    atlas = GlyphAtlas(16)
    before = atlas.glyph("A")
    image_a = atlas.image[before.v0 : before.v0 + before.height, before.u0 : before.u0 + before.width].copy()
    version, height = atlas.version, atlas.image.shape[0]
    text = "".join(chr(c) for c in range(0x400, 0x4FF)) + "".join(chr(c) for c in range(0x391, 0x3CA))
    atlas.measure(text)
    assert atlas.version > version and atlas.image.shape[0] > height
    assert atlas.glyph("A") == before
    assert (
        atlas.image[before.v0 : before.v0 + before.height, before.u0 : before.u0 + before.width] == image_a
    ).all()
    assert (ink(atlas, "A") == ink(GlyphAtlas(16), "A")).all()  # the GPU copy follows the growth


def test_many_threads_adding_glyphs():
    atlas = GlyphAtlas(13)
    errors: list[BaseException] = []

    def add(start: int) -> None:
        try:
            for c in range(start, start + 150):
                atlas.glyph(chr(c))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(s,)) for s in (0x400, 0x430, 0x370, 0x100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    tofu = atlas.glyphs.get(TOFU)
    placed = [(g.u0, g.v0) for g in atlas.glyphs.values() if g.width and g is not tofu]
    assert len(placed) > 500 and len(placed) == len(set(placed))  # no two glyphs share a spot


def test_plot_titles_and_labels_are_drawn_in_unicode(session):
    data = pd.DataFrame({"x": np.arange(100.0), "y": np.sin(np.arange(100.0))})

    def title_pixels(title: str) -> np.ndarray:
        p = pk.line(
            data, "x", "y", title=title, y_label="température", session=session, width=400, height=200
        )
        frame = p.to_array()
        top = p.controller.layout().area.top
        p.close()
        return frame[:top, :, 0] < 128

    unicode_title, question_title = title_pixels("Ωé Жж"), title_pixels("?? ??")
    assert unicode_title.sum() > 40 and (unicode_title != question_title).sum() > 40


def _quads_glyph_by_glyph(atlas, text, x, y, align, valign):
    """The layout computed afresh from each glyph's metrics (no remembered strings)."""
    glyphs = [atlas.glyph(ch) for ch in unicodedata.normalize("NFC", text)]
    width = sum(g.advance for g in glyphs)
    pen = round(x - {"left": 0.0, "center": width / 2, "right": width}[align])
    top = round(y - {"top": 0.0, "middle": atlas.line_height / 2, "bottom": atlas.line_height}[valign])
    rows = []
    for g in glyphs:
        if g.width > 0 and g.height > 0:
            gx = round(pen + g.left)
            rows.append((gx, top + g.top, gx + g.width, top + g.top + g.height,
                         g.u0, g.v0, g.u0 + g.width, g.v0 + g.height))  # fmt: skip
        pen += g.advance
    return np.asarray(rows, np.float32).reshape(-1, 8), width


def test_remembered_strings_lay_out_as_glyph_by_glyph(rng):
    """Tick labels are laid out once per string and placed again each frame: every placement,
    the first and the repeated ones, equals the layout made from the glyphs' metrics."""
    atlas = GlyphAtlas(13)
    alphabet = "0123456789.-e−µ×ÅÄ ab\u0301"  # a combining accent: NFC folds it
    texts = ["".join(rng.choice(list(alphabet), int(rng.integers(0, 9)))) for _ in range(60)]
    for _ in range(3):
        for text in texts:
            x, y = rng.uniform(-50, 500, 2)
            align, valign = rng.choice(["left", "center", "right"]), rng.choice(["top", "middle", "bottom"])
            expected, width = _quads_glyph_by_glyph(atlas, text, x, y, align, valign)
            np.testing.assert_array_equal(atlas.layout(text, x, y, align, valign), expected)
            assert atlas.measure(text) == width
