"""A plot of a Spark DataFrame in JupyterLab (Debian chromium, Playwright), its data in the local
Spark Connect server the test command starts: the first frame shows, Ctrl+wheel zooms it, and the
image shown is the frame of the same data plotted from DuckDB, pixel for pixel.

Run: bash scripts/spark_server.sh start && .venv/bin/python -m pytest tests/browser/test_spark.py -x -q -s
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from .lab import LabServer, Notebook, open_and_run_all, start_lab

pytestmark = pytest.mark.browser
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
NAME = "spark.ipynb"

PLOT = """\
# cell[plot]
import json, os, warnings
import numpy as np
import pikaplot_widget as pk

warnings.simplefilter("ignore", FutureWarning)  # pyspark on pandas 3
spark = pk.Session.spark(os.environ["SPARK_REMOTE"])
df = spark.spark.range(0, 200000).selectExpr("CAST(id AS DOUBLE) AS t", "sin(id / 4000.0) + id / 1e5 AS v")
p = pk.line(df, x="t", y="v", title="from Spark", width=600, height=260)
p
"""


@pytest.fixture(scope="module")
def nb(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook]:
    root = tmp_path_factory.mktemp("spark")
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells = [nbformat.v4.new_code_cell(PLOT)]
    nbformat.write(book, root / NAME)
    remote = os.environ.get("SPARK_REMOTE", "sc://127.0.0.1:15002")
    server: LabServer = start_lab(root, tmp_path_factory.mktemp("spark-home"), env={"SPARK_REMOTE": remote})
    context = browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        notebook = Notebook(page, server)
        open_and_run_all(page, server, NAME)
        yield notebook
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-spark.png"))
    finally:
        context.close()
        server.stop()


def test_a_spark_dataframe_plots_and_zooms_in_jupyterlab(nb: Notebook) -> None:
    nb.wait_image_width("# cell[plot]", 600, timeout=180)
    nb.settle("# cell[plot]")
    first = nb.image_pixels("# cell[plot]")
    assert len(np.unique(first.reshape(-1, 4), axis=0)) > 3, "a blank frame"
    nb.ctrl_wheel_zoom("# cell[plot]")
    nb.settle("# cell[plot]")
    span = nb.run_scratch("p.x_range[1] - p.x_range[0]")
    assert span < 199_999 * 0.9, span  # it zoomed
    nb.settle("# cell[plot]")
    shown = nb.image_pixels("# cell[plot]")
    assert not np.array_equal(shown, first), "the image still shows the first view"
    # The frame shown is what DuckDB draws for the same rows and view.
    nb.run_scratch(
        "np.save('spark.npy', p.to_array()) or np.save('duck.npy', (lambda d: (setattr(d, 'x_range', "
        "p.x_range), d.to_array())[1])(pk.line(df.toArrow(), x='t', y='v', title='from Spark', "
        "width=600, height=260))) or 0",
        timeout=120,
    )
    spark_frame = np.load(nb.server.root / "spark.npy")
    assert np.array_equal(spark_frame, np.load(nb.server.root / "duck.npy"))
    # (the <img> may be JPEG-encoded by jupyter_rfb: close, not equal)
    assert np.abs(shown[..., :3].astype(int) - spark_frame[..., :3]).mean() < 4
    assert nb.run_scratch("p.stats['queries_run']") > 0
