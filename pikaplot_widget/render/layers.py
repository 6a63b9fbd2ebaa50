"""Drawable layers, one job each: rectangles, anti-aliased polylines, round markers, text.

Every layer takes coordinates in physical pixels with the origin at the top-left corner.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import wgpu

from .text import GlyphAtlas

BREAK = 1e30  # a point at this coordinate breaks the line (NaN gaps)

_FRAME_WGSL = """
struct Frame { size: vec2<f32>, pad: vec2<f32> };
@group(0) @binding(0) var<uniform> frame: Frame;
fn to_ndc(p: vec2<f32>) -> vec4<f32> {
    return vec4<f32>(p.x / frame.size.x * 2.0 - 1.0, 1.0 - p.y / frame.size.y * 2.0, 0.0, 1.0);
}
const QUAD = array<vec2<f32>, 6>(
    vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
    vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0));
"""

_RECT_WGSL = (
    _FRAME_WGSL
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
    _FRAME_WGSL
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
    var quad = QUAD;
    let c = quad[vi];
    let r = stroke.half_width + 1.0;
    let delta = b - a;
    let len = length(delta);
    var d = vec2<f32>(1.0, 0.0);
    if (len > 1e-6) { d = delta / len; }
    let n = vec2<f32>(-d.y, d.x);
    let along = select(a - d * r, b + d * r, c.x > 0.5);
    out.pos = to_ndc(along + n * r * (c.y * 2.0 - 1.0));
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
    var quad = QUAD;
    let r = stroke.half_width + 1.0;
    out.pos = to_ndc(p + (quad[vi] * 2.0 - 1.0) * r);
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {
    let coverage = clamp(stroke.half_width + 0.5 - distance(in.pos.xy, in.center), 0.0, 1.0);
    if (coverage <= 0.0) { discard; }
    return vec4<f32>(stroke.color.rgb, stroke.color.a * coverage);
}
"""
)

_TEXT_WGSL = (
    _FRAME_WGSL
    + """
@group(0) @binding(1) var atlas: texture_2d<f32>;
struct VOut { @builtin(position) pos: vec4<f32>, @location(0) uv: vec2<f32>, @location(1) color: vec4<f32> };
@vertex fn vs(@builtin(vertex_index) vi: u32, @location(0) rect: vec4<f32>, @location(1) uv: vec4<f32>,
              @location(2) color: vec4<f32>) -> VOut {
    var quad = QUAD;
    let c = quad[vi];
    var out: VOut;
    out.pos = to_ndc(mix(rect.xy, rect.zw, c));
    out.uv = mix(uv.xy, uv.zw, c);
    out.color = color;
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {
    let texel = textureLoad(atlas, vec2<i32>(floor(in.uv)), 0).r;
    if (texel <= 0.0) { discard; }
    return vec4<f32>(in.color.rgb, in.color.a * texel);
}
"""
)

_BLEND = {
    "color": {"src_factor": "src-alpha", "dst_factor": "one-minus-src-alpha", "operation": "add"},
    "alpha": {"src_factor": "one", "dst_factor": "one-minus-src-alpha", "operation": "add"},
}
TARGET_FORMAT = "rgba8unorm"


class Layer:
    """Base: a layer uploads its data in `prepare` and records draw calls in `encode`."""

    name: ClassVar[str] = "layer"
    wgsl: ClassVar[str] = ""
    vertex_buffers: ClassVar[list[dict[str, Any]]] = []
    clip: tuple[int, int, int, int] | None = None

    def pipeline(self, ctx: Any) -> Any:
        """The cached render pipeline of this layer type."""

        def create() -> Any:
            module = ctx.shaders.module(self.name, self.wgsl)
            return ctx.device.create_render_pipeline(
                label=self.name,
                layout="auto",
                vertex={"module": module, "entry_point": "vs", "buffers": self.vertex_buffers},
                primitive={"topology": "triangle-list"},
                fragment={
                    "module": module,
                    "entry_point": "fs",
                    "targets": [{"format": TARGET_FORMAT, "blend": _BLEND}],
                },
            )

        return ctx.shaders.pipeline(self.name, create)

    def prepare(self, ctx: Any) -> None:
        """Upload data to the GPU."""

    def encode(self, render_pass: Any, ctx: Any) -> None:
        """Record draw calls."""


