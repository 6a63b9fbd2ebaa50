"""Reading a plot in JupyterLab (Debian chromium, Playwright): hover tooltip, Shift+drag box zoom,
box select read back from the kernel, linked views, the instant preview before the kernel's
frame, Ctrl+wheel on an unfocused plot while a plain wheel still scrolls the page.

Run: .venv/bin/python -m pytest tests/browser/test_reading.py -x -q -s
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .lab import LabServer, Notebook, open_and_run_all, start_lab, wait_for

pytestmark = pytest.mark.browser
RESULTS = Path(__file__).resolve().parents[2] / "test-results"

SETUP = """\
# cell[setup]
import json, os, threading, time
import numpy as np
import pikaplot_widget as pk

_log_path = os.environ["PIKAPLOT_TEST_LOG"]

def _log(**record):
    record["t"] = time.time()
    with open(_log_path, "a") as f:
        f.write(json.dumps(record) + "\\n")

session = pk.Session()
rng = np.random.default_rng(7)
session.connection.execute(
    "CREATE TABLE walk AS SELECT i::DOUBLE AS t, sin(i / 3000.0) AS v FROM range(200000) r(i)"
)
xs, ys = rng.uniform(0, 10, 400), rng.uniform(0, 10, 400)
xs[0], ys[0] = 5.0, 5.0  # a known point in the middle
session.connection.execute("CREATE TABLE pts AS SELECT * FROM (SELECT unnest(?) AS x, unnest(?) AS y)",
                           [xs.tolist(), ys.tolist()])
"""

LINES = """\
# cell[lines]
a = pk.line("walk", x="t", y="v", session=session, title="a", width=600, height=260)
b = pk.line("walk", x="t", y="v", session=session, title="b", width=600, height=260)
link = pk.link(a, b, x=True)
a.observe(lambda c: _log(plot="a", x_range=list(c["new"])), names=["x_range"])
b.observe(lambda c: _log(plot="b", x_range=list(c["new"])), names=["x_range"])
display(a, b)
"""

SCATTER = """\
# cell[scatter]
s = pk.scatter("pts", x="x", y="y", session=session, title="points", width=600, height=400)

def _on_selection(change):
    bounds = change["new"]
    rows = len(s.selection.fetchall()) if s.selection is not None else 0
    direct = 0
    if bounds.get("polygon"):
        poly = bounds["polygon"]
        px, py = np.asarray(xs), np.asarray(ys)
        inside = np.zeros(px.shape, bool)
        for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1]):
            if y0 != y1:
                inside ^= ((y0 > py) != (y1 > py)) & (px < (x1 - x0) * (py - y0) / (y1 - y0) + x0)
        direct = int(inside.sum())
    elif bounds.get("x") and bounds.get("y"):
        (x0, x1), (y0, y1) = bounds["x"], bounds["y"]
        direct = session.connection.execute(
            "SELECT count(*) FROM pts WHERE x BETWEEN ? AND ? AND y BETWEEN ? AND ?", [x0, x1, y0, y1]
        ).fetchone()[0]
    _log(plot="s", event="selection", rows=rows, direct=direct, bounds=bounds)

s.observe(_on_selection, names=["selection_bounds"])
s.observe(lambda c: _log(plot="s", event="range", x_range=list(s.x_range), y_range=list(s.y_range)),
          names=["x_range", "y_range"])
