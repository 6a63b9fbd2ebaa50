"""Markers that stay legible when many overlap: opacity and size from the overlap they meet.

Markers are counted in cells one marker wide. Crowded views draw smaller markers (down to half
the radius, from the overlap a typical marker meets: sum c² / sum c over the cells). Each marker
then gets the opacity that makes its cell, with c markers over one another, show
1 - (1 - alpha)^c = opacity(c): rising with log(c) from LONE_SHARE of the base opacity for a
lone marker (the base opacity while few overlap) to CROWDED_OPACITY for the most crowded
cell; lone markers keep their full size.
Clusters stay distinguishable instead of one flat solid mass, outliers stay visible, and the look
is that of density mode (opacity from rows per pixel), so the density -> markers switch does not
change it abruptly. A view where no markers overlap draws them all at the base opacity, as before.
"""

from __future__ import annotations

import math

import numpy as np

LONE_SHARE = 0.45  # a lone marker in a crowded view: this share of the base opacity
CROWDED_OPACITY = 0.95  # the most crowded cell of a view
FADE_FROM, FADE_TO = 1.5, 8.0  # typical overlaps over which lone markers fade to LONE_SHARE
MIN_RADIUS_SCALE = 0.5
SHRINK_FROM = 4.0  # markers shrink once a typical one overlaps more than this many
MAX_CELLS = 4 * 2**20


def cell_counts(x: np.ndarray, y: np.ndarray, diameter: float) -> np.ndarray:
    """Per marker: the markers in its cell of `diameter` pixels (itself included; 0 if not finite)."""
    out = np.zeros(x.shape, np.int64)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any() or diameter <= 0:
        return out
    cx = np.floor(x[finite] / diameter).astype(np.int64)
    cy = np.floor(y[finite] / diameter).astype(np.int64)
    cx -= cx.min()
    cy -= cy.min()
    columns = int(cx.max()) + 1
    keys = cy * columns + cx
    if columns * (int(cy.max()) + 1) <= MAX_CELLS:
        out[finite] = np.bincount(keys)[keys]
    else:  # far-flung markers (a zoomed view keeps points outside it): the occupied cells only
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        out[finite] = counts[inverse]
    return out


def typical_overlap(counts: np.ndarray) -> float:
    """Markers sharing a typical marker's cell (1.0: none overlap), from `cell_counts`."""
    occupied = counts[counts > 0].astype(np.float64)
    # Each marker reports its cell's count, so the mean over markers is sum c² / sum c over cells.
    return float(occupied.mean()) if occupied.size else 1.0


def radius_scale(overlap: float) -> float:
    """How much smaller markers are drawn in a view whose typical marker meets `overlap`."""
    if overlap <= SHRINK_FROM:
        return 1.0
    return max(MIN_RADIUS_SCALE, math.sqrt(SHRINK_FROM / overlap))


def marker_alphas(counts: np.ndarray, base_alpha: float, overlap: float) -> np.ndarray:
    """Per marker, from its cell's count: the opacity described in the module's docstring. A lone
    marker keeps the base opacity while the view's typical `overlap` is small (up to
    FADE_FROM), and LONE_SHARE of it from FADE_TO on."""
    crowd = max(int(counts.max(initial=0)), 1)
    if crowd <= 1:
        return np.full(counts.shape, base_alpha)
    fade = (math.log(max(overlap, 1.0)) - math.log(FADE_FROM)) / (math.log(FADE_TO) - math.log(FADE_FROM))
    lone = base_alpha * (1.0 - (1.0 - LONE_SHARE) * min(max(fade, 0.0), 1.0))
    top = max(CROWDED_OPACITY, base_alpha)
    c = np.maximum(counts, 1).astype(np.float64)
    cell_opacity = lone + (top - lone) * np.log(c) / math.log(crowd)
    return 1.0 - (1.0 - cell_opacity) ** (1.0 / c)
