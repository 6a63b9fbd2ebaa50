"""Which font files can draw which characters: the fallback chain of the glyph atlas.

The chain is DejaVu Sans (the system's copy, else the subset bundled in `render/fonts/`), then
CJK fonts found in the usual font folders, then whatever `fc-match` names for a character the
others lack. Coverage is read from each font's own `cmap` table (formats 4 and 12), so a font is
asked only for characters it really has.
"""

from __future__ import annotations

import bisect
import functools
import os
import shutil
import struct
import subprocess
import threading
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import BinaryIO

BUNDLED = Path(str(files("pikaplot_widget").joinpath("render/fonts/DejaVuSans-subset.ttf")))
PRIMARY_NAMES = ("DejaVuSans.ttf",)
# CJK fonts by file name, most complete first (Linux packages, macOS, Windows).
CJK_NAMES = (
    "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJKjp-Regular.otf",
    "NotoSansSC-Regular.otf", "SourceHanSans-Regular.ttc", "wqy-zenhei.ttc", "wqy-microhei.ttc",
    "DroidSansFallbackFull.ttf", "DroidSansFallback.ttf", "PingFang.ttc", "Hiragino Sans GB.ttc",
    "msyh.ttc", "simsun.ttc", "meiryo.ttc", "malgun.ttf",
)  # fmt: skip
FONT_FOLDERS = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
    "/System/Library/Fonts", "/Library/Fonts", "C:/Windows/Fonts",
)  # fmt: skip
MAX_FOLDER_FILES = 20_000  # stop walking font folders after this many files
MAX_FC_MATCH = 256  # characters looked up with fc-match per process