s
"""


@pytest.fixture(scope="module")
def nb(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook]:
    root = tmp_path_factory.mktemp("reading")
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells = [nbformat.v4.new_code_cell(c) for c in (SETUP, LINES, SCATTER)]
    nbformat.write(book, root / "reading.ipynb")
    server: LabServer = start_lab(root, tmp_path_factory.mktemp("reading-home"))
    context = browser.new_context(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        notebook = Notebook(page, server)
        page.on("console", lambda msg: notebook.console.append(f"{msg.type}: {msg.text}"))
        open_and_run_all(page, server, "reading.ipynb")
        yield notebook
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "browser-reading.png"))
    finally:
        context.close()
        server.stop()


def images(nb: Notebook, cell: str) -> Any:
    return nb.cell(f"# cell[{cell}]").locator("img.renderview-view")


def overlays(nb: Notebook, cell: str) -> Any:
    return nb.cell(f"# cell[{cell}]").locator(".pikaplot-overlay")


def ready(nb: Notebook, cell: str, index: int = 0, timeout: float = 90) -> Any:
    """The plot's overlay once its first exact frame's points have arrived."""
    overlay = overlays(nb, cell).nth(index)
    wait_for(lambda: overlay.count() and overlay.get_attribute("data-frame"), timeout,
             f"the first exact frame of {cell}[{index}] (data-frame on its overlay)")  # fmt: skip
    return overlay


def settled(overlay: Any, quiet_s: float = 0.5, timeout: float = 15) -> str:
    """Wait until no new exact frame came for `quiet_s` (a view may end with two: y refitted)."""
    last, since = overlay.get_attribute("data-frame"), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = overlay.get_attribute("data-frame")
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return last
    raise AssertionError("the plot kept sending exact frames")


def box_of(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def records(nb: Notebook, **match: Any) -> list[dict[str, Any]]:
    return [r for r in nb.server.log() if all(r.get(k) == v for k, v in match.items())]


def test_hover_shows_the_tooltip_of_a_known_point(nb: Notebook):
    overlay = ready(nb, "scatter")
    image = images(nb, "scatter").first
    image.scroll_into_view_if_needed()
    # Each exact frame tells the overlay its plot area (CSS px) and ranges: map the point (5, 5).
    left, top, width, height = json.loads(overlay.get_attribute("data-area"))
    x0, x1 = json.loads(overlay.get_attribute("data-x-range"))
    y0, y1 = json.loads(overlay.get_attribute("data-y-range"))
    px = left + (5.0 - x0) / (x1 - x0) * width
    py = top + (y1 - 5.0) / (y1 - y0) * height
    box = box_of(image)
    nb.page.mouse.move(box["x"] + 1 + px + 2, box["y"] + 1 + py + 1)
    tooltip = overlay.locator(".pikaplot-tooltip")
    wait_for(lambda: tooltip.is_visible() and "x: 5" in tooltip.inner_text(), 10,
             lambda: f"a tooltip for the point (5, 5); now {tooltip.inner_text()!r}")  # fmt: skip
    # On rest the full row arrives from DuckDB: its columns join the tooltip.
    wait_for(lambda: tooltip.inner_text().count("x: 5") >= 2, 10,
             lambda: f"the full row in the tooltip; now {tooltip.inner_text()!r}")  # fmt: skip
    nb.page.mouse.move(box["x"] - 50, box["y"] - 50)


def test_hover_on_a_line_tells_what_its_pixel_column_holds(nb: Notebook):
    overlay = ready(nb, "lines", 0)
    image = images(nb, "lines").first
    image.scroll_into_view_if_needed()
    left, top, width, height = json.loads(overlay.get_attribute("data-area"))
    (x0, x1), (y0, y1) = (
        json.loads(overlay.get_attribute("data-x-range")),
        json.loads(overlay.get_attribute("data-y-range")),
    )
    t = (x0 + x1) / 2  # the walk is sin(t / 3000): the line passes through (t, sin(t / 3000))
    px = left + (t - x0) / (x1 - x0) * width
    py = top + (y1 - math.sin(t / 3000)) / (y1 - y0) * height
    box = box_of(image)
    nb.page.mouse.move(box["x"] + 1 + px, box["y"] + 1 + py)
    tooltip = overlay.locator(".pikaplot-tooltip")
    shows = lambda: tooltip.is_visible() and "rows:" in tooltip.inner_text() and "min" in tooltip.inner_text()  # noqa: E731
    wait_for(
        shows, 10, lambda: f"a line tooltip with its column's rows and min/max; now {tooltip.inner_text()!r}"
    )
    nb.page.mouse.move(box["x"] - 50, box["y"] - 50)


def test_shift_drag_box_zooms_both_axes(nb: Notebook):
    ready(nb, "scatter")
    image = images(nb, "scatter").first
    image.scroll_into_view_if_needed()
    box = box_of(image)
    before = len(records(nb, plot="s", event="range"))
    start = (box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.35)
    nb.page.keyboard.down("Shift")
    nb.page.mouse.move(*start)
    nb.page.mouse.down()
    nb.page.mouse.move(start[0] + 120, start[1] + 90, steps=6)
    nb.page.mouse.up()
    nb.page.keyboard.up("Shift")
    wait_for(
        lambda: len(records(nb, plot="s", event="range")) > before, 15, "the box zoom to reach the kernel"
    )
    last = records(nb, plot="s", event="range")[-1]
    assert last["x_range"][1] - last["x_range"][0] < 10 * 0.5
    assert last["y_range"][1] - last["y_range"][0] < 10 * 0.5
    nb.page.keyboard.press("Escape")  # focus is on the plot: reset


def test_box_select_sets_the_selection_read_back_from_the_kernel(nb: Notebook):
    overlay = ready(nb, "scatter")
    image = images(nb, "scatter").first
    image.scroll_into_view_if_needed()
    overlay.locator(".pikaplot-toolbar button[data-action='select']").click()
    box = box_of(image)
    start = (box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    nb.page.mouse.move(*start)
    nb.page.mouse.down()
    nb.page.mouse.move(start[0] + 150, start[1] + 110, steps=6)
    nb.page.mouse.up()
    wait_for(lambda: records(nb, plot="s", event="selection"), 15, "the selection to reach the kernel")
    got = records(nb, plot="s", event="selection")[-1]
    assert got["rows"] == got["direct"] > 0, got
    overlay.locator(".pikaplot-toolbar button[data-action='pan']").click()


def test_lasso_selects_the_rows_inside_it(nb: Notebook):
    overlay = ready(nb, "scatter")
    image = images(nb, "scatter").first
    before = len(records(nb, plot="s", event="selection"))
    image.scroll_into_view_if_needed()
    overlay.locator(".pikaplot-toolbar button[data-action='lasso']").click()
    box = box_of(image)
    cx, cy = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    nb.page.mouse.move(cx - 120, cy - 80)
    nb.page.mouse.down()
    for x, y in [(cx + 130, cy - 90), (cx + 60, cy + 110), (cx - 140, cy + 60), (cx - 125, cy - 75)]:
        nb.page.mouse.move(x, y, steps=8)
    nb.page.mouse.up()
    wait_for(
        lambda: len(records(nb, plot="s", event="selection")) > before, 15, "the lasso to reach the kernel"
    )
    got = records(nb, plot="s", event="selection")[-1]
    assert got["bounds"]["polygon"] and got["rows"] == got["direct"] > 0, got
    overlay.locator(".pikaplot-toolbar button[data-action='pan']").click()


def test_linked_plot_follows_a_wheel_and_the_preview_comes_first(nb: Notebook):
    ready(nb, "lines", 0)
    ready(nb, "lines", 1)
    image = images(nb, "lines").first
    image.scroll_into_view_if_needed()
    box = box_of(image)
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    nb.page.mouse.click(*centre)  # focus: plain wheel zooms from now on
    overlay = overlays(nb, "lines").first
    latencies, drawn = [], []
    for _ in range(6):
        frame = settled(overlay)
        before = len(records(nb, plot="b"))
        nb.page.mouse.wheel(0, -240)
        wait_for(lambda: overlay.get_attribute("data-preview-latency") not in (None, "0"), 5,
                 "an instant preview after the wheel")  # fmt: skip
        latencies.append(float(overlay.get_attribute("data-preview-latency")))
        drawn.append(float(overlay.get_attribute("data-preview-drawn")))
        wait_for(lambda b=before: len(records(nb, plot="b")) > b, 15, "b's x_range to follow a's")
        wait_for(lambda f=frame: overlay.get_attribute("data-frame") != f, 15, "a's exact frame")
        assert overlay.get_attribute("data-preview-frame") == frame, (
            "the preview came before the kernel's frame"
        )
        overlay.evaluate("(o) => { o.dataset.previewLatency = '0' }")
    a_last = records(nb, plot="a")[-1]["x_range"]
    b_last = records(nb, plot="b")[-1]["x_range"]
    assert a_last == pytest.approx(b_last)
    p50 = statistics.median(latencies)
    print(f"\ninstant preview after a wheel: drawn {drawn} ms, next animation frame {latencies} ms")
    # The goal is 20 ms; the browser shares 2 cores with the kernel here, so the bound leaves room.
    assert p50 <= 50, latencies


def test_ctrl_wheel_zooms_an_unfocused_plot_and_plain_wheel_scrolls(nb: Notebook):
    ready(nb, "scatter")
    nb.page.mouse.click(5, 450)  # focus elsewhere (the page), not the plot
    image = images(nb, "lines").nth(1)
    image.scroll_into_view_if_needed()
    box = box_of(image)
    scroller = nb.page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
    top = scroller.evaluate("(el) => el.scrollTop")
    before = len(records(nb, plot="b"))
    nb.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    nb.page.mouse.wheel(0, 120)
    wait_for(lambda: scroller.evaluate("(el) => el.scrollTop") != top, 5, "a plain wheel to scroll the page")
    assert len(records(nb, plot="b")) == before, "a plain wheel over an unfocused plot must not zoom it"
    image.scroll_into_view_if_needed()
    box = box_of(image)
    nb.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    nb.page.keyboard.down("Control")
    nb.page.mouse.wheel(0, -240)
    nb.page.keyboard.up("Control")
    wait_for(lambda: len(records(nb, plot="b")) > before, 15, "Ctrl+wheel to zoom the unfocused plot")
