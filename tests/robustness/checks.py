"""What the cases share: fresh sessions, frame checks, range oracles, event delivery."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import traitlets

import pikaplot_widget as pk

# The contract's error type; until the package has it, RuntimeError (its base) stands in.
PlotError: type[Exception] = getattr(pk, "PlotError", RuntimeError)
RANGE_ERRORS = (traitlets.TraitError, ValueError)
FRAME_TIMEOUT_S = 30.0
INTERNAL_SQL = ("SELECT ", "WITH rows", "arg_min", "__pikaplot", "GROUP BY", "CAST(")
MAX_SIDE = 8192  # resize clamp (physical pixels per side)
LINE = (400, 800)  # default (height, width) of a line plot's frame
SCATTER = (600, 800)  # and of a scatter plot's
EPOCH = dt.datetime(1970, 1, 1)


class Skip(Exception):  # noqa: N818 - reads as "raise Skip(reason)"
    """The case cannot run here (an optional package is missing)."""


def rng(seed: int = 20261215) -> np.random.Generator:
    """A seeded generator (cases are reproducible)."""
    return np.random.default_rng(seed)


def session(**kwargs: object) -> pk.Session:
    """A fresh session (cases never share the default one)."""
    return pk.Session(**kwargs)  # type: ignore[arg-type]


def table(s: pk.Session, name: str, **columns: object) -> str:
    """CREATE TABLE `name` in the session's database from numpy arrays/lists; returns the name."""
    con = s.connection
    con.register("__fault_in", pa.table(columns))
    quoted = '"' + name.replace('"', '""') + '"'
    try:
        con.execute(f"CREATE OR REPLACE TABLE {quoted} AS SELECT * FROM __fault_in")
    finally:
        con.unregister("__fault_in")
    return name


def scalar(s: pk.Session, sql: str, params: list[object] | None = None) -> object:
    """One value from the session's writer connection (a reference count, a min, ...)."""
    row = s.connection.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def seconds(value: dt.datetime) -> float:
    """Seconds since the epoch of a naive UTC datetime (independent of DuckDB)."""
    return (value - EPOCH).total_seconds()


def rows_of(plot: pk.Plot) -> int:
    """Rows the plot's data has (stats["rows"] where offered, else the scanned extent)."""
    stats = plot.stats
    if "rows" in stats:
        return int(stats["rows"])  # type: ignore[call-overload]
    extent = plot.controller.extent
    assert extent is not None, "no extent after the first frame"
    return int(extent.rows)


def skipped_of(plot: pk.Plot) -> int:
    """plot.stats["skipped_rows"] (NULL/NaN/inf rows), required for lines and scatter plots."""
    stats = plot.stats
    assert "skipped_rows" in stats, "plot.stats has no 'skipped_rows'"
    return int(stats["skipped_rows"])  # type: ignore[call-overload]


# ---- frames ---------------------------------------------------------------------------------
def frame(
    plot: pk.Plot, shape: tuple[int, int] | None = None, timeout: float = FRAME_TIMEOUT_S, scale: float = 1.0
) -> np.ndarray:
    """`to_array(scale=)`, checked: (H, W, 4) uint8, of `shape` (H, W) when given, not an error frame."""
    image = plot.to_array(timeout=timeout, scale=scale)
    assert isinstance(image, np.ndarray), type(image)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4, (image.dtype, image.shape)
    if shape is not None:
        assert image.shape[:2] == tuple(shape), f"frame is {image.shape[:2]}, expected {shape}"
    assert not str(plot.status).startswith("error"), f"status: {plot.status}"
    return image


def series_pixels(image: np.ndarray) -> int:
    """Pixels of the (blue) series colour, anti-aliased edges included."""
    r, b = image[..., 0].astype(int), image[..., 2].astype(int)
    return int((b - r > 60).sum())


def ink(image: np.ndarray) -> int:
    """Pixels that are not (near) white: axes, text, data."""
    return int((image[..., :3].astype(int).sum(axis=2) < 740).sum())


def expect_plot_error(plot: pk.Plot, timeout: float = 20.0) -> Exception:
    """`to_array()` raises PlotError (not a timeout, not a hang) with a message free of SQL."""
    started = time.monotonic()
    try:
        plot.to_array(timeout=timeout)
    except TimeoutError as error:
        raise AssertionError(f"to_array timed out instead of raising PlotError: {error}") from error
    except PlotError as error:
        assert time.monotonic() - started < timeout, "to_array took the whole timeout"
        message = str(error)
        assert message.strip(), "PlotError without a message"
        leaked = [s for s in INTERNAL_SQL if s in message]
        assert not leaked, f"PlotError message shows internal SQL ({leaked}): {message[:300]!r}"
        return error
    raise AssertionError(f"to_array returned a frame; expected {PlotError.__name__} (status {plot.status!r})")


