"""Review 2: the row files' budget and x on paths the first tests did not take (a plot closed during
its build, batches cut where the source cuts them)."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

from pikaplot_widget.engine import row_store
from pikaplot_widget.engine.line import LineColumns, fetch_extent
from pikaplot_widget.engine.row_store import RowStore
from pikaplot_widget.engine.runner import NEVER_CANCELLED
from pikaplot_widget.engine.sources import resolve_source


class _BatchReader:
    """Streams given x and y in batches of given sizes whatever the SQL; calls `after_first` once
    the first batch was handed over."""

    def __init__(self, x: np.ndarray, y: np.ndarray, sizes: list[int], after_first=None) -> None:
        self.x, self.y, self.sizes, self.after_first = x, y, sizes, after_first

    def run_batches(self, sql, params, on_batch, on_progress=None, ticket=NEVER_CANCELLED) -> None:
        start = 0
        for i, size in enumerate(self.sizes):
            part = slice(start, start + size)
            on_batch(pa.record_batch({"x": self.x[part], "y": self.y[part]}))
            start += size
            if i == 0 and self.after_first is not None:
                self.after_first()


def _columns(session, x: np.ndarray, y: np.ndarray) -> LineColumns:
    session.connection.register("frame_in", pa.table({"x": x, "y": y}))
    session.connection.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM frame_in")
    session.connection.unregister("frame_in")
    return LineColumns.checked(resolve_source("t", session), "x", "y", 0)


def test_a_plot_closed_while_its_x_turns_uneven_gives_every_byte_back(session, runner, rng, monkeypatch):
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store, "BUDGET", row_store._Budget(2**30))
    n = 40_000
    x = np.arange(n, dtype=np.float64)
    x[n // 2 :] += np.sort(rng.uniform(0, 0.5, n - n // 2))  # even in the first batch only
    y = rng.normal(size=n)
    cols = _columns(session, x, y)
    extent = fetch_extent(runner, cols)
    store = RowStore()
    reader = _BatchReader(x, y, [n // 2, n - n // 2], after_first=store.close)
    assert not store.build(reader, cols, extent)  # type: ignore[arg-type]
    assert store.state == "closed" and not os.path.exists(store._dir or "")
    assert row_store.BUDGET.used == 0


def test_a_close_between_taking_the_x_budget_and_counting_it_leaks_nothing(session, runner, rng, monkeypatch):
    """The plot closes (its files go, their bytes are given back) right as the build takes the x
    file's bytes: those bytes must come back too, not stay taken for the kernel's life."""
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    n = 40_000
    x = np.arange(n, dtype=np.float64)
    x[n // 2 :] += np.sort(rng.uniform(0, 0.5, n - n // 2))
    y = rng.normal(size=n)
    cols = _columns(session, x, y)
    extent = fetch_extent(runner, cols)
    store = RowStore()

    class ClosingBudget(row_store._Budget):
        def take(self, size: int, directory: str) -> bool:
            taken = super().take(size, directory)
            if self.used > size:  # the second take (x's): the plot closes now, on another thread
                store.close()
            return taken

    monkeypatch.setattr(row_store, "BUDGET", ClosingBudget(2**30))
    reader = _BatchReader(x, y, [n // 2, n - n // 2])
    store.build(reader, cols, extent)  # type: ignore[arg-type]
    assert store.state == "closed" and not os.path.exists(store._dir or "")
    assert row_store.BUDGET.used == 0


def test_computed_x_keeps_the_sign_of_a_negative_zero(session, runner, rng, monkeypatch):
    """x counted down to -0.0 (as `-(t_end - t)` gives it) then up: computed x must be the streamed
    x bit for bit, as views read from the source give it (-0.0 == 0.0 would let +0.0 through)."""
    monkeypatch.setattr(row_store, "MIN_ROWS", 1000)
    monkeypatch.setattr(row_store, "BUDGET", row_store._Budget(2**30))
    n = 40_000
    x = (np.arange(n, dtype=np.float64) - n // 2) * 0.25
    x[n // 2] = -0.0
    y = rng.normal(size=n)
    cols = _columns(session, x, y)
    extent = fetch_extent(runner, cols)
    store = RowStore()
    assert store.build(runner, cols, extent), store.state
    got = store.between(-1.0, 1.0)
    assert got is not None
    want = x[np.abs(x) <= 1.0]
    np.testing.assert_array_equal(got[0].view(np.uint64), want.view(np.uint64))
    store.close()
