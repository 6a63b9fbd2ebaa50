"""Round markers of one colour from GPU-resident points, splatted by a compute shader.

Markers of one colour and opacity blend in any order to the same pixel: over a background B,
markers covering a pixel with opacities a_i leave C (1 - T) + B T with T = prod(1 - a_i). So a
compute pass adds -ln(1 - a_i) per covered pixel (16.16 fixed point, atomics) and the frame draws
colour C with opacity 1 - T. A pixel already within 1/1024 of C takes no more additions, so dense
clusters cost reads, not serialised blending; the raster path (`resident_markers.py`) blends every
fragment of every marker in order. Coverage is the raster path's: clamp(r + 0.5 - distance, 0, 1)
at pixel centres. It differs from blending into 8-bit targets only by the rounding those apply
at each blend (tests/unit/test_gpu_markers.py bounds it).
"""

from __future__ import annotations

import math

import numpy as np
import wgpu

from ...core.types import ViewBox
from ..context import FrameContext, RenderPass
from ..resident import ResidentPoints
from .base import FRAME_WGSL, Layer

FIXED = 65536.0
SATURATED = int(math.log(1024.0) * FIXED)

_SPLAT_WGSL = f"""
struct View {{ offset: vec2<f32>, scale: vec2<f32>, size: vec2<u32>, count: u32, radius: f32,
              alpha: f32, pad0: f32, pad1: f32, pad2: f32 }};
@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> pts: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> acc: array<atomic<u32>>;
@compute @workgroup_size(256) fn splat(@builtin(global_invocation_id) id: vec3<u32>) {{
    if (id.x >= view.count) {{ return; }}
    let q = (pts[id.x] - view.offset) * view.scale;  // pixels of the rectangle, y up
    let size = vec2<f32>(view.size);
    let c = vec2<f32>(q.x, size.y - q.y);  // y down, as the frame
    let reach = view.radius + 0.5;
    if (c.x < -reach || c.y < -reach || c.x > size.x + reach || c.y > size.y + reach) {{ return; }}
    let lo = vec2<i32>(max(floor(c - reach), vec2<f32>(0.0)));
    let hi = vec2<i32>(min(floor(c + reach), size - 1.0));
    for (var py = lo.y; py <= hi.y; py++) {{
        for (var px = lo.x; px <= hi.x; px++) {{
            let cover = clamp(reach - distance(vec2<f32>(f32(px), f32(py)) + 0.5, c), 0.0, 1.0);
            if (cover <= 0.0) {{ continue; }}
            let at = u32(py) * view.size.x + u32(px);
            if (atomicLoad(&acc[at]) >= {SATURATED}u) {{ continue; }}
            let opacity = min(view.alpha * cover, 0.999);
            atomicAdd(&acc[at], u32(-log(1.0 - opacity) * {FIXED} + 0.5));
        }}
    }}
}}
"""

_RESOLVE_WGSL = (
    FRAME_WGSL
    + f"""
struct Rect {{ origin: vec2<f32>, size: vec2<f32>, color: vec4<f32> }};
@group(0) @binding(1) var<uniform> rect: Rect;
@group(0) @binding(2) var<storage, read> acc: array<u32>;
struct VOut {{ @builtin(position) pos: vec4<f32> }};
@vertex fn vs(@builtin(vertex_index) vi: u32) -> VOut {{
    var quad = QUAD;
    var out: VOut;
    out.pos = to_ndc(rect.origin + quad[vi] * rect.size);
    return out;
}}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {{
    let size = vec2<u32>(rect.size);
    let p = min(vec2<u32>(max(floor(in.pos.xy - rect.origin), vec2<f32>(0.0))), size - vec2<u32>(1u));
    let sum = acc[p.y * size.x + p.x];
    if (sum == 0u) {{ discard; }}
    return vec4<f32>(rect.color.rgb, 1.0 - exp(-f32(sum) / {FIXED}));
}}
"""
)


class ResidentSplatLayer(Layer):
    """Every resident point inside `box` as a round marker of one colour (RGBA uint8) and radius
    (physical pixels) in the rectangle (left, top, width, height); see the module docstring."""

    name = "resident_splat"
    wgsl = _RESOLVE_WGSL

    def __init__(
        self,
        points: ResidentPoints,
        box: ViewBox,
        rect: tuple[int, int, int, int],
        color: tuple[int, int, int, int],
        radius: float,
    ) -> None:
        self.points = points
        self.box = box
        self.clip = rect
        self.color = np.asarray(color, np.float32) / 255.0
        self.radius = float(radius)

    def _splat_pipeline(self, ctx: FrameContext) -> wgpu.GPUComputePipeline:
        module = ctx.shaders.module("resident_splat_compute", _SPLAT_WGSL)
        return ctx.shaders.pipeline(
            "resident_splat_compute",
            lambda: ctx.device.create_compute_pipeline(
                layout="auto", compute={"module": module, "entry_point": "splat"}
            ),
        )

    def prepare(self, ctx: FrameContext) -> None:
        """Splat the points (a compute submission ahead of the frame's), bind the sums."""
        left, top, width, height = self.clip or (0, 0, 1, 1)
        cells = width * height
        usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_DST
        self.acc = ctx.scratch(cells * 4, usage)
        offset, scale = self.points.view_transform(self.box, width, height)
        splat = self._splat_pipeline(ctx)
        encoder = ctx.device.create_command_encoder()
        encoder.clear_buffer(self.acc, 0, self.acc.size)
        for chunk, count in self.points.chunks:
            params = np.zeros(12, np.float32)
            params[0:2], params[2:4] = offset, scale
            params.view(np.uint32)[4:7] = (width, height, count)
            params[7], params[8] = self.radius, float(self.color[3])
            uniform = ctx.upload(params, wgpu.BufferUsage.UNIFORM)
            bind_group = ctx.device.create_bind_group(
                layout=splat.get_bind_group_layout(0),
                entries=[
                    {"binding": 0, "resource": {"buffer": uniform, "offset": 0, "size": 48}},
                    {"binding": 1, "resource": {"buffer": chunk, "offset": 0, "size": count * 8}},
                    {"binding": 2, "resource": {"buffer": self.acc, "offset": 0, "size": cells * 4}},
                ],
            )
            compute = encoder.begin_compute_pass()
            compute.set_pipeline(splat)
            compute.set_bind_group(0, bind_group)
            compute.dispatch_workgroups((count + 255) // 256)
            compute.end()
        ctx.queue.submit([encoder.finish()])
        rect = np.array([left, top, width, height, *self.color], np.float32)
        rect_uniform = ctx.upload(rect, wgpu.BufferUsage.UNIFORM)
        self.bind_group = ctx.device.create_bind_group(
            layout=self.pipeline(ctx).get_bind_group_layout(0),
            entries=[
                ctx.frame_entry(),
                {"binding": 1, "resource": {"buffer": rect_uniform, "offset": 0, "size": 32}},
                {"binding": 2, "resource": {"buffer": self.acc, "offset": 0, "size": cells * 4}},
            ],
        )

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """Two triangles covering the rectangle."""
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.draw(6, 1)
