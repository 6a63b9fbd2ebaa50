"""Output that survives the notebook, in JupyterLab (Debian chromium, Playwright): the PNG output
after each plot is hidden while the widget is live, follows the last view into the saved notebook,
and `to_array()` returns the size asked for (no border eaten).

Run: .venv/bin/python -m pytest tests/browser/test_output.py -x -q -s
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from PIL import Image

from .lab import LabServer, Notebook, open_and_run_all, run_command, start_lab, wait_for

pytestmark = pytest.mark.browser
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
NAME = "output.ipynb"

PLOT = """\
# cell[plot]
import json, os, time
import numpy as np
import pikaplot_widget as pk

rng = np.random.default_rng(5)
session = pk.Session()
session.connection.execute(
    "CREATE TABLE walk AS SELECT i::DOUBLE AS t, sin(i / 5000.0) + random() / 5 AS v FROM range(300000) r(i)"
)
p = pk.line("walk", x="t", y="v", session=session, title="walk", width=640, height=280)
p
"""

AFTER = """\
# cell[after]
print("after the plot")
"""


@pytest.fixture(scope="module")
def nb(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook]:
    root = tmp_path_factory.mktemp("output")
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells = [nbformat.v4.new_code_cell(c) for c in (PLOT, AFTER)]
    nbformat.write(book, root / NAME)
    server: LabServer = start_lab(root, tmp_path_factory.mktemp("output-home"))
    context = browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        notebook = Notebook(page, server)
        page.on("console", lambda msg: notebook.console.append(f"{msg.type}: {msg.text}"))
        open_and_run_all(page, server, NAME)
        yield notebook
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-output.png"))
    finally:
        context.close()
        server.stop()


def _saved_snapshot(nb: Notebook) -> np.ndarray:
    """Save the notebook and decode the PNG output that follows the plot's widget output."""
    before = (nb.server.root / NAME).stat().st_mtime_ns
    run_command(nb.page, "docmanager:save")
    wait_for(lambda: (nb.server.root / NAME).stat().st_mtime_ns != before, 20, "the notebook to be saved")
    time.sleep(0.3)
    book = nbformat.read(nb.server.root / NAME, as_version=4)
    outputs = next(c for c in book.cells if "# cell[plot]" in c.source).outputs
    kinds = [sorted(o.get("data", {})) for o in outputs]
    assert len(outputs) == 2, kinds
    assert "application/vnd.jupyter.widget-view+json" in outputs[0]["data"], kinds
    png = base64.b64decode(outputs[1]["data"]["image/png"])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_the_png_output_is_hidden_while_the_widget_is_live(nb: Notebook) -> None:
    nb.wait_image_width("# cell[plot]", 640)
    wait_for(
        lambda: nb.cell("# cell[after]").locator(".jp-OutputArea-output").count(), 60, "Run All to finish"
    )
    outputs = nb.cell("# cell[plot]").locator(".jp-OutputArea-child")
    wait_for(lambda: outputs.count() == 2, 30, "the widget output and the PNG output")
    snapshot = outputs.nth(1)
    hidden = lambda: "pikaplot-snapshot-hidden" in (snapshot.get_attribute("class") or "")  # noqa: E731
    wait_for(lambda: hidden() and not snapshot.is_visible(), 10, "the PNG output to be hidden")
    assert nb.plot_image("# cell[plot]").is_visible()
    # The frame fills the asked size: no border pixels lost (jupyter_rfb's 1 px border is a shadow now).
    assert nb.image_size("# cell[plot]") == [640, 280]
    assert nb.run_scratch("list(p.to_array().shape)") == [280, 640, 4]


def test_the_saved_notebook_shows_the_last_view(nb: Notebook) -> None:
    nb.settle("# cell[plot]")
    first = _saved_snapshot(nb)
    assert first.shape == (280, 640, 4)
    nb.ctrl_wheel_zoom("# cell[plot]")
    nb.settle("# cell[plot]")
    span = nb.run_scratch("p.x_range[1] - p.x_range[0]")
    assert span < 299_999 * 0.9, span  # it zoomed
    nb.settle("# cell[plot]")
    saved = _saved_snapshot(nb)
    assert not np.array_equal(saved, first), "the saved PNG still shows the first view"
    # ... and it is the plot's exact frame of the view it shows now, pixel for pixel.
    nb.run_scratch("np.save('current.npy', p.to_array()) or 0")
    assert np.array_equal(saved, np.load(nb.server.root / "current.npy"))
    # Still hidden after the update (updated in place), and the widget stayed on the page.
    snapshot = nb.cell("# cell[plot]").locator(".jp-OutputArea-child").nth(1)
    assert "pikaplot-snapshot-hidden" in (snapshot.get_attribute("class") or "")
    assert not snapshot.is_visible()
    assert nb.plot_image("# cell[plot]").is_visible()
