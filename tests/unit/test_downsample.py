"""Tests for pikaplot_widget.core.downsample: exact agreement with brute-force references, plus properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pikaplot_widget.core.downsample import lttb, minmax_lttb

# --------------------------------------------------------------------------------------------------
# Brute-force references: plain Python loops over every point, same bucket and NaN rules.
# --------------------------------------------------------------------------------------------------


def _bucket_edges(n_interior, n_buckets):
    """Equal-count buckets over the points 1 .. n_interior: bucket k is range(edges[k], edges[k + 1])."""
    return [1 + (k * n_interior) // n_buckets for k in range(n_buckets + 1)]


def _is_gap(v):
    return not math.isfinite(v)


def ref_lttb(x, y, n_out):
    n = len(x)
    if n_out >= n:
        return list(range(n))
    xs = [float(v) for v in x]
    ys = [math.nan if _is_gap(float(v)) else float(v) for v in y]
    n_buckets = n_out - 2
    edges = _bucket_edges(n - 2, n_buckets)

    # Candidates for "the next bucket" of bucket i: bucket i + 1, ..., the last bucket, then the final point.
    groups = [range(edges[k], edges[k + 1]) for k in range(1, n_buckets)] + [range(n - 1, n)]
    centroids = []
    for group in groups:
        total_x = 0.0
        total_y = 0.0
        count = 0
        for j in group:
            if not math.isnan(ys[j]):
                total_x += xs[j]
                total_y += ys[j]
                count += 1
        centroids.append((total_x / count, total_y / count) if count else None)

    selected = [0]
    anchor = 0  # last selected point whose y is not a gap (or the first point)
    for i in range(n_buckets):
        centroid = None
        for k in range(i, len(groups)):
            if centroids[k] is not None:
                centroid = centroids[k]
                break
        best = edges[i]
        best_area = -math.inf
        for j in range(edges[i], edges[i + 1]):
            if centroid is None:
                continue
            cx, cy = centroid
            ax, ay = xs[anchor], ys[anchor]
            area = abs((ax - cx) * (ys[j] - ay) - (ax - xs[j]) * (cy - ay))
            if not math.isnan(area) and area > best_area:
                best = j
                best_area = area
        selected.append(best)
        if not math.isnan(ys[best]):
            anchor = best
    selected.append(n - 1)
    return selected


def ref_minmax_preselect(y, n_buckets):
    n = len(y)
    ys = [math.nan if _is_gap(float(v)) else float(v) for v in y]
    edges = _bucket_edges(n - 2, n_buckets)
    picked = {0, n - 1}
    for k in range(n_buckets):
        lo = None
        hi = None
        for j in range(edges[k], edges[k + 1]):
            if math.isnan(ys[j]):
                continue
            if lo is None or ys[j] < ys[lo]:
                lo = j
            if hi is None or ys[j] > ys[hi]:
                hi = j
        if lo is None:  # the whole bucket is a gap: keep its first point
            lo = hi = edges[k]
        picked.add(lo)
        picked.add(hi)
    return sorted(picked)


def ref_minmax_lttb(x, y, n_out, minmax_ratio=4):
    n = len(x)
    if n <= n_out * minmax_ratio:
        return ref_lttb(x, y, n_out)
    pre = ref_minmax_preselect(y, (n_out * minmax_ratio) // 2)
    sub = ref_lttb([x[i] for i in pre], [y[i] for i in pre], n_out)
    return [pre[i] for i in sub]


# --------------------------------------------------------------------------------------------------
# Data generators (fixed seeds).
# --------------------------------------------------------------------------------------------------

KINDS = [
    "uniform",  # sorted random x, random y
    "walk",  # arange x, random-walk y
    "dup_x",  # x with many repeated values
    "noisy_sine",  # smooth signal plus noise
    "int_y",  # small-integer y (many exact ties)
    "const_y",  # constant y (every area ties)
    "nan_scatter",  # ~15% NaN at random positions
    "nan_runs",  # long NaN runs, including at both ends
    "nan_mostly",  # ~90% NaN
    "inf",  # some +inf / -inf, which count as gaps
]


def make_data(kind, n, seed):
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        x = np.sort(rng.uniform(-1e3, 1e3, n))
        y = rng.standard_normal(n)
    elif kind == "walk":
        x = np.arange(n, dtype=np.float64)
        y = np.cumsum(rng.standard_normal(n))
    elif kind == "dup_x":
        x = np.sort(rng.integers(0, max(1, n // 4), n)).astype(np.float64)
        y = rng.standard_normal(n)
    elif kind == "noisy_sine":
        x = np.linspace(0.0, 20.0, n)
        y = np.sin(x) + 0.1 * rng.standard_normal(n)
    elif kind == "int_y":
        x = np.arange(n, dtype=np.float64)
        y = rng.integers(-3, 4, n).astype(np.float64)
    elif kind == "const_y":
        x = np.arange(n, dtype=np.float64) * 2.0
        y = np.full(n, 7.0)
    elif kind == "nan_scatter":
        x = np.sort(rng.uniform(0.0, 1.0, n))
        y = np.cumsum(rng.standard_normal(n))
        y[rng.random(n) < 0.15] = np.nan
    elif kind == "nan_runs":
        x = np.arange(n, dtype=np.float64)
        y = np.cumsum(rng.standard_normal(n))
        for _ in range(3):
            start = int(rng.integers(0, n))
            y[start : start + max(1, n // 7)] = np.nan
        y[: max(1, n // 20)] = np.nan
        y[-max(1, n // 20) :] = np.nan
    elif kind == "nan_mostly":
        x = np.arange(n, dtype=np.float64)
        y = rng.standard_normal(n)
        y[rng.random(n) < 0.9] = np.nan
    elif kind == "inf":
        x = np.arange(n, dtype=np.float64)
        y = rng.standard_normal(n)
        y[rng.random(n) < 0.05] = np.inf
        y[rng.random(n) < 0.05] = -np.inf
    else:  # pragma: no cover
        raise AssertionError(kind)
    return x, y


def check_valid(idx, n, n_out):
    assert isinstance(idx, np.ndarray)
    assert idx.dtype == np.int64
    assert idx.ndim == 1
    if n == 0:
        assert len(idx) == 0
        return
    assert np.all(np.diff(idx) > 0), "indices must be strictly increasing (sorted, unique)"
    assert idx[0] == 0
    assert idx[-1] == n - 1
    assert len(idx) == min(n, n_out)


def lttb_cases():
    sizes = [5, 6, 10, 57, 300, 2049]
    for kind, n in itertools.product(KINDS, sizes):
        outs = sorted({3, 4, 5, max(3, n // 10), max(3, n // 3), max(3, n - 2), max(3, n - 1), n, n + 3})
        for n_out in outs:
            yield kind, n, n_out


LTTB_CASES = list(lttb_cases())


# --------------------------------------------------------------------------------------------------
# LTTB
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "n", "n_out"), LTTB_CASES)
def test_lttb_matches_reference(kind, n, n_out):
    x, y = make_data(kind, n, 1000 * n + n_out)
    got = lttb(x, y, n_out)
    check_valid(got, n, n_out)
    assert got.tolist() == ref_lttb(x, y, n_out)


@pytest.mark.parametrize("seed", range(12))
def test_lttb_matches_reference_random_shapes(seed):
    rng = np.random.default_rng(seed)
    kind = KINDS[seed % len(KINDS)]
    n = int(rng.integers(3, 5000))
    n_out = int(rng.integers(3, n + 1))
    x, y = make_data(kind, n, seed)
    got = lttb(x, y, n_out)
    check_valid(got, n, n_out)
    assert got.tolist() == ref_lttb(x, y, n_out)


def test_lttb_keeps_obvious_peaks():
    x = np.arange(9, dtype=np.float64)
    y = np.array([0.0, 0.0, 5.0, 0.0, 0.0, -4.0, 0.0, 0.0, 0.0])
    assert {2, 5} <= set(lttb(x, y, 5).tolist())


def test_lttb_constant_y_picks_first_of_each_bucket():
    n, n_out = 1000, 12
    x = np.arange(n, dtype=np.float64)
    y = np.zeros(n)
    edges = _bucket_edges(n - 2, n_out - 2)
    assert lttb(x, y, n_out).tolist() == [0, *edges[:-1], n - 1]


# --------------------------------------------------------------------------------------------------
# MinMaxLTTB
# --------------------------------------------------------------------------------------------------


MINMAX_CASES = list(itertools.product(KINDS, [40, 401, 5003], [3, 7, 50], [2, 3, 4, 6]))


@pytest.mark.parametrize(("kind", "n", "n_out", "ratio"), MINMAX_CASES)
def test_minmax_lttb_matches_reference(kind, n, n_out, ratio):
    x, y = make_data(kind, n, 7 * n + 13 * n_out + ratio)
    got = minmax_lttb(x, y, n_out, minmax_ratio=ratio)
    check_valid(got, n, n_out)
    assert got.tolist() == ref_minmax_lttb(x, y, n_out, ratio)


@pytest.mark.parametrize("seed", range(12))
def test_minmax_lttb_matches_reference_random_shapes(seed):
    rng = np.random.default_rng(100 + seed)
    kind = KINDS[seed % len(KINDS)]
    n = int(rng.integers(3, 30_000))
    n_out = int(rng.integers(3, 400))
    ratio = int(rng.integers(2, 9))
    x, y = make_data(kind, n, seed)
    got = minmax_lttb(x, y, n_out, minmax_ratio=ratio)
    check_valid(got, n, n_out)
    assert got.tolist() == ref_minmax_lttb(x, y, n_out, ratio)


def test_minmax_lttb_small_input_is_plain_lttb():
    x, y = make_data("walk", 400, 3)
    assert minmax_lttb(x, y, 100, minmax_ratio=4).tolist() == lttb(x, y, 100).tolist()


def test_minmax_lttb_keeps_extremes_of_preselection():
    # With n_out * ratio / 2 buckets the global min and max are always preselected; LTTB keeps them
    # here because they dwarf everything else.
    x, y = make_data("noisy_sine", 100_000, 5)
    y[31_337] = 50.0
    y[77_777] = -50.0
    got = minmax_lttb(x, y, 200)
    assert {31_337, 77_777} <= set(got.tolist())


# --------------------------------------------------------------------------------------------------
# Properties on larger inputs
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
@pytest.mark.parametrize(
    ("kind", "n", "n_out"),
    [
        ("walk", 100_000, 1000),
        ("uniform", 50_000, 3),
        ("dup_x", 80_000, 777),
        ("nan_scatter", 100_000, 2000),
        ("nan_runs", 60_000, 500),
        ("nan_mostly", 60_000, 500),
        ("inf", 30_000, 300),
        ("walk", 20_001, 20_000),
    ],
)
def test_output_properties(func, kind, n, n_out):
    x, y = make_data(kind, n, n + n_out)
    check_valid(func(x, y, n_out), n, n_out)


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_single_spike_is_kept(func, seed, sign):
    n = 1_000_000
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=np.float64)
    y = rng.uniform(-1.0, 1.0, n)  # noise amplitude 1
    pos = int(rng.integers(0, n))
    y[pos] = sign * 100.0
    got = func(x, y, 1000)
    check_valid(got, n, 1000)
    assert pos in set(got.tolist())


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
@pytest.mark.parametrize("pos", [1, 2, 499_999, 999_997, 999_998])
def test_spike_near_edges_is_kept(func, pos):
    n = 1_000_000
    rng = np.random.default_rng(pos)
    x = np.arange(n, dtype=np.float64)
    y = rng.uniform(-1.0, 1.0, n)
    y[pos] = -100.0
    assert pos in set(func(x, y, 1000).tolist())


# --------------------------------------------------------------------------------------------------
# NaN / inf handling
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
@pytest.mark.parametrize("n", [3, 10, 1000, 50_000])
def test_all_nan_does_not_raise(func, n):
    x = np.arange(n, dtype=np.float64)
    y = np.full(n, np.nan)
    check_valid(func(x, y, 5), n, 5)


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
def test_finite_points_preferred_over_nan(func):
    # Every LTTB bucket (and every preselection bucket) holds finite points, so no NaN may be chosen.
    n = 200_000
    rng = np.random.default_rng(11)
    x = np.arange(n, dtype=np.float64)
    y = rng.standard_normal(n)
    y[rng.random(n) < 0.5] = np.nan
    y[0] = y[-1] = 0.0
    got = func(x, y, 500)
    check_valid(got, n, 500)
    assert not np.isnan(y[got]).any()


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
def test_long_gap_survives_as_nan_point(func):
    n = 100_000
    rng = np.random.default_rng(12)
    x = np.arange(n, dtype=np.float64)
    y = np.cumsum(rng.standard_normal(n))
    y[40_000:50_000] = np.nan
    got = func(x, y, 400)
    check_valid(got, n, 400)
    inside = got[(got >= 40_000) & (got < 50_000)]
    assert len(inside) > 0
    assert np.isnan(y[inside]).any()
    # Outside the gap, only finite points are chosen.
    assert not np.isnan(y[got[(got < 40_000) | (got >= 50_000)]]).any()


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
def test_nan_at_first_and_last_point(func):
    x, y = make_data("walk", 10_000, 4)
    y[0] = np.nan
    y[-1] = np.nan
    got = func(x, y, 100)
    check_valid(got, 10_000, 100)
    assert not np.isnan(y[got[1:-1]]).any()


def test_inf_is_treated_like_nan():
    x, y = make_data("walk", 5000, 8)
    y_inf = y.copy()
    y_nan = y.copy()
    holes = np.random.default_rng(8).random(5000) < 0.1
    y_inf[holes] = np.where(np.arange(5000)[holes] % 2 == 0, np.inf, -np.inf)
    y_nan[holes] = np.nan
    assert lttb(x, y_inf, 100).tolist() == lttb(x, y_nan, 100).tolist()
    assert minmax_lttb(x, y_inf, 100).tolist() == minmax_lttb(x, y_nan, 100).tolist()


def test_inputs_not_modified():
    x, y = make_data("nan_scatter", 50_000, 9)
    y[::97] = np.inf
    x0, y0 = x.copy(), y.copy()
    lttb(x, y, 300)
    minmax_lttb(x, y, 300)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


# --------------------------------------------------------------------------------------------------
# Edge cases and input types
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 17])
@pytest.mark.parametrize("extra", [0, 1, 1000])
def test_n_out_at_least_n_returns_all(func, n, extra):
    x = np.arange(n, dtype=np.float64)
    y = np.random.default_rng(n).standard_normal(n)
    n_out = max(3, n + extra)
    got = func(x, y, n_out)
    assert got.dtype == np.int64
    assert got.tolist() == list(range(n))


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
@pytest.mark.parametrize("n_out", [-5, 0, 1, 2])
@pytest.mark.parametrize("n", [0, 2, 100, 10_000])
def test_n_out_below_three_raises(func, n_out, n):
    x = np.arange(n, dtype=np.float64)
    with pytest.raises(ValueError, match="n_out"):
        func(x, x, n_out)


@pytest.mark.parametrize("ratio", [-1, 0, 1])
def test_minmax_ratio_below_two_raises(ratio):
    x = np.arange(100.0)
    with pytest.raises(ValueError, match="minmax_ratio"):
        minmax_lttb(x, x, 10, minmax_ratio=ratio)


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
def test_bad_shapes_raise(func):
    with pytest.raises(ValueError, match="same length"):
        func(np.arange(10.0), np.arange(9.0), 5)
    with pytest.raises(ValueError, match="1-D"):
        func(np.zeros((4, 4)), np.zeros((4, 4)), 5)


@pytest.mark.parametrize("func", [lttb, minmax_lttb])
def test_input_dtypes_and_layouts(func):
    n = 40_000
    x, y = make_data("walk", n, 21)
    expected = func(x, y, 300).tolist()
    # Integer and datetime x, float32 y, Python lists and non-contiguous views are all accepted.
    assert func(x.astype(np.int64), y, 300).tolist() == expected
    stamps = np.datetime64("2024-01-01T00:00:00", "ns") + x.astype("timedelta64[s]")
    assert func(stamps, y, 300).tolist() == func(stamps.view(np.int64), y, 300).tolist()
    y32 = y.astype(np.float32)
    assert func(x, y32, 300).tolist() == func(x, y32.astype(np.float64), 300).tolist()
    assert func(x.tolist(), y.tolist(), 300).tolist() == expected
    wide_x = np.repeat(x, 2)
    wide_y = np.repeat(y, 2)
    assert func(wide_x[::2], wide_y[::2], 300).tolist() == expected
