"""Working sessions in JupyterLab: a plot cell re-run 30 times, a busy kernel, three plots, a reload.

Run: .venv/bin/python -m pytest tests/browser/test_session.py -x -q -p no:cacheprovider -s   (~1.5 min)
One JupyterLab serves three notebooks written to a temp dir (session_notebook.py). Each notebook
gets a fresh browser context; its kernel is shut down afterwards. The kernels append JSON lines
to $PIKAPLOT_TEST_LOG (tagged per notebook), which the tests poll. Screenshots and the browser
console go to test-results/browser-session-*.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import session_notebook as sn
from .lab import (
    LabServer,
    Notebook,
    WaitTimeoutError,
    execution_count,
    interrupt_kernels,
    open_notebook,
    run_cell_from_ui,
    run_command,
    save_notebook,
    shutdown_kernels,
    start_lab,
    wait_for,
    wait_notebook_page,
)

pytestmark = pytest.mark.browser

RESULTS = Path(__file__).resolve().parents[2] / "test-results"
VIEWPORT = {"width": 1280, "height": 1800}
WIDTH = 600  # every plot of session_notebook.py is 600x300
RUNS = 30
THREAD_SLACK = 2
RSS_SLACK = 0.10
BUSY_FRAME_S = 1.0  # a frame must follow a wheel within this while another cell runs
IMG = ".jp-OutputArea-output div.renderview-wrapper > img.renderview-view"
ERROR_OUTPUT = ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"

# Frames and wheels of one <img>, timed in the page (epoch ms, comparable with the kernel's time.time()).
WATCH_JS = """(img) => {
  if (img.__pk) return;
  const now = () => performance.timeOrigin + performance.now();
  img.__pk = { frames: [], wheels: [] };
  new MutationObserver(() => img.__pk.frames.push({ t: now(), w: img.naturalWidth }))
    .observe(img, { attributes: true, attributeFilter: ['src'] });
  img.parentElement.addEventListener('wheel', () => img.__pk.wheels.push(now()),
                                     { capture: true, passive: true });
}"""

OVERLAYS_JS = """() => [...document.querySelectorAll('.pikaplot-overlay')].map((o) => {
  const error = o.querySelector('.pikaplot-error');
  return { status: o.dataset.status || null, error_shown: getComputedStyle(error).display !== 'none',
           error: error.textContent };
})"""


# ---- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def session_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab serving the three session notebooks from a temporary directory."""
    pytest.importorskip("psutil")
    root = tmp_path_factory.mktemp("session-lab")
    sn.rerun_notebook(root)
    sn.busy_notebook(root)
    sn.multi_notebook(root)
    server = start_lab(root, tmp_path_factory.mktemp("session-lab-home"), log_name="session-log.jsonl")
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def opened(browser: Any, server: LabServer, notebook: str) -> Iterator[Notebook]:
    """`notebook` open in a new browser context (nothing run); screenshot and kernel shut down after."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)
    nb = Notebook(page, server)
    page.on("console", lambda msg: nb.console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda error: nb.console.append(f"pageerror: {error}"))
    stem = Path(notebook).stem
    try:
        open_notebook(page, server, notebook, workspace=f"session-{stem}")
        yield nb
    finally:
        RESULTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(RESULTS / f"browser-session-{stem}.png"), full_page=True)
        with contextlib.suppress(Exception):
            (RESULTS / f"browser-session-{stem}.console.txt").write_text("\n".join(nb.console))
        context.close()
        try:
            shutdown_kernels(server, notebook)
        except Exception as error:  # don't hide the test's own failure; the next notebook may suffer
            print(f"\n(could not shut down the kernel of {notebook}: {error!r})")


@pytest.fixture(scope="module")
def multi(browser: Any, session_lab: LabServer) -> Iterator[Notebook]:
    """multi.ipynb run once (two lines and a scatter on one session), shared by the last two tests."""
    with opened(browser, session_lab, "multi.ipynb") as nb:
        run_command(nb.page, "notebook:run-all-cells")
        for name in MULTI:
            wait_new_image(nb, name, timeout=120)
        yield nb


# ---- helpers --------------------------------------------------------------------------------
def new_image(nb: Notebook, name: str) -> Any:
    """The plot <img> of cell `name` that `mark_stale` has not marked (the newest view)."""
    return nb.cell(sn.marker(name)).locator(f"{IMG}:not([data-pk-stale])")


def mark_stale(nb: Notebook, name: str) -> None:
    nb.cell(sn.marker(name)).locator(IMG).evaluate_all(
        "(imgs) => imgs.forEach((i) => { i.dataset.pkStale = '1' })"
    )


def wait_new_image(nb: Notebook, name: str, timeout: float = 60) -> Any:
    """Wait for one unmarked plot image in cell `name` at its real width (not the 1x1 placeholder)."""
    image = new_image(nb, name)

    def size() -> list[int] | None:
        return image.evaluate("(i) => [i.naturalWidth, i.naturalHeight]") if image.count() == 1 else None

    def ready() -> bool:
        errors = nb.page.locator(ERROR_OUTPUT).all_inner_texts()
        if errors:  # a traceback: no plot is coming, fail now rather than at the timeout
            raise WaitTimeoutError(
                f"a cell failed while waiting for plot {name!r}:\n" + "\n".join(errors)[-3000:]
            )
        shape = size()
        return shape is not None and shape[0] >= WIDTH - 4

    wait_for(
        ready,
        timeout,
        lambda: (
            f"the plot image of cell {name!r} to reach its real width ~{WIDTH} px "
            f"({image.count()} new images, size {size()}; overlays {overlays(nb)}; "
            f"last log lines {nb.server.log()[-3:]}; cell errors {nb.errors()})"
        ),
        interval=0.05,
    )
    return image


def overlays(nb: Notebook) -> list[dict[str, Any]]:
    return nb.page.evaluate(OVERLAYS_JS)


def wait_idle(nb: Notebook, name: str, timeout: float = 60) -> None:
    overlay = nb.cell(sn.marker(name)).locator(".jp-OutputArea-output .pikaplot-overlay")
    wait_for(
        lambda: overlay.count() == 1 and overlay.get_attribute("data-status") == "idle",
        timeout,
        lambda: f"plot {name!r} to report status idle (overlays: {overlays(nb)})",
    )


def assert_no_error_badge(nb: Notebook, expected: int) -> None:
    state = overlays(nb)
    assert len(state) == expected, f"expected {expected} plot overlays, found {len(state)}: {state}"
    bad = [o for o in state if o["error_shown"] or (o["status"] or "").startswith("error")]
    assert not bad, f"error badge shown: {bad}"
    assert not nb.errors(), f"cells printed errors: {nb.errors()}"


def records(nb: Notebook, tag: str, event: str, **match: Any) -> list[dict[str, Any]]:
    return [r for r in nb.log(tag, event) if all(r.get(k) == v for k, v in match.items())]


def span(x_range: list[float]) -> float:
    return x_range[1] - x_range[0]


def watch(image: Any) -> None:
    image.evaluate(WATCH_JS)


def frames_since(image: Any, index: int) -> list[dict[str, Any]]:
    return image.evaluate("(i) => i.__pk.frames")[index:]


def wait_quiet(image: Any, quiet_s: float = 0.6, timeout: float = 15) -> None:
    """Wait until the <img> got no new frame for `quiet_s` (jupyter_rfb re-sends a PNG 0.3 s after a JPEG)."""
    since_last = "(i) => { const f = i.__pk.frames; return f.length ? Date.now() - f[f.length - 1].t : 1e9; }"
    wait_for(
        lambda: image.evaluate(since_last) >= quiet_s * 1000,
        timeout,
        lambda: (
            f"no new frame for {quiet_s} s (frames keep coming; the last: "
            f"{image.evaluate('(i) => i.__pk.frames')[-5:]})"
        ),
        interval=0.05,
    )


FOCUS_CONTAINER = "#rendercanvas-focus-element-container"  # jupyter_rfb's hidden <input>s live here
FOCUSED_JS = f"() => !!(document.activeElement && document.activeElement.closest('{FOCUS_CONTAINER}'))"

CELL_FOCUSED_JS = "() => !!(document.activeElement && document.activeElement.closest('.jp-Notebook'))"


def pointer_state(nb: Notebook, image: Any) -> dict[str, Any]:
    """What the page knows about input to `image`: focus, wheels it saw, what lies over its centre."""
    return image.evaluate(
        """(img) => {
            const r = img.getBoundingClientRect();
            const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            const active = document.activeElement;
            return { plot_focused: !!(active && active.closest('#rendercanvas-focus-element-container')),
                     active: active ? active.tagName + '.' + active.className : null,
                     over_centre: top ? top.tagName + '.' + top.className : null,
                     wheels_seen: img.__pk ? img.__pk.wheels.length : null,
                     frames_seen: img.__pk ? img.__pk.frames.length : null };
        }"""
    )


def take_focus(nb: Notebook, image: Any, attempts: int = 3) -> None:
    """Click the plot until jupyter_rfb's focus element has the focus (it sends wheels only then)."""
    for _ in range(attempts):
        nb.dismiss_dialogs()
        image.click()
        with contextlib.suppress(Exception):
            nb.page.wait_for_function(FOCUSED_JS, timeout=1000)
            return
        nb.page.wait_for_timeout(600)  # no double click out of two clicks in a row
    raise AssertionError(
        f"the plot does not keep the focus after {attempts} clicks: {pointer_state(nb, image)}"
    )


