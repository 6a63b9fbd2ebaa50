"""Output that survives the notebook, in JupyterLab (Debian chromium, Playwright): the PNG output
after each plot is hidden while the widget is live, follows the last view into the saved notebook,
and `to_array()` returns the size asked for (no border eaten).

Run: .venv/bin/python -m pytest tests/browser/test_output.py -x -q -s
"""

from __future__ import annotations

import base64
import io
import json
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


def _kernel(nb: Notebook, code: str, timeout: float = 60) -> Any:
    """Run `code` in the notebook's kernel (a scratch cell at the end) and return what it printed
    as JSON; the scratch cell is deleted again."""
    page = nb.page
    page.evaluate(
        """(code) => {
            const panel = window.jupyterapp.shell.currentWidget;
            const nb = panel.content;
            nb.activeCellIndex = nb.widgets.length - 1;
            window.jupyterapp.commands.execute('notebook:insert-cell-below');
            nb.activeCell.model.sharedModel.setSource(code);
        }""",
        f"# cell[scratch]\nprint('@@' + json.dumps({code}))",
    )
    cell = nb.cell("# cell[scratch]")
    run_command(page, "notebook:run-cell")
    text = cell.locator(".jp-OutputArea-output")
    wait_for(lambda: text.count() and "@@" in text.first.inner_text(), timeout, "the scratch cell's output")
    value = json.loads(text.first.inner_text().split("@@", 1)[1])
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:delete-cell')")
    wait_for(lambda: nb.cell("# cell[scratch]").count() == 0, 10, "the scratch cell to go")
    return value


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


def _settle(nb: Notebook, quiet_s: float = 2.5, timeout: float = 60) -> None:
    overlay = nb.overlay("# cell[plot]")
    wait_for(lambda: overlay.count() and overlay.get_attribute("data-frame"), timeout, "an exact frame")
    last, since = overlay.get_attribute("data-frame"), time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.1)
        now = overlay.get_attribute("data-frame")
        if now != last:
            last, since = now, time.monotonic()


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
    assert _kernel(nb, "list(p.to_array().shape)") == [280, 640, 4]


def test_the_saved_notebook_shows_the_last_view(nb: Notebook) -> None:
    _settle(nb)
    first = _saved_snapshot(nb)
    assert first.shape == (280, 640, 4)
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
    assert span < 299_999 * 0.9, span  # it zoomed
    _settle(nb)
    saved = _saved_snapshot(nb)
    assert not np.array_equal(saved, first), "the saved PNG still shows the first view"
    # ... and it is the plot's exact frame of the view it shows now, pixel for pixel.
    _kernel(nb, "np.save('current.npy', p.to_array()) or 0")
    assert np.array_equal(saved, np.load(nb.server.root / "current.npy"))
    # Still hidden after the update (updated in place), and the widget stayed on the page.
    snapshot = nb.cell("# cell[plot]").locator(".jp-OutputArea-child").nth(1)
    assert "pikaplot-snapshot-hidden" in (snapshot.get_attribute("class") or "")
    assert not snapshot.is_visible()
    assert nb.plot_image("# cell[plot]").is_visible()
