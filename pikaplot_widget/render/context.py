"""What layers see while a frame is prepared: the device, the buffer pool, shaders, the frame uniform."""

from __future__ import annotations

import operator
import weakref
from typing import Any, TypeAlias

import numpy as np
import wgpu

from .buffers import BufferPool
from .shaders import shader_cache
from .text import GlyphAtlas

RenderPass = wgpu.GPURenderPassEncoder
_MAX_BIND_GROUPS = 64
# Vertex and storage data up to this size share one pool size class: a view whose line has more or
# fewer points than the last reuses the buffers (and kept bind groups) earlier frames made. A new
# buffer's first frame cost ~1 ms more on an H200 (a 10M-row zoom's first raw view: 3.9 -> 2.9 ms).
SMALL_DATA_BYTES = 64 * 1024
_SMALL_DATA_USAGE = wgpu.BufferUsage.VERTEX | wgpu.BufferUsage.STORAGE
# What a kept bind group binds after the frame uniform: a texture view, or a whole buffer.
BoundResource: TypeAlias = wgpu.GPUTextureView | wgpu.GPUBuffer
# A kept bind group and the long-lived resources it was made of (FrameContext.lasting_bind_group).
BindGroupEntry = tuple[tuple[BoundResource, ...], wgpu.GPUBindGroup]
_atlas_textures: weakref.WeakKeyDictionary[GlyphAtlas, tuple[int, wgpu.GPUTextureView]] = (
    weakref.WeakKeyDictionary()
)


class FrameContext:
    """What layers need while a frame is prepared: device, pool, shaders, the frame uniform."""

    def __init__(
        self,
        device: wgpu.GPUDevice,
        pool: BufferPool,
        width: int,
        height: int,
        frame_uniform: wgpu.GPUBuffer | None = None,
        bind_groups: dict[tuple[object, ...], BindGroupEntry] | None = None,
    ) -> None:
        self.device = device
        self.pool = pool
        self.shaders = shader_cache(device)
        self.queue = device.queue
        self._acquired: list[wgpu.GPUBuffer] = []
        # A canvas keeps its frame uniform and the bind groups made of it (and of other long-lived
        # resources) from frame to frame: fewer wgpu calls per frame, most of a frame's cost on a GPU.
        self._bind_groups = {} if bind_groups is None else bind_groups
        if frame_uniform is None:
            size = np.array([width, height, 0, 0], np.float32)
            frame_uniform = self.upload(size, wgpu.BufferUsage.UNIFORM)
        self.frame_uniform = frame_uniform

    def upload(self, array: np.ndarray, usage: int) -> wgpu.GPUBuffer:
        """Copy an array into a pooled buffer (released when the frame is done)."""
        data = np.ascontiguousarray(array)
        least = SMALL_DATA_BYTES if usage & _SMALL_DATA_USAGE else 16
        buffer = self.pool.acquire(max(data.nbytes, least), usage | wgpu.BufferUsage.COPY_DST)
        self.queue.write_buffer(buffer, 0, data)
        self._acquired.append(buffer)
        return buffer

    def scratch(self, nbytes: int, usage: int) -> wgpu.GPUBuffer:
        """A pooled buffer of at least `nbytes` for this frame's own GPU work (released with it)."""
        buffer = self.pool.acquire(max(int(nbytes), 16), usage)
        self._acquired.append(buffer)
        return buffer

    def frame_entry(self) -> dict[str, Any]:
        """Bind-group entry 0: the frame-size uniform."""
        return {"binding": 0, "resource": {"buffer": self.frame_uniform, "offset": 0, "size": 16}}

    def frame_bind_group(self, pipeline: wgpu.GPURenderPipeline) -> wgpu.GPUBindGroup:
        """A bind group holding only the frame uniform."""
        return self.lasting_bind_group(pipeline, (), None)

    def pooled_bind_group(
        self, pipeline: wgpu.GPURenderPipeline, buffers: tuple[wgpu.GPUBuffer, ...]
    ) -> wgpu.GPUBindGroup:
        """The bind group of the frame uniform and whole pooled `buffers` (bindings 1...), kept per
        canvas: the pool hands the same buffers back frame after frame, so a layer whose data only
        changed skips creating one (~30-60 us of wgpu-py each)."""
        return self.lasting_bind_group(pipeline, buffers, buffers)

    def lasting_bind_group(
        self, pipeline: wgpu.GPURenderPipeline, resources: tuple[BoundResource, ...], slot: object
    ) -> wgpu.GPUBindGroup:
        """The bind group of the frame uniform (binding 0) and long-lived `resources` (bindings 1...),
        kept per canvas, pipeline and `slot` (what the resources belong to, e.g. a glyph atlas); made
        again, the old one let go, when the resources are other objects (a grown atlas's texture)."""
        key = (pipeline, self.frame_uniform, slot)
        kept = self._bind_groups.get(key)
        if kept is not None and len(kept[0]) == len(resources) and all(map(operator.is_, kept[0], resources)):
            return kept[1]
        if kept is None and len(self._bind_groups) >= _MAX_BIND_GROUPS:
            self._bind_groups.clear()  # many slots (atlases of many sizes): start over
        entries = [self.frame_entry()]
        entries += [{"binding": i + 1, "resource": _binding(r)} for i, r in enumerate(resources)]
        group = self.device.create_bind_group(layout=pipeline.get_bind_group_layout(0), entries=entries)
        self._bind_groups[key] = (resources, group)
        return group

    def atlas_view(self, atlas: GlyphAtlas) -> wgpu.GPUTextureView:
        """The texture view of a glyph atlas (uploaded again only after it gained glyphs)."""
        cached = _atlas_textures.get(atlas)
        if cached is not None and cached[0] == atlas.version:
            return cached[1]
        version, image = atlas.snapshot()
        h, w = image.shape
        texture = self.device.create_texture(
            size=(w, h, 1),
            format="r8unorm",
            usage=wgpu.TextureUsage.TEXTURE_BINDING | wgpu.TextureUsage.COPY_DST,
        )
        self.queue.write_texture(
            {"texture": texture}, image, {"bytes_per_row": w, "rows_per_image": h}, (w, h, 1)
        )
        view = texture.create_view()
        # An older texture may still be bound by a layer of a frame being prepared on another
        # thread: it is freed when the last reference goes, not destroyed here.
        _atlas_textures[atlas] = (version, view)
        return view

    def release(self) -> None:
        """Return every buffer of this frame to the pool."""
        for buffer in self._acquired:
            self.pool.release(buffer)
        self._acquired.clear()


def _binding(resource: BoundResource) -> wgpu.GPUTextureView | dict[str, object]:
    """A bind-group entry's resource: a texture view as it is, a buffer bound whole."""
    if isinstance(resource, wgpu.GPUBuffer):
        return {"buffer": resource, "offset": 0, "size": resource.size}
    return resource
