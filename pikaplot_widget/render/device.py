"""The process-wide wgpu adapter and device (created once, shared by every plot)."""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Any

_lock = threading.RLock()
_device: Any = None
_adapter: Any = None

# One lock for everything that touches the shared GPU device: wgpu objects are used from
# worker threads (rendering happens off the kernel's event loop) one thread at a time.
render_lock = threading.RLock()


def get_device() -> Any:
    """The shared GPUDevice: a real GPU when present, else Mesa lavapipe (Vulkan on the CPU)."""
    global _device, _adapter  # noqa: PLW0603
    with _lock:
        if _device is None:
            # Mesa warns on every adapter request without a runtime dir; harmless but noisy.
            os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
            import wgpu  # imported late: loading wgpu-native is costly

            adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
            if adapter is None:
                raise RuntimeError(
                    "wgpu found no adapter. On a machine with no GPU install Mesa's Vulkan driver "
                    "(Debian/Ubuntu: apt-get install mesa-vulkan-drivers)."
                )
            _adapter = adapter
            _device = adapter.request_device_sync()
        return _device


def gpu_info() -> dict[str, str]:
    """What renders the plots: adapter name, type (DiscreteGPU, IntegratedGPU, CPU) and backend."""
    get_device()
    info = _adapter.info
    return {
        "device": str(info.get("device", "")),
        "vendor": str(info.get("vendor", "")),
        "adapter_type": str(info.get("adapter_type", "")),
        "backend": str(info.get("backend_type", "")),
        "description": str(info.get("description", "")),
    }
