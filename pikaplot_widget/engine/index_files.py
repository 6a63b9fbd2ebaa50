"""Where a session's line index database lives: a DuckDB file in a folder of its own in the
system's temp folder, so its tables are ordinary blocks that the buffer pool may drop and read
back (an in-memory database holds them all, and the session's limit would grow by them)."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import weakref

from .runner import IN_MEMORY
from .temp_files import in_memory_filesystem, sweep_dead_kernels

PREFIX = "pikaplot-index-"  # then the kernel's pid: the folders of dead kernels are swept
_folders = itertools.count(1)


class IndexFiles:
    """The folder of one session's index database, made when the first index asks for it and
    removed with `remove()` (after the session's connection is closed), or when this object is
    garbage-collected or the interpreter exits (a session dropped without `close()`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: str | None = None
        self._cleanup: weakref.finalize[[str], IndexFiles] | None = None
        self._handed_out = False

    def location(self) -> str:
        """What to ATTACH: a file in a new folder, or `:memory:` where the temp folder is itself in
        memory (tmpfs) or no folder can be made there, and when asked again (the file was detached
        after a failed write, or another reader attached first)."""
        with self._lock:
            if self._handed_out:  # asked again: the file was detached (DuckDB invalidated it)
                return IN_MEMORY
            self._handed_out = True
            if self._folder is None:
                temp = tempfile.gettempdir()
                if in_memory_filesystem(temp):
                    return IN_MEMORY
                sweep_dead_kernels(temp, PREFIX)
                try:
                    prefix = f"{PREFIX}{os.getpid()}-{next(_folders)}-"
                    self._folder = tempfile.mkdtemp(prefix=prefix, dir=temp)
                except OSError:
                    return IN_MEMORY
                self._cleanup = weakref.finalize(self, _remove, self._folder)
            return os.path.join(self._folder, "index.duckdb")

    def remove(self) -> None:
        """Delete the folder and the database in it (idempotent)."""
        with self._lock:
            cleanup, self._folder, self._cleanup = self._cleanup, None, None
        if cleanup is not None:
            cleanup()


def _remove(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
