"""The errors a user sees, and turning internal failures into messages that say what happened."""

from __future__ import annotations

import re


class PlotError(RuntimeError):
    """The plot cannot give what was asked: its view failed (the message says why) or it is closed."""


_SQL_CONTEXT = re.compile(r"\n\s*LINE \d+:.*", re.DOTALL)  # DuckDB appends the statement after this
_INTERNAL = re.compile(r"__pikaplot_\w+|pikaplot_index\.\S+")


def user_message(error: BaseException) -> str:
    """One or two lines for the plot and `status`: the kind of failure and DuckDB's reason,
    without the SQL we generated or our internal table names."""
    text = str(error).strip()
    closed = ("connection already closed", "connection was closed", "session of this plot was closed")
    if any(phrase in text.lower() for phrase in closed):
        return "the DuckDB session of this plot was closed; create the plot again on an open session"
    text = _SQL_CONTEXT.sub("", text)
    text = _INTERNAL.sub("(the plot's data)", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kind = type(error).__name__
    detail = " ".join(lines[:2])[:300]
    return f"{kind}: {detail}" if detail else kind
