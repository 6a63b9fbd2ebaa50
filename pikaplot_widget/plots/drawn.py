"""What a frame drew, for the front end and for `Plot.pick`: points in CSS pixels with the values
a tooltip shows, as an Arrow table (sent over the comm as one IPC stream in a binary buffer)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..core.spatial import PointIndex

MAX_SENT_POINTS = 65_536  # more than this stays in the kernel: the front end asks for hover instead
HOVER_RADIUS_PX = 12.0


@dataclass
class Drawn:
    """The points of one exact frame: `px`, `py` in CSS pixels of the whole frame, and per point
    the values a tooltip shows (`fields`, equal lengths). Density frames have no points."""

    kind: str  # "line", "markers" or "density"
    px: np.ndarray
    py: np.ndarray
    fields: dict[str, np.ndarray] = field(default_factory=dict)
    # Values shared by many points (a line's pixel columns), keyed by the point field of the same
    # name as the first group field, sorted by it: sent once per group, not once per point.
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    _index: PointIndex | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        """Points drawn."""
        return int(self.px.size)

    def nearest(self, x: float, y: float, radius: float = HOVER_RADIUS_PX) -> int | None:
        """The drawn point nearest to (x, y) CSS pixels within `radius`, or None."""
        if self._index is None:
            self._index = PointIndex(self.px, self.py)
        return self._index.nearest(x, y, radius)

    def record(self, i: int) -> dict[str, object]:
        """The tooltip values of point `i` as plain Python numbers."""
        out: dict[str, object] = {"kind": self.kind}
        for name, values in self.fields.items():
            out[name] = _plain(values[i], values.dtype)
        if self.groups:
            key = next(iter(self.groups))
            keys = self.groups[key]
            at = int(np.searchsorted(keys, self.fields[key][i]))
            if at < keys.size and keys[at] == self.fields[key][i]:
                for name, values in self.groups.items():
                    out[name] = _plain(values[at], values.dtype)
        return out

    def table(self) -> pa.Table:
        """The points as an Arrow table: px/py as float32, the fields as they are."""
        columns: dict[str, object] = {"px": self.px.astype(np.float32), "py": self.py.astype(np.float32)}
        for name, values in self.fields.items():  # names (a line's series) go as Arrow strings
            columns[name] = (
                pa.array(values.astype(str), pa.string()) if values.dtype.kind in "OUS" else values
            )
        return pa.table(columns)

    def ipc_buffers(self) -> list[bytes]:
        """The points, then (if any) the groups, each one Arrow IPC stream."""
        buffers = [encode_ipc(self.table())]
        if self.groups:
            buffers.append(encode_ipc(pa.table(self.groups)))
        return buffers


def _plain(value: object, dtype: np.dtype) -> int | float | str:
    """A numpy scalar as a Python int, float or (a series name) str, for JSON and dicts."""
    if dtype.kind in "OUS":
        return str(value)
    assert isinstance(value, np.generic)
    return int(value.item()) if np.issubdtype(dtype, np.integer) else float(value.item())


def encode_ipc(table: pa.Table) -> bytes:
    """One Arrow IPC stream (schema + one record batch)."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


NOTHING = Drawn("density", np.empty(0), np.empty(0))
