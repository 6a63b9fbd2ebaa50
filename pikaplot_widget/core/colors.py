"""Colour maps, the category palette and the scales that turn counts and values into colours.

Pure numpy. The tables themselves come from maintained libraries (see `colormap_tables.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from .colormap_tables import CATEGORICAL, CONTINUOUS
from .ticks import numeric_ticks

NORMALIZATIONS = ("eq_hist", "log", "linear")
MISSING_RGB = (160, 160, 160)  # rows whose colour value is missing, and "other" categories
OTHER_LABEL = "other"
MIN_ALPHA = 0.35  # the faintest occupied pixel of a density image


def _decode(hex_text: str) -> np.ndarray:
    raw = bytes.fromhex(hex_text)
    return np.frombuffer(raw, np.uint8).reshape(-1, 3)


@cache
def colormap(name: str) -> np.ndarray:
    """A continuous colour map as a (256, 4) uint8 RGBA table, low to high."""
    if name not in CONTINUOUS:
        raise ValueError(f"unknown colormap {name!r}; choose one of: {', '.join(CONTINUOUS)}")
    rgb = _decode(CONTINUOUS[name])
    return np.ascontiguousarray(np.hstack([rgb, np.full((len(rgb), 1), 255, np.uint8)]))


@cache
def palette(categories: int) -> np.ndarray:
    """RGB colours (uint8) for `categories` named categories followed by grey for "other"."""
    colors = _decode(CATEGORICAL)
    if categories > len(colors):
        raise ValueError(f"at most {len(colors)} named categories have distinct colours")
    return np.vstack([colors[:categories], np.asarray([MISSING_RGB], np.uint8)])


def lookup(table: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Colours of a (256, 4) table at positions in [0, 1]; NaN positions get the missing grey."""
    position = np.asarray(position, np.float64)
    index = np.clip(np.nan_to_num(position, nan=0.0) * 255 + 0.5, 0, 255).astype(np.intp)
    out = table[index].copy()
    out[np.isnan(position), :3] = MISSING_RGB
    return out


LOOKUP_MAX = 1 << 20  # integer data up to this value is mapped through a lookup table (8 MiB)


