"""Files a kernel keeps in the system's temp folder: where they may go, and sweeping those of
kernels that died without removing theirs."""

from __future__ import annotations

import contextlib
import os
import shutil


def in_memory_filesystem(directory: str, mounts: str = "/proc/self/mounts") -> bool:
    """Whether `directory` lies on tmpfs or ramfs (Linux; False where the mounts cannot be read)."""
    try:
        with open(mounts, encoding="utf-8", errors="replace") as table:
            entries = [line.split() for line in table]
    except OSError:
        return False
    path = os.path.realpath(directory)
    best, kind = "", ""
    for fields in entries:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind in ("tmpfs", "ramfs")


def sweep_dead_kernels(temp: str, prefix: str) -> None:
    """Remove the folders `<prefix><pid>-...` in `temp` whose kernel (pid) is no longer running."""
    with contextlib.suppress(OSError):
        for name in os.listdir(temp):
            pid = name[len(prefix) :].split("-")[0]
            # ASCII digits only ("\u00b2".isdigit() holds, int() refuses it), and a pid's size
            # (os.kill raises OverflowError past a C long): any user may name a folder in /tmp
            if not name.startswith(prefix) or not (pid.isascii() and pid.isdigit()) or len(pid) > 9:
                continue
            if int(pid) == os.getpid():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(temp, name), ignore_errors=True)
            except OSError:  # alive, another user's: not ours to remove
                pass
