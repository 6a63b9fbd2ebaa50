"""pk.scatter over GPU-resident points: density equalised on the GPU draws the CPU path's frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

import pikaplot_widget as pk
from pikaplot_widget.core import colors
from pikaplot_widget.core.viewport import Range, Viewport
from pikaplot_widget.plots.scatter import painter


def test_gpu_equalised_density_frame_equals_the_cpu_one(session, rng, monkeypatch):
    n = 80_000
    spread = np.where(rng.random(n) < 0.7, 0.1, 1.5)  # a dense core over a sparse halo: skewed counts
    df = pd.DataFrame({"x": rng.normal(0, 1, n) * spread, "y": rng.normal(0, 1, n) * spread})
    # The painter reads the switch as it draws: one plot draws with it on, the other with it off.
    gpu = pk.scatter(df, "x", "y", session=session, marker_limit=1000, gpu_points="always")
    cpu = pk.scatter(df, "x", "y", session=session, marker_limit=1000, gpu_points="always")
    try:
        for view in [None, Viewport(Range(-2.0, 3.0), Range(-1.5, 1.0), y_auto=False)]:
            monkeypatch.setattr(painter, "GPU_EQUALIZE", True)
            if view is not None:
                gpu.controller.set_view(view)
            gpu_frame = gpu.to_array()
            data = gpu.controller.data
            assert gpu.mode == "density" and gpu.stats["view_source"] == "gpu"
            assert data.equalized is not None  # the frame came from the GPU index
            counts = data.grid.counts
            assert data.equalized.stats.total == int(counts.sum()) == gpu.stats["rows_in_view"]
            expected_ticks = colors.Scale.fit(counts, "eq_hist").ticks()
            assert data.equalized.stats.scale().ticks() == expected_ticks  # the colour bar's labels
            monkeypatch.setattr(painter, "GPU_EQUALIZE", False)
            if view is not None:
                cpu.controller.set_view(view)
            cpu_frame = cpu.to_array()
            np.testing.assert_array_equal(cpu.controller.data.grid.counts, counts)
            assert gpu_frame.shape == cpu_frame.shape
            differs = np.any(gpu_frame != cpu_frame, axis=2)
            assert differs.mean() <= 1e-3, f"{differs.sum()} pixels differ"
            assert (gpu_frame[..., :3].astype(int).sum(axis=2) < 740).sum() > 1000  # density drawn
    finally:
        gpu.close()
        cpu.close()
