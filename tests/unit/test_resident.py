"""GPU-resident points on the real device (lavapipe here): compute-shader density, release."""

from __future__ import annotations

import numpy as np
import pytest

from pikaplot_widget.render.buffers import buffer_pool
from pikaplot_widget.render.resident import ResidentPoints


def test_compute_shader_density_equals_numpy(rng, monkeypatch):
    from pikaplot_widget.render import resident

    monkeypatch.setattr(resident, "CHUNK_POINTS", 70_000)  # several chunks, one partly filled
    n = 200_000
    x = rng.normal(5.0, 2.0, n)
    y = rng.normal(-1.0, 0.5, n)
    extent = (x.min(), x.max(), y.min(), y.max())
    points = ResidentPoints(extent)
    for start in range(0, n, 30_000):  # streamed in batches
        points.append(x[start : start + 30_000], y[start : start + 30_000])
    points.finish()
    assert points.count == n and len(points.chunks) == 3
    for box, (w, h) in [
        (extent, (64, 48)),
        ((3.0, 7.5, -1.5, -0.2), (200, 90)),
        ((4.9, 5.1, -1.02, -0.98), (30, 20)),
    ]:
        counts = points.bin(box, w, h)
        reference, _, _ = np.histogram2d(x, y, bins=[w, h], range=[box[:2], box[2:]])
        reference = reference.T
        assert counts.shape == (h, w)
        # float32 coordinates relative to the extent: a row within ~1e-6 of a bin edge may move
        assert abs(int(counts.sum()) - int(reference.sum())) <= 3
        assert np.abs(counts - reference).sum() <= max(6, reference.sum() * 1e-4)
    points.release()
    assert points.count == 0


def test_released_points_give_their_buffers_back_to_the_gpu():
    x = np.array([0.0, 10.0, 5.0])
    y = np.array([0.0, 10.0, 2.0])
    points = ResidentPoints((0.0, 10.0, 0.0, 10.0))
    points.append(x, y)
    points.finish()
    counts = points.bin((0.0, 10.0, 0.0, 10.0), 10, 10)
    assert counts.sum() == 3 and counts[2, 5] == 1  # (5, 2): column 5, row 2 from the bottom
    pool = buffer_pool().stats
    before = (pool.bytes_in_use, pool.bytes_free)
    buffers = [buffer for buffer, _ in points.chunks]
    points.release()
    assert points.count == 0
    assert not points.chunks
    assert (pool.bytes_in_use, pool.bytes_free) == before  # own buffers: destroyed, not pooled
    with pytest.raises(Exception):  # noqa: B017, PT011 - wgpu raises on a destroyed buffer
        points.device.queue.write_buffer(buffers[0], 0, np.zeros(4, np.float32))
