"""JupyterLab + Debian chromium helpers shared by the browser tests and benchmarks/browser_latency.py.

No pytest here: a wait that runs out of time raises `WaitTimeoutError` (an AssertionError, so pytest
reports it as a failure), and the caller owns the temporary directories and the processes.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

# JupyterLab user settings: start the kernel without asking, render every cell (no windowing,
# so outputs scrolled away stay in the DOM), no news/update toasts.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autoStartDefaultKernel": True},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


class WaitTimeoutError(AssertionError):
    """`wait_for` ran out of time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> Any:
    """GET `url` and decode its JSON body."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_for(
    predicate: Callable[[], Any], timeout: float, what: str | Callable[[], str], interval: float = 0.1
) -> Any:
    """Poll `predicate` until it returns something truthy; raise WaitTimeoutError after `timeout` s.

    `what` may be a callable, evaluated only on failure (to report the state at that moment).
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except WaitTimeoutError:
            raise
        except Exception as error:
            last_error = error
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            if callable(what):
                what = what()
            raise WaitTimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


# ---- the server --------------------------------------------------------------------------------
@dataclass
class LabServer:
    """A running JupyterLab; `log_path` is a JSON-lines file the notebooks may append to."""

    url: str
    root: Path
    log_path: Path
    process: subprocess.Popen
    output: Path

    def log(self) -> list[dict[str, Any]]:
        """Every complete JSON line the notebook has written so far."""
        if not self.log_path.exists():
            return []
        records = []
        for line in self.log_path.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a line being written
                records.append(json.loads(line))
        return records

    def server_output(self) -> str:
        return self.output.read_text(errors="replace")[-4000:]

    def kernels(self) -> list[dict[str, Any]]:
        return get_json(f"{self.url}/api/kernels")

    def kernel_ready(self) -> bool:
        """A kernel exists, is idle and has a connection (a notebook page is attached to it)."""
        return any(k.get("execution_state") == "idle" and k.get("connections", 0) > 0 for k in self.kernels())

    def stop(self) -> None:
        stop_process_tree(self.process)


def start_lab(
    root: Path,
    home: Path,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    log_name: str = "pikaplot-test-log.jsonl",
    timeout: float = 60,
) -> LabServer:
    """Start JupyterLab serving `root`, its config/settings/runtime isolated under `home`.

    Waits for /api/status. The log file `home/log_name` is passed to the kernels as
    $PIKAPLOT_TEST_LOG. The caller stops the server (`LabServer.stop`).
    """
    settings = home / "settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    # No "Build Recommended" dialog (an installed prebuilt extension, e.g. dash's, asks for one).
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps({"buildCheck": False, "buildAvailable": False}))
    log_path = home / log_name
    full_env = dict(os.environ)
    full_env.update(
        PIKAPLOT_TEST_LOG=str(log_path),
        XDG_RUNTIME_DIR="/tmp",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        PYTHONUNBUFFERED="1",
    )
    full_env.update(env or {})
    port = free_port()
    output = home / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.token=",
        "--ServerApp.password=",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        *extra_args,
    ]
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=root, env=full_env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LabServer(f"http://127.0.0.1:{port}", root, log_path, process, output)

    def ready() -> bool:
        if process.poll() is not None:
            raise WaitTimeoutError(f"JupyterLab exited with {process.returncode}:\n{server.server_output()}")
        return bool(get_json(f"{server.url}/api/status"))

    try:
        wait_for(ready, timeout, "JupyterLab's /api/status", interval=0.25)
    except BaseException:
        server.stop()
        raise
    return server


