"""wgpu rendering on the machine's adapter (lavapipe on CPU machines): pixels, pool, shaders, text."""

from __future__ import annotations

import numpy as np
import pytest
import wgpu

from pikaplot_widget.render.buffers import BufferPool, aligned_size, buffer_pool
from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.device import get_device, gpu_info
from pikaplot_widget.render.layers.shapes import LineLayer, MarkerLayer, RectLayer
from pikaplot_widget.render.layers.text import TextLayer
from pikaplot_widget.render.shaders import ShaderCache, ShaderError
from pikaplot_widget.render.text import GlyphAtlas, glyph_atlas

BLUE = (0.0, 0.0, 1.0, 1.0)


def _segment_distance(px, py, a, b):
    """Distance from pixel centres to segment ab (brute-force reference)."""
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(px - ax - t * dx, py - ay - t * dy)


def test_gpu_info_reports_adapter():
    info = gpu_info()
    assert info["device"] and info["backend"]
    assert info["adapter_type"] in {"CPU", "DiscreteGPU", "IntegratedGPU", "VirtualGPU", "Unknown"}


@pytest.mark.parametrize("seed", range(5))
def test_line_lands_on_expected_pixels(seed):
    rng = np.random.default_rng(seed)
    w, h = 160, 120
    a, b = rng.uniform(10, [w - 10, h - 10]), rng.uniform(10, [w - 10, h - 10])
    half = 1.0
    frame = Canvas(w, h).draw([LineLayer(np.array([a, b]), BLUE, half)]).astype(int)
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    dist = _segment_distance(xx, yy, a, b)
    inked = frame[..., 0] < 128  # blue over white: red channel drops with coverage
    assert inked[dist <= half - 0.25].all(), "pixels on the line must be drawn"
    assert not inked[dist >= half + 1.0].any(), "pixels away from the line must stay background"
    # Anti-aliasing: partially covered pixels exist at the edge.
    edge = (dist > half - 0.5) & (dist < half + 0.5)
    assert ((frame[..., 0][edge] > 20) & (frame[..., 0][edge] < 235)).any()


def test_nan_breaks_the_line():
    pts = np.array([[10, 50], [90, 50], [np.nan, np.nan], [110, 50], [190, 50]], float)
    frame = Canvas(200, 100).draw([LineLayer(pts, BLUE, 1.0)])
    row = frame[50, :, 0] < 128
    assert row[20:80].all() and row[120:180].all()
    assert not row[93:107].any(), "the gap between x=90 and x=110 must stay empty"


def test_kept_bind_groups_draw_each_frames_own_lines():
    """One canvas drawing many frames (pooled buffers coming back, their bind groups kept) inks the
    pixels a brute-force distance to each frame's own segments gives, whatever the frames before."""
    rng = np.random.default_rng(7)
    w, h = 120, 90
    canvas = Canvas(w, h)
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    for _ in range(12):
        lines = [rng.uniform(5, [w - 5, h - 5], size=(int(rng.integers(2, 4)), 2)) for _ in range(2)]
        frame = canvas.draw([LineLayer(pts, BLUE, 1.0) for pts in lines])
        segments = [(p[i], p[i + 1]) for p in lines for i in range(len(p) - 1)]
        dist = np.min([_segment_distance(xx, yy, a, b) for a, b in segments], axis=0)
        inked = frame[..., 0] < 128
        assert inked[dist <= 0.75].all(), "each frame's segments are drawn"
        assert not inked[dist >= 2.0].any(), "nothing of an earlier frame is left"
    assert len(canvas.bind_groups) <= 8, "the pool's buffers come back, so few bind groups are made"


def _polyline_distance(xx, yy, pts):
    """Brute-force distance from pixel centres to the nearest segment of a polyline."""
    best = np.full(xx.shape, np.inf)
    for i in range(len(pts) - 1):
        best = np.minimum(best, _segment_distance(xx, yy, pts[i], pts[i + 1]))
    return best