@dataclass(frozen=True)
class Coverage:
    """The code points a font maps to a glyph, as sorted inclusive ranges."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, int):
            return False
        i = bisect.bisect_right(self.starts, code) - 1
        return i >= 0 and code <= self.ends[i]


def _merged(ranges: list[tuple[int, int]]) -> Coverage:
    out: list[list[int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return Coverage(tuple(r[0] for r in out), tuple(r[1] for r in out))


def _read(f: BinaryIO, offset: int, size: int) -> bytes:
    f.seek(offset)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated font file")
    return data


def _format4(f: BinaryIO, at: int) -> list[tuple[int, int]]:
    length, _, seg_x2 = struct.unpack(">HHH", _read(f, at + 2, 6))
    body = _read(f, at, length)
    n = seg_x2 // 2
    ends = struct.unpack(f">{n}H", body[14 : 14 + seg_x2])
    starts = struct.unpack(f">{n}H", body[16 + seg_x2 : 16 + 2 * seg_x2])
    range_at = 16 + 3 * seg_x2
    offsets = struct.unpack(f">{n}H", body[range_at : range_at + seg_x2])
    ranges = []
    for i, (start, end, offset) in enumerate(zip(starts, ends, offsets, strict=True)):
        if start == 0xFFFF:
            continue
        if offset == 0:
            ranges.append((start, end))
            continue
        for code in range(start, end + 1):  # glyphs listed one by one: keep those that exist
            where = range_at + 2 * i + offset + 2 * (code - start)
            if where + 2 <= len(body) and struct.unpack(">H", body[where : where + 2])[0]:
                ranges.append((code, code))
    return ranges


def _format12(f: BinaryIO, at: int) -> list[tuple[int, int]]:
    (groups,) = struct.unpack(">I", _read(f, at + 12, 4))
    data = _read(f, at + 16, 12 * groups)
    return [struct.unpack(">III", data[12 * g : 12 * g + 12])[:2] for g in range(groups)]


def read_coverage(path: Path, index: int = 0) -> Coverage:
    """The characters font `index` of a .ttf/.otf/.ttc file maps (ValueError if unreadable)."""
    with open(path, "rb") as f:
        base = 0
        if _read(f, 0, 4) == b"ttcf":
            (count,) = struct.unpack(">I", _read(f, 8, 4))
            if not 0 <= index < count:
                raise ValueError(f"{path} holds {count} fonts, not font {index}")
            (base,) = struct.unpack(">I", _read(f, 12 + 4 * index, 4))
        (tables,) = struct.unpack(">H", _read(f, base + 4, 2))
        directory = _read(f, base + 12, 16 * tables)
        cmap = next(
            (struct.unpack(">I", directory[16 * t + 8 : 16 * t + 12])[0] for t in range(tables)
             if directory[16 * t : 16 * t + 4] == b"cmap"),
            None,
        )  # fmt: skip
        if cmap is None:
            raise ValueError(f"{path} has no cmap table")
        (records,) = struct.unpack(">H", _read(f, cmap + 2, 2))
        best: tuple[int, int] | None = None  # (rank, subtable offset)
        for r in range(records):
            platform, encoding, offset = struct.unpack(">HHI", _read(f, cmap + 4 + 8 * r, 8))
            (fmt,) = struct.unpack(">H", _read(f, cmap + offset, 2))
            unicode = platform == 0 or (platform == 3 and encoding in (1, 10))
            rank = {12: 2, 4: 1}.get(fmt, 0) if unicode else 0
            if rank and (best is None or rank > best[0]):
                best = (rank, cmap + offset)
        if best is None:
            raise ValueError(f"{path} has no Unicode cmap")
        rank, at = best
        return _merged(_format12(f, at) if rank == 2 else _format4(f, at))


@dataclass
class FontFile:
    """A font of the chain; its coverage is read on first use."""

    path: Path
    index: int = 0
    _coverage: Coverage | None = field(default=None, repr=False)

    def has(self, ch: str) -> bool:
        """Whether the font draws `ch`."""
        if self._coverage is None:
            try:
                self._coverage = read_coverage(self.path, self.index)
            except (OSError, ValueError, struct.error):
                self._coverage = Coverage((), ())
        return ord(ch) in self._coverage


def _find(names: tuple[str, ...], folders: tuple[str, ...]) -> list[Path]:
    """The files called one of `names` under `folders`, in the order of `names`."""
    wanted = {name.lower(): rank for rank, name in enumerate(names)}
    found: dict[int, Path] = {}
    seen = 0
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for dirpath, _, filenames in os.walk(root):
            seen += len(filenames)
            for name in filenames:
                rank = wanted.get(name.lower())
                if rank is not None and rank not in found:
                    found[rank] = Path(dirpath) / name
            if seen > MAX_FOLDER_FILES:
                break
    return [found[rank] for rank in sorted(found)]


class FontChain:
    """The fonts tried in order for a character; `font_for` says which one draws it (or None)."""

    def __init__(self, fonts: list[FontFile], use_fc_match: bool = False) -> None:
        if not fonts:
            raise ValueError("a font chain needs at least one font")
        self.fonts = fonts
        self.use_fc_match = use_fc_match and shutil.which("fc-match") is not None
        self._matched: dict[str, FontFile | None] = {}
        self._lock = threading.Lock()

    @property
    def primary(self) -> FontFile:
        """The font whose metrics set the line (ascent, descent)."""
        return self.fonts[0]

    def font_for(self, ch: str) -> FontFile | None:
        """The first font that has `ch`, else one fc-match names that has it, else None."""
        for font in self.fonts:
            if font.has(ch):
                return font
        if not self.use_fc_match:
            return None
        with self._lock:
            if ch not in self._matched:
                self._matched[ch] = self._fc_match(ch) if len(self._matched) < MAX_FC_MATCH else None
            return self._matched[ch]

    def _fc_match(self, ch: str) -> FontFile | None:
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}\t%{index}", f":charset={ord(ch):x}"],
                capture_output=True, text=True, timeout=5, check=False,
            )  # fmt: skip
            path, _, index = out.stdout.partition("\t")
        except (OSError, subprocess.SubprocessError):
            return None
        if not path or not Path(path).is_file():
            return None
        known = next((f for f in self.fonts if str(f.path) == path), None)
        font = known or FontFile(Path(path), int(index) if index.isdigit() else 0)
        if not font.has(ch):
            return None
        if known is None:
            self.fonts.append(font)
        return font


@functools.lru_cache(maxsize=1)
def system_chain() -> FontChain:
    """DejaVu Sans (system, else bundled), the bundled subset, CJK fonts found, then fc-match."""
    primary = _find(PRIMARY_NAMES, FONT_FOLDERS)
    paths = [*primary[:1], BUNDLED, *_find(CJK_NAMES, FONT_FOLDERS)]
    return FontChain([FontFile(p) for p in paths], use_fc_match=True)


def bundled_chain() -> FontChain:
    """Only the bundled font: what a machine without any font would draw."""
    return FontChain([FontFile(BUNDLED)])