def wheel(
    nb: Notebook,
    tag: str,
    name: str,
    image: Any,
    dy: float = -400,
    focus: bool = True,
    quiet: bool = True,
    ctrl: bool = False,
) -> dict[str, Any]:
    """Focus the plot (click), wheel over its centre; returns a mark to measure what follows from.

    With `quiet`, first waits for the frames of the previous view to stop, so that a late frame
    of it is not taken for the answer to this wheel.
    """
    if quiet:
        wait_quiet(image)
    if focus:
        take_focus(nb, image)
    box = image.bounding_box()
    nb.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    if focus and not nb.page.evaluate(FOCUSED_JS):  # JupyterLab took it back (e.g. just after a reload)
        take_focus(nb, image)
        nb.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    mark = {
        "frames": len(image.evaluate("(i) => i.__pk.frames")),
        "wheels": len(image.evaluate("(i) => i.__pk.wheels")),
        "ranges": len(records(nb, tag, "range", plot=name)),
        "t_py": time.time() * 1000,
    }
    if ctrl:  # Ctrl+wheel zooms whether or not the plot has focus
        nb.page.keyboard.down("Control")
    nb.page.mouse.wheel(0, dy)
    if ctrl:
        nb.page.keyboard.up("Control")
    return mark


def wheel_time(image: Any, mark: dict[str, Any]) -> float:
    """The wheel's time in the page (epoch ms), or the test's time before sending it."""
    wheels = image.evaluate("(i) => i.__pk.wheels")[mark["wheels"] :]
    return wheels[0] if wheels else mark["t_py"]


