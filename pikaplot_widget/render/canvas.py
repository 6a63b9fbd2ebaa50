"""An offscreen wgpu render target: draw layers, read the frame back as an RGBA numpy array."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import wgpu

from .buffers import buffer_pool, map_for_reading
from .context import BindGroupEntry, FrameContext
from .device import get_device, render_lock
from .layers.base import TARGET_FORMAT, Layer


class Canvas:
    """A texture of `width` x `height` physical pixels that layers draw into."""

    def __init__(self, width: int, height: int) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"canvas size must be positive, got {width}x{height}")
        self.width, self.height = int(width), int(height)
        self.device = get_device()
        self.pool = buffer_pool()
        with render_lock:
            self.texture = self.device.create_texture(
                size=(self.width, self.height, 1),
                format=TARGET_FORMAT,
                usage=wgpu.TextureUsage.RENDER_ATTACHMENT | wgpu.TextureUsage.COPY_SRC,
            )
            self.view = self.texture.create_view()
            self.frame_uniform = self.device.create_buffer(
                size=16, usage=wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST
            )
            self.device.queue.write_buffer(
                self.frame_uniform, 0, np.array([self.width, self.height, 0, 0], np.float32)
            )
        self.bind_groups: dict[tuple[object, ...], BindGroupEntry] = {}
        self.row_bytes = (self.width * 4 + 255) // 256 * 256

    def draw(
        self,
        layers: Sequence[Layer],
        clear: tuple[float, float, float, float] = (1, 1, 1, 1),
        while_gpu_draws: Callable[[], object] | None = None,
    ) -> np.ndarray:
        """Render `layers` in order and return the frame as a (height, width, 4) uint8 array.
        `while_gpu_draws` runs between the submit and the readback (CPU work the GPU's time hides)."""
        with render_lock:
            ctx = FrameContext(
                self.device, self.pool, self.width, self.height, self.frame_uniform, self.bind_groups
            )
            readback = self.pool.acquire(
                self.row_bytes * self.height, wgpu.BufferUsage.COPY_DST | wgpu.BufferUsage.MAP_READ
            )
            try:
                for layer in layers:
                    layer.prepare(ctx)
                encoder = self.device.create_command_encoder()
                render_pass = encoder.begin_render_pass(
                    color_attachments=[
                        {"view": self.view, "clear_value": clear, "load_op": "clear", "store_op": "store"}
                    ]
                )
                scissor = None
                for layer in layers:
                    x, y, w, h = layer.clip or (0, 0, self.width, self.height)
                    x0, y0 = max(0, x), max(0, y)
                    x1, y1 = min(self.width, x + w), min(self.height, y + h)
                    if x1 <= x0 or y1 <= y0:
                        continue
                    if scissor != (x0, y0, x1, y1):  # each wgpu call costs ~10 us of Python
                        scissor = (x0, y0, x1, y1)
                        render_pass.set_scissor_rect(x0, y0, x1 - x0, y1 - y0)
                    layer.encode(render_pass, ctx)
                render_pass.end()
                encoder.copy_texture_to_buffer(
                    {"texture": self.texture},
                    {
                        "buffer": readback,
                        "offset": 0,
                        "bytes_per_row": self.row_bytes,
                        "rows_per_image": self.height,
                    },
                    (self.width, self.height, 1),
                )
                self.device.queue.submit([encoder.finish()])
                if while_gpu_draws is not None:
                    while_gpu_draws()
                map_for_reading(readback, self.row_bytes * self.height)
                try:
                    raw = np.frombuffer(readback.read_mapped(copy=False), np.uint8)
                    frame = raw.reshape(self.height, self.row_bytes)[:, : self.width * 4].copy()
                finally:
                    readback.unmap()
            finally:
                ctx.release()
                self.pool.release(readback)
        return frame.reshape(self.height, self.width, 4)

    def destroy(self) -> None:
        """Free the texture."""
        with render_lock:
            self.texture.destroy()
            self.frame_uniform.destroy()
            self.bind_groups.clear()
