"""Linked views: plots that follow each other's ranges (and, optionally, selections)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping

from .widget import Plot


class Link:
    """Keeps the chosen ranges of several plots equal; `unlink()` stops it. A change made while
    propagating is not propagated again, so there is no feedback loop."""

    def __init__(self, plots: tuple[Plot, ...], x: bool, y: bool, selection: bool) -> None:
        if len(plots) < 2:
            raise ValueError("link needs at least two plots")
        if not all(isinstance(p, Plot) for p in plots):
            raise TypeError("link takes pikaplot_widget plots")
        self.plots = plots
        self._busy = threading.local()
        self._observers: list[tuple[Plot, Callable[[Mapping[str, object]], None], str]] = []
        names = [n for n, on in (("x_range", x), ("y_range", y), ("selection_bounds", selection)) if on]
        if not names:
            raise ValueError("link what? set x, y or selection to True")
        for plot in plots:
            for name in names:
                observer = self._follower(plot)
                plot.observe(observer, names=[name])
                self._observers.append((plot, observer, name))

    def _follower(self, source: Plot) -> Callable[[Mapping[str, object]], None]:
        def follow(change: Mapping[str, object]) -> None:
            if getattr(self._busy, "active", False):
                return
            self._busy.active = True
            try:
                name, value = str(change["name"]), change["new"]
                for other in self.plots:
                    if other is source:
                        continue
                    if name == "selection_bounds" and _same(other.selection_bounds, value):
                        continue  # already there (an echo of our own change)
                    if name == "selection_bounds" and isinstance(value, Mapping):
                        polygon = value.get("polygon")
                        if isinstance(polygon, list) and len(polygon) >= 3:
                            other.select(polygon=[(float(p[0]), float(p[1])) for p in polygon])
                        elif value.get("x") is None and value.get("y") is None:
                            other.clear_selection()
                        else:
                            other.select(x=_pair(value.get("x")), y=_pair(value.get("y")))
                    elif getattr(other, name) != value:
                        setattr(other, name, value)
            finally:
                self._busy.active = False

        return follow

    def unlink(self) -> None:
        """Stop following."""
        for plot, observer, name in self._observers:
            plot.unobserve(observer, names=[name])
        self._observers.clear()


def _same(a: object, b: object) -> bool:
    """Equal selection bounds, up to float rounding (x crosses plots' time origins)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def _pair(value: object) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return (float(value[0]), float(value[1]))
    return None


def link(*plots: Plot, x: bool = True, y: bool = False, selection: bool = False) -> Link:
    """Keep the x range (and/or y range, selection) of `plots` in sync; returns the `Link`."""
    return Link(plots, x, y, selection)