def wait_zoomed(
    nb: Notebook, tag: str, name: str, image: Any, mark: dict[str, Any], timeout: float = 20
) -> None:
    """A new frame and a narrower x_range in the kernel log, both after the wheel at `mark`."""
    before = records(nb, tag, "range", plot=name)[: mark["ranges"]]
    old_span = span(before[-1]["x_range"]) if before else None
    wait_for(
        lambda: frames_since(image, mark["frames"]),
        timeout,
        lambda: (
            f"a new frame of plot {name!r} after the wheel (overlays {overlays(nb)}; "
            f"page {pointer_state(nb, image)}; kernel x_range since "
            f"{[r['x_range'] for r in records(nb, tag, 'range', plot=name)[mark['ranges'] :]]})"
        ),
        interval=0.05,
    )

    def narrower() -> bool:
        new = records(nb, tag, "range", plot=name)[mark["ranges"] :]
        return any(old_span is None or span(r["x_range"]) < old_span * 0.99 for r in new)

    wait_for(
        narrower,
        timeout,
        lambda: (
            f"a narrower x_range of plot {name!r} after the wheel (span before {old_span}; since: "
            f"{[r['x_range'] for r in records(nb, tag, 'range', plot=name)[mark['ranges'] :]]})"
        ),
    )


# ---- 1. re-running a plot cell --------------------------------------------------------------
def run_resources(nb: Notebook) -> dict[str, Any]:
    """Run the resources cell through the UI; its log record (threads, RSS, thread names)."""
    count = len(nb.log("rerun", "resources"))
    run_cell_from_ui(nb.page, nb.cell(sn.marker("resources")))
    return wait_for(
        lambda: nb.log("rerun", "resources")[count:],
        30,
        lambda: f"the resources cell's log line (kernel log tail {nb.server.log()[-3:]})",
        interval=0.05,
    )[-1]


