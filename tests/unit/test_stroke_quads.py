"""Lines, line markers and scatter points drawn as one triangle per segment or point draw the same
pixels as a reference that covers each with a wide quad of two triangles (only less vertex and
triangle work runs): the fragment shaders decide coverage, the geometry only where they run."""

from __future__ import annotations

import numpy as np
import pytest

from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.layers.base import FRAME_WGSL, Layer
from pikaplot_widget.render.layers.points import PointLayer, pack_points
from pikaplot_widget.render.layers.shapes import LineLayer, MarkerLayer

# The reference geometry, independent of the shipped vertex shaders: for a segment, the rectangle
# one pixel wider than its stroke all round; for a point, the square one pixel beyond its radius.
_SEGMENT_QUAD = """
@vertex fn vs(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VOut {
    let a = pts[ii];
    let b = pts[ii + 1u];
    var out: VOut;
    out.a = a;
    out.b = b;
    if (is_break(a) || is_break(b)) { out.pos = vec4<f32>(2.0, 2.0, 2.0, 1.0); return out; }
    var quad = QUAD;
    let c = quad[vi];
    let r = stroke.half_width + 1.0;
    let len = length(b - a);
    var d = vec2<f32>(1.0, 0.0);
    if (len > 1e-6) { d = (b - a) / len; }
    let n = vec2<f32>(-d.y, d.x);
    let along = select(a - d * r, b + d * r, c.x > 0.5);
    out.pos = to_ndc(along + n * r * (c.y * 2.0 - 1.0));
    return out;
}
"""
_MARKER_QUAD = """
@vertex fn vs(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VOut {
    let p = pts[ii];
    var out: VOut;
    out.center = p;
    if (is_break(p)) { out.pos = vec4<f32>(2.0, 2.0, 2.0, 1.0); return out; }
    var quad = QUAD;
    out.pos = to_ndc(p + (quad[vi] * 2.0 - 1.0) * (stroke.half_width + 1.0));
    return out;
}
"""
_POINT_QUAD = """
@vertex fn vs(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VOut {
    let p = pts[ii];
    var out: VOut;
    out.center = p.pos;
    out.radius = p.radius;
    out.color = unpack4x8unorm(p.rgba);
    var quad = QUAD;
    out.pos = to_ndc(p.pos + (quad[vi] * 2.0 - 1.0) * (p.radius + 1.5));
    return out;
}
"""


def _with_vertex_shader(wgsl: str, vertex: str) -> str:
    """The layer's shader with its vertex stage replaced (the fragment stage kept as shipped)."""
    start = wgsl.index("@vertex fn vs")
    end = wgsl.index("@fragment fn fs")
    return wgsl[:start] + vertex + wgsl[end:]


class _QuadReference:
    """Six vertices (two triangles) per instance."""

    def encode(self, render_pass, ctx):
        count = self.instances() if hasattr(self, "instances") else len(self.records)
        if count > 0:
            render_pass.set_pipeline(self.pipeline(ctx))
            render_pass.set_bind_group(0, self.bind_group)
            render_pass.draw(6, count)


class QuadLineLayer(_QuadReference, LineLayer):
    name = "line_quad_reference"
    wgsl = _with_vertex_shader(LineLayer.wgsl, _SEGMENT_QUAD)


class QuadMarkerLayer(_QuadReference, MarkerLayer):
    name = "markers_quad_reference"
    wgsl = _with_vertex_shader(MarkerLayer.wgsl, _MARKER_QUAD)


class QuadPointLayer(_QuadReference, PointLayer):
    name = "points_quad_reference"
    wgsl = _with_vertex_shader(PointLayer.wgsl, _POINT_QUAD)


def test_references_keep_the_fragment_stage_and_replace_the_geometry():
    pairs = [(LineLayer, QuadLineLayer), (MarkerLayer, QuadMarkerLayer), (PointLayer, QuadPointLayer)]
    for shipped, reference in pairs:
        fragment = shipped.wgsl[shipped.wgsl.index("@fragment") :]
        assert reference.wgsl.endswith(fragment)
        assert reference.wgsl != shipped.wgsl
        assert FRAME_WGSL in reference.wgsl
    assert issubclass(QuadLineLayer, Layer)


@pytest.mark.parametrize("seed", range(6))
def test_one_triangle_each_draws_the_pixels_of_wide_quads(seed):
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
        shipped = canvas.draw([LineLayer(points, color, half), MarkerLayer(points[::7], color, radius)])
        reference = canvas.draw(
            [QuadLineLayer(points, color, half), QuadMarkerLayer(points[::7], color, radius)]
        )
        assert (shipped != 255).any(), "something was drawn"
        np.testing.assert_array_equal(shipped, reference)
        # Scatter points, each its own radius and colour, some off the canvas.
        m = int(rng.integers(1, 300))
        at = rng.uniform(-10, [w + 10, h + 10], (m, 2))
        radii = rng.uniform(0.5, 8.0, m)
        colors = rng.integers(0, 256, (m, 4)).astype(np.uint8)
        records = pack_points(at, radii, colors)
        shipped = canvas.draw([PointLayer(records)])
        reference = canvas.draw([QuadPointLayer(records)])
        assert (shipped != 255).any()
        np.testing.assert_array_equal(shipped, reference)
    finally:
        canvas.destroy()
