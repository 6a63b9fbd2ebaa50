"""Output that survives the notebook: high-DPI arrays and files, and the PNG in the mime bundle."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import pikaplot_widget as pk
from tests.unit.events import send


@pytest.fixture
def plot() -> pk.Plot:
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(0, 1000, 50_000))
    frame = pd.DataFrame({"x": x, "y": np.cumsum(rng.normal(size=x.size))})
    p = pk.line(frame, "x", "y", width=420, height=260, title="walk")
    yield p
    p.close()


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    h, w, c = image.shape
    return image.reshape(h // factor, factor, w // factor, factor, c).astype(float).mean(axis=(1, 3))


def test_scale_renders_more_pixels_of_the_same_plot(plot: pk.Plot) -> None:
    one = plot.to_array()
    two = plot.to_array(scale=2)
    assert one.shape == (260, 420, 4)
    assert two.shape == (520, 840, 4)
    # The same plot: halving the high-DPI image lands close to the plain one ...
    difference = np.abs(_block_mean(two, 2) - one.astype(float)).mean()
    assert difference < 12, difference
    # ... but it is drawn again, not an upscaled copy: thin lines stay about as thin in device pixels.
    upscaled = one.repeat(2, axis=0).repeat(2, axis=1)
    assert not np.array_equal(two, upscaled)
    # (Counted on the series in the plot area: text and axes depend on the font's hinting.)
    area = plot.controller.layout().area
    inside = (slice(2 * area.top, 2 * area.bottom), slice(2 * area.left, 2 * area.right))

    def series(image: np.ndarray) -> int:
        rgb = image[inside][..., :3].astype(int)
        return int((rgb[..., 2] - rgb[..., 0] > 40).sum())

    assert series(two) < series(upscaled)
    # And the live size is back afterwards.
    assert plot.to_array().shape == (260, 420, 4)
    assert plot.controller.size == (420, 260, 1.0)


def test_save_writes_png_at_a_scale_and_refuses_other_formats(plot: pk.Plot, tmp_path: Path) -> None:
    path = plot.save(tmp_path / "walk.png", scale=2)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (840, 520)
    with pytest.raises(ValueError, match="PNG only"):
        plot.save(tmp_path / "walk.svg")
    for bad in (0, -1, float("nan"), float("inf"), 100):
        with pytest.raises(ValueError, match="scale"):
            plot.to_array(scale=bad)
    with pytest.raises(TypeError, match="scale"):
        plot.to_array(scale="2")  # type: ignore[arg-type]
    assert not list(tmp_path.glob("*.svg"))
    wide = pk.line(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}), "x", "y", width=2000, height=100)
    try:
        with pytest.raises(ValueError, match="8192"):
            wide.to_array(scale=5)
    finally:
        wide.close()


def test_the_mime_bundle_has_a_png_of_the_current_frame(plot: pk.Plot) -> None:
    plot.x_range = (100.0, 200.0)
    expected = plot.to_array()
    data, metadata = plot._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "pikaplot" in str(data["text/plain"])
    png = base64.b64decode(str(data["image/png"]))
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (420, 260)
        assert np.array_equal(np.asarray(image.convert("RGBA")), expected)
    assert metadata == {"image/png": {"width": 420, "height": 260}}


def test_a_closed_plot_gives_text_and_clear_errors(plot: pk.Plot) -> None:
    plot.to_array()
    plot.close()  # ipywidgets drops the widget's mime bundle; the snapshot has nothing to show
    data, _ = plot._snapshot_bundle(wait_s=0.5)
    with Image.open(io.BytesIO(base64.b64decode(str(data["image/png"])))) as image:
        assert image.size == (1, 1)  # a blank placeholder, not a stale plot
    assert "pikaplot" in str(data["text/plain"])
    with pytest.raises(pk.PlotError):
        plot.to_array(scale=2)


class RecordingHandle:
    """Stands in for IPython's DisplayHandle: records each update (what IPython would send)."""

    def __init__(self) -> None:
        self.updates: list[tuple[float, dict[str, object], dict[str, object]]] = []

    def update(self, obj: object, **kwargs: object) -> None:
        self.updates.append((time.monotonic(), dict(obj), dict(kwargs["metadata"])))  # type: ignore[arg-type]


def _shown(plot: pk.Plot) -> RecordingHandle:
    handle = RecordingHandle()
    plot.to_array()
    plot._snapshots.append(handle)
    plot._snapshot_shows = plot._shown_frame()
    return handle


def _decoded(update: tuple[float, dict[str, object], dict[str, object]]) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(str(update[1]["image/png"])))) as image:
        return np.asarray(image.convert("RGBA"))


def test_snapshots_follow_each_plot_without_waiting_on_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pk.Plot, "snapshot_delay_s", 0.3)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": np.arange(20_000.0), "y": np.cumsum(rng.normal(size=20_000))})
    busy, quiet = (
        pk.line(frame, "x", "y", width=300, height=200),
        pk.line(frame, "x", "y", width=300, height=200),
    )
    try:
        busy_handle, quiet_handle = _shown(busy), _shown(quiet)
        quiet.x_range = (100.0, 900.0)
        expected = quiet.to_array()
        settled = time.monotonic()
        for i in range(25):  # the busy plot keeps changing for 2.5 s
            busy.x_range = (float(i), 5_000.0 + i)
            time.sleep(0.1)
        stopped = time.monotonic()
        deadline = stopped + 10
        while not busy_handle.updates and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(quiet_handle.updates) == 1
        assert quiet_handle.updates[0][0] - settled < 1.5, "the quiet plot waited on the busy one"
        assert np.array_equal(_decoded(quiet_handle.updates[0]), expected)
        assert busy_handle.updates and busy_handle.updates[0][0] >= stopped  # postponed while busy
        assert np.array_equal(_decoded(busy_handle.updates[-1]), busy.to_array())
    finally:
        busy.close()
        quiet.close()


def test_the_snapshot_has_the_size_the_browser_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pk.Plot, "snapshot_delay_s", 0.1)
    frame = pd.DataFrame({"x": np.arange(1000.0), "y": np.sin(np.arange(1000.0) / 30)})
    plot = pk.line(frame, "x", "y", width=800, height=400)
    try:
        handle = _shown(plot)
        send(plot, type="resize", width=560, height=300, pwidth=1120, pheight=600, ratio=2.0)
        deadline = time.monotonic() + 20
        while not handle.updates and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handle.updates, "no snapshot after the resize"
        _, _, metadata = handle.updates[-1]
        assert metadata == {"image/png": {"width": 560, "height": 300}}
        assert _decoded(handle.updates[-1]).shape == (600, 1120, 4)
    finally:
        plot.close()


def test_numpy_numbers_are_scales_and_draw_as_python_numbers(plot: pk.Plot) -> None:
    reference = plot.to_array(scale=2)
    for scale in (np.float32(2), np.int64(2), np.float64(2.0)):
        assert np.array_equal(plot.to_array(scale=scale), reference)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="scale"):
        plot.to_array(scale=np.bool_(True))  # type: ignore[arg-type]