def describe(record: dict[str, Any], baseline: dict[str, Any]) -> str:
    extra = Counter(record["names"]) - Counter(baseline["names"])
    return (
        f"threads {record['threads']} (after the first run {baseline['threads']}), "
        f"RSS {record['rss'] / 2**20:.0f} MiB (after the first run {baseline['rss'] / 2**20:.0f} MiB, "
        f"{record['rss'] / baseline['rss'] - 1:+.1%}); extra threads by name: {dict(extra)}; "
        f"held: {record.get('retained')} (after the first run {baseline.get('retained')})"
    )


def trend(created: list[dict[str, Any]]) -> str:
    """Threads and RSS as each run's plot was created (before its first frame), and the RSS slope."""
    picks = [r for i, r in enumerate(created, 1) if i in (1, 2, 3, 5, 10, 15, 20, 25, 30)]
    points = ", ".join(
        f"{created.index(r) + 1}: {r['threads']} thr {r['rss'] / 2**20:.0f} MiB" for r in picks
    )
    half = len(created) // 2
    slope = (created[-1]["rss"] - created[half]["rss"]) / max(len(created) - 1 - half, 1) / 2**20
    runs = len(created) - half
    return f"at creation of run {points}; RSS slope over the last {runs} runs {slope:+.2f} MiB/run"


