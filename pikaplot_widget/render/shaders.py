"""Compiled WGSL modules and render pipelines, each created once per key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any


class ShaderError(RuntimeError):
    """WGSL that does not compile; the message names the shader and the line."""


class ShaderCache:
    """Caches shader modules by (name, source hash) and pipelines by name."""

    def __init__(self, device: Any) -> None:
        self._device = device
        self._modules: dict[tuple[str, str], Any] = {}
        self._pipelines: dict[str, Any] = {}
        self.compiled = 0

    def module(self, name: str, code: str) -> Any:
        """The compiled module for `code`; raises ShaderError with wgpu's diagnostics."""
        key = (name, hashlib.sha1(code.encode()).hexdigest())
        module = self._modules.get(key)
        if module is None:
            try:
                module = self._device.create_shader_module(label=name, code=code)
            except Exception as error:  # wgpu raises GPUValidationError with line/column
                where = re.search(r"wgsl:(\d+):(\d+)", str(error))
                at = f" at line {where[1]}, column {where[2]}" if where else ""
                raise ShaderError(f"shader {name!r} failed to compile{at}: {error}") from None
            self._modules[key] = module
            self.compiled += 1
        return module

    def pipeline(self, name: str, create: Callable[[], Any]) -> Any:
        """The pipeline called `name`, made by `create()` the first time it is asked for."""
        pipeline = self._pipelines.get(name)
        if pipeline is None:
            pipeline = self._pipelines[name] = create()
        return pipeline


_caches: dict[int, ShaderCache] = {}


def shader_cache(device: Any) -> ShaderCache:
    """The cache that belongs to `device`."""
    cache = _caches.get(id(device))
    if cache is None:
        cache = _caches[id(device)] = ShaderCache(device)
    return cache
