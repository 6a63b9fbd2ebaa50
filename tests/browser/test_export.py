"""The demo notebook executed and exported as nbconvert does (`--to html --execute`): every plot is
an <img> of its size in the HTML, and no output prints something confusing.

Run: .venv/bin/python -m pytest tests/browser/test_export.py -q -s     (~1 minute: the demo's data)
"""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from PIL import Image

pytestmark = pytest.mark.browser
DEMO = Path(__file__).resolve().parents[2] / "notebooks" / "demo.ipynb"
IMG = re.compile(r'<img[^>]*src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')
PLOT_CALL = re.compile(r"pk\.(line|scatter)\((?:.|\n)*?width=(\d+), height=(\d+)")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    root = tmp_path_factory.mktemp("export")
    copy = root / "demo.ipynb"
    shutil.copy(DEMO, copy)
    book = nbformat.read(copy, as_version=4)
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(root)}}
    ).execute()
    return book


def test_the_demo_is_saved_without_outputs() -> None:
    book = nbformat.read(DEMO, as_version=4)
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code")
    assert "widgets" not in book.metadata


def test_every_plot_is_an_image_of_its_size_in_the_html(executed: nbformat.NotebookNode) -> None:
    sizes = [
        (int(w), int(h))
        for c in executed.cells
        if c.cell_type == "code"
        for _, w, h in PLOT_CALL.findall(c.source)
    ]
    assert sizes, "the demo makes no plot?"
    html, _ = HTMLExporter().from_notebook_node(executed)
    images = []
    for match in IMG.finditer(html):
        with Image.open(io.BytesIO(base64.b64decode(match.group(1)))) as image:
            images.append(image.size)
    for size in sizes:
        assert size in images, f"no {size[0]}x{size[1]} PNG in the exported HTML (images: {images})"
    assert "RFBOutputContext" not in html


def test_no_output_prints_something_confusing(executed: nbformat.NotebookNode) -> None:
    texts = []
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", output
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            texts.append(str(text))
    for text in texts:
        assert text.strip() != "None", texts
        assert "DuckDBPyConnection" not in text and "object at 0x" not in text, text
