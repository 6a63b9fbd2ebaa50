"""Histogram equalisation (eq_hist) of a grid of counts on the GPU, exactly as `core.colors.Scale`.

The counts stay on the GPU: compute passes build the histogram of the counts (one bin per count
below LIMIT; the few pixels at LIMIT or more, at most total / LIMIT of them, in a tail list ranked
by brute force), scan it into the CDF, and write per pixel the colour-map index, which
`layers.density.DensityLayer` looks up in the frame. Only a few dozen bytes come back: the number
of occupied pixels, the sum, the extremes and the counts the colour bar labels.

Exactness: with `r` the occupied pixels at or below a pixel's count, `m` those at the smallest
count and `N` all occupied ones, the index is round_half_up(255 (r - m) / (N - m)) in integers.
The CPU scale computes the same fraction in float64, so the two agree but where the fraction lies
within about 1e-15 of a half step: there they may differ by one index (tests/unit/test_gpu_equalize.py
measures it). Grids up to 2^24 pixels (integers stay within 32 bits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import wgpu

from ..core import colors
from .buffers import BufferPool, map_for_reading
from .equalize_wgsl import (
    BLOCKS,
    EQUALIZE_WGSL,
    INDIRECT,
    ITEMS,
    LIMIT,
    LOWER,
    MAX,
    MIN,
    NMIN,
    OVERFLOW,
    RANK_LOWER,
    RANK_UPPER,
    STATS,
    TICKS,
    TOTAL,
    UPPER,
    N,
)
from .shaders import shader_cache

MAX_CELLS = 1 << 24
STATS_BYTES = STATS * 4
_STORAGE = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_DST | wgpu.BufferUsage.COPY_SRC
_ENTRY_POINTS = ("histogram", "scan_blocks", "scan_offsets", "finish", "ticks", "tick_ranks", "colour")
_INDIRECT = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.INDIRECT


@dataclass(frozen=True)
class EqualizedStats:
    """What the CPU learns of an equalised grid: enough for `rows_in_view` and the colour bar."""

    occupied: int  # pixels with a count > 0
    total: int  # sum of the counts
    lo: int  # smallest positive count (0 when none)
    hi: int  # largest count
    at_lo: int  # pixels at the smallest count
    picks: tuple[tuple[int, int], ...]  # (count, pixels at or below it) near each colour-bar target
    overflow: bool  # the tail list was too small (never, when max_total bounds the total)

    def scale(self) -> colors.Scale:
        """An eq_hist `Scale` whose ticks() equal those of the CPU scale fitted to the full grid."""
        if not self.occupied:
            return colors.Scale("eq_hist", np.zeros(0), np.zeros(0))
        ranks = dict([(self.lo, self.at_lo), *self.picks, (self.hi, self.occupied)])
        values = np.array(sorted(ranks), np.float64)
        cdf = np.array([ranks[int(v)] for v in values], np.float64) / self.occupied
        return colors.Scale("eq_hist", values, cdf)


def stats_from(raw: np.ndarray) -> EqualizedStats:
    """Decode the stats buffer."""
    occupied = int(raw[N])
    picks: list[tuple[int, int]] = []
    if occupied:
        for k in range(TICKS):
            picks.append((int(raw[LOWER + k]), int(raw[RANK_LOWER + k])))
            picks.append((int(raw[UPPER + k]), int(raw[RANK_UPPER + k])))
    return EqualizedStats(
        occupied=occupied,
        total=int(raw[TOTAL]),
        lo=int(raw[MIN]) if occupied else 0,
        hi=int(raw[MAX]),
        at_lo=int(raw[NMIN]),
        picks=tuple(picks),
        overflow=bool(raw[OVERFLOW]),
    )


@dataclass
class EqualizedGrid:
    """A view's colour-map indices on the GPU (index + 1 per pixel as 16-bit halves, 0: empty; row 0
    at the top), its stats, and the counts when they were read back (row 0 at the bottom)."""

    index: wgpu.GPUBuffer
    width: int
    height: int
    stats: EqualizedStats
    counts: np.ndarray | None = None

    @property
    def index_bytes(self) -> int:
        """Bytes of the index buffer that hold pixels."""
        return (self.width * self.height + 1) // 2 * 4


def index_words(cells: int) -> int:
    """u32 words of an index buffer of `cells` pixels."""
    return (cells + 1) // 2


class Equalizer:
    """Encodes the equalisation passes of one grid into a command encoder (under render_lock)."""

    def __init__(self, device: wgpu.GPUDevice, pool: BufferPool) -> None:
        self.device = device
        self.pool = pool
        self.layout = _bind_group_layout(device)
        self.plan_layout = device.create_bind_group_layout(
            entries=[{"binding": 0, "visibility": wgpu.ShaderStage.COMPUTE, "buffer": {"type": "storage"}}]
        )
        module = shader_cache(device).module("equalize", EQUALIZE_WGSL)

        def pipeline(name: str, layouts: list[wgpu.GPUBindGroupLayout]) -> wgpu.GPUComputePipeline:
            return device.create_compute_pipeline(
                label=f"equalize_{name}",
                layout=device.create_pipeline_layout(bind_group_layouts=layouts),
                compute={"module": module, "entry_point": name},
            )

        self.pipelines = {name: pipeline(name, [self.layout]) for name in _ENTRY_POINTS}
        # The plan pass writes the indirect dispatch sizes: its own bind group and compute pass, so
        # the buffer is never bound for writing where it is read as INDIRECT.
        self.pipelines["plan"] = pipeline("plan", [self.layout, self.plan_layout])

    def encode(
        self,
        encoder: wgpu.GPUCommandEncoder,
        counts: wgpu.GPUBuffer,
        width: int,
        height: int,
        max_total: int,
        scratch: list[wgpu.GPUBuffer],
    ) -> tuple[wgpu.GPUBuffer, wgpu.GPUBuffer]:
        """Record the passes over `counts` ((height, width) u32, row 0 at the bottom, totalling at
        most `max_total`); returns (index buffer, stats buffer). The pooled buffers it used are
        appended to `scratch`: give them back to the pool once the work is submitted."""
        cells = check_cells(width, height)
        tail_cap = max(64, int(max_total) // LIMIT + 1)
        params = np.array([width, height, cells, tail_cap], np.uint32)
        initial = np.zeros(STATS, np.uint32)
        initial[MIN] = 0xFFFFFFFF
        initial[UPPER : UPPER + TICKS] = 0xFFFFFFFF
        take = self._scratch
        uniform = take(scratch, 16, wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST, params)
        hist = take(scratch, LIMIT * 4, _STORAGE)
        blocks = take(scratch, BLOCKS * 4, _STORAGE)
        tail = take(scratch, tail_cap * 4, _STORAGE)
        stats = take(scratch, STATS_BYTES, _STORAGE, initial)
        indirect = take(scratch, INDIRECT * 4, _INDIRECT)
        index = self.device.create_buffer(size=max(index_words(cells) * 4, 16), usage=_STORAGE)
        encoder.clear_buffer(hist, 0, LIMIT * 4)
        buffers = [counts, hist, blocks, tail, stats, index]
        sizes = [cells * 4, LIMIT * 4, BLOCKS * 4, tail_cap * 4, STATS_BYTES, index_words(cells) * 4]
        entries = [{"binding": 0, "resource": {"buffer": uniform, "offset": 0, "size": 16}}]
        for binding, (buffer, size) in enumerate(zip(buffers, sizes, strict=True), start=1):
            entries.append({"binding": binding, "resource": {"buffer": buffer, "offset": 0, "size": size}})
        bind_group = self.device.create_bind_group(layout=self.layout, entries=entries)
        plan_group = self.device.create_bind_group(
            layout=self.plan_layout,
            entries=[{"binding": 0, "resource": {"buffer": indirect, "offset": 0, "size": INDIRECT * 4}}],
        )
        compute = encoder.begin_compute_pass()
        compute.set_bind_group(0, bind_group)
        compute.set_pipeline(self.pipelines["histogram"])
        compute.dispatch_workgroups(math.ceil(cells / (256 * ITEMS)))
        compute.set_pipeline(self.pipelines["plan"])
        compute.set_bind_group(1, plan_group)
        compute.dispatch_workgroups(1)
        compute.end()
        # (pipeline, workgroups or the byte offset of indirect sizes)
        steps: list[tuple[str, int | None, int]] = [
            ("scan_blocks", None, 0),
            ("scan_offsets", 1, 0),
            ("finish", 1, 0),
            ("ticks", None, 12),
            ("tick_ranks", 1, 0),
            ("colour", math.ceil(index_words(cells) / (256 * ITEMS)), 0),
        ]
        compute = encoder.begin_compute_pass()
        compute.set_bind_group(0, bind_group)
        for name, groups, offset in steps:
            compute.set_pipeline(self.pipelines[name])
            if groups is None:
                compute.dispatch_workgroups_indirect(indirect, offset)
            else:
                compute.dispatch_workgroups(groups)
        compute.end()
        return index, stats

    def _scratch(
        self, held: list[wgpu.GPUBuffer], nbytes: int, usage: int, data: np.ndarray | None = None
    ) -> wgpu.GPUBuffer:
        buffer = self.pool.acquire(nbytes, usage)
        held.append(buffer)
        if data is not None:
            self.device.queue.write_buffer(buffer, 0, data)
        return buffer


_equalizers: dict[int, Equalizer] = {}


def equalizer() -> Equalizer:
    """The equaliser of the shared device (pipelines compiled once; call under render_lock)."""
    from .buffers import buffer_pool
    from .device import get_device

    device = get_device()
    found = _equalizers.get(id(device))
    if found is None:
        found = _equalizers[id(device)] = Equalizer(device, buffer_pool())
    return found


def check_cells(width: int, height: int) -> int:
    """The pixels of a grid the GPU can equalise (ValueError past MAX_CELLS: ranks need 32 bits)."""
    cells = int(width) * int(height)
    if not 0 < cells <= MAX_CELLS:
        raise ValueError(f"grids of 1 to {MAX_CELLS} pixels are equalised on the GPU, got {cells}")
    return cells


def _bind_group_layout(device: wgpu.GPUDevice) -> wgpu.GPUBindGroupLayout:
    compute = wgpu.ShaderStage.COMPUTE
    entries = [{"binding": 0, "visibility": compute, "buffer": {"type": "uniform"}}]
    entries.append({"binding": 1, "visibility": compute, "buffer": {"type": "read-only-storage"}})
    for binding in range(2, 7):
        entries.append({"binding": binding, "visibility": compute, "buffer": {"type": "storage"}})
    return device.create_bind_group_layout(entries=entries)


def equalize_counts(counts: np.ndarray) -> EqualizedGrid:
    """Equalise a (height, width) grid of counts from the CPU (row 0 at the bottom) on the GPU;
    the index stays there (used by tests and benchmarks; resident points bin on the GPU instead)."""
    from .device import render_lock

    grid = np.ascontiguousarray(counts, np.uint32)
    height, width = grid.shape
    check_cells(width, height)
    with render_lock:
        eq = equalizer()
        device, pool = eq.device, eq.pool
        source = pool.acquire(grid.nbytes, _STORAGE)
        readback = pool.acquire(STATS_BYTES, wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST)
        scratch = [source, readback]
        try:
            device.queue.write_buffer(source, 0, grid)
            encoder = device.create_command_encoder()
            total = int(grid.sum(dtype=np.uint64))
            index, stats = eq.encode(encoder, source, width, height, total, scratch)
            encoder.copy_buffer_to_buffer(stats, 0, readback, 0, STATS_BYTES)
            device.queue.submit([encoder.finish()])
            raw = read_back(readback, STATS_BYTES)
        finally:
            for buffer in scratch:
                pool.release(buffer)
    return EqualizedGrid(index, width, height, stats_from(raw.view(np.uint32)))


def read_back(buffer: wgpu.GPUBuffer, nbytes: int) -> np.ndarray:
    """The first `nbytes` of a MAP_READ buffer as uint8 (waits for the GPU)."""
    map_for_reading(buffer, nbytes)
    try:
        return np.frombuffer(buffer.read_mapped(0, nbytes, copy=False), np.uint8).copy()
    finally:
        buffer.unmap()


def read_index(grid: EqualizedGrid) -> np.ndarray:
    """The colour-map index per pixel back on the CPU, (height, width) int16 with -1 for empty
    pixels, row 0 at the top (for tests)."""
    from .buffers import buffer_pool
    from .device import get_device, render_lock

    device, pool = get_device(), buffer_pool()
    nbytes = grid.index_bytes
    with render_lock:
        readback = pool.acquire(nbytes, wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST)
        try:
            encoder = device.create_command_encoder()
            encoder.copy_buffer_to_buffer(grid.index, 0, readback, 0, nbytes)
            device.queue.submit([encoder.finish()])
            raw = read_back(readback, nbytes)
        finally:
            pool.release(readback)
    halves = raw.view(np.uint16)[: grid.width * grid.height].astype(np.int16) - 1
    return halves.reshape(grid.height, grid.width)
