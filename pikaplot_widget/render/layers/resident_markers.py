"""Round markers drawn straight from GPU-resident points (`render.resident.ResidentPoints`).

Nothing is uploaded per frame but a 64-byte uniform: the vertex shader reads the float32 points
of each chunk where they live, places them in the view, and skips (degenerate triangles) those
outside it. Six vertices per marker in one non-instanced draw per chunk: tiny instances of six
vertices keep much of an NVIDIA GPU's vertex work idle.
"""

from __future__ import annotations

import numpy as np
import wgpu

from ...core.types import ViewBox
from ..context import FrameContext, RenderPass
from ..resident import ResidentPoints
from .base import BLEND, FRAME_WGSL, TARGET_FORMAT, Layer

_MARKERS_WGSL = (
    FRAME_WGSL
    + """
struct View { offset: vec2<f32>, scale: vec2<f32>, origin: vec2<f32>, size: vec2<f32>,
              color: vec4<f32>, radius: f32, pad0: f32, pad1: f32, pad2: f32 };
@group(0) @binding(1) var<uniform> view: View;
@group(0) @binding(2) var<storage, read> pts: array<vec2<f32>>;
struct VOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) @interpolate(flat) center: vec2<f32>,
};
@vertex fn vs(@builtin(vertex_index) vi: u32) -> VOut {
    let q = (pts[vi / 6u] - view.offset) * view.scale;  // pixels of the plot area, y up
    var out: VOut;
    let reach = view.radius + 1.0;
    if (q.x < -reach || q.y < -reach || q.x > view.size.x + reach || q.y > view.size.y + reach) {
        out.pos = vec4<f32>(-2.0, -2.0, 0.0, 1.0);  // all six corners here: nothing drawn
        out.center = vec2<f32>(0.0);
        return out;
    }
    let center = vec2<f32>(view.origin.x + q.x, view.origin.y + view.size.y - q.y);
    var quad = QUAD;
    out.center = center;
    out.pos = to_ndc(center + (quad[vi % 6u] * 2.0 - 1.0) * reach);
    return out;
}
// The first version: one instance of six vertices per point, none skipped (kept to measure).
@vertex fn vs_instanced(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VOut {
    let q = (pts[ii] - view.offset) * view.scale;
    let center = vec2<f32>(view.origin.x + q.x, view.origin.y + view.size.y - q.y);
    var quad = QUAD;
    var out: VOut;
    out.center = center;
    out.pos = to_ndc(center + (quad[vi] * 2.0 - 1.0) * (view.radius + 1.0));
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {
    let coverage = clamp(view.radius + 0.5 - distance(in.pos.xy, in.center), 0.0, 1.0);
    if (coverage <= 0.0) { discard; }
    return vec4<f32>(view.color.rgb, view.color.a * coverage);
}
"""
)


class ResidentMarkerLayer(Layer):
    """Every resident point inside `box` as a round marker of one colour (RGBA uint8) and radius
    (physical pixels), drawn into the rectangle (left, top, width, height). `instanced` draws as
    the first version did (an instance per point), for comparison."""

    name = "resident_markers"
    wgsl = _MARKERS_WGSL

    def __init__(
        self,
        points: ResidentPoints,
        box: ViewBox,
        rect: tuple[int, int, int, int],
        color: tuple[int, int, int, int],
        radius: float,
        instanced: bool = False,
    ) -> None:
        self.instanced = instanced
        if instanced:
            self.name = "resident_markers_instanced"
        self.points = points
        self.box = box
        self.clip = rect
        self.color = np.asarray(color, np.float32) / 255.0
        self.radius = float(radius)

    def pipeline(self, ctx: FrameContext) -> wgpu.GPURenderPipeline:
        """The cached pipeline of this variant."""

        def create() -> wgpu.GPURenderPipeline:
            module = ctx.shaders.module("resident_markers", self.wgsl)
            return ctx.device.create_render_pipeline(
                label=self.name,
                layout="auto",
                vertex={"module": module, "entry_point": "vs_instanced" if self.instanced else "vs"},
                primitive={"topology": "triangle-list"},
                fragment={
                    "module": module,
                    "entry_point": "fs",
                    "targets": [{"format": TARGET_FORMAT, "blend": BLEND}],
                },
            )

        return ctx.shaders.pipeline(self.name, create)

    def prepare(self, ctx: FrameContext) -> None:
        """The view uniform and one bind group per chunk."""
        left, top, width, height = self.clip or (0, 0, 1, 1)
        offset, scale = self.points.view_transform(self.box, width, height)
        uniform = np.zeros(16, np.float32)
        uniform[0:2], uniform[2:4] = offset, scale
        uniform[4:8] = (left, top, width, height)
        uniform[8:12] = self.color
        uniform[12] = self.radius
        buffer = ctx.upload(uniform, wgpu.BufferUsage.UNIFORM)
        pipeline = self.pipeline(ctx)
        self.draws = []
        for chunk, count in self.points.chunks:
            bind_group = ctx.device.create_bind_group(
                layout=pipeline.get_bind_group_layout(0),
                entries=[
                    ctx.frame_entry(),
                    {"binding": 1, "resource": {"buffer": buffer, "offset": 0, "size": 64}},
                    {"binding": 2, "resource": {"buffer": chunk, "offset": 0, "size": count * 8}},
                ],
            )
            self.draws.append((bind_group, count))

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """Six vertices per point, one draw per chunk."""
        render_pass.set_pipeline(self.pipeline(ctx))
        for bind_group, count in self.draws:
            render_pass.set_bind_group(0, bind_group)
            if self.instanced:
                render_pass.draw(6, count)
            else:
                render_pass.draw(6 * count, 1)
