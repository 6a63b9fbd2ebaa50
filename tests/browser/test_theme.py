"""The plot follows JupyterLab's theme: switching Light -> Dark -> Light (the lab's
`apputils:change-theme` command, as Settings -> Theme does) changes the frame's background pixels
of a plot with theme="auto", restyles its overlay, and leaves a plot with theme="light" alone.

Run: .venv/bin/python -m pytest tests/browser/test_theme.py -x -q -p no:cacheprovider   (~1 min)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from pikaplot_widget.render.theme import DARK, LIGHT

from .lab import LabServer, Notebook, open_and_run_all, start_lab, wait_for

pytestmark = pytest.mark.browser

RESULTS = Path(__file__).resolve().parents[2] / "test-results"
AUTO, FIXED = "# cell[auto]", "# cell[fixed]"
SETUP = """\
import numpy as np, pandas as pd
import pikaplot_widget as pk
rng = np.random.default_rng(1)
points = pd.DataFrame({"x": rng.normal(size=3000), "y": rng.normal(size=3000)})
"""
CELLS = [
    f'{AUTO}\nauto = pk.scatter(points, "x", "y", title="Température Ω", width=500, height=300)\nauto',
    f'{FIXED}\nfixed = pk.line(points.sort_values("x"), "x", "y", theme="light", width=500, height=300)'
    "\nfixed",
]


def rgb(color: tuple[float, ...]) -> np.ndarray:
    return np.round(np.asarray(color[:3]) * 255)


@pytest.fixture(scope="module")
def theme_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    pytest.importorskip("psutil")
    root = tmp_path_factory.mktemp("theme-lab")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP), *(nbformat.v4.new_code_cell(c) for c in CELLS)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "theme.ipynb")
    server = start_lab(root, tmp_path_factory.mktemp("theme-lab-home"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(browser: Any, theme_lab: LabServer) -> Iterator[Notebook]:
    context = browser.new_context(viewport={"width": 1200, "height": 1400}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)
    nb = Notebook(page, theme_lab)
    page.on("console", lambda msg: nb.console.append(f"{msg.type}: {msg.text}"))
    try:
        open_and_run_all(page, theme_lab, "theme.ipynb")
        for marker in (AUTO, FIXED):
            nb.wait_image_width(marker, 500)
        yield nb
    finally:
        RESULTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(RESULTS / "browser-theme.png"))
        context.close()


def corner(nb: Notebook, marker: str) -> np.ndarray:
    """The mean colour of the frame's top-left 6x6 pixels (background only)."""
    return nb.image_pixels(marker)[:6, :6, :3].reshape(-1, 3).mean(axis=0)


def set_lab_theme(nb: Notebook, name: str) -> None:
    nb.page.evaluate(
        "(name) => window.jupyterapp.commands.execute('apputils:change-theme', { theme: name })", name
    )
    light = "true" if name == "JupyterLab Light" else "false"
    wait_for(
        lambda: nb.page.evaluate("() => document.body.dataset.jpThemeLight") == light,
        30,
        f"JupyterLab to switch to {name}",
    )


def wait_background(nb: Notebook, marker: str, expected: np.ndarray) -> None:
    wait_for(
        lambda: np.abs(corner(nb, marker) - expected).max() <= 2,
        30,
        lambda: f"the background of {marker} to become {expected} (now {corner(nb, marker)})",
    )


def test_auto_follows_the_lab_theme_and_fixed_stays(page: Notebook):
    nb = page
    assert np.abs(corner(nb, AUTO) - rgb(LIGHT.background)).max() <= 2
    set_lab_theme(nb, "JupyterLab Dark")
    wait_background(nb, AUTO, rgb(DARK.background))
    assert nb.overlay(AUTO).evaluate("(o) => o.dataset.look") == "auto-dark"
    toolbar = nb.overlay(AUTO).locator(".pikaplot-toolbar button").first
    background = toolbar.evaluate("(b) => getComputedStyle(b).backgroundColor")
    channels = [int(v) for v in background[background.index("(") + 1 : background.index(")")].split(",")[:3]]
    assert max(channels) < 100, background  # the overlay's HTML follows the dark theme too
    assert np.abs(corner(nb, FIXED) - rgb(LIGHT.background)).max() <= 2  # theme="light" stays light
    set_lab_theme(nb, "JupyterLab Light")
    wait_background(nb, AUTO, rgb(LIGHT.background))
    assert nb.overlay(AUTO).evaluate("(o) => o.dataset.look") == "auto-light"
    assert not nb.errors()
