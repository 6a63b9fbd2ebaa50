"""Index-selecting line downsamplers: LTTB and MinMaxLTTB (pure numpy).

Both functions return sorted ``int64`` indices into the input arrays, so the caller can gather any
number of columns with the same selection.  The first and the last point are always kept.

Conventions shared by both functions:

* ``x`` must be sorted ascending (non-decreasing; repeated values are allowed) and finite.  Datetime
  ``x`` is accepted and treated as its integer representation.
* Non-finite ``y`` values (NaN, and ±inf, which are treated exactly like NaN) mark gaps.  A gap point
  is never chosen while its bucket holds a finite candidate; a bucket made only of gap points keeps
  its first point, so gaps survive downsampling as NaN points that break the drawn line.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["lttb", "minmax_lttb"]

# Row budget (in elements) for one block of the MinMax preselection, to bound temporary memory.
_BLOCK_ELEMENTS = 1 << 20


def _as_x(x: np.ndarray) -> np.ndarray:
    """Return ``x`` as a 1-D float64 array (datetimes via their int64 representation)."""
    arr = np.asarray(x)
    if arr.dtype.kind in "mM":
        arr = arr.view(np.int64)
    return np.asarray(arr, dtype=np.float64)


def _as_y(y: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``y`` as float64 with every non-finite value replaced by NaN, and whether any gap exists."""
    arr = np.asarray(y, dtype=np.float64)
    # A single reduction is a cheap screen: the sum is finite whenever every value is (barring overflow).
    with np.errstate(invalid="ignore", over="ignore"):
        total = arr.sum()
    if np.isfinite(total):
        return arr, False
    finite = np.isfinite(arr)
    if finite.all():
        return arr, False
    return np.where(finite, arr, np.nan), True


def _check(x: np.ndarray, y: np.ndarray, n_out: int) -> None:
    """Validate shapes and ``n_out``; raise ``ValueError`` on bad input."""
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"x and y must be 1-D, got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if n_out < 3:
        raise ValueError(f"n_out must be at least 3 (first, last and one bucket), got {n_out}")


def _bucket_edges(n_interior: int, n_buckets: int) -> np.ndarray:
    """Edges ``e`` of ``n_buckets`` equal-count buckets over the ``n_interior`` points from index 1.

    Bucket ``k`` is ``[e[k], e[k + 1])``; sizes differ by at most one.
    """
    k = np.arange(n_buckets + 1, dtype=np.int64)
    return 1 + (k * n_interior) // n_buckets


def _next_centroids(
    x: np.ndarray, y: np.ndarray, edges: np.ndarray, gaps: bool
) -> tuple[list[float], list[float]]:
    """Per LTTB bucket, the mean (x, y) of the next bucket; the last bucket's next is the final point.

    Only finite-y points enter a mean.  A next bucket without any finite point is skipped in favour of
    the following one (ultimately the final point); if none remains the centroid is NaN.
    """
    n = len(x)
    n_buckets = len(edges) - 1
    # Groups 0 .. n_buckets-1 are buckets 1 .. n_buckets-1 followed by the final point alone
    # (reduceat's last group runs to the end of the array, which is exactly the final point).
    offsets = edges[1:] - 1  # group starts relative to x[1:]
    if gaps:
        finite = ~np.isnan(y)
        counts = np.add.reduceat(finite[1:], offsets, dtype=np.int64)
        x_sum = np.add.reduceat(np.where(finite, x, 0.0)[1:], offsets)
        y_sum = np.add.reduceat(np.where(finite, y, 0.0)[1:], offsets)
    else:
        counts = np.diff(np.append(offsets, n - 1))
        x_sum = np.add.reduceat(x[1:], offsets)
        y_sum = np.add.reduceat(y[1:], offsets)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = x_sum / counts
        cy = y_sum / counts
    if gaps:
        # Back-fill empty groups with the next non-empty one (sentinel n_buckets -> NaN).
        group = np.where(counts > 0, np.arange(n_buckets), n_buckets)
        fill = np.minimum.accumulate(group[::-1])[::-1]
        cx = np.append(cx, np.nan)[fill]
        cy = np.append(cy, np.nan)[fill]
    return cx.tolist(), cy.tolist()


def lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Largest-Triangle-Three-Buckets (Steinarsson 2013): indices of ``n_out`` points that keep the shape.

    The interior points ``1 .. n-2`` are split into ``n_out - 2`` equal-count buckets; from each
    bucket the point forming the largest triangle with the previously kept point and the mean of the
    next bucket (the final point for the last bucket) is kept.  ``x`` must be sorted ascending
    (duplicates allowed).  NaN/inf ``y`` are gaps: their triangle area counts as -inf, so they are
    only kept from a bucket with no finite point, and the anchor stays at the last kept finite point.

    Returns sorted int64 indices; ``arange(len(x))`` when ``n_out >= len(x)``.
    Raises ``ValueError`` when ``n_out < 3``.
    """
    xf = _as_x(x)
    yf, gaps = _as_y(y)
    _check(xf, yf, n_out)
    n = len(xf)
    if n_out >= n:
        return np.arange(n, dtype=np.int64)

    n_buckets = n_out - 2
    edges = _bucket_edges(n - 2, n_buckets)
    cxs, cys = _next_centroids(xf, yf, edges, gaps)
    bounds = edges.tolist()

    out = np.empty(n_out, dtype=np.int64)
    out[0] = 0
    out[-1] = n - 1
    ax = float(xf[0])
    ay = float(yf[0])
    neg_inf = -np.inf
    for i in range(n_buckets):
        s = bounds[i]
        e = bounds[i + 1]
        area = np.abs((ax - cxs[i]) * (yf[s:e] - ay) - (ax - xf[s:e]) * (cys[i] - ay))
        j = int(area.argmax())
        if math.isnan(area[j]):  # argmax lands on the first NaN when there is one
            j = int(np.where(np.isnan(area), neg_inf, area).argmax())
        j += s
        out[i + 1] = j
        yj = float(yf[j])
        if not math.isnan(yj):
            ax = float(xf[j])
            ay = yj
    return out


def _minmax_preselect(y: np.ndarray, n_buckets: int, gaps: bool) -> np.ndarray:
    """Sorted unique indices of the first point, last point and per-bucket argmin/argmax of ``y``.

    Buckets are ``n_buckets`` equal-count index buckets over the interior points; NaN is ignored
    unless a whole bucket is NaN, in which case the bucket contributes its first point.
    """
    n = len(y)
    edges = _bucket_edges(n - 2, n_buckets)
    starts = edges[:-1] - 1  # relative to y[1:]
    sizes = np.diff(edges)
    width = int(sizes.max())
    # Rows of a strided view over y[1:] (which ends with the final point, so every row fits):
    # each bucket as a row padded to `width`; a short row's padding repeats its first element, which
    # can never win against it because argmin/argmax return the first of equal values.
    windows = np.lib.stride_tricks.sliding_window_view(y[1:], width)
    rows_per_block = max(1, _BLOCK_ELEMENTS // width)
    lo = np.empty(n_buckets, dtype=np.int64)
    hi = np.empty(n_buckets, dtype=np.int64)
    for r0 in range(0, n_buckets, rows_per_block):
        r1 = min(r0 + rows_per_block, n_buckets)
        block = windows[starts[r0:r1]]
        short = np.flatnonzero(sizes[r0:r1] < width)
        block[short, width - 1] = block[short, 0]
        if gaps:
            nan = np.isnan(block)
            lo[r0:r1] = np.where(nan, np.inf, block).argmin(axis=1)
            hi[r0:r1] = np.where(nan, -np.inf, block).argmax(axis=1)
        else:
            lo[r0:r1] = block.argmin(axis=1)
            hi[r0:r1] = block.argmax(axis=1)
    picked = np.concatenate(([0, n - 1], edges[:-1] + lo, edges[:-1] + hi))
    return np.unique(picked)


def minmax_lttb(x: np.ndarray, y: np.ndarray, n_out: int, minmax_ratio: int = 4) -> np.ndarray:
    """MinMaxLTTB (Van Der Donckt et al. 2023): MinMax preselection, then LTTB down to ``n_out``.

    The interior points are split into ``n_out * minmax_ratio // 2`` equal-count index buckets and
    each bucket's argmin and argmax of ``y`` (ignoring NaN unless the bucket is all NaN) are kept
    together with the first and last point; LTTB then picks ``n_out`` of those.  When
    ``len(x) <= n_out * minmax_ratio`` this is plain :func:`lttb`.  Same conventions as ``lttb``.

    Returns sorted int64 indices.  Raises ``ValueError`` when ``n_out < 3`` or ``minmax_ratio < 2``.
    """
    if minmax_ratio < 2:
        raise ValueError(f"minmax_ratio must be at least 2, got {minmax_ratio}")
    x_arr = np.asarray(x)
    yf, gaps = _as_y(y)
    _check(x_arr, yf, n_out)
    n = len(yf)
    if n <= n_out * minmax_ratio:
        return lttb(x_arr, yf, n_out)
    pre = _minmax_preselect(yf, (n_out * minmax_ratio) // 2, gaps)
    return pre[lttb(x_arr[pre], yf[pre], n_out)]
