"""Rows per pixel straight from an in-memory Arrow table, with numpy and no SQL.

When the plot's data is a pyarrow Table (or RecordBatch) with float x and y, the density index and
exact density views bin the table's own buffers: blocks of rows are filtered, turned into pixel
keys by threads (numpy releases the GIL in its ufuncs) and counted into one shared grid with
np.add.at. The pixel of a row is computed exactly as `pixel_keys_sql` computes it in DuckDB
(floor((v - v0) * scale), the upper bound in the last pixel), so both paths give the same grid.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...core.types import ViewBox
from ...engine.runner import NEVER_CANCELLED, ProgressCallback, QueryCancelled, Ticket
from ...engine.scatter import ScatterColumns
from ...engine.sql import quote_ident

Column: TypeAlias = "pa.ChunkedArray[pa.Scalar[pa.DataType]]"
Chunk: TypeAlias = "pa.Array[pa.Scalar[pa.DataType]]"
BLOCK_ROWS = 1 << 18  # rows per task: temporaries of 2 MiB each stay in cache
MAX_THREADS = 16
FLOAT_TYPES = ("DOUBLE", "FLOAT")


_pool: list[ThreadPoolExecutor] = []  # one set of binning threads, started once (see _binning_pool)
_pool_lock = threading.Lock()


def _binning_pool() -> ThreadPoolExecutor:
    """Threads shared by every binning call: threads started per call got malloc arenas of their own
    each time, and RSS crept up plot after plot."""
    with _pool_lock:
        if not _pool:
            _pool.append(ThreadPoolExecutor(_threads(), thread_name_prefix="pikaplot-bins"))
        return _pool[0]


def _threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def _float_chunks(column: Column) -> list[np.ndarray] | None:
    """The chunks as float64/float32 numpy arrays (zero-copy without nulls; NaN where null)."""
    if not (pa.types.is_float32(column.type) or pa.types.is_float64(column.type)):
        return None
    return [chunk.to_numpy(zero_copy_only=False) for chunk in column.chunks]


def _is_text(type_: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_string_view(type_)
    )


def _category_codes(chunk: Chunk, categories: Chunk, other: int) -> np.ndarray:
    """Each row's position in `categories` as uint8, `other` where it is missing or not listed."""
    if isinstance(chunk, pa.DictionaryArray):
        per_entry = _category_codes(chunk.dictionary, categories, other)
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        valid = chunk.indices.is_valid().to_numpy(zero_copy_only=False)
        safe = np.where(valid, indices, 0).astype(np.intp)
        codes = per_entry[safe] if per_entry.size else np.full(len(chunk), other, np.uint8)
        return np.where(valid, codes, other).astype(np.uint8)
    positions = pc.index_in(chunk, value_set=categories).to_numpy(zero_copy_only=False)
    # NULL (not listed, or no value) arrives as NaN in a float array
    return np.where(np.isnan(positions), other, positions).astype(np.uint8)


