"""Text from a glyph atlas: many strings in one draw call."""

from __future__ import annotations

import numpy as np
import wgpu

from ..context import FrameContext, RenderPass
from ..text import GlyphAtlas
from .base import FRAME_WGSL, Layer, instance_layout

_TEXT_WGSL = (
    FRAME_WGSL
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


class TextLayer(Layer):
    """Text from a glyph atlas: many strings in one draw call."""

    name = "text"
    wgsl = _TEXT_WGSL
    vertex_buffers = instance_layout(48, "float32x4", "float32x4", "float32x4")

    def __init__(self, atlas: GlyphAtlas) -> None:
        self.atlas = atlas
        self._quads: list[tuple[float, ...]] = []  # x0, y0, x1, y1, u0, v0, u1, v1, r, g, b, a

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
        rgba = tuple(color)
        self._quads += [quad + rgba for quad in self.atlas.quads(text, x, y, align, valign)]

    def prepare(self, ctx: FrameContext) -> None:
        """Upload the glyph quads (the atlas texture is uploaded once per size)."""
        if not self._quads:
            return
        self.data = np.array(self._quads, dtype=np.float32)
        self.buffer = ctx.upload(self.data, wgpu.BufferUsage.VERTEX)
        pipeline = self.pipeline(ctx)
        self.bind_group = ctx.lasting_bind_group(pipeline, (ctx.atlas_view(self.atlas),), self.atlas)

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """One instanced draw for every glyph."""
        if not self._quads:
            return
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.set_vertex_buffer(0, self.buffer)
        render_pass.draw(6, len(self.data))
