"""What the look costs: the parts of a frame that themes, Unicode text, marker opacity and the
density index's rows per area added, at the defaults.

    python benchmarks/look.py [--rows 2e7] [--repeat 7]

Prints median milliseconds: a label with 200 new CJK/Cyrillic glyphs (the atlas grows once) and the
same label again; the density index's home view (resample + rows per area + paint) of a uniform
density (a redraw: the view's grid comes from the result cache, so this is the painting); markers at
85k and 200k rows (cell counts + per-marker opacity, then the whole frame).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import pikaplot_widget as pk
from pikaplot_widget.plots.scatter.opacity import cell_counts, marker_alphas
from pikaplot_widget.render.text import GlyphAtlas


def median_ms(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=float, default=2e7)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    label = "".join(chr(c) for c in range(0x6E00, 0x6E64)) + "".join(chr(c) for c in range(0x410, 0x474))
    started = time.perf_counter()
    atlas = GlyphAtlas(12)
    atlas.layout(label, 0, 0)
    first = 1000 * (time.perf_counter() - started)
    again = median_ms(lambda: atlas.layout(label, 0, 0), args.repeat)
    print(f"text: 200 new glyphs {first:.1f} ms (atlas {atlas.image.shape}), again {again:.2f} ms")

    n = int(args.rows)
    session = pk.Session()
    points = pd.DataFrame({"x": rng.uniform(0, 1, n), "y": rng.uniform(0, 1, n)})
    plot = pk.scatter(points, "x", "y", session=session, gpu_points="never")
    plot.to_array()
    print(f"density index home view ({n:,} rows, {plot.stats['view_source']}): "
          f"frame {median_ms(lambda: (plot.controller.redraw(), plot.to_array()), args.repeat):.0f} ms, "
          f"render {1000 * float(plot.stats['render_s']):.0f} ms")  # fmt: skip
    plot.close()

    for markers in (85_000, 200_000):
        x, y = rng.normal(400, 80, markers), rng.normal(250, 60, markers)
        look = median_ms(lambda x=x, y=y: marker_alphas(cell_counts(x, y, 5.0), 0.82, 8.0), args.repeat)
        table = pd.DataFrame({"x": x, "y": y})
        plot = pk.scatter(table, "x", "y", session=session)
        plot.to_array()
        frame = median_ms(lambda plot=plot: (plot.controller.redraw(), plot.to_array()), args.repeat)
        print(f"markers {markers:,} ({plot.mode}): opacity {look:.1f} ms, frame {frame:.0f} ms")
        plot.close()


if __name__ == "__main__":
    main()
