"""Points that live on the GPU: uploaded once, then binned per view by a compute shader (density),
with no data crossing the bus again.

Coordinates are stored as float32 relative to the data's extent, so a view's pixel edges are
placed to about 1e-7 of the extent. Points sit in chunks of at most CHUNK_POINTS, which keeps
each binding under the device's storage-buffer limit and each dispatch under its workgroup limit.
"""

from __future__ import annotations

import numpy as np
import wgpu

from ..core.types import ViewBox
from .buffers import BufferPool, buffer_pool
from .device import get_device, render_lock
from .equalize import STATS_BYTES, EqualizedGrid, equalizer, read_back, stats_from
from .shaders import ShaderCache, shader_cache

CHUNK_POINTS = 8 * 2**20  # 64 MiB of float32 pairs
WORKGROUP = 256
# A pixel must span at least this share of the extent for float32 relative coordinates (about
# 6e-8 apart near 1) to put every point in its pixel but for rows within ~1/1000 px of an edge.
MIN_PIXEL_SHARE = 2.0**-14

_BIN_WGSL = """
struct Params { offset: vec2<f32>, scale: vec2<f32>, size: vec2<u32>, count: u32, pad: u32 };
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pts: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> grid: array<atomic<u32>>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= params.count) { return; }
    let p = (pts[i] - params.offset) * params.scale;  // in pixels, y up
    let size = vec2<f32>(params.size);
    if (p.x < 0.0 || p.y < 0.0 || p.x > size.x || p.y > size.y) { return; }
    let ix = min(u32(p.x), params.size.x - 1u);
    let iy = min(u32(p.y), params.size.y - 1u);
    atomicAdd(&grid[iy * params.size.x + ix], 1u);
}
"""


class ResidentReleasedError(RuntimeError):
    """The points were freed before (or while) a view was binned from them."""


