"""pikaplot_widget: interactive plots of tables with millions to billions of rows in Jupyter.

Data stays in DuckDB; each view is aggregated there (M4 per pixel column, 2D bins), downsampled
with LTTB/MinMaxLTTB when asked, rendered with wgpu and shown through jupyter_rfb.
"""

from __future__ import annotations

from .api import line, scatter
from .core import downsample
from .core.errors import PlotError
from .engine.session import Session
from .link import Link, link
from .render.device import gpu_info
from .runtime.memory import monitor as memory
from .widget import Plot

__version__ = "0.1.0"

__all__ = [
    "Link",
    "Plot",
    "PlotError",
    "Session",
    "__version__",
    "downsample",
    "gpu_info",
    "line",
    "link",
    "memory",
    "scatter",
]