def test_lines_of_any_small_size_reuse_the_pooled_buffers():
    """Frames whose line has from tens to thousands of points draw their own line (brute-force
    distances) and, after the first frame, take every buffer from the pool (none made anew)."""
    rng = np.random.default_rng(3)
    w, h = 96, 64
    canvas, pool = Canvas(w, h), buffer_pool()
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    misses_after_first = None
    for count in rng.permutation([12, 40, 300, 900, 2500, 6000, 25, 1500]):
        x = np.sort(rng.uniform(4, w - 4, count))
        y = np.clip(h / 2 + np.cumsum(rng.normal(0, 0.4, count)), 4, h - 4)
        pts = np.column_stack([x, y])
        frame = canvas.draw([LineLayer(pts, BLUE, 1.0), MarkerLayer(pts[:: max(count // 7, 1)], BLUE, 2.0)])
        dist = _polyline_distance(xx, yy, pts)
        inked = frame[..., 0] < 128
        assert inked[dist <= 0.75].all(), f"the {count}-point line is drawn"
        if misses_after_first is None:
            misses_after_first = pool.stats.misses
        assert pool.stats.misses == misses_after_first, f"a {count}-point frame made a new buffer"


def test_markers_rects_and_clip():
    canvas = Canvas(100, 100)
    rect = RectLayer(
        np.array([[0, 0, 100, 100]], np.float32), np.array([[1, 0, 0, 1]], np.float32), clip=(0, 0, 50, 100)
    )
    marker = MarkerLayer(np.array([[75.0, 50.0]]), BLUE, 4.0)
    frame = canvas.draw([rect, marker])
    assert tuple(frame[10, 10]) == (255, 0, 0, 255)
    assert tuple(frame[10, 60]) == (255, 255, 255, 255)  # clipped away
    assert tuple(frame[50, 75][:3]) == (0, 0, 255)
    assert tuple(frame[50, 82][:3]) == (255, 255, 255)


def test_text_draws_glyph_pixels():
    atlas = glyph_atlas(14)
    text = TextLayer(atlas)
    text.add("HH", 10, 10, (0, 0, 0, 1))
    frame = Canvas(80, 40).draw([text])
    dark = frame[..., 0] < 128
    ys, xs = np.nonzero(dark)
    assert len(xs) > 20
    assert xs.min() >= 10 and xs.max() <= 10 + atlas.measure("HH") + 1
    assert ys.min() >= 10 and ys.max() <= 10 + atlas.line_height


def test_buffer_pool_alignment_and_reuse():
    assert [aligned_size(n) for n in (1, 256, 257, 5000)] == [256, 256, 512, 8192]
    pool = BufferPool(get_device())
    usage = wgpu.BufferUsage.VERTEX | wgpu.BufferUsage.COPY_DST
    first = pool.acquire(1000, usage)
    assert first.size % 256 == 0 and first.size >= 1000
    pool.release(first)
    again = pool.acquire(900, usage)
    assert again is first and pool.stats.hits == 1 and pool.stats.misses == 1
    other = pool.acquire(900, wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST)
    assert other is not first and pool.stats.misses == 2
    pool.release(again)
    pool.release(other)
    assert pool.stats.bytes_in_use == 0 and pool.stats.bytes_free == 2048
    assert pool.trim(0) == 2048 and pool.stats.bytes_free == 0


def test_frames_reuse_pooled_buffers():
    canvas = Canvas(64, 64)
    layer = LineLayer(np.array([[0, 0], [63, 63]], float), BLUE, 1.0)
    canvas.draw([layer])
    pool = buffer_pool()
    misses = pool.stats.misses
    for _ in range(5):
        canvas.draw([layer])
    assert pool.stats.misses == misses, "steady-state frames must not allocate buffers"
    assert pool.stats.bytes_in_use == 0


def test_shader_cache_compiles_once_and_names_bad_shader():
    cache = ShaderCache(get_device())
    code = "@fragment fn fs() -> @location(0) vec4<f32> { return vec4<f32>(1.0); }"
    assert cache.module("ok", code) is cache.module("ok", code)
    assert cache.compiled == 1
    with pytest.raises(ShaderError, match=r"shader 'broken' failed to compile at line 2, column 10"):
        cache.module("broken", "// line one\nfn main( {")


def test_a_canvas_draws_glyphs_added_after_its_first_frames():
    """A canvas keeps its bind groups from frame to frame; a glyph atlas that grew since (a new
    texture) must still be the one drawn: the same pixels as on a new canvas."""
    atlas = GlyphAtlas(15)
    kept = Canvas(120, 40)

    def frame(canvas, text):
        layer = TextLayer(atlas)
        layer.add(text, 4, 8, (0, 0, 0, 1))
        return canvas.draw([layer])

    frame(kept, "HH")
    frame(kept, "HH")
    version, groups = atlas.version, len(kept.bind_groups)
    grown = frame(kept, "ЖЯ§¶")  # not preloaded: rasterised now, the atlas uploaded again
    assert atlas.version > version
    assert len(kept.bind_groups) == groups  # the old texture's bind group replaced, not kept too
    fresh = frame(Canvas(120, 40), "ЖЯ§¶")
    assert (grown[..., 0] < 128).sum() > 20
    np.testing.assert_array_equal(grown, fresh)
    np.testing.assert_array_equal(frame(kept, "HH"), frame(Canvas(120, 40), "HH"))