def stop_process_tree(process: subprocess.Popen) -> None:
    """SIGTERM JupyterLab (it shuts its kernels down), then kill whatever it started that is left."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=5)


# ---- the notebook page -------------------------------------------------------------------------
def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium, headless, through a started `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def open_and_run_all(page: Any, server: LabServer, notebook: str, before_run: str | None = None) -> None:
    """Open `notebook` in JupyterLab, wait for its kernel, evaluate `before_run` (JS), Run All."""
    page.goto(f"{server.url}/lab/tree/{notebook}", wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)

    def kernel_ready() -> bool:
        select = page.locator(".jp-Dialog button", has_text="Select")
        if select.count() and select.first.is_visible():  # "Select Kernel" dialog despite the setting
            select.first.click()
        return server.kernel_ready()

    what = "a notebook kernel that is idle with a connection (/api/kernels)"
    wait_for(kernel_ready, 60, what, interval=0.25)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands", timeout=30_000)
    if before_run:
        page.evaluate(before_run)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


@dataclass
class Notebook:
    """A notebook open in JupyterLab: its cells, plots and the JSON lines its kernel logged."""

    page: Any
    server: LabServer
    console: list[str] = field(default_factory=list)

    def cell(self, marker: str) -> Any:
        """The code cell whose source contains `marker`."""
        return self.page.locator(".jp-CodeCell", has=self.page.locator(".jp-InputArea", has_text=marker))

    def plot_image(self, marker: str) -> Any:
        return self.cell(marker).locator(".jp-OutputArea-output div.renderview-wrapper > img.renderview-view")

    def overlay(self, marker: str) -> Any:
        return self.cell(marker).locator(".jp-OutputArea-output .pikaplot-overlay")

    def log(self, tag: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.server.log()
            if (tag is None or r.get("tag") == tag) and (event is None or r.get("event") == event)
        ]

    def image_pixels(self, marker: str) -> np.ndarray:
        """The plot's current <img> as an (H, W, 4) uint8 array (drawn on a canvas in the page)."""
        from PIL import Image

        # a frame arriving swaps the <img>'s source: until the new one is decoded it has no pixels
        data_url = wait_for(
            lambda: self.plot_image(marker).evaluate(
                """async (img) => {
                    if (!img.complete || !img.naturalWidth) await img.decode().catch(() => null);
                    if (!img.naturalWidth) return null;
                    const canvas = document.createElement('canvas');
                    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
                    canvas.getContext('2d').drawImage(img, 0, 0);
                    return canvas.toDataURL('image/png');
                }"""
            ),
            10,
            "the plot's image to be decoded",
        )
        png = base64.b64decode(data_url.split(",", 1)[1])
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))

    def image_size(self, marker: str) -> list[int]:
        return self.plot_image(marker).evaluate("(img) => [img.naturalWidth, img.naturalHeight]")

    def wait_image_width(self, marker: str, width: int, timeout: float = 90) -> None:
        """Wait for the first real frame: the <img> starts as a 1x1 placeholder. jupyter_rfb
        draws only views on screen: the image is scrolled into view first (accept a few pixels
        less than `width`, as older front ends ate a border).
        """
        image = self.plot_image(marker)

        def drawn() -> bool:
            if image.count() != 1:
                return False
            image.scroll_into_view_if_needed()
            return self.image_size(marker)[0] >= width - 4

        wait_for(
            drawn,
            timeout,
            lambda: (
                f"the plot image of the cell {marker!r} to reach its real width ~{width} px "
                f"(it starts as a 1x1 placeholder; now {image.count()} images, size "
                f"{self.image_size(marker) if image.count() == 1 else None})\n"
                f"kernel log (last 5): {self.server.log()[-5:]}"
            ),
        )

    def run_scratch(self, code: str, timeout: float = 60) -> Any:
        """Run `code` (an expression) in the kernel in a scratch cell at the end and return what it
        printed as JSON; the scratch cell is deleted again."""
        self.page.evaluate(
            """(code) => {
                const nb = window.jupyterapp.shell.currentWidget.content;
                nb.activeCellIndex = nb.widgets.length - 1;
                window.jupyterapp.commands.execute('notebook:insert-cell-below');
                nb.activeCell.model.sharedModel.setSource(code);
            }""",
            f"# cell[scratch]\nimport json\nprint('@@' + json.dumps({code}))",
        )
        cell = self.cell("# cell[scratch]")
        run_command(self.page, "notebook:run-cell")
        text = cell.locator(".jp-OutputArea-output")
        wait_for(
            lambda: text.count() and "@@" in text.first.inner_text(), timeout, "the scratch cell's output"
        )
        value = json.loads(text.first.inner_text().split("@@", 1)[1])
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:delete-cell')")
        wait_for(lambda: self.cell("# cell[scratch]").count() == 0, 10, "the scratch cell to go")
        return value

    def settle(self, marker: str, quiet_s: float = 2.5, timeout: float = 60) -> None:
        """Wait for an exact frame of the plot in cell `marker`, then until no new one came for `quiet_s`."""
        overlay = self.overlay(marker)
        wait_for(lambda: overlay.count() and overlay.get_attribute("data-frame"), timeout, "an exact frame")
        last, since = overlay.get_attribute("data-frame"), time.monotonic()
        while time.monotonic() - since < quiet_s:
            time.sleep(0.1)
            now = overlay.get_attribute("data-frame")
            if now != last:
                last, since = now, time.monotonic()

    def ctrl_wheel_zoom(self, marker: str, steps: int = 4, at: float = 0.4) -> None:
        """Zoom in the plot of cell `marker` with Ctrl+wheel (which zooms without focus) at `at` of
        its width."""
        image = self.plot_image(marker)
        image.scroll_into_view_if_needed()
        box = image.bounding_box()
        assert box is not None
        self.page.mouse.move(box["x"] + box["width"] * at, box["y"] + box["height"] / 2)
        for _ in range(steps):
            self.page.keyboard.down("Control")
            self.page.mouse.wheel(0, -240)
            self.page.keyboard.up("Control")
            time.sleep(0.15)

    def dismiss_dialogs(self) -> None:
        """Close any modal dialog JupyterLab put up (it would swallow the clicks on the plots)."""
        for _ in range(3):
            dialog = self.page.locator(".jp-Dialog")
            if not dialog.count():
                return
            title = dialog.first.inner_text()[:200]
            self.console.append(f"dismissed dialog: {title!r}")
            print(f"\n(dismissing a JupyterLab dialog: {title!r})")
            self.page.keyboard.press("Escape")
            with contextlib.suppress(Exception):
                dialog.first.wait_for(state="detached", timeout=3000)

    def errors(self) -> list[str]:
        """Error outputs shown by any cell."""
        return self.page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
            ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"
        ).all_inner_texts()