def test_rerun_plot_cell_30_times_releases_threads_and_memory(browser: Any, session_lab: LabServer):
    with opened(browser, session_lab, "rerun.ipynb") as nb:
        page, plot = nb.page, "p"
        run_command(page, "notebook:run-all-cells")
        wait_new_image(nb, plot, timeout=120)
        wait_idle(nb, plot)
        time.sleep(2)  # let the first plot settle (index built, lossless frame sent)
        baseline = run_resources(nb)
        print(f"\nafter the first run: {describe(baseline, baseline)}; threads: {baseline['names']}")

        cell = nb.cell(sn.marker(plot))
        seconds = []
        for run in range(2, RUNS + 1):
            mark_stale(nb, plot)
            started = time.monotonic()
            try:
                run_cell_from_ui(page, cell)
                wait_new_image(nb, plot, timeout=60)
            except WaitTimeoutError as error:
                raise AssertionError(f"run {run} of the plot cell: {error}") from error
            seconds.append(time.monotonic() - started)
        created = records(nb, "rerun", "created", plot=plot)
        assert len(created) == RUNS, f"the plot cell ran {len(created)} times, expected {RUNS}"
        assert len({r["model_id"] for r in created}) == RUNS, "re-runs did not create new widgets"
        assert nb.cell(sn.marker(plot)).locator(IMG).count() == 1, "old plot images are still in the cell"
        print(
            f"{RUNS} runs: {min(seconds):.2f}-{max(seconds):.2f} s to the new plot's first frame "
            f"(median {sorted(seconds)[len(seconds) // 2]:.2f} s)"
        )

        wait_idle(nb, plot)
        time.sleep(sn.RELEASE_AFTER_S + 2)  # release_after_s for the 29 plots without a view, and settling
        history: list[dict[str, Any]] = []

        def released() -> bool:
            history.append(run_resources(nb))
            last = history[-1]
            return abs(last["threads"] - baseline["threads"]) <= THREAD_SLACK and last["rss"] <= baseline[
                "rss"
            ] * (1 + RSS_SLACK)

        with contextlib.suppress(WaitTimeoutError):  # the assertions below say what was left
            wait_for(released, 15, "", interval=1.0)
        final = history[-1]
        trail = [(r["threads"], round(r["rss"] / 2**20)) for r in history]
        trail = [t for i, t in enumerate(trail) if i == 0 or t != trail[i - 1]]  # changes only
        growth = trend(created)
        print(f"after {RUNS} runs: {describe(final, baseline)}; polled (threads, MiB): {trail}\n{growth}")
        assert abs(final["threads"] - baseline["threads"]) <= THREAD_SLACK, (
            f"threads not released {sn.RELEASE_AFTER_S + 2:.0f}-{sn.RELEASE_AFTER_S + 17:.0f} s after "
            f"{RUNS} runs: {describe(final, baseline)}; polled (threads, MiB): {trail}; {growth}"
        )
        assert baseline["row_files"] == 1, f"the first plot wrote no row files: {baseline}"
        assert final["row_files"] <= baseline["row_files"], (
            f"{final['row_files']} plots' row files left on disk after {RUNS} runs (one plot is live)"
        )
        assert final["rss"] <= baseline["rss"] * (1 + RSS_SLACK), (
            f"RSS grew more than {RSS_SLACK:.0%} over {RUNS} runs: {describe(final, baseline)}; "
            f"polled (threads, MiB): {trail}; {growth}"
        )
        assert_no_error_badge(nb, 1)


# ---- 2. a busy kernel still draws -----------------------------------------------------------
def test_busy_kernel_still_draws(browser: Any, session_lab: LabServer):
    with opened(browser, session_lab, "busy.ipynb") as nb:
        page, plot = nb.page, "p"
        sleep_cell = nb.cell(sn.marker("sleep"))
        sleep_cell.locator(".jp-InputPrompt").first.click()
        run_command(page, "notebook:run-all-above")  # everything but the sleep cell
        image = wait_new_image(nb, plot, timeout=120)
        wait_idle(nb, plot)
        watch(image)
        try:
            run_cell_from_ui(page, sleep_cell)
            started = wait_for(lambda: nb.log("busy", "sleep-start"), 15, "the sleep cell to start")[-1]
            results = []
            for attempt in range(3):
                mark = wheel(nb, "busy", plot, image, dy=-300, focus=attempt == 0)
                t_wheel = wheel_time(image, mark)
                with contextlib.suppress(WaitTimeoutError):
                    wait_for(lambda m=mark: frames_since(image, m["frames"]), 5, "", interval=0.02)
                frames = frames_since(image, mark["frames"])
                ranges = records(nb, "busy", "range", plot=plot)[mark["ranges"] :]
                results.append(
                    {
                        "frame_s": (frames[0]["t"] - t_wheel) / 1000 if frames else None,
                        "range_s": ranges[0]["t"] - t_wheel / 1000 if ranges else None,
                        "range_thread": ranges[0]["thread"] if ranges else None,
                        "frame_t": frames[0]["t"] / 1000 if frames else None,
                        "page": pointer_state(nb, image),
                    }
                )
                if not frames:
                    break
            prompt = execution_count(sleep_cell)
            ended = nb.log("busy", "sleep-end")
        finally:
            interrupt_kernels(nb.server)
        received = [(r["kind"], r["thread"][:12], str(r["subshell"])[:8], round(r["t"] - started["t"], 2))
                    for r in records(nb, "busy", "msg", plot=plot)][-12:]  # fmt: skip
        state = (
            f"wheels during the sleep (s after the wheel): {results}; sleep started at {started['t']:.2f} "
            f"(thread {started['thread']}), ended: {ended[-1]['t'] if ended else 'not yet'}; "
            f"sleep cell prompt [{prompt}]; overlays {overlays(nb)}; the last messages the kernel "
            f"handled (kind, thread, subshell, s after the sleep started): {received}"
        )
        print(f"\n{state}")
        assert not ended and prompt == "*", f"the sleep cell was not running any more: {state}"
        for result in results:
            assert result["range_s"] is not None, (
                f"the wheel did not change x_range while the kernel was busy: {state}"
            )
            assert result["frame_s"] is not None, (
                f"no new frame within 5 s of a wheel while a cell runs: {state}"
            )
            assert result["frame_s"] <= BUSY_FRAME_S, (
                f"a frame came later than {BUSY_FRAME_S} s after a wheel: {state}"
            )
            assert result["range_s"] <= BUSY_FRAME_S, f"x_range changed later than {BUSY_FRAME_S} s: {state}"
        wait_for(lambda: execution_count(sleep_cell) != "*", 30, "the interrupted sleep cell to end")