# ---- ranges ---------------------------------------------------------------------------------
def assert_covers(actual: tuple[float, float], lo: float, hi: float, what: str, slack: float = 0.15) -> None:
    """`actual` contains [lo, hi], is finite, and is not much wider (a pad of `slack` the span)."""
    a, b = float(actual[0]), float(actual[1])
    assert math.isfinite(a) and math.isfinite(b) and a < b, f"{what} = {actual} is not a finite range"
    assert a <= lo and b >= hi, f"{what} = {actual} does not contain the data's [{lo!r}, {hi!r}]"
    span = hi - lo
    allowed = span * (1 + 2 * slack) if span > 0 else 2 * max(abs(lo) * 0.1, 1.0)
    assert (b - a) <= allowed * (1 + 1e-9) + 1e-300, f"{what} = {actual} is far wider than [{lo!r}, {hi!r}]"


def assert_y_fits(plot: pk.Plot, x: np.ndarray, y: np.ndarray) -> None:
    """The fitted y range contains every finite y whose x lies in the shown x range (bounds included)."""
    lo, hi = plot.x_range
    inside = (x >= lo) & (x <= hi) & np.isfinite(y) & np.isfinite(x)
    assert inside.any(), f"no rows in x_range {plot.x_range}: the case is wrong"
    assert_covers(plot.y_range, float(y[inside].min()), float(y[inside].max()), "y_range")


def assert_same_range(actual: tuple[float, float], expected: tuple[float, float], what: str) -> None:
    """Equal up to float rounding."""
    scale = max(abs(expected[0]), abs(expected[1]), 1e-300)
    ok = all(abs(float(a) - float(e)) <= 1e-9 * scale for a, e in zip(actual, expected, strict=True))
    assert ok, f"{what} = {actual}, expected {expected}"


@contextlib.contextmanager
def raises(*types: type[BaseException], match: str | None = None) -> Iterator[list[BaseException]]:
    """Like pytest.raises (the cases run outside pytest): the block must raise one of `types`."""
    caught: list[BaseException] = []
    try:
        yield caught
    except types as error:
        if match is not None and match.lower() not in str(error).lower():
            raise AssertionError(f"{type(error).__name__} without {match!r}: {error}") from error
        caught.append(error)
        return
    names = " or ".join(t.__name__ for t in types)
    raise AssertionError(f"expected {names}, nothing was raised")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `predicate()` holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


# ---- events ---------------------------------------------------------------------------------
def deliver(plot: pk.Plot, content: object, buffers: list[object] | None = None) -> None:
    """A custom message as jupyter_rfb receives it from the comm (it must never raise)."""
    plot._rfb_handle_msg(plot, content, buffers or [])


def send(plot: pk.Plot, **event: object) -> None:
    """An event with the fields the browser sends (`timestamp` added when absent)."""
    event.setdefault("timestamp", 0)
    deliver(plot, event)


def comm_message(plot: pk.Plot, data: dict[str, object], buffers: list[object] | None = None) -> None:
    """A message through ipywidgets' comm entry point (what the kernel calls)."""
    plot._handle_msg({"content": {"data": data}, "buffers": buffers or []})


def wheel(plot: pk.Plot, x: object, y: object, dy: object, **extra: object) -> None:
    """A wheel event at CSS position (x, y)."""
    event: dict[str, object] = {"type": "wheel", "x": x, "y": y, "dx": 0, "dy": dy}
    event.update({"modifiers": [], "buttons": [], **extra})
    send(plot, **event)


def centre(plot: pk.Plot) -> tuple[float, float]:
    """The CSS position of the middle of the plot area."""
    layout = plot.controller.layout()
    assert layout is not None, "no layout before the first view"
    area, ratio = layout.area, layout.spec.ratio
    return (area.left + area.width / 2) / ratio, (area.top + area.height / 2) / ratio


def dropped(plot: pk.Plot) -> int:
    """plot.stats["events_dropped"] (the contract's counter of malformed events)."""
    stats = plot.stats
    assert "events_dropped" in stats, "plot.stats has no 'events_dropped' counter"
    return int(stats["events_dropped"])  # type: ignore[call-overload]


def expect_dropped(plot: pk.Plot, content: object, count: int = 1) -> None:
    """Delivering `content` does not raise and adds `count` to events_dropped."""
    before = dropped(plot)
    try:
        deliver(plot, content)
    except Exception as error:
        raise AssertionError(
            f"handler raised {type(error).__name__}: {error} for {_short(content)}"
        ) from error
    after = dropped(plot)
    assert after == before + count, f"events_dropped {before} -> {after} for {_short(content)}"


def _short(value: object) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = f"<{type(value).__name__} too deep to repr>"
    return text if len(text) < 160 else text[:157] + "..."


def run_threads(targets: list[Callable[[], None]], timeout: float = 40.0) -> list[BaseException]:
    """Run each target in its own thread; the exceptions they raised (a hang is one too)."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def wrap(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:
                with lock:
                    errors.append(error)

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    alive = sum(t.is_alive() for t in threads)
    if alive:
        errors.append(TimeoutError(f"{alive} of {len(threads)} threads still running after {timeout} s"))
    return errors
