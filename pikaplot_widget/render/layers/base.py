"""The base of every drawable layer: the shared WGSL prelude, blending and the cached pipeline.

Every layer takes coordinates in physical pixels with the origin at the top-left corner.
"""

from __future__ import annotations

from typing import Any, ClassVar

import wgpu

from ..context import FrameContext, RenderPass

FRAME_WGSL = """
struct Frame { size: vec2<f32>, pad: vec2<f32> };
@group(0) @binding(0) var<uniform> frame: Frame;
fn to_ndc(p: vec2<f32>) -> vec4<f32> {
    return vec4<f32>(p.x / frame.size.x * 2.0 - 1.0, 1.0 - p.y / frame.size.y * 2.0, 0.0, 1.0);
}
const QUAD = array<vec2<f32>, 6>(
    vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
    vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0));
// An equilateral triangle around a unit circle (its corners 2 from the centre): one triangle per
// round marker instead of a quad's two, at 1.3x the area (a CPU rasterizer pays per triangle).
const DISC = array<vec2<f32>, 3>(
    vec2<f32>(0.0, -2.0), vec2<f32>(-1.7320508, 1.0), vec2<f32>(1.7320508, 1.0));
"""

BLEND = {
    "color": {"src_factor": "src-alpha", "dst_factor": "one-minus-src-alpha", "operation": "add"},
    "alpha": {"src_factor": "one", "dst_factor": "one-minus-src-alpha", "operation": "add"},
}
TARGET_FORMAT = "rgba8unorm"


class Layer:
    """Base: a layer uploads its data in `prepare` and records draw calls in `encode`."""

    name: str = "layer"  # names the shader and the cached pipeline
    wgsl: ClassVar[str] = ""
    vertex_buffers: ClassVar[list[dict[str, Any]]] = []
    clip: tuple[int, int, int, int] | None = None

    def pipeline(self, ctx: FrameContext) -> wgpu.GPURenderPipeline:
        """The cached render pipeline of this layer type."""

        def create() -> wgpu.GPURenderPipeline:
            module = ctx.shaders.module(self.name, self.wgsl)
            return ctx.device.create_render_pipeline(
                label=self.name,
                layout="auto",
                vertex={"module": module, "entry_point": "vs", "buffers": self.vertex_buffers},
                primitive={"topology": "triangle-list"},
                fragment={
                    "module": module,
                    "entry_point": "fs",
                    "targets": [{"format": TARGET_FORMAT, "blend": BLEND}],
                },
            )

        return ctx.shaders.pipeline(self.name, create)

    def prepare(self, ctx: FrameContext) -> None:
        """Upload data to the GPU."""

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """Record draw calls."""


def instance_layout(stride: int, *formats: str) -> list[dict[str, Any]]:
    """A vertex-buffer layout of per-instance attributes, each 16 bytes apart."""
    attributes = [{"format": fmt, "offset": 16 * i, "shader_location": i} for i, fmt in enumerate(formats)]
    return [{"array_stride": stride, "step_mode": "instance", "attributes": attributes}]
