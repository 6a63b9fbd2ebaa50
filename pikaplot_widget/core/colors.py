"""Colour maps, the category palette and the scales that turn counts and values into colours.

Pure numpy. The tables themselves come from maintained libraries (see `colormap_tables.py`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from .colormap_tables import CATEGORICAL, CONTINUOUS, CSS_COLORS
from .ticks import numeric_ticks

NORMALIZATIONS = ("eq_hist", "log", "linear")
MISSING_RGB = (160, 160, 160)  # rows whose colour value is missing, and "other" categories
OTHER_LABEL = "other"
MIN_ALPHA = 0.35  # the faintest occupied pixel of a density image


def _decode(hex_text: str) -> np.ndarray:
    raw = bytes.fromhex(hex_text)
    return np.frombuffer(raw, np.uint8).reshape(-1, 3)


ColormapSpec = str | Sequence[str] | np.ndarray  # a table's name, colours to interpolate, or an array
TABLE_SIZE = 256


@cache
def _named(name: str) -> np.ndarray:
    rgb = _decode(CONTINUOUS[name])
    return np.ascontiguousarray(np.hstack([rgb, np.full((len(rgb), 1), 255, np.uint8)]))


def colormap(spec: ColormapSpec) -> np.ndarray:
    """A continuous colour map as a (256, 4) uint8 RGBA table, low to high.

    `spec`: the name of a table in `colormap_tables` ("viridis", ...); a list of two or more
    colours (CSS names or hex "#rgb", "#rrggbb", "#rrggbbaa") spread evenly and interpolated; or an
    (N, 3) or (N, 4) array (or list of tuples) interpolated to 256 entries: floats in [0, 1]; uint8
    in 0..255; other integers in 0..255, except that integers which are all 0 or 1 are read as the
    floats 0.0 and 1.0 (so [(1, 0, 0), (0, 0, 1)] runs red to blue).
    Raises ValueError or TypeError naming `colormap` for anything else.
    """
    if isinstance(spec, str):
        if spec not in CONTINUOUS:
            raise ValueError(f"unknown colormap {spec!r}; choose one of: {', '.join(CONTINUOUS)}")
        return _named(spec)
    if isinstance(spec, np.ndarray):
        return _interpolated(_array_stops(spec))
    if isinstance(spec, (list, tuple)):
        if len(spec) < 2:
            raise ValueError(f"colormap needs at least two colours, got {len(spec)}")
        if all(isinstance(c, str) for c in spec):
            return _interpolated(np.array([parse_color(c) for c in spec], np.float64))
        return _interpolated(_array_stops(np.asarray(spec)))
    raise TypeError(
        f"colormap must be a name, a list of colours or an (N, 3|4) array, got {type(spec).__name__}"
    )


def _array_stops(array: np.ndarray) -> np.ndarray:
    """RGBA stops in [0, 1] from an (N, 3|4) array of floats in [0, 1], of uint8, or of other
    integers in 0..255 (all 0 or 1: read as floats)."""
    if array.ndim != 2 or array.shape[1] not in (3, 4) or array.shape[0] < 2:
        raise ValueError(f"a colormap array must have shape (N >= 2, 3 or 4), got {array.shape}")
    if array.dtype == np.uint8:
        stops = array.astype(np.float64) / 255.0
    elif array.dtype.kind in "iu":
        if array.min() < 0 or array.max() > 255:
            raise ValueError("integer colormap values must lie in 0..255")
        only_zero_one = bool(np.isin(array, (0, 1)).all())  # (1, 0, 0): red, the floats 0.0 and 1.0
        stops = array.astype(np.float64) / (1.0 if only_zero_one else 255.0)
    elif array.dtype.kind == "f":
        if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
            raise ValueError("float colormap values must be finite and lie in [0, 1]")
        stops = array.astype(np.float64)
    else:
        raise TypeError(f"a colormap array must hold floats or uint8, got dtype {array.dtype}")
    if stops.shape[1] == 3:
        stops = np.hstack([stops, np.ones((len(stops), 1))])
    return stops


def _interpolated(stops: np.ndarray) -> np.ndarray:
    """256 RGBA uint8 entries interpolated linearly between evenly spaced stops (first and last
    exactly)."""
    at = np.linspace(0.0, 1.0, len(stops))
    where = np.linspace(0.0, 1.0, TABLE_SIZE)
    channels = [np.interp(where, at, stops[:, c]) for c in range(4)]
    table = np.round(np.column_stack(channels) * 255.0)
    return np.ascontiguousarray(np.clip(table, 0, 255).astype(np.uint8))


def parse_color(text: str) -> tuple[float, float, float, float]:
    """A CSS colour name or hex string as RGBA in [0, 1] (ValueError naming `colormap`)."""
    value = text.strip().lower()
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) in (3, 4):
            digits = "".join(d * 2 for d in digits)
        if len(digits) in (6, 8) and all(d in "0123456789abcdef" for d in digits):
            channels = [int(digits[i : i + 2], 16) / 255.0 for i in range(0, len(digits), 2)]
            r, g, b = channels[:3]
            return r, g, b, channels[3] if len(channels) == 4 else 1.0
        raise ValueError(f"colormap colour {text!r} is not a valid hex colour (#rgb, #rrggbb, #rrggbbaa)")
    named = CSS_COLORS.get(value.replace(" ", ""))
    if named is None:
        raise ValueError(f"unknown colormap colour {text!r}: use a CSS colour name or hex like '#1f77b4'")
    return parse_color(named)


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
    unit: float = 1.0  # what one step of the data is worth in the colour bar's labels

    @classmethod
    def fit(cls, data: np.ndarray, how: str = "eq_hist", unit: float = 1.0) -> Scale:
        """A scale for the positive values of `data` (labelled as value x `unit`: fixed-point
        data such as rows per pixel area in 1/16 steps keeps the fast integer path)."""
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
        return cls(how, values.astype(np.float64), cdf, float(unit))

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
        unit = self.unit
        lo, hi = self.lo * unit, self.hi * unit
        if self.values.size == 1 or self.hi <= self.lo:
            return [(1.0, _count_label(hi))]
        if self.how == "eq_hist":
            wanted = np.linspace(0, 1, count)
            positions = (self.cdf - self.cdf[0]) / (1.0 - self.cdf[0])
            picks = sorted({int(np.argmin(np.abs(positions - w))) for w in wanted})
            return [(float(positions[i]), _count_label(self.values[i] * unit)) for i in picks]
        if self.how == "log":
            lo_exp, hi_exp = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
            step = max(1, (hi_exp - lo_exp) // max(count - 1, 1))
            values = [10.0**e for e in range(lo_exp, hi_exp + 1, step) if lo <= 10.0**e <= hi]
            values = sorted({lo, *values, hi})
            return [(float(self(np.array([v / unit]))[0]), _count_label(v)) for v in values]
        ticks = numeric_ticks(lo, hi, count)
        return [
            (float((v - lo) / (hi - lo)), label)
            for v, label in zip(ticks.values, ticks.labels, strict=True)
            if lo <= v <= hi
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