# ---- 3. several plots on one database -------------------------------------------------------
MULTI = ("a", "b", "s")  # two lines and a scatter plot on one pk.Session()


def test_three_plots_on_one_session_zoom_in_turn(multi: Notebook):
    nb = multi
    images = {}
    for name in MULTI:
        images[name] = wait_new_image(nb, name)
        wait_idle(nb, name)
        watch(images[name])
    assert_no_error_badge(nb, len(MULTI))
    for name in MULTI:  # one at a time
        # JupyterLab may take focus back from a plot while it restores the page: Ctrl+wheel
        # zooms regardless (a plain wheel on an unfocused plot scrolls the page, by design).
        mark = wheel(nb, "multi", name, images[name], ctrl=True)
        wait_zoomed(nb, "multi", name, images[name], mark)
        wait_idle(nb, name)
        assert_no_error_badge(nb, len(MULTI))
    for name in MULTI:
        wait_quiet(images[name])
    marks = {name: wheel(nb, "multi", name, images[name], quiet=False) for name in MULTI}  # all at once
    for name in MULTI:
        wait_zoomed(nb, "multi", name, images[name], marks[name])
    for name in MULTI:
        wait_idle(nb, name)
    assert_no_error_badge(nb, len(MULTI))
    spans = {name: span(records(nb, "multi", "range", plot=name)[-1]["x_range"]) for name in MULTI}
    print(f"\nthree plots zoomed twice each; x spans now {json.dumps(spans)}")


# ---- 4. page reload ---------------------------------------------------------------------------
def test_page_reload_brings_the_plots_back(multi: Notebook):
    nb, page = multi, multi.page
    created = len(nb.log("multi", "created"))
    save_notebook(page)  # the reloaded page shows the saved outputs (widget views)
    started = time.monotonic()
    page.reload(wait_until="domcontentloaded")
    wait_notebook_page(page, nb.server, "multi.ipynb")
    images = {name: wait_new_image(nb, name, timeout=90) for name in MULTI}
    back_s = time.monotonic() - started
    # After restoring, JupyterLab focuses the active cell, maybe after the first click on a plot.
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    focus_s = None
    with contextlib.suppress(Exception):
        page.wait_for_function(CELL_FOCUSED_JS, timeout=5_000)
        focus_s = time.monotonic() - started
    for name in MULTI:
        watch(images[name])
        # JupyterLab may take focus back from a plot while it restores the page: Ctrl+wheel
        # zooms regardless (a plain wheel on an unfocused plot scrolls the page, by design).
        mark = wheel(nb, "multi", name, images[name], ctrl=True)
        wait_zoomed(nb, "multi", name, images[name], mark)
        wait_idle(nb, name)
    assert len(nb.log("multi", "created")) == created, "cells ran again after the reload"
    assert_no_error_badge(nb, len(MULTI))
    focused = f"{focus_s:.1f} s" if focus_s is not None else "never (within 5 s)"
    print(f"\nafter the reload: plots back in {back_s:.1f} s, a cell focused after {focused}; all zoomed")
