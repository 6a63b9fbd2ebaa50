"""Scatter markers: anti-aliased round points, each with its own colour and radius."""

from __future__ import annotations

import numpy as np
import wgpu

from ..context import FrameContext, RenderPass
from .base import FRAME_WGSL, Layer

_POINTS_WGSL = (
    FRAME_WGSL
    + """
struct Pt { pos: vec2<f32>, radius: f32, rgba: u32 };
@group(0) @binding(1) var<storage, read> pts: array<Pt>;
struct VOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) @interpolate(flat) center: vec2<f32>,
    @location(1) @interpolate(flat) radius: f32,
    @location(2) @interpolate(flat) color: vec4<f32>,
};
@vertex fn vs(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VOut {
    let p = pts[ii];
    var out: VOut;
    out.center = p.pos;
    out.radius = p.radius;
    out.color = unpack4x8unorm(p.rgba);
    var disc = DISC;
    out.pos = to_ndc(p.pos + disc[vi] * (p.radius + 0.5));  // coverage is zero from radius + 0.5 out
    return out;
}
@fragment fn fs(in: VOut) -> @location(0) vec4<f32> {
    let coverage = clamp(in.radius + 0.5 - distance(in.pos.xy, in.center), 0.0, 1.0);
    if (coverage <= 0.0) { discard; }
    return vec4<f32>(in.color.rgb, in.color.a * coverage);
}
"""
)


def pack_points(points: np.ndarray, radii: np.ndarray | float, colors: np.ndarray) -> np.ndarray:
    """(N, 4) float32 records: x, y (physical pixels), radius, RGBA uint8 bits."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    n = len(points)
    out = np.empty((n, 4), np.float32)
    out[:, :2] = np.clip(points, -1e7, 1e7)
    out[:, 2] = np.broadcast_to(np.asarray(radii, np.float32), (n,))
    rgba = np.ascontiguousarray(np.broadcast_to(np.asarray(colors, np.uint8), (n, 4)))
    out[:, 3] = rgba.view(np.uint32).reshape(n).view(np.float32)
    return out


class PointLayer(Layer):
    """Round markers from packed records (see `pack_points`); one instanced draw."""

    name = "points"
    wgsl = _POINTS_WGSL

    def __init__(self, records: np.ndarray, clip: tuple[int, int, int, int] | None = None) -> None:
        self.records = np.ascontiguousarray(records, dtype=np.float32).reshape(-1, 4)
        self.clip = clip

    def prepare(self, ctx: FrameContext) -> None:
        """Upload the records."""
        if not len(self.records):
            return
        self.storage = ctx.upload(self.records, wgpu.BufferUsage.STORAGE)
        self.bind_group = ctx.pooled_bind_group(self.pipeline(ctx), (self.storage,))

    def encode(self, render_pass: RenderPass, ctx: FrameContext) -> None:
        """One instance (a triangle) per point."""
        if not len(self.records):
            return
        render_pass.set_pipeline(self.pipeline(ctx))
        render_pass.set_bind_group(0, self.bind_group)
        render_pass.draw(3, len(self.records))
