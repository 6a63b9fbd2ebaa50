"""A pool of GPU buffers sized to 256-byte multiples, reused by size class and usage."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import wgpu

ALIGNMENT = 256


_NOSYNC = {"known": True}  # False once a wgpu-py without the "READ_NOSYNC" mode refused it


def map_for_reading(buffer: Any, size: int) -> None:
    """Map for reading a buffer that the last submit copied into. wgpu-py's plain READ first submits
    an empty command buffer (for a read with nothing submitted before, wgpu-native#305): one more
    queue round trip, up to ~1 ms a frame on lavapipe behind a drawn line. "READ_NOSYNC" skips it."""
    if _NOSYNC["known"]:
        try:
            buffer.map_sync("READ_NOSYNC", 0, size)
            return
        except ValueError:  # an older wgpu-py: no such mode
            _NOSYNC["known"] = False
    buffer.map_sync(wgpu.MapMode.READ, 0, size)


def aligned_size(nbytes: int) -> int:
    """The size class for `nbytes`: the next power of two, at least 256 (so a multiple of 256)."""
    size = max(int(nbytes), 1)
    size = (size + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
    return 1 << (size - 1).bit_length()


@dataclass
class PoolStats:
    """Counters of a BufferPool."""

    hits: int = 0
    misses: int = 0
    bytes_free: int = 0
    bytes_in_use: int = 0
    trimmed_bytes: int = 0


class BufferPool:
    """Hands out buffers whose size is a power-of-two multiple of 256 and takes them back."""

    def __init__(self, device: Any) -> None:
        self._device = device
        self._free: dict[tuple[int, int], list[Any]] = defaultdict(list)
        self._lock = threading.Lock()
        self.stats = PoolStats()

    def acquire(self, nbytes: int, usage: int) -> Any:
        """A buffer of at least `nbytes` with exactly `usage`; reused when one is free."""
        size = aligned_size(nbytes)
        key = (size, int(usage))
        with self._lock:
            free = self._free.get(key)
            if free:
                buffer = free.pop()
                self.stats.hits += 1
                self.stats.bytes_free -= size
            else:
                buffer = None
                self.stats.misses += 1
            self.stats.bytes_in_use += size
        if buffer is None:
            buffer = self._device.create_buffer(size=size, usage=usage)
        return buffer

    def release(self, buffer: Any) -> None:
        """Give a buffer back for reuse."""
        key = (int(buffer.size), int(buffer.usage))
        with self._lock:
            self._free[key].append(buffer)
            self.stats.bytes_free += key[0]
            self.stats.bytes_in_use -= key[0]

    def trim(self, keep_bytes: int = 0) -> int:
        """Destroy free buffers, largest first, until at most `keep_bytes` stay pooled."""
        destroyed = []
        with self._lock:
            for key in sorted(self._free, reverse=True):
                free = self._free[key]
                while free and self.stats.bytes_free > keep_bytes:
                    destroyed.append(free.pop())
                    self.stats.bytes_free -= key[0]
            freed = sum(int(b.size) for b in destroyed)
            self.stats.trimmed_bytes += freed
        for buffer in destroyed:
            buffer.destroy()
        return freed


_pools: dict[int, BufferPool] = {}


def buffer_pool() -> BufferPool:
    """The process-wide buffer pool of the shared device."""
    from .device import get_device

    device = get_device()
    pool = _pools.get(id(device))
    if pool is None:
        pool = _pools[id(device)] = BufferPool(device)
    return pool