# ---- added for test_session.py: open without running, cells run through the UI, kernels -------
def open_notebook(page: Any, server: LabServer, notebook: str, workspace: str | None = None) -> None:
    """Open `notebook` in JupyterLab and wait for its kernel and the app's commands (runs nothing).

    With `workspace`, the page uses (and restores on reload) that JupyterLab workspace only, so
    notebooks other pages opened don't come back, each with its kernel, after a reload.
    """
    where = f"workspaces/{workspace}/tree" if workspace else "tree"
    page.goto(f"{server.url}/lab/{where}/{notebook}", wait_until="domcontentloaded", timeout=60_000)
    wait_notebook_page(page, server, notebook)


def notebook_kernel_ready(server: LabServer, notebook: str) -> bool:
    """The kernel of `notebook`'s session exists, is idle and has a connection.

    Unlike `LabServer.kernel_ready`, another notebook's kernel does not count.
    """
    ids = {s["kernel"]["id"] for s in get_json(f"{server.url}/api/sessions") if s.get("path") == notebook}
    return any(
        k["id"] in ids and k.get("execution_state") == "idle" and k.get("connections", 0) > 0
        for k in server.kernels()
    )


def wait_notebook_page(page: Any, server: LabServer, notebook: str) -> None:
    """Wait for a (re)loaded notebook page: its cells, its connected idle kernel, the app's commands."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)

    def kernel_ready() -> bool:
        select = page.locator(".jp-Dialog button", has_text="Select")
        if select.count() and select.first.is_visible():  # "Select Kernel" dialog despite the setting
            select.first.click()
        return notebook_kernel_ready(server, notebook)

    what = f"the kernel of {notebook} to be idle with a connection (/api/sessions, /api/kernels)"
    wait_for(kernel_ready, 60, what, interval=0.25)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands", timeout=30_000)


def run_command(page: Any, command: str) -> None:
    """Execute a JupyterLab command (e.g. 'notebook:run-all-above') and wait for it to return."""
    page.evaluate("(id) => window.jupyterapp.commands.execute(id)", command)


NOTEBOOK_CLEAN_JS = "() => !window.jupyterapp.shell.currentWidget.context.model.dirty"


def save_notebook(page: Any, timeout: float = 60, quiet: float = 1.5) -> None:
    """Save the current notebook and wait until it stays saved for `quiet` s. A plot refreshes its
    PNG output 1 s after its last exact frame, which marks the notebook changed again: then save again."""

    def saved() -> bool:
        run_command(page, "docmanager:save")
        with contextlib.suppress(WaitTimeoutError):
            wait_for(lambda: page.evaluate(NOTEBOOK_CLEAN_JS), 10, "the save")
            time.sleep(quiet)
            return bool(page.evaluate(NOTEBOOK_CLEAN_JS))
        return False

    wait_for(saved, timeout, "the notebook to stay saved", interval=0.5)


def execution_count(cell: Any) -> str:
    """The text inside the cell's prompt: '' (never run), '*' (running or queued) or a number."""
    text = cell.locator(".jp-InputPrompt").first.inner_text()
    return text.strip().removeprefix("[").removesuffix(":").removesuffix("]").strip()