@dataclass
class ArrowColumns:
    """A plot's x, y and colour columns as numpy chunks of the user's Arrow table (no copies for
    float columns without nulls)."""

    x: list[np.ndarray]
    y: list[np.ndarray]
    color: Column | None = None  # text categories, coded on first use
    color_values: list[np.ndarray] | None = None  # numeric colour (float chunks, NaN where null)
    _codes: dict[tuple[str, ...], list[np.ndarray]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rows(self) -> int:
        """Rows of the table."""
        return sum(len(chunk) for chunk in self.x)

    @property
    def nbytes(self) -> int:
        """Memory this object holds of its own (cached category codes)."""
        return sum(c.nbytes for codes in self._codes.values() for c in codes)

    def codes(self, categories: tuple[str, ...]) -> list[np.ndarray]:
        """Category numbers per chunk (len(categories) for "other"), computed once."""
        assert self.color is not None
        with self._lock:
            if categories not in self._codes:
                value_set = pa.array(list(categories), pa.string())
                self._codes[categories] = [
                    _category_codes(chunk, value_set, len(categories)) for chunk in self.color.chunks
                ]
            return self._codes[categories]


def arrow_columns(cols: ScatterColumns) -> ArrowColumns | None:
    """The plot's columns as numpy chunks when its data is one in-memory Arrow table with float
    x and y on linear axes (None otherwise: DuckDB bins the rows)."""
    source = cols.source
    if source.dialect.name != "duckdb":  # another engine holds (and bins) the rows
        return None
    if len(source.registrations) != 1 or cols.log_x or cols.log_y or cols.size is not None:
        return None
    ((name, obj),) = source.registrations.items()
    if (
        source.from_sql != quote_ident(name)
        or cols.x_type not in FLOAT_TYPES
        or cols.y_type not in FLOAT_TYPES
    ):
        return None
    if isinstance(obj, pa.RecordBatch):
        obj = pa.Table.from_batches([obj])
    if not isinstance(obj, pa.Table):
        return None
    names = [cols.x, cols.y] + ([cols.color] if cols.color is not None else [])
    if any(obj.schema.get_field_index(n) < 0 for n in names):  # missing or duplicated
        return None
    lengths = [len(chunk) for chunk in obj.column(cols.x).chunks]
    x = _float_chunks(obj.column(cols.x))
    y = _float_chunks(_chunked_like(obj.column(cols.y), lengths))
    if x is None or y is None:
        return None
    data = ArrowColumns(x, y)
    if cols.color is not None:
        column = _chunked_like(obj.column(cols.color), lengths)
        if cols.color_kind == "category":
            value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
            if not _is_text(value_type):
                return None
            data.color = column
        else:
            data.color_values = _float_chunks(column)
            if data.color_values is None:
                return None
    return data


def _chunked_like(column: Column, lengths: list[int]) -> Column:
    """The column cut into chunks of these lengths (itself when it already is)."""
    if [len(chunk) for chunk in column.chunks] == lengths:
        return column
    whole = column.combine_chunks()
    starts = np.cumsum([0, *lengths])[:-1]
    return pa.chunked_array([whole.slice(int(s), n) for s, n in zip(starts, lengths, strict=True)])


@dataclass(frozen=True)
class BinSpec:
    """What to count: a box of width x height pixels, one plane per category (keys plane * cells +
    pixel), colour sums for numeric colour."""

    box: ViewBox
    width: int
    height: int
    planes: int = 1
    categories: tuple[str, ...] | None = None
    numeric: bool = False


def _blocks(data: ArrowColumns) -> Iterator[tuple[int, int, int]]:
    for i, chunk in enumerate(data.x):
        for start in range(0, len(chunk), BLOCK_ROWS):
            yield i, start, min(start + BLOCK_ROWS, len(chunk))


def count_pixels(
    data: ArrowColumns,
    spec: BinSpec,
    count_dtype: type = np.int64,
    ticket: Ticket = NEVER_CANCELLED,
    on_progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Counts per key (planes * cells), and with numeric colour the sums and numbers of valid
    colour values per pixel, of the rows inside the box (bounds included)."""
    x0, x1, y0, y1 = spec.box
    width, height = int(spec.width), int(spec.height)
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    cells = width * height
    counts: np.ndarray = np.zeros(spec.planes * cells, count_dtype)
    sums: np.ndarray | None = np.zeros(cells) if spec.numeric else None
    color_n: np.ndarray | None = np.zeros(cells, count_dtype) if spec.numeric else None
    codes = data.codes(spec.categories) if spec.categories is not None else None
    one = np.ones(1, counts.dtype)  # typed: np.add.at has a fast loop only without casting
    lock = threading.Lock()

    def work(block: tuple[int, int, int]) -> None:
        if ticket.cancelled:
            return
        i, start, stop = block
        xs = data.x[i][start:stop].astype(np.float64, copy=False)
        ys = data.y[i][start:stop].astype(np.float64, copy=False)
        inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        every = bool(inside.all())
        if not every:
            xs, ys = xs[inside], ys[inside]
        ix = np.floor((xs - x0) * sx)
        np.minimum(ix, width - 1, out=ix)
        key = np.floor((ys - y0) * sy)
        np.minimum(key, height - 1, out=key)
        key *= width
        key += ix
        keys = key.astype(np.intp)
        if codes is not None:
            block_codes = codes[i][start:stop]
            keys += (block_codes if every else block_codes[inside]).astype(np.intp) * cells
        values = None
        if sums is not None and data.color_values is not None:
            values = data.color_values[i][start:stop].astype(np.float64, copy=False)
            values = values if every else values[inside]
            ok = np.isfinite(values)
            values, value_keys = values[ok], keys[ok]
        with lock:
            np.add.at(counts, keys, one)
            if values is not None and sums is not None and color_n is not None:
                np.add.at(sums, value_keys, values)
                np.add.at(color_n, value_keys, one)

    blocks = list(_blocks(data))
    for done, _ in enumerate(_binning_pool().map(work, blocks), 1):
        if ticket.cancelled:
            raise QueryCancelled("cancelled while binning")
        if on_progress is not None and done % 16 == 0:
            on_progress(done / len(blocks))
    if ticket.cancelled:
        raise QueryCancelled("cancelled while binning")
    return counts, sums, color_n
