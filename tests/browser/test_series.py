"""Several series in JupyterLab (Debian chromium, Playwright): clicking a legend entry hides its
series (its colour leaves the frame, `hidden_series` in the kernel agrees), clicking again shows it;
hover names the series of the nearest point; a by= column past 20 values says so in the plot.

Run: .venv/bin/python -m pytest tests/browser/test_series.py -x -q -s
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from .lab import LabServer, Notebook, open_and_run_all, start_lab, wait_for

pytestmark = pytest.mark.browser
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
RED, BLUE = (255, 0, 0), (0, 0, 255)

SETUP = """\
# cell[setup]
import json, os, time
import pikaplot_widget as pk

def _log(**record):
    record["t"] = time.time()
    with open(os.environ["PIKAPLOT_TEST_LOG"], "a") as f:
        f.write(json.dumps(record) + "\\n")

session = pk.Session()
session.connection.execute(
    "CREATE TABLE runs AS SELECT i::DOUBLE AS t, CASE WHEN i % 2 = 0 THEN 'low' ELSE 'high' END AS run, "
    "sin(i / 3000.0) + CASE WHEN i % 2 = 0 THEN 0 ELSE 3 END AS v FROM range(100000) r(i)"
)
"""

PLOT = """\
# cell[series]
p = pk.line("runs", x="t", y="v", by="run", session=session, colors={"low": "#ff0000", "high": "#0000ff"},
            line_width=2, width=600, height=300)
p.observe(lambda c: _log(event="hidden", hidden=list(c["new"])), names=["hidden_series"])
display(p)
"""

MANY = """\
# cell[many]
session.connection.execute(
    "CREATE TABLE many AS SELECT i::DOUBLE AS t, 'k' || (i % 23)::VARCHAR AS key, sin(i) AS v "
    "FROM range(23000) r(i)"
)
m = pk.line("many", x="t", y="v", by="key", session=session, width=600, height=300)
m
"""


@pytest.fixture(scope="module")
def nb(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook]:
    root = tmp_path_factory.mktemp("series")
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells = [nbformat.v4.new_code_cell(c) for c in (SETUP, PLOT, MANY)]
    nbformat.write(book, root / "series.ipynb")
    server: LabServer = start_lab(root, tmp_path_factory.mktemp("series-home"))
    context = browser.new_context(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        notebook = Notebook(page, server)
        open_and_run_all(page, server, "series.ipynb")
        yield notebook
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-series.png"))
    finally:
        context.close()
        server.stop()


def _count(pixels: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int((np.abs(pixels[..., :3].astype(int) - np.asarray(rgb)).max(axis=2) <= 8).sum())


def _ready(nb: Notebook) -> Any:
    overlay = nb.overlay("# cell[series]")
    wait_for(lambda: overlay.count() and overlay.get_attribute("data-frame"), 90, "the first exact frame")
    nb.wait_image_width("# cell[series]", 600)
    return overlay


def _hidden_records(nb: Notebook) -> list[dict[str, Any]]:
    return [r for r in nb.server.log() if r.get("event") == "hidden"]


def test_clicking_a_legend_entry_hides_and_shows_its_series(nb: Notebook):
    overlay = _ready(nb)
    marker = "# cell[series]"
    image = nb.plot_image(marker)
    image.scroll_into_view_if_needed()
    wait_for(lambda: _count(nb.image_pixels(marker), BLUE) > 300, 30, "blue line pixels in the frame")
    pixels = nb.image_pixels(marker)
    left, _top, width, _height = json.loads(overlay.get_attribute("data-area"))
    ys, xs = np.nonzero(np.abs(pixels[..., :3].astype(int) - np.asarray(BLUE)).max(axis=2) <= 8)
    in_legend = xs > left + width + 2
    assert in_legend.any(), "a blue swatch right of the plot area"
    sx, sy = float(xs[in_legend].mean()), float(ys[in_legend].mean())
    before_red = _count(pixels, RED)
    box = image.bounding_box()
    assert box is not None

    nb.page.mouse.click(box["x"] + 1 + sx, box["y"] + 1 + sy)
    wait_for(lambda: _hidden_records(nb), 45, lambda: f"hidden_series to change; log {nb.server.log()[-3:]}")
    assert _hidden_records(nb)[-1]["hidden"] == ["high"]
    wait_for(lambda: _count(nb.image_pixels(marker), BLUE) == 0, 60, "the blue series to leave the frame")
    assert _count(nb.image_pixels(marker), RED) >= before_red * 0.5  # the other series stays

    time.sleep(0.8)  # not a double click (that resets the view)
    nb.page.mouse.click(box["x"] + 1 + sx, box["y"] + 1 + sy)
    wait_for(lambda: len(_hidden_records(nb)) >= 2, 45, "hidden_series to change back")
    assert _hidden_records(nb)[-1]["hidden"] == []
    wait_for(lambda: _count(nb.image_pixels(marker), BLUE) > 300, 60, "the blue series to come back")


def test_hover_names_the_series(nb: Notebook):
    overlay = _ready(nb)
    marker = "# cell[series]"
    assert nb.run_scratch("[setattr(p, 'hidden_series', []), p.hidden_series][1]") == []  # whatever ran first
    image = nb.plot_image(marker)
    image.scroll_into_view_if_needed()
    wait_for(lambda: _count(nb.image_pixels(marker), BLUE) > 300, 30, "both series drawn")
    pixels = nb.image_pixels(marker)
    left, _top, width, _height = json.loads(overlay.get_attribute("data-area"))
    ys, xs = np.nonzero(np.abs(pixels[..., :3].astype(int) - np.asarray(RED)).max(axis=2) <= 8)
    inside = (xs > left + width * 0.4) & (xs < left + width * 0.6)
    px, py = float(xs[inside][0]), float(ys[inside][0])
    box = image.bounding_box()
    assert box is not None
    nb.page.mouse.move(box["x"] + 1 + px, box["y"] + 1 + py)
    tooltip = overlay.locator(".pikaplot-tooltip")
    wait_for(
        lambda: tooltip.is_visible() and "series: low" in tooltip.inner_text(),
        10,
        lambda: f"a tooltip naming the series 'low'; now {tooltip.inner_text()!r}",
    )
    nb.page.mouse.move(box["x"] - 50, box["y"] - 50)


def test_a_by_column_past_the_limit_says_so_in_the_plot(nb: Notebook):
    notice = nb.overlay("# cell[many]").locator(".pikaplot-notice")
    # the overlay shows a notice for 6 s: the tests before this one may have taken longer
    wait_for(lambda: notice.count() == 1 and notice.text_content(), 30, "the by= limit notice in the plot")
    text = notice.text_content() or ""
    assert "20 values" in text and "3 more values (3,000 rows)" in text, text
    again = "(lambda n: [setattr(m, 'notice', ''), setattr(m, 'notice', n)] and m.notice)(m.notice)"
    shown = nb.run_scratch(again)
    assert shown == text
    wait_for(notice.is_visible, 5, "the notice shown again once it changed")
    assert notice.inner_text() == text