class ResidentPoints:
    """x/y points in GPU storage buffers, relative to `extent` (x0, x1, y0, y1)."""

    def __init__(self, extent: ViewBox) -> None:
        self.extent = extent
        self.device = get_device()
        self.pool: BufferPool = buffer_pool()
        self.chunks: list[tuple[wgpu.GPUBuffer, int]] = []  # (buffer, points in it)
        self.count = 0
        self.released = False
        self._staging: list[np.ndarray] = []
        self._staged = 0

    @property
    def nbytes(self) -> int:
        """GPU memory held by the points."""
        return sum(int(buffer.size) for buffer, _ in self.chunks)

    def _relative(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x0, x1, y0, y1 = self.extent
        out = np.empty((len(x), 2), np.float32)
        out[:, 0] = (np.asarray(x, np.float64) - x0) / (x1 - x0)
        out[:, 1] = (np.asarray(y, np.float64) - y0) / (y1 - y0)
        return out

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        """Add points (axis units); they are uploaded a chunk at a time."""
        self._staging.append(self._relative(x, y))
        self._staged += len(x)
        if self._staged >= CHUNK_POINTS:
            staged = np.concatenate(self._staging)
            full = len(staged) // CHUNK_POINTS * CHUNK_POINTS
            for start in range(0, full, CHUNK_POINTS):
                self._upload(staged[start : start + CHUNK_POINTS])
            self._staging = [staged[full:]] if full < len(staged) else []
            self._staged = len(staged) - full

    def finish(self) -> None:
        """Upload what is still staged."""
        if self._staged:
            self._upload(np.concatenate(self._staging))
        self._staging, self._staged = [], 0

    def _upload(self, points: np.ndarray) -> None:
        # Own buffers, not pooled ones: up to gigabytes that must go back to the GPU on release.
        data = np.ascontiguousarray(points, np.float32)
        size = (data.nbytes + 255) // 256 * 256
        with render_lock:
            buffer = self.device.create_buffer(
                size=size, usage=wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_DST
            )
            self.device.queue.write_buffer(buffer, 0, data)
        self.chunks.append((buffer, len(data)))
        self.count += len(data)

    def resolves(self, box: ViewBox, width: int, height: int) -> bool:
        """Whether float32 coordinates place points in this view's pixels (else bin elsewhere:
        a deep zoom, or a few far outliers that stretch the extent)."""
        x0, x1, y0, y1 = self.extent
        pixel_x = (box[1] - box[0]) / max(width, 1) / (x1 - x0)
        pixel_y = (box[3] - box[2]) / max(height, 1) / (y1 - y0)
        return min(pixel_x, pixel_y) >= MIN_PIXEL_SHARE

    def view_transform(self, box: ViewBox, width: int, height: int) -> tuple[list[float], list[float]]:
        """(offset, scale) taking relative coordinates to pixels of a width x height view, y up."""
        x0, x1, y0, y1 = self.extent
        u0, u1 = (box[0] - x0) / (x1 - x0), (box[1] - x0) / (x1 - x0)
        v0, v1 = (box[2] - y0) / (y1 - y0), (box[3] - y0) / (y1 - y0)
        return [u0, v0], [width / (u1 - u0), height / (v1 - v0)]

    def _encode_bin(
        self,
        encoder: wgpu.GPUCommandEncoder,
        grid: wgpu.GPUBuffer,
        box: ViewBox,
        width: int,
        height: int,
        scratch: list[wgpu.GPUBuffer],
    ) -> None:
        """Record clearing `grid` and counting every chunk's points into it (pooled uniforms go
        into `scratch`). Call under render_lock."""
        if self.released:
            raise ResidentReleasedError("the GPU points were released (memory pressure or close)")
        cells = width * height
        offset, scale = self.view_transform(box, width, height)
        shaders: ShaderCache = shader_cache(self.device)
        module = shaders.module("resident_bin", _BIN_WGSL)
        pipeline = shaders.pipeline(
            "resident_bin",
            lambda: self.device.create_compute_pipeline(
                layout="auto", compute={"module": module, "entry_point": "main"}
            ),
        )
        encoder.clear_buffer(grid, 0, grid.size)
        for buffer, count in self.chunks:
            params = np.zeros(8, np.float32)
            params[:2], params[2:4] = offset, scale
            params.view(np.uint32)[4:7] = (width, height, count)
            uniform = self.pool.acquire(32, wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST)
            scratch.append(uniform)
            self.device.queue.write_buffer(uniform, 0, params)
            bind_group = self.device.create_bind_group(
                layout=pipeline.get_bind_group_layout(0),
                entries=[
                    {"binding": 0, "resource": {"buffer": uniform, "offset": 0, "size": 32}},
                    {"binding": 1, "resource": {"buffer": buffer, "offset": 0, "size": count * 8}},
                    {"binding": 2, "resource": {"buffer": grid, "offset": 0, "size": cells * 4}},
                ],
            )
            compute = encoder.begin_compute_pass()
            compute.set_pipeline(pipeline)
            compute.set_bind_group(0, bind_group)
            compute.dispatch_workgroups((count + WORKGROUP - 1) // WORKGROUP)
            compute.end()

    def bin(self, box: ViewBox, width: int, height: int) -> np.ndarray:
        """Points per pixel of a view, (height, width) uint32 with row 0 at the bottom (y0)."""
        cells = width * height
        with render_lock:
            usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC | wgpu.BufferUsage.COPY_DST
            grid = self.pool.acquire(cells * 4, usage)
            readback = self.pool.acquire(cells * 4, wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST)
            scratch = [grid, readback]
            try:
                encoder = self.device.create_command_encoder()
                self._encode_bin(encoder, grid, box, width, height, scratch)
                encoder.copy_buffer_to_buffer(grid, 0, readback, 0, cells * 4)
                self.device.queue.submit([encoder.finish()])
                counts = read_back(readback, cells * 4).view(np.uint32)
            finally:
                for buffer in scratch:
                    self.pool.release(buffer)
        return counts.reshape(height, width)

    def density(self, box: ViewBox, width: int, height: int, read_counts: bool = False) -> EqualizedGrid:
        """Bin a view and equalise it on the GPU (one submission); only the stats come back, and
        the counts too with `read_counts` (hover reads them)."""
        cells = width * height
        with render_lock:
            eq = equalizer()
            usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC | wgpu.BufferUsage.COPY_DST
            grid = self.pool.acquire(cells * 4, usage)
            back = STATS_BYTES + (cells * 4 if read_counts else 0)
            readback = self.pool.acquire(back, wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST)
            scratch = [grid, readback]
            try:
                encoder = self.device.create_command_encoder()
                self._encode_bin(encoder, grid, box, width, height, scratch)
                index, stats = eq.encode(encoder, grid, width, height, self.count, scratch)
                encoder.copy_buffer_to_buffer(stats, 0, readback, 0, STATS_BYTES)
                if read_counts:
                    encoder.copy_buffer_to_buffer(grid, 0, readback, STATS_BYTES, cells * 4)
                self.device.queue.submit([encoder.finish()])
                raw = read_back(readback, back)
            finally:
                for buffer in scratch:
                    self.pool.release(buffer)
        counts = raw[STATS_BYTES:].view(np.uint32).reshape(height, width) if read_counts else None
        return EqualizedGrid(index, width, height, stats_from(raw[:STATS_BYTES].view(np.uint32)), counts)

    def release(self) -> None:
        """Free the GPU memory of the points (a bin() running meanwhile raises ResidentReleasedError)."""
        with render_lock:
            self.released = True
            for buffer, _ in self.chunks:
                buffer.destroy()
            self.chunks.clear()
            self.count = 0
