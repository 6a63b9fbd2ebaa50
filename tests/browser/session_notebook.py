"""Notebooks for the working-session browser tests (test_session.py), written to a temp dir.

Every notebook starts with the same set-up cell: `pk.Plot.release_after_s = 1.0`, a `_log(**record)`
helper that appends JSON lines (tagged with the notebook's name) to $PIKAPLOT_TEST_LOG, and one
`pk.Session()` holding the tables. Cells are found in the page by a marker: a comment on their
first line (`# cell[<name>]`).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

RELEASE_AFTER_S = 1.0
WALK_ROWS = 1_000_000
POINTS_ROWS = 400_000  # above the scatter's marker limit (200k): drawn as a density image

WALK_SQL = f"CREATE TABLE walk AS SELECT i::DOUBLE AS t, random() AS v FROM range({WALK_ROWS}) r(i)"
WAVE_SQL = (
    "CREATE TABLE wave AS SELECT i::DOUBLE AS t, sin(i / 5000.0) + random() * 0.2 AS v "
    f"FROM range({WALK_ROWS}) r(i)"
)
POINTS_SQL = (
    "CREATE TABLE points AS SELECT sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x, "
    "sqrt(-2 * ln(random())) * sin(2 * pi() * random()) AS y "
    f"FROM range({POINTS_ROWS}) r(i)"
)


def marker(name: str) -> str:
    """The text that identifies the cell `name` in the page (its first line)."""
    return f"# cell[{name}]"


def setup_cell(tag: str, tables: list[str]) -> str:
    """Imports, the release contract, the JSON-lines logger and the session with its tables."""
    creates = "\n".join(f"session.connection.execute({sql!r})" for sql in tables)
    return f"""\
{marker("setup")}
import json, os, threading, time
import psutil
import pikaplot_widget as pk

pk.Plot.release_after_s = {RELEASE_AFTER_S}  # a plot without views frees its thread, index, buffers

_log_path = os.environ["PIKAPLOT_TEST_LOG"]
_log_lock = threading.Lock()

def _log(**record):
    record.update(tag={tag!r}, t=time.time(), thread=threading.current_thread().name)
    with _log_lock, open(_log_path, "a") as _f:
        _f.write(json.dumps(record) + "\\n")

session = pk.Session()
{creates}
_log(event="setup")
"""


def plot_cell(name: str, expression: str) -> str:
    """Create plot `name` (`name = expression`), log it (with threads and RSS) and its ranges, show it."""
    return f"""\
{marker(name)}
{name} = {expression}
{name}.observe(lambda change, _p={name}: _log(event="range", plot={name!r}, model_id=_p.model_id,
               x_range=list(_p.x_range), y_range=list(_p.y_range)), names=["x_range", "y_range"])
_log(event="created", plot={name!r}, model_id={name}.model_id, threads=threading.active_count(),
     rss=psutil.Process().memory_info().rss)
{name}
"""


RESOURCES_CELL = f"""\
{marker("resources")}
def _retained():  # diagnosis only: live Plot objects and the frames they still hold
    import gc
    try:
        plots = [o for o in gc.get_objects() if isinstance(o, pk.Plot)]
        held = [getattr(getattr(o, "controller", None), "last_frame", None) for o in plots]
        held += [getattr(o, "_rfb_last_frame", None) for o in plots]
        unique = {{id(a): a for a in held if a is not None}}.values()  # one array may be in both places
        return {{"plots": len(plots), "frame_mib": sum(getattr(a, "nbytes", 0) for a in unique) / 2**20}}
    except Exception as error:
        return {{"error": repr(error)}}

def _row_files():  # folders of row files this kernel holds (one per plot with its rows on disk)
    import os, tempfile
    return sum(d.startswith(f"pikaplot-rows-{{os.getpid()}}-") for d in os.listdir(tempfile.gettempdir()))

_log(event="resources", threads=threading.active_count(), rss=psutil.Process().memory_info().rss,
     names=sorted(t.name for t in threading.enumerate()), retained=_retained(), row_files=_row_files())
"""

SLEEP_CELL = f"""\
{marker("sleep")}
import time; _log(event="sleep-start"); time.sleep(20); _log(event="sleep-end")
"""


def write(path: Path, cells: list[str]) -> Path:
    """Write `cells` (code) as a python3 notebook at `path`."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


def line_expression(table: str, title: str) -> str:
    return f'pk.line("{table}", x="t", y="v", session=session, title="{title}", width=600, height=300)'


def rerun_notebook(root: Path) -> Path:
    """Test 1: a 1M-row line plot cell to re-run, and a cell logging threads and RSS."""
    return write(
        root / "rerun.ipynb",
        [setup_cell("rerun", [WALK_SQL]), plot_cell("p", line_expression("walk", "walk")), RESOURCES_CELL],
    )


MESSAGES_CELL = f"""\
{marker("messages")}
# diagnosis: each message from the browser, with the thread and the subshell that delivered it
def _subshell_id():
    parent = get_ipython().kernel.get_parent()
    return (parent or {{}}).get("header", {{}}).get("subshell_id")

def _log_message(_widget, content, _buffers):
    kind = str(content.get("event_type", content.get("type")))
    _log(event="msg", plot="p", kind=kind, subshell=_subshell_id())

p.on_msg(_log_message)
"""


def busy_notebook(root: Path) -> Path:
    """Test 2: a plot and a cell that keeps the main shell busy for 20 s (run it from the test)."""
    return write(
        root / "busy.ipynb",
        [
            setup_cell("busy", [WALK_SQL]),
            plot_cell("p", line_expression("walk", "walk")),
            MESSAGES_CELL,
            SLEEP_CELL,
        ],
    )


def multi_notebook(root: Path) -> Path:
    """Tests 3 and 4: two lines and a scatter plot on one session."""
    scatter = 'pk.scatter("points", x="x", y="y", session=session, title="points", width=600, height=300)'
    return write(
        root / "multi.ipynb",
        [
            setup_cell("multi", [WALK_SQL, WAVE_SQL, POINTS_SQL]),
            plot_cell("a", line_expression("walk", "walk")),
            plot_cell("b", line_expression("wave", "wave")),
            plot_cell("s", scatter),
        ],
    )
