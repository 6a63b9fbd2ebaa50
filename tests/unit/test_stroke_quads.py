"""Stroke quads as tight four-vertex strips draw the same pixels as the old six-vertex lists
with a wider margin (only less vertex and fragment work runs)."""

from __future__ import annotations

import numpy as np
import pytest

from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.layers.base import Layer
from pikaplot_widget.render.layers.shapes import LineLayer, MarkerLayer

TIGHT = "let r = stroke.half_width + 0.5;"
WIDE = "let r = stroke.half_width + 1.0;"


def _as_before(wgsl):
    return wgsl.replace(TIGHT, WIDE).replace("var quad = STRIP;", "var quad = QUAD;")


class _ListQuads:
    """The quads as they were: six vertices as a triangle list."""

    def pipeline(self, ctx):
        return Layer.pipeline(self, ctx)

    def encode(self, render_pass, ctx):
        if self.instances() > 0:
            render_pass.set_pipeline(self.pipeline(ctx))
            render_pass.set_bind_group(0, self.bind_group)
            render_pass.draw(6, self.instances())


class WideLineLayer(_ListQuads, LineLayer):
    """One pixel of margin beyond the stroke's half width, as the shader had it."""

    name = "line_wide_reference"
    wgsl = _as_before(LineLayer.wgsl)


class WideMarkerLayer(_ListQuads, MarkerLayer):
    name = "markers_wide_reference"
    wgsl = _as_before(MarkerLayer.wgsl)


def test_reference_shaders_differ():
    assert TIGHT in LineLayer.wgsl and TIGHT in MarkerLayer.wgsl
    assert WIDE in WideLineLayer.wgsl and WIDE in WideMarkerLayer.wgsl
    assert "var quad = QUAD;" in WideLineLayer.wgsl and "var quad = STRIP;" in LineLayer.wgsl


@pytest.mark.parametrize("seed", range(6))
def test_tight_quads_draw_the_same_pixels(seed):
    rng = np.random.default_rng(seed)
    w, h = 240, 160
    canvas = Canvas(w, h)
    try:
        n = int(rng.integers(2, 400))
        # A dense M4-like polyline (steep runs inside narrow columns) with a few breaks.
        x = np.sort(rng.uniform(-5, w + 5, n))
        y = rng.uniform(-5, h + 5, n)
        y[rng.random(n) < 0.03] = np.nan
        points = np.column_stack([x, y])
        half = float(rng.uniform(0.3, 3.0))
        radius = float(rng.uniform(0.5, 4.0))
        color = (*rng.uniform(0, 1, 3), float(rng.uniform(0.3, 1.0)))
        tight = canvas.draw([LineLayer(points, color, half), MarkerLayer(points[::7], color, radius)])
        wide = canvas.draw([WideLineLayer(points, color, half), WideMarkerLayer(points[::7], color, radius)])
        assert (tight != 255).any(), "something was drawn"
        np.testing.assert_array_equal(tight, wide)
    finally:
        canvas.destroy()
