"""eq_hist on the GPU (lavapipe here) against the CPU scale and an exact integer reference."""

from __future__ import annotations

import numpy as np
import pytest

from pikaplot_widget.core import colors
from pikaplot_widget.render.canvas import Canvas
from pikaplot_widget.render.equalize import MAX_CELLS, equalize_counts, read_index
from pikaplot_widget.render.equalize_wgsl import LIMIT
from pikaplot_widget.render.layers.density import DensityLayer
from pikaplot_widget.render.layers.image import ImageLayer, indexed_image
from pikaplot_widget.render.resident import ResidentPoints


def exact_indices(counts: np.ndarray) -> np.ndarray:
    """Brute force in Python integers: round_half_up(255 (r - m) / (N - m)), -1 where empty; row 0
    at the top as the GPU writes it."""
    flat = counts.ravel()
    occupied = flat[flat > 0]
    out = np.full(flat.shape, -1, np.int64)
    if occupied.size:
        ordered = np.sort(occupied)
        rank = np.searchsorted(ordered, flat, side="right")  # pixels at or below each count
        m = int(np.searchsorted(ordered, ordered[0], side="right"))
        span = occupied.size - m
        if span == 0:
            out[flat > 0] = 255
        else:
            num = 255 * (rank.astype(object) - m)
            q = num // span
            out = np.where(flat > 0, (q + (2 * (num - q * span) >= span)).astype(np.int64), -1)
    return np.flipud(out.reshape(counts.shape))


def cpu_indices(counts: np.ndarray) -> tuple[np.ndarray, colors.Scale]:
    """What the painter computes today: Scale.fit + color_indices, flipped to row 0 at the top."""
    scale = colors.Scale.fit(counts, "eq_hist")
    index, occupied = scale.color_indices(counts)
    return np.flipud(np.where(occupied, index.astype(np.int64), -1)), scale


def check(counts: np.ndarray) -> float:
    """GPU == exact reference; GPU vs the CPU scale within one index on a tiny share of pixels;
    same stats and colour-bar ticks. Returns the share of pixels that differ from the CPU."""
    grid = equalize_counts(counts)
    gpu = read_index(grid).astype(np.int64)
    np.testing.assert_array_equal(gpu, exact_indices(counts))
    cpu, scale = cpu_indices(counts)
    assert np.abs(gpu - cpu).max(initial=0) <= 1
    assert ((gpu < 0) == (cpu < 0)).all()  # occupied pixels match exactly
    stats = grid.stats
    assert stats.occupied == int((counts > 0).sum())
    assert stats.total == int(counts.sum())
    assert not stats.overflow
    assert stats.scale().ticks() == scale.ticks()
    return float((gpu != cpu).mean())


@pytest.mark.parametrize(("height", "width"), [(1, 1), (7, 13), (120, 160), (333, 517)])
def test_uniform_and_skewed_counts_match_the_cpu_scale(rng, height, width):
    uniform = rng.integers(0, 40, (height, width))
    skewed = np.floor(rng.pareto(0.7, (height, width)) * 2).astype(np.int64)  # heavy tail
    sparse = np.where(rng.random((height, width)) < 0.02, rng.integers(1, 5, (height, width)), 0)
    for counts in (uniform, skewed, sparse):
        assert check(counts) <= 1e-3


def test_empty_single_pixel_and_one_value(rng):
    check(np.zeros((50, 60), np.int64))  # nothing drawn, no ticks
    one = np.zeros((50, 60), np.int64)
    one[17, 3] = 123_456
    check(one)
    assert read_index(equalize_counts(one))[50 - 1 - 17, 3] == 255
    flat = np.where(rng.random((40, 40)) < 0.3, 7, 0)
    check(flat)  # one distinct value: every occupied pixel at the top of the map


def test_counts_past_the_direct_histogram_use_the_tail_list(rng):
    counts = rng.poisson(2, (64, 80)).astype(np.int64)
    hot = rng.integers(LIMIT, 1 << 26, 40)
    hot[:6] = hot[6]  # equal counts in the tail
    counts.ravel()[rng.choice(counts.size, 40, replace=False)] = hot
    counts.ravel()[rng.choice(counts.size, 3, replace=False)] = LIMIT - 1
    check(counts)
    check(np.where(counts >= LIMIT, counts, 0))  # only tail pixels (the smallest in the tail)


def test_random_points_binned_on_the_gpu_match_numpy_and_the_cpu_path(rng):
    n = 60_000
    x = np.concatenate([rng.normal(0, 1, n), rng.uniform(-4, 4, n // 4)])
    y = np.concatenate([rng.normal(0, 0.3, n), rng.uniform(-4, 4, n // 4)])
    x[:5000] = 0.01  # a hot pixel
    y[:5000] = 0.01
    extent = (-4.0, 4.0, -4.0, 4.0)
    points = ResidentPoints(extent)
    points.append(x, y)
    points.finish()
    try:
        views = [(extent, (160, 120)), ((-1.0, 1.5, -0.5, 0.7), (97, 61)), ((9, 10, 9, 10), (20, 10))]
        for box, (w, h) in views:
            grid = points.density(box, w, h, read_counts=True)
            assert grid.counts is not None
            np.testing.assert_array_equal(grid.counts, points.bin(box, w, h))
            reference, _, _ = np.histogram2d(x, y, bins=[w, h], range=[box[:2], box[2:]])
            assert abs(grid.stats.total - int(reference.sum())) <= 3  # float32 rows near an edge
            gpu = read_index(grid).astype(np.int64)
            np.testing.assert_array_equal(gpu, exact_indices(grid.counts))
            cpu, scale = cpu_indices(grid.counts)
            assert np.abs(gpu - cpu).max(initial=0) <= 1
            assert grid.stats.scale().ticks() == scale.ticks()
    finally:
        points.release()


def test_density_layer_draws_the_same_pixels_as_the_cpu_image(rng):
    counts = np.floor(rng.pareto(1.0, (90, 140)) * 3).astype(np.int64)
    table = colors.colormap("viridis")
    canvas = Canvas(200, 130)
    try:
        cpu_scale = colors.Scale.fit(counts, "eq_hist")
        image = np.flipud(indexed_image(*cpu_scale.color_indices(counts)))
        expected = canvas.draw([ImageLayer(image, 31, 17, table)])
        frame = canvas.draw([DensityLayer(equalize_counts(counts), 31, 17, table)])
    finally:
        canvas.destroy()
    differs = np.any(frame != expected, axis=2)
    assert differs.mean() <= 1e-3  # pixels one index apart (ties at half steps), if any
    assert frame[:17].min() == 255 and frame[17 + 90 :].min() == 255  # nothing outside the rect


def test_grids_too_large_for_32_bit_ranks_are_refused():
    with pytest.raises(ValueError, match="pixels are equalised on the GPU"):
        equalize_counts(np.zeros((1, MAX_CELLS + 1), np.uint32))
