"""Several series on a line plot, from the widget's side: `hidden_series` and legend clicks.
Mixed into `widget.Plot`."""

from __future__ import annotations

from collections.abc import Mapping

import traitlets

from .messages import Event
from .plots.base import ViewWorker
from .plots.line.worker import LineWorker


class SeriesLegend(traitlets.HasTraits):
    """`hidden_series`: names of the series not drawn (set it, or click legend entries)."""

    hidden_series = traitlets.List(traitlets.Unicode(), default_value=[]).tag(sync=True)

    @property
    def controller(self) -> ViewWorker:
        """The plot's worker."""
        raise NotImplementedError

    def _series_worker(self) -> LineWorker | None:
        worker = self.controller
        return worker if isinstance(worker, LineWorker) and worker.series_names else None

    @property
    def series(self) -> tuple[str, ...]:
        """The names of the plot's series (empty for a plot of one line)."""
        worker = self._series_worker()
        return worker.series_names if worker is not None else ()

    @traitlets.validate("hidden_series")
    def _check_hidden(self, proposal: Mapping[str, object]) -> list[str]:
        value = proposal["value"]
        names = self.series
        if not isinstance(value, (list, tuple)):
            raise traitlets.TraitError(f"hidden_series must be a list of series names, got {value!r}")
        unknown = [v for v in value if v not in names]
        if unknown:
            raise traitlets.TraitError(
                f"hidden_series: unknown series {unknown}; the series are {list(names)}"
            )
        return [name for name in names if name in value]  # in series order, each once

    @traitlets.observe("hidden_series")
    def _on_hidden(self, change: Mapping[str, object]) -> None:
        worker = self._series_worker()
        if worker is not None:
            hidden = change["new"]
            assert isinstance(hidden, list)
            worker.set_hidden(frozenset(i for i, name in enumerate(worker.series_names) if name in hidden))

    def _legend_click(self, event: Event) -> bool:
        """A click on a legend entry hides or shows its series; True when it was one."""
        worker = self._series_worker()
        code = None if worker is None else worker.legend_entry(event.x, event.y)
        if worker is None or code is None:
            return False
        name = worker.series_names[code]
        hidden = list(self.hidden_series)
        self.hidden_series = [n for n in hidden if n != name] if name in hidden else [*hidden, name]
        return True
