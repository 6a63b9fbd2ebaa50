"""Keep a plot's incoming messages on the subshell the browser sends them to.

JupyterLab (>= 4.4) sends widget messages on a subshell, so that a wheel is handled while a cell
runs on the main shell. ipykernel 7.4 overrides that choice: each comm's incoming messages go to
the subshell of the last message the kernel sent on the comm (so that a cell awaiting a reply gets
it). A plot sends from cells (`p.x_range = ...`) and from its worker thread, whose messages carry
the main shell's parent, so after one such send every wheel waited behind the running cell. A plot
never awaits a reply from the browser: the browser's own routing stands.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable


def _front_end_choice(data: object, default: str | None) -> str | None:
    return default


def _takes_data_and_default(hook: Callable[..., object]) -> bool:
    try:
        parameters = list(inspect.signature(hook).parameters)
    except (TypeError, ValueError):
        return False
    return parameters == ["data", "default"]


def keep_front_end_routing(comm: object) -> bool:
    """Make `comm` (an ipykernel comm) route incoming messages where the browser sent them; False
    where the kernel has no such routing (older ipykernel, no kernel)."""
    hook = getattr(comm, "_reply_subshell_for", None)
    if not callable(hook) or not _takes_data_and_default(hook):
        return False  # changed shape: a replacement that raised would drop every message
    try:
        comm._reply_subshell_for = _front_end_choice  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # a comm class with slots or read-only attributes
        return False
    return True
