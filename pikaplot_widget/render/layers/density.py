"""A density image equalised on the GPU (`render.equalize`), colour-mapped as the frame draws it:
nothing is uploaded but the colour map (1 kB) and a rectangle."""

from __future__ import annotations

import numpy as np
import wgpu

from ..context import FrameContext, RenderPass
from ..equalize import EqualizedGrid
from .base import FRAME_WGSL, Layer

_DENSITY_WGSL = (
    FRAME_WGSL
    + """
struct Rect { origin: vec2<f32>, size: vec2<f32> };
@group(0) @binding(1) var<uniform> rect: Rect;
@group(0) @binding(2) var<storage, read> index: array<u32>;  // index + 1 as 16-bit halves, 0: empty
@group(0) @binding(3) var<storage, read> lut: array<u32, 256>;  // RGBA8 per colour-map entry
struct VOut { @builtin(position) pos: vec4<f32> };
@vertex fn vs(@builtin(vertex_index) vi: u32) -> VOut {
    var quad = QUAD;
    var out: VOut;
    out.pos = to_ndc(rect.origin + quad[vi] * rect.size);
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {
    let size = vec2<u32>(rect.size);
    let p = min(vec2<u32>(max(floor(in.pos.xy - rect.origin), vec2<f32>(0.0))), size - vec2<u32>(1u));
    let at = p.y * size.x + p.x;
    let code = (index[at >> 1u] >> (16u * (at & 1u))) & 0xffffu;
    if (code == 0u) { discard; }
    let rgb = unpack4x8unorm(lut[code - 1u]).rgb;
    return vec4<f32>(rgb, 1.0);
}
"""
)


class DensityLayer(Layer):
    """The occupied pixels of an `EqualizedGrid` in the colours of `lut` ((256, 4) uint8), opaque,
    1:1 into the rectangle at (left, top): the same pixels as `ImageLayer(indexed_image(...), lut)`."""

    name = "density_gpu"
    wgsl = _DENSITY_WGSL

    def __init__(self, grid: EqualizedGrid, left: float, top: float, lut: np.ndarray) -> None:
        self.grid = grid
        table = np.ascontiguousarray(lut, dtype=np.uint8).reshape(-1, 4)
        if table.shape[0] != 256:
            raise ValueError(f"lut must be a (256, 4) uint8 table, got shape {table.shape}")
        self.lut = table.view(np.uint32).reshape(256)
        self.clip = (int(left), int(top), grid.width, grid.height)
        self.origin = (float(left), float(top))

    def prepare(self, ctx: FrameContext) -> None:
        """Upload the rectangle and the colour map; bind the index buffer."""
        rect = np.array([*self.origin, self.grid.width, self.grid.height], np.float32)
        uniform = ctx.upload(rect, wgpu.BufferUsage.UNIFORM)
        lut = ctx.upload(self.lut, wgpu.BufferUsage.STORAGE)
        pipeline = self.pipeline(ctx)
        self.bind_group = ctx.device.create_bind_group(
            layout=pipeline.get_bind_group_layout(0),
            entries=[
                ctx.frame_entry(),
                {"binding": 1, "resource": {"buffer": uniform, "offset": 0, "size": 16}},
                {
                    "binding": 2,
                    "resource": {"buffer": self.grid.index, "offset": 0, "size": self.grid.index_bytes},
                },
                {"binding": 3, "resource": {"buffer": lut, "offset": 0, "size": 1024}},
            ],
        )

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """Two triangles covering the rectangle."""
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.draw(6, 1)