@dataclass(frozen=True)
class Scale:
    """Maps positive values to [0, 1]: linear, logarithmic, or histogram-equalised (eq_hist).

    eq_hist gives every occupied pixel the fraction of occupied pixels with a smaller or equal
    value, so each colour of the map covers about as many pixels (as datashader's default).
    Integer data (counts) is histogrammed with np.bincount and mapped through a lookup table:
    no sorting, a few milliseconds for a full-HD grid.
    """

    how: str
    values: np.ndarray  # sorted distinct positive values seen
    cdf: np.ndarray  # fraction of pixels at or below each of `values`

    @classmethod
    def fit(cls, data: np.ndarray, how: str = "eq_hist") -> Scale:
        """A scale for the positive values of `data`."""
        if how not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {', '.join(NORMALIZATIONS)}, got {how!r}")
        data = np.asarray(data)
        if data.dtype.kind in "iu" and data.size and data.min() >= 0 and data.max() < LOOKUP_MAX:
            histogram = np.bincount(data.ravel())
            histogram[0] = 0
            values = np.flatnonzero(histogram)
            counts = histogram[values]
        else:
            values, counts = np.unique(data[data > 0], return_counts=True)
        cdf = np.cumsum(counts) / max(int(counts.sum()), 1)
        return cls(how, values.astype(np.float64), cdf)

    def _positions_of_values(self) -> np.ndarray:
        """Positions of `values` themselves (small: one per distinct value)."""
        v = self.values
        if v.size == 1 or self.hi <= self.lo:
            return np.ones(v.size)
        if self.how == "linear":
            return (v - self.lo) / (self.hi - self.lo)
        if self.how == "log":
            return np.log(v / self.lo) / math.log(self.hi / self.lo)
        first = self.cdf[0]
        return (self.cdf - first) / (1.0 - first)

    @cached_property
    def _lookup(self) -> np.ndarray | None:
        return self._build_lookup()

    def lookup_table(self) -> np.ndarray | None:
        """Position per integer value 0..max (NaN for 0 and unseen values), or None for non-integers
        and values past LOOKUP_MAX (built once per scale)."""
        return self._lookup

    def _build_lookup(self) -> np.ndarray | None:
        if not self.values.size or self.hi >= LOOKUP_MAX or np.any(self.values != np.round(self.values)):
            return None
        table = np.full(int(self.hi) + 1, np.nan)
        table[self.values.astype(np.intp)] = np.clip(self._positions_of_values(), 0.0, 1.0)
        return table

    def color_indices(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(colour-map index 0-255 as uint8, occupied mask) for integer data such as counts."""
        data = np.asarray(data)
        table = self.lookup_table()
        if table is None or data.dtype.kind not in "iu" or data.size == 0 or data.max() >= table.size:
            position = self(data)
            occupied = ~np.isnan(position)
            return (np.nan_to_num(position) * 255 + 0.5).astype(np.uint8), occupied
        index = np.zeros(table.size, np.uint8)
        seen = ~np.isnan(table)
        index[seen] = (table[seen] * 255 + 0.5).astype(np.uint8)
        return index[data], data > 0

    @property
    def lo(self) -> float:
        """The smallest positive value (NaN when there is none)."""
        return float(self.values[0]) if self.values.size else math.nan

    @property
    def hi(self) -> float:
        """The largest value (NaN when there is none)."""
        return float(self.values[-1]) if self.values.size else math.nan

    def __call__(self, data: np.ndarray) -> np.ndarray:
        """Positions in [0, 1] of the values (values <= 0 map to NaN: not drawn)."""
        raw = np.asarray(data)
        if raw.dtype.kind in "iu" and raw.size and raw.min() >= 0:
            table = self.lookup_table()
            if table is not None and raw.max() < table.size:
                return table[raw]
        data = raw.astype(np.float64)
        out = np.full(data.shape, np.nan)
        positive = data > 0
        if not self.values.size or not positive.any():
            return out
        v = data[positive]
        if self.values.size == 1 or self.hi <= self.lo:
            out[positive] = 1.0
        elif self.how == "linear":
            out[positive] = (v - self.lo) / (self.hi - self.lo)
        elif self.how == "log":
            out[positive] = np.log(v / self.lo) / math.log(self.hi / self.lo)
        else:
            rank = np.searchsorted(self.values, v, side="right") - 1
            first = self.cdf[0]
            out[positive] = (self.cdf[np.clip(rank, 0, None)] - first) / (1.0 - first)
        return np.clip(out, 0.0, 1.0)

    def ticks(self, count: int = 5) -> list[tuple[float, str]]:
        """(position, label) pairs for a colour bar."""
        if not self.values.size:
            return []
        if self.values.size == 1 or self.hi <= self.lo:
            return [(1.0, _count_label(self.hi))]
        if self.how == "eq_hist":
            wanted = np.linspace(0, 1, count)
            positions = (self.cdf - self.cdf[0]) / (1.0 - self.cdf[0])
            picks = sorted({int(np.argmin(np.abs(positions - w))) for w in wanted})
            return [(float(positions[i]), _count_label(self.values[i])) for i in picks]
        if self.how == "log":
            lo_exp, hi_exp = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
            step = max(1, (hi_exp - lo_exp) // max(count - 1, 1))
            values = [10.0**e for e in range(lo_exp, hi_exp + 1, step) if self.lo <= 10.0**e <= self.hi]
            values = sorted({self.lo, *values, self.hi})
            return [(float(self(np.array([v]))[0]), _count_label(v)) for v in values]
        ticks = numeric_ticks(self.lo, self.hi, count)
        return [
            (float((v - self.lo) / (self.hi - self.lo)), label)
            for v, label in zip(ticks.values, ticks.labels, strict=True)
            if self.lo <= v <= self.hi
        ]


def _count_label(value: float) -> str:
    value = float(value)
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.4g}"


def linear_ticks(lo: float, hi: float, count: int = 5) -> list[tuple[float, str]]:
    """(position, label) pairs for a colour bar over a value domain [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [(0.5, f"{lo:.4g}")]
    ticks = numeric_ticks(lo, hi, count)
    return [
        (float((v - lo) / (hi - lo)), label)
        for v, label in zip(ticks.values, ticks.labels, strict=True)
        if lo <= v <= hi
    ]


def alpha_from(position: np.ndarray) -> np.ndarray:
    """Opacity from a [0, 1] density position: empty pixels 0, the faintest MIN_ALPHA."""
    return np.where(np.isnan(position), 0.0, MIN_ALPHA + (1.0 - MIN_ALPHA) * np.nan_to_num(position))


def blend_categories(planes: np.ndarray, colors: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """RGBA uint8 image: per pixel, the colours of its categories weighted by their row counts."""
    planes = np.asarray(planes, np.float64)
    total = planes.sum(axis=0)
    weights = planes / np.maximum(total, 1.0)
    rgb = np.einsum("khw,kc->hwc", weights, np.asarray(colors, np.float64))
    out = np.empty((*total.shape, 4), np.uint8)
    out[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    return out
