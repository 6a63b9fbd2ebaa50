"""A pixel-aligned image over a rectangle of the frame, optionally colour-mapped on the GPU."""

from __future__ import annotations

import numpy as np
import wgpu

from ..context import FrameContext, RenderPass
from .base import BLEND, FRAME_WGSL, TARGET_FORMAT, Layer

_IMAGE_WGSL = (
    FRAME_WGSL
    + """
struct Rect { origin: vec2<f32>, size: vec2<f32> };
@group(0) @binding(1) var<uniform> rect: Rect;
@group(0) @binding(2) var image: texture_2d<f32>;
@group(0) @binding(3) var lut: texture_2d<f32>;
struct VOut { @builtin(position) pos: vec4<f32> };
@vertex fn vs(@builtin(vertex_index) vi: u32) -> VOut {
    var quad = QUAD;
    var out: VOut;
    out.pos = to_ndc(rect.origin + quad[vi] * rect.size);
    return out;
}
fn texel(pos: vec4<f32>) -> vec4<f32> {
    let size = vec2<i32>(textureDimensions(image));
    let p = clamp(vec2<i32>(floor(pos.xy - rect.origin)), vec2<i32>(0, 0), size - vec2<i32>(1, 1));
    return textureLoad(image, p, 0);
}
@fragment fn fs_rgba(in: VOut) -> @location(0) vec4<f32> {
    let c = texel(in.pos);
    if (c.a <= 0.0) { discard; }
    return c;
}
// r: colour-map index / 255, g: opacity, b: 1 where the value is missing (drawn grey)
@fragment fn fs_lut(in: VOut) -> @location(0) vec4<f32> {
    let c = texel(in.pos);
    if (c.g <= 0.0) { discard; }
    var rgb = textureLoad(lut, vec2<i32>(i32(round(c.r * 255.0)), 0), 0).rgb;
    if (c.b > 0.5) { rgb = vec3<f32>(0.63, 0.63, 0.63); }
    return vec4<f32>(rgb, c.g);
}
"""
)


class ImageLayer(Layer):
    """An (height, width, 4) uint8 image drawn 1:1 into a rectangle of the same size.

    With a colour map (`lut`, a (256, 4) uint8 table) the image holds per pixel the map index in
    the red channel, the opacity in green and a "missing value" flag in blue, and the fragment
    shader looks the colour up; without one it is plain RGBA.
    """

    wgsl = _IMAGE_WGSL

    def __init__(self, image: np.ndarray, left: float, top: float, lut: np.ndarray | None = None) -> None:
        self.image = np.ascontiguousarray(image, dtype=np.uint8)
        if self.image.ndim != 3 or self.image.shape[2] != 4:
            raise ValueError(f"image must be (height, width, 4) uint8, got shape {self.image.shape}")
        self.lut = None if lut is None else np.ascontiguousarray(lut, dtype=np.uint8).reshape(1, -1, 4)
        self.name = "image_lut" if lut is not None else "image_rgba"
        height, width = self.image.shape[:2]
        self.clip = (int(left), int(top), width, height)
        self.origin = (float(left), float(top))

    def pipeline(self, ctx: FrameContext) -> wgpu.GPURenderPipeline:
        """The cached pipeline (one per fragment entry point)."""

        def create() -> wgpu.GPURenderPipeline:
            module = ctx.shaders.module("image", self.wgsl)
            entry = "fs_lut" if self.lut is not None else "fs_rgba"
            return ctx.device.create_render_pipeline(
                label=self.name,
                layout="auto",
                vertex={"module": module, "entry_point": "vs", "buffers": []},
                primitive={"topology": "triangle-list"},
                fragment={
                    "module": module,
                    "entry_point": entry,
                    "targets": [{"format": TARGET_FORMAT, "blend": BLEND}],
                },
            )

        return ctx.shaders.pipeline(self.name, create)

    def _texture(self, ctx: FrameContext, pixels: np.ndarray) -> wgpu.GPUTexture:
        height, width = pixels.shape[:2]
        texture = ctx.device.create_texture(
            size=(width, height, 1),
            format="rgba8unorm",
            usage=wgpu.TextureUsage.TEXTURE_BINDING | wgpu.TextureUsage.COPY_DST,
        )
        ctx.queue.write_texture(
            {"texture": texture}, pixels, {"bytes_per_row": width * 4, "rows_per_image": height},
            (width, height, 1),
        )  # fmt: skip
        return texture

    def prepare(self, ctx: FrameContext) -> None:
        """Upload the image (and the colour map) as textures."""
        height, width = self.image.shape[:2]
        self.textures = [self._texture(ctx, self.image)]
        lut = self.lut if self.lut is not None else np.zeros((1, 1, 4), np.uint8)
        self.textures.append(self._texture(ctx, lut))
        rect = np.array([*self.origin, width, height], np.float32)
        self.uniform = ctx.upload(rect, wgpu.BufferUsage.UNIFORM)
        pipeline = self.pipeline(ctx)
        entries = [
            ctx.frame_entry(),
            {"binding": 1, "resource": {"buffer": self.uniform, "offset": 0, "size": 16}},
            {"binding": 2, "resource": self.textures[0].create_view()},
        ]
        if self.lut is not None:
            entries.append({"binding": 3, "resource": self.textures[1].create_view()})
        self.bind_group = ctx.device.create_bind_group(
            layout=pipeline.get_bind_group_layout(0), entries=entries
        )

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """Two triangles covering the rectangle."""
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.draw(6, 1)


def lut_image(position: np.ndarray, alpha: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Pack colour-map positions in [0, 1] (NaN: not drawn) and opacities for `ImageLayer(lut=...)`."""
    out = np.zeros((*position.shape, 4), np.uint8)
    out[..., 0] = np.clip(np.nan_to_num(position) * 255 + 0.5, 0, 255).astype(np.uint8)
    out[..., 1] = np.clip(np.where(np.isnan(alpha), 0, alpha) * 255 + 0.5, 0, 255).astype(np.uint8)
    if missing is not None:
        out[..., 2] = np.where(missing, 255, 0)
    out[..., 3] = 255
    return out


def indexed_image(index: np.ndarray, occupied: np.ndarray) -> np.ndarray:
    """Pack colour-map indices (uint8) and an occupied mask (drawn opaque) for `ImageLayer(lut=...)`."""
    out = np.zeros((*index.shape, 4), np.uint8)
    out[..., 0] = index
    out[..., 1] = np.where(occupied, 255, 0)
    out[..., 3] = 255
    return out