def _instance_layout(stride: int, *formats: str) -> list[dict[str, Any]]:
    attributes = [{"format": fmt, "offset": 16 * i, "shader_location": i} for i, fmt in enumerate(formats)]
    return [{"array_stride": stride, "step_mode": "instance", "attributes": attributes}]


class RectLayer(Layer):
    """Filled axis-aligned rectangles (grid lines, ticks, frames, backgrounds)."""

    name = "rects"
    wgsl = _RECT_WGSL
    vertex_buffers = _instance_layout(32, "float32x4", "float32x4")

    def __init__(self, rects: np.ndarray, colors: np.ndarray, clip: tuple[int, int, int, int] | None = None):
        self.data = np.ascontiguousarray(np.hstack([rects, colors]), dtype=np.float32)
        self.clip = clip

    def prepare(self, ctx: Any) -> None:
        """Upload the rectangles."""
        self.buffer = ctx.upload(self.data, wgpu.BufferUsage.VERTEX) if len(self.data) else None
        self.bind_group = ctx.frame_bind_group(self.pipeline(ctx))

    def encode(self, render_pass: Any, ctx: Any) -> None:
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
        pts = np.where(np.isfinite(pts).all(axis=1, keepdims=True), np.clip(pts, -1e7, 1e7), BREAK)
        self.points = np.ascontiguousarray(pts, dtype=np.float32)
        self.color = color
        self.half_width = float(half_width)
        self.clip = clip

    def instances(self) -> int:
        """How many instances the draw call needs."""
        raise NotImplementedError

    def prepare(self, ctx: Any) -> None:
        """Upload the points and the stroke parameters."""
        if self.instances() <= 0:
            return
        uniform = np.zeros(8, np.float32)
        uniform[:4] = self.color
        uniform[4] = self.half_width
        uniform.view(np.uint32)[5] = len(self.points)
        self.uniform = ctx.upload(uniform, wgpu.BufferUsage.UNIFORM)
        self.storage = ctx.upload(self.points, wgpu.BufferUsage.STORAGE)
        pipeline = self.pipeline(ctx)
        self.bind_group = ctx.device.create_bind_group(
            layout=pipeline.get_bind_group_layout(0),
            entries=[
                ctx.frame_entry(),
                {"binding": 1, "resource": {"buffer": self.uniform, "offset": 0, "size": 32}},
                {"binding": 2, "resource": {"buffer": self.storage, "offset": 0, "size": self.points.nbytes}},
            ],
        )

    def encode(self, render_pass: Any, ctx: Any) -> None:
        """One instanced draw."""
        if self.instances() <= 0:
            return
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.draw(6, self.instances())


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


class TextLayer(Layer):
    """Text from a glyph atlas: many strings in one draw call."""

    name = "text"
    wgsl = _TEXT_WGSL
    vertex_buffers = _instance_layout(48, "float32x4", "float32x4", "float32x4")

    def __init__(self, atlas: GlyphAtlas) -> None:
        self.atlas = atlas
        self._quads: list[np.ndarray] = []

    def add(
        self,
        text: str,
        x: float,
        y: float,
        color: tuple[float, float, float, float],
        align: str = "left",
        valign: str = "top",
    ) -> None:
        """Place a string with its anchor at (x, y)."""
        quads = self.atlas.layout(text, x, y, align, valign)
        if len(quads):
            colors = np.broadcast_to(np.asarray(color, np.float32), (len(quads), 4))
            self._quads.append(np.hstack([quads, colors]))

    def prepare(self, ctx: Any) -> None:
        """Upload the glyph quads (the atlas texture is uploaded once per size)."""
        if not self._quads:
            return
        self.data = np.ascontiguousarray(np.vstack(self._quads), dtype=np.float32)
        self.buffer = ctx.upload(self.data, wgpu.BufferUsage.VERTEX)
        pipeline = self.pipeline(ctx)
        self.bind_group = ctx.device.create_bind_group(
            layout=pipeline.get_bind_group_layout(0),
            entries=[ctx.frame_entry(), {"binding": 1, "resource": ctx.atlas_view(self.atlas)}],
        )

    def encode(self, render_pass: Any, ctx: Any) -> None:
        """One instanced draw for every glyph."""
        if not self._quads:
            return
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.set_vertex_buffer(0, self.buffer)
        render_pass.draw(6, len(self.data))
