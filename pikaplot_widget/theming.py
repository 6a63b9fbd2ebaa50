"""A plot's theme: the user's choice ("auto", "light", "dark") and, for "auto", the notebook's
theme as the front end reports it. Mixed into `widget.Plot`."""

from __future__ import annotations

import traitlets

from .plots.base import ViewWorker
from .render.theme import Theme, checked_theme, resolve_theme


class Theming(traitlets.HasTraits):
    """`theme` (readable and settable); frames and the overlay follow it."""

    # What the overlay needs to style itself: {"choice": "auto"|"light"|"dark", "name": drawn theme,
    # "background": CSS colour of the frame's background}
    _look = traitlets.Dict({"choice": "auto", "name": "light", "background": "#ffffff"}).tag(sync=True)
    _theme_choice: str = "auto"
    _front_end_dark: bool | None = None  # None until the front end said (or outside a browser)

    @property
    def controller(self) -> ViewWorker:
        """The plot's worker."""
        raise NotImplementedError

    @property
    def theme(self) -> str:
        """ "auto" (follow the notebook's theme; light outside a browser), "light" or "dark"."""
        return self._theme_choice

    @theme.setter
    def theme(self, value: str) -> None:
        self._theme_choice = checked_theme(value)
        self._apply_theme()

    @property
    def drawn_theme(self) -> str:
        """The theme frames are drawn in now: "light" or "dark"."""
        return self._resolved().name

    def _resolved(self) -> Theme:
        return resolve_theme(self._theme_choice, self._front_end_dark)

    def _themed(self, worker: ViewWorker) -> ViewWorker:
        """A new (or rebuilt) worker draws in the current theme."""
        worker.painter.theme = self._resolved()
        return worker

    def _front_end_theme(self, dark: bool) -> None:
        """The notebook's theme, as the front end reads it (on display and when it changes)."""
        self._front_end_dark = dark
        self._apply_theme()

    def _apply_theme(self) -> None:
        look = self._resolved()
        state = {"choice": self._theme_choice, "name": look.name, "background": look.css(look.background)}
        if self._look != state:
            self._look = state
        worker = self.controller
        if worker.painter.theme != look:
            worker.painter.theme = look
            worker.redraw()