def run_cell_from_ui(page: Any, cell: Any, timeout: float = 30) -> str:
    """Select `cell` by clicking its prompt (command mode) and press Ctrl+Enter.

    Waits until the cell has started (its prompt changed); returns the prompt text before.
    """
    before = execution_count(cell)
    cell.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Control+Enter")
    wait_for(
        lambda: execution_count(cell) != before,
        timeout,
        lambda: (
            f"the cell's prompt to change from [{before}] after Ctrl+Enter (now [{execution_count(cell)}])"
        ),
        interval=0.05,
    )
    return before


def post_api(server: LabServer, path: str, method: str = "POST") -> None:
    """POST (or DELETE) to the server's REST API (no token; the XSRF check wants a cookie and header)."""
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=b"" if method == "POST" else None,
        headers={"Cookie": "_xsrf=pikaplot-test", "X-XSRFToken": "pikaplot-test"},
    )
    with urllib.request.urlopen(request, timeout=15):
        pass


def interrupt_kernels(server: LabServer) -> None:
    """Interrupt every kernel of `server` (ends a running cell with KeyboardInterrupt)."""
    for kernel in server.kernels():
        with contextlib.suppress(Exception):
            post_api(server, f"/api/kernels/{kernel['id']}/interrupt")


def shutdown_kernels(server: LabServer, notebook: str | None = None, timeout: float = 20) -> None:
    """Shut down the kernel of `notebook` (a path under the root; default: every kernel) and its session."""
    sessions = [s for s in get_json(f"{server.url}/api/sessions") if notebook in (None, s.get("path"))]
    kernel_ids = {s["kernel"]["id"] for s in sessions if s.get("kernel")}
    if notebook is None:
        kernel_ids |= {k["id"] for k in server.kernels()}
    for session in sessions:
        with contextlib.suppress(Exception):
            post_api(server, f"/api/sessions/{session['id']}", method="DELETE")
    for kernel_id in kernel_ids:
        with contextlib.suppress(Exception):
            post_api(server, f"/api/kernels/{kernel_id}", method="DELETE")

    def gone() -> bool:
        return not kernel_ids & {k["id"] for k in server.kernels()}

    wait_for(gone, timeout, lambda: f"kernels {sorted(kernel_ids)} to be gone (now {server.kernels()})")
