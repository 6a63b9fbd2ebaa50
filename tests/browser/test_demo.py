"""The demo notebook in JupyterLab (Debian chromium, Playwright): it renders, zooms, shows progress.

Run: .venv/bin/python -m pytest tests/browser -x -q -s     (~1 minute; needs /usr/bin/chromium)
The tests share one page with the notebook run once, and run in file order.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from .conftest import Notebook, wait_for

pytestmark = pytest.mark.browser

DEMO = "plot = pk.line"  # markers: text in the source of the cell that shows the plot
SLOW = "slow = pk.line"
DEMO_WIDTH, SLOW_WIDTH = 800, 600
SERIES_RGB = np.array([0.12, 0.40, 0.80]) * 255  # pikaplot_widget.render.theme.SERIES
LABEL = re.compile(r"^Querying… (\d+)%$")


def _span(x_range: list[float]) -> float:
    return x_range[1] - x_range[0]


def _assert_not_blank(pixels: np.ndarray, what: str) -> dict[str, float]:
    rgb = pixels[..., :3].astype(np.int16)
    non_white = float(np.mean(np.any(rgb < 235, axis=-1)))
    series = float(np.mean(np.all(np.abs(rgb - SERIES_RGB) <= 40, axis=-1)))
    colours = len(np.unique(rgb.reshape(-1, 3), axis=0))
    stats = {"non_white": round(non_white, 4), "series": round(series, 4), "colours": colours}
    assert colours > 50, f"{what}: only {colours} distinct colours, looks blank ({stats})"
    assert non_white > 0.02, f"{what}: {non_white:.2%} non-white pixels, looks blank ({stats})"
    assert series > 0.005, f"{what}: {series:.2%} pixels of the series colour, line missing? ({stats})"
    return stats


def _wait_idle(nb: Notebook, marker: str, timeout: float) -> None:
    overlay = nb.overlay(marker)
    wait_for(
        lambda: overlay.get_attribute("data-status") == "idle",
        timeout,
        f"the overlay of {marker!r} to report status idle "
        f"(now {overlay.get_attribute('data-status') if overlay.count() else 'absent'!r})",
    )


def _progress_state(nb: Notebook, marker: str) -> dict:
    return nb.overlay(marker).evaluate(
        """(overlay) => {
            const bar = overlay.querySelector('.pikaplot-progress');
            return { status: overlay.dataset.status, display: getComputedStyle(bar).display,
                     label: overlay.querySelector('.pikaplot-progress-label').textContent };
        }"""
    )


def test_demo_plot_renders(notebook: Notebook):
    nb = notebook
    nb.wait_image_width(DEMO, DEMO_WIDTH, timeout=120)
    width, height = nb.image_size(DEMO)
    assert DEMO_WIDTH - 4 <= width <= DEMO_WIDTH and 420 - 4 <= height <= 420, (width, height)
    # The log cell ran after the demo cells: the first exact frame of the reset view exists.
    wait_for(lambda: nb.log("demo", "initial"), 120, "the notebook's 'initial' log line (demo plot drawn)")
    _wait_idle(nb, DEMO, 60)
    stats = _assert_not_blank(nb.image_pixels(DEMO), "demo plot")
    print(f"\ndemo plot image: {stats}")
    assert not nb.errors(), f"cells printed errors: {nb.errors()}"


def test_wheel_zooms_demo_plot(notebook: Notebook):
    nb = notebook
    initial = wait_for(lambda: nb.log("demo", "initial"), 120, "the demo plot's initial x_range")[-1]
    x_range = initial["x_range"]
    x_events = len(nb.log("demo", "x_range"))
    _wait_idle(nb, DEMO, 60)
    image = nb.plot_image(DEMO)
    src_before = image.get_attribute("src")
    box = image.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    nb.dismiss_dialogs()
    image.click()  # focus: jupyter_rfb sends wheel events only after a pointer-down on the plot
    page = nb.page
    page.mouse.move(*centre)
    page.mouse.wheel(0, -400)

    def zoomed() -> list[float] | None:
        for record in nb.log("demo", "x_range")[x_events:]:
            if _span(record["x_range"]) < _span(x_range) * 0.99:
                return record["x_range"]
        return None

    new_range = wait_for(
        zoomed,
        20,
        f"a narrower x_range in the kernel after the wheel (was {x_range}; "
        f"x_range lines since: {nb.log('demo', 'x_range')[x_events:]})",
    )
    ratio = _span(new_range) / _span(x_range)
    print(f"\nwheel zoom: x span {_span(x_range):.0f} -> {_span(new_range):.0f} s (x{ratio:.3f})")
    assert 0.2 < ratio < 0.99, f"unexpected zoom factor {ratio}"
    # Zoom is about the pointer: the centre of the image stays inside the new range.
    assert x_range[0] < new_range[0] < new_range[1] < x_range[1], (x_range, new_range)

    wait_for(lambda: image.get_attribute("src") != src_before, 20, "a new frame (img src) after the zoom")
    _wait_idle(nb, DEMO, 60)
    stats = _assert_not_blank(nb.image_pixels(DEMO), "demo plot after zooming")
    print(f"zoomed demo plot image: {stats}")


def test_slow_plot_shows_progress(notebook: Notebook):
    nb = notebook
    page = nb.page
    nb.wait_image_width(SLOW, SLOW_WIDTH, timeout=120)
    _wait_idle(nb, SLOW, 120)
    state = _progress_state(nb, SLOW)
    assert state["display"] == "none", f"progress bar still shown after the first frame: {state}"

    # First load (recorded in the page every 20 ms since Run All).
    first = [s for s in page.evaluate("() => window.__pikaplotRecorder.samples") if s["tag"] == "slow"]
    assert first, "the slow plot's progress bar never showed while its first frame was being queried"
    labels = [s["label"] for s in first if s["status"] == "querying"]
    assert labels and all(LABEL.match(text) for text in labels), f"unexpected labels: {sorted(set(labels))}"
    print(f"\nslow plot, first load: bar seen in {len(first)} samples, last label {labels[-1]!r}")

    # A deep zoom (past what the line index answers) reads rows again, re-running the slow
    # generator query: watch the bar come and go live.
    created = nb.log("slow", "created")
    assert created, "the slow plot's cell did not run"
    log_mark = len(nb.log("slow"))
    recorder_mark = page.evaluate("() => performance.now()")
    image = nb.plot_image(SLOW)
    nb.dismiss_dialogs()
    image.click()
    box = image.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    started = time.monotonic()
    page.mouse.wheel(0, -6000)  # x0.001: about 30k of the 30M rows in view, below the index

    overlay = nb.overlay(SLOW)
    try:
        overlay.locator(".pikaplot-progress").wait_for(state="visible", timeout=15_000)
    except Exception:
        pytest.fail(
            f"the progress bar did not show within 15 s of zooming the slow plot; "
            f"overlay: {_progress_state(nb, SLOW)}; kernel log: {nb.log('slow')[log_mark:][:10]}"
        )
    shown_after = time.monotonic() - started
    label = overlay.locator(".pikaplot-progress-label").text_content()
    assert LABEL.match(label), f"progress label {label!r} does not read 'Querying… NN%'"

    page.wait_for_function(
        """(overlay) => overlay.dataset.status === 'idle'
            && getComputedStyle(overlay.querySelector('.pikaplot-progress')).display === 'none'""",
        arg=overlay.element_handle(),
        polling=50,
        timeout=60_000,
    )
    done_after = time.monotonic() - started
    live = [
        s
        for s in page.evaluate("() => window.__pikaplotRecorder.samples")
        if s["tag"] == "slow" and s["t"] >= recorder_mark
    ]
    live_labels = [s["label"] for s in live if s["status"] == "querying"]
    percents = [int(LABEL.match(text).group(1)) for text in live_labels if LABEL.match(text)]
    print(
        f"\nslow plot: bar shown {shown_after:.2f} s after the wheel, idle after {done_after:.2f} s; "
        f"{len(live)} samples, labels {sorted(set(live_labels), key=len)[:3]}…{live_labels[-1:]}"
    )
    assert live_labels and len(percents) == len(live_labels), f"bad labels: {sorted(set(live_labels))}"
    assert max(percents) > 0, f"the label never showed progress above 0 %: {sorted(set(live_labels))}"

    # The kernel reported progress above 0 while querying, and ended idle.
    records = nb.log("slow")[log_mark:]
    progress = [r["progress"] for r in records if r["status"] == "querying"]
    assert progress and max(progress) > 0, f"no progress > 0 in the kernel log: {records[:20]}"
    assert records[-1]["status"] == "idle", f"last status {records[-1]}"
    assert any(r["event"] == "x_range" for r in records), "the wheel did not change slow.x_range"


def test_no_duckdb_progress_bar(notebook: Notebook):
    nb = notebook
    page = nb.page
    wait_for(lambda: nb.log("slow", "status"), 60, "the slow plot to report a status")
    recorder = page.evaluate("() => window.__pikaplotRecorder")
    assert recorder["foreignMax"] == 0, f"a progress bar other than ours appeared:\n{recorder['foreignHtml']}"
    foreign = page.locator(".jp-OutputArea-output .widget-progress, .jp-OutputArea-output progress")
    assert foreign.count() == 0, "DuckDB's ipywidgets progress bar is shown"
    text = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    for mark in ("FloatProgress", "IntProgress", "▕", "█"):
        assert mark not in text, f"{mark!r} in the outputs: a DuckDB progress bar was printed\n{text[-2000:]}"


SCATTER = "sc = pk.scatter"


def test_scatter_renders_density_with_a_legend_and_zooms_both_axes(notebook: Notebook):
    nb = notebook
    nb.wait_image_width(SCATTER, 800, timeout=180)
    initial = wait_for(lambda: nb.log("scatter", "initial"), 180, "the scatter plot's first frame")[-1]
    assert initial["mode"] == "density", initial
    assert initial["stats"]["rows_in_view"] == 10_000_000
    _wait_idle(nb, SCATTER, 60)
    pixels = nb.image_pixels(SCATTER)[..., :3].astype(int)
    # every category's colour shows (in the plot and in the legend)
    from pikaplot_widget.core.colors import palette

    for rgb in palette(6)[:6]:
        close = np.abs(pixels - rgb).max(axis=-1) <= 12
        assert close.sum() > 20, f"colour {rgb} barely present ({close.sum()} px)"

    image = nb.plot_image(SCATTER)
    events = len(nb.log("scatter"))
    nb.dismiss_dialogs()
    image.click()
    box = image.bounding_box()
    nb.page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    nb.page.mouse.wheel(0, -600)

    def zoomed() -> dict | None:
        for record in nb.log("scatter")[events:]:
            x, y = record["x_range"], record["y_range"]
            if _span(x) < _span(initial["x_range"]) * 0.9 and _span(y) < _span(initial["y_range"]) * 0.9:
                return record
        return None

    record = wait_for(zoomed, 20, f"narrower x and y ranges after the wheel: {nb.log('scatter')[events:]}")
    x_ratio = _span(record["x_range"]) / _span(initial["x_range"])
    y_ratio = _span(record["y_range"]) / _span(initial["y_range"])
    print(f"\nscatter wheel zoom: x{x_ratio:.3f} in x, x{y_ratio:.3f} in y")
    assert abs(x_ratio - y_ratio) < 0.02, (x_ratio, y_ratio)
    _wait_idle(nb, SCATTER, 60)
    # The overlay may say "idle" a moment before the new frame has loaded into the <img>: poll.
    wait_for(
        lambda: np.any(np.abs(nb.image_pixels(SCATTER)[..., :3].astype(int) - pixels) > 30),
        15,
        "the frame to change after zooming",
    )
