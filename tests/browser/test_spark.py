"""A plot of a Spark DataFrame in JupyterLab (Debian chromium, Playwright), its data in the local
Spark Connect server the test command starts: the first frame shows, Ctrl+wheel zooms it, and the
image shown is the frame of the same data plotted from DuckDB, pixel for pixel.

Run: bash scripts/spark_server.sh start && .venv/bin/python -m pytest tests/browser/test_spark.py -x -q -s
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from .lab import LabServer, Notebook, open_and_run_all, run_command, start_lab, wait_for

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


def _kernel(nb: Notebook, code: str, timeout: float = 120) -> Any:
    """Run `code` in a scratch cell at the end and return what it printed as JSON."""
    nb.page.evaluate(
        """(code) => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = nb.widgets.length - 1;
            window.jupyterapp.commands.execute('notebook:insert-cell-below');
            nb.activeCell.model.sharedModel.setSource(code);
        }""",
        f"# cell[scratch]\nprint('@@' + json.dumps({code}))",
    )
    cell = nb.cell("# cell[scratch]")
    run_command(nb.page, "notebook:run-cell")
    text = cell.locator(".jp-OutputArea-output")
    wait_for(lambda: text.count() and "@@" in text.first.inner_text(), timeout, "the scratch cell's output")
    value = json.loads(text.first.inner_text().split("@@", 1)[1])
    nb.page.evaluate("() => window.jupyterapp.commands.execute('notebook:delete-cell')")
    wait_for(lambda: nb.cell("# cell[scratch]").count() == 0, 10, "the scratch cell to go")
    return value


def _settle(nb: Notebook, quiet_s: float = 2.5, timeout: float = 120) -> None:
    overlay = nb.overlay("# cell[plot]")
    wait_for(lambda: overlay.count() and overlay.get_attribute("data-frame"), timeout, "an exact frame")
    last, since = overlay.get_attribute("data-frame"), time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.1)
        now = overlay.get_attribute("data-frame")
        if now != last:
            last, since = now, time.monotonic()


def test_a_spark_dataframe_plots_and_zooms_in_jupyterlab(nb: Notebook) -> None:
    nb.wait_image_width("# cell[plot]", 600, timeout=180)
    _settle(nb)
    first = nb.image_pixels("# cell[plot]")
    assert len(np.unique(first.reshape(-1, 4), axis=0)) > 3, "a blank frame"
    image = nb.plot_image("# cell[plot]")
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    assert box is not None
    nb.page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2)
    for _ in range(4):
        nb.page.keyboard.down("Control")
        nb.page.mouse.wheel(0, -240)
        nb.page.keyboard.up("Control")
        time.sleep(0.15)
    _settle(nb)
    span = _kernel(nb, "p.x_range[1] - p.x_range[0]")
    assert span < 199_999 * 0.9, span  # it zoomed
    _settle(nb)
    shown = nb.image_pixels("# cell[plot]")
    assert not np.array_equal(shown, first), "the image still shows the first view"
    # The frame shown is what DuckDB draws for the same rows and view.
    _kernel(
        nb,
        "np.save('spark.npy', p.to_array()) or np.save('duck.npy', (lambda d: (setattr(d, 'x_range', "
        "p.x_range), d.to_array())[1])(pk.line(df.toArrow(), x='t', y='v', title='from Spark', "
        "width=600, height=260))) or 0",
    )
    spark_frame = np.load(nb.server.root / "spark.npy")
    assert np.array_equal(spark_frame, np.load(nb.server.root / "duck.npy"))
    # (the <img> may be JPEG-encoded by jupyter_rfb: close, not equal)
    assert np.abs(shown[..., :3].astype(int) - spark_frame[..., :3]).mean() < 4
    assert _kernel(nb, "p.stats['queries_run']") > 0
