"""Rectangles, anti-aliased polylines and round markers."""

from __future__ import annotations

import numpy as np
import wgpu

from ..context import FrameContext, RenderPass
from .base import FRAME_WGSL, Layer, instance_layout

BREAK = 1e30  # a point at this coordinate breaks the line (NaN gaps)

_RECT_WGSL = (
    FRAME_WGSL
    + """
struct VOut { @builtin(position) pos: vec4<f32>, @location(0) color: vec4<f32> };
@vertex fn vs(@builtin(vertex_index) vi: u32, @location(0) rect: vec4<f32>,
              @location(1) color: vec4<f32>) -> VOut {
    var quad = QUAD;
    var out: VOut;
    out.pos = to_ndc(mix(rect.xy, rect.zw, quad[vi]));
    out.color = color;
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> { return in.color; }
"""
)

_STROKE_WGSL = (
    FRAME_WGSL
    + """
struct Stroke { color: vec4<f32>, half_width: f32, count: u32, pad0: f32, pad1: f32 };
@group(0) @binding(1) var<uniform> stroke: Stroke;
@group(0) @binding(2) var<storage, read> pts: array<vec2<f32>>;
fn is_break(p: vec2<f32>) -> bool { return abs(p.x) > 1e29 || abs(p.y) > 1e29; }
"""
)

_LINE_WGSL = (
    _STROKE_WGSL
    + """
struct VOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) @interpolate(flat) a: vec2<f32>,
    @location(1) @interpolate(flat) b: vec2<f32>,
};
@vertex fn vs(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VOut {
    let a = pts[ii];
    let b = pts[ii + 1u];
    var out: VOut;
    out.a = a;
    out.b = b;
    if (is_break(a) || is_break(b)) {
        out.pos = vec4<f32>(2.0, 2.0, 2.0, 1.0);  // outside the clip volume: nothing drawn
        return out;
    }
    let r = stroke.half_width + 0.5;  // coverage is zero from half_width + 0.5 out
    let delta = b - a;
    let len = length(delta);
    var d = vec2<f32>(1.0, 0.0);
    if (len > 1e-6) { d = delta / len; }
    let n = vec2<f32>(-d.y, d.x);
    // One right triangle whose legs are twice the sides of the segment's rectangle (len + 2r by
    // 2r) holds that rectangle: half the triangles of a quad, which a CPU rasterizer pays most for.
    let along = select(0.0, 2.0 * (len + 2.0 * r), vi == 1u);
    let across = select(0.0, 4.0 * r, vi == 2u);
    out.pos = to_ndc(a - (d + n) * r + d * along + n * across);
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {
    let p = in.pos.xy;
    let ba = in.b - in.a;
    let h = clamp(dot(p - in.a, ba) / max(dot(ba, ba), 1e-12), 0.0, 1.0);
    let dist = length(p - in.a - ba * h);
    let coverage = clamp(stroke.half_width + 0.5 - dist, 0.0, 1.0);
    if (coverage <= 0.0) { discard; }
    return vec4<f32>(stroke.color.rgb, stroke.color.a * coverage);
}
"""
)

_MARKER_WGSL = (
    _STROKE_WGSL
    + """
struct VOut { @builtin(position) pos: vec4<f32>, @location(0) @interpolate(flat) center: vec2<f32> };
@vertex fn vs(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VOut {
    let p = pts[ii];
    var out: VOut;
    out.center = p;
    if (is_break(p)) { out.pos = vec4<f32>(2.0, 2.0, 2.0, 1.0); return out; }
    var disc = DISC;
    let r = stroke.half_width + 0.5;  // coverage is zero from half_width + 0.5 out
    out.pos = to_ndc(p + disc[vi] * r);
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {
    let coverage = clamp(stroke.half_width + 0.5 - distance(in.pos.xy, in.center), 0.0, 1.0);
    if (coverage <= 0.0) { discard; }
    return vec4<f32>(stroke.color.rgb, stroke.color.a * coverage);
}
"""
)


def finite_points(points: np.ndarray) -> np.ndarray:
    """Which rows of an (n, 2) array have both coordinates finite (column by column: numpy's
    `all(axis=1)` over two values costs ~20x more)."""
    finite = np.isfinite(points)
    return finite[:, 0] & finite[:, 1]


class RectLayer(Layer):
    """Filled axis-aligned rectangles (grid lines, ticks, frames, backgrounds)."""

    name = "rects"
    wgsl = _RECT_WGSL
    vertex_buffers = instance_layout(32, "float32x4", "float32x4")

    def __init__(self, rects: np.ndarray, colors: np.ndarray, clip: tuple[int, int, int, int] | None = None):
        self.data = np.ascontiguousarray(np.hstack([rects, colors]), dtype=np.float32)
        self.clip = clip

    def prepare(self, ctx: FrameContext) -> None:
        """Upload the rectangles."""
        self.buffer = ctx.upload(self.data, wgpu.BufferUsage.VERTEX) if len(self.data) else None
        self.bind_group = ctx.frame_bind_group(self.pipeline(ctx))

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """Draw all rectangles in one instanced call."""
        if self.buffer is None:
            return
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.set_vertex_buffer(0, self.buffer)
        render_pass.draw(6, len(self.data))


class _StrokeLayer(Layer):
    """Shared part of polylines and markers: points in a storage buffer, colour and radius."""

    def __init__(
        self,
        points: np.ndarray,
        color: tuple[float, float, float, float],
        half_width: float,
        clip: tuple[int, int, int, int] | None = None,
    ):
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        shown = np.clip(pts, -1e7, 1e7).astype(np.float32)
        broken = ~finite_points(pts)
        if broken.any():
            shown[broken] = BREAK
        self.points = shown
        self.color = color
        self.half_width = float(half_width)
        self.clip = clip

    def instances(self) -> int:
        """How many instances the draw call needs."""
        raise NotImplementedError

    def prepare(self, ctx: FrameContext) -> None:
        """Upload the points and the stroke parameters."""
        if self.instances() <= 0:
            return
        uniform = np.zeros(8, np.float32)
        uniform[:4] = self.color
        uniform[4] = self.half_width
        uniform.view(np.uint32)[5] = len(self.points)
        self.uniform = ctx.upload(uniform, wgpu.BufferUsage.UNIFORM)
        self.storage = ctx.upload(self.points, wgpu.BufferUsage.STORAGE)
        # Whole pooled buffers are bound (the shader reads `count` points): the bind group is kept.
        self.bind_group = ctx.pooled_bind_group(self.pipeline(ctx), (self.uniform, self.storage))

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """One instanced draw, a triangle per instance."""
        if self.instances() <= 0:
            return
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.draw(3, self.instances())


class LineLayer(_StrokeLayer):
    """An anti-aliased polyline with round joins; a non-finite point breaks it."""

    name = "line"
    wgsl = _LINE_WGSL

    def instances(self) -> int:
        """One instance per segment."""
        return len(self.points) - 1


class MarkerLayer(_StrokeLayer):
    """Anti-aliased round markers, one per finite point."""

    name = "markers"
    wgsl = _MARKER_WGSL

    def instances(self) -> int:
        """One instance per point."""
        return len(self.points)
