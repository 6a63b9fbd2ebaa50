"""The tooltip's time format (js/format.js, bundled) shows the wall time of the plot's zone, as
Python's zoneinfo computes it, right across DST changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.browser
BUNDLE = Path(__file__).resolve().parents[2] / "pikaplot_widget" / "static" / "overlay.js"


def _expected(seconds: float, tz: str) -> str:
    """What the tooltip should read: local date and time, milliseconds if any, GMT offset."""
    instant = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    if tz == "UTC":
        text = f"{instant:%Y-%m-%d %H:%M:%S}"
        return text + (f".{instant.microsecond // 1000:03d}" if seconds % 1 else "")
    wall = instant.astimezone(ZoneInfo(tz))
    offset = wall.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    zone = (
        "GMT"
        if minutes == 0
        else f"GMT{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")
    )
    millis = f".{wall.microsecond // 1000:03d}" if seconds % 1 else ""
    return f"{wall:%Y-%m-%d %H:%M:%S}{millis} {zone}"


def test_tooltip_times_are_wall_times_of_the_zone(browser):
    def utc(*args: int) -> float:
        return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()

    cases = [
        (utc(2026, 3, 29, 0, 59, 59), "Europe/Berlin"),  # 01:59:59 CET
        (utc(2026, 3, 29, 1, 0, 0), "Europe/Berlin"),  # 03:00:00 CEST: 02:xx never happens
        (utc(2026, 10, 25, 0, 30, 0), "Europe/Berlin"),  # 02:30 CEST
        (utc(2026, 10, 25, 1, 30, 0), "Europe/Berlin"),  # 02:30 CET, an hour later
        (utc(2026, 7, 1, 12, 0, 0) + 0.25, "Europe/Berlin"),
        (utc(2026, 1, 1, 0, 0, 0), "Asia/Kolkata"),  # +05:30
        (utc(2026, 3, 8, 10, 0, 0), "America/New_York"),  # 06:00 EDT, after the US change
        (utc(2026, 3, 29, 1, 0, 0) + 0.5, "UTC"),
    ]
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=BUNDLE.read_text())
        got = page.evaluate(
            "(cases) => cases.map(([s, tz]) => pikaplotOverlay.time(s, tz))", [list(c) for c in cases]
        )
    finally:
        page.close()
    assert got == [_expected(s, tz) for s, tz in cases]
    assert got[2][:16] == got[3][:16] == "2026-10-25 02:30" and got[2] != got[3]


def test_tooltip_shows_data_units_and_the_zone(browser):
    """The tooltip (js/hover.js) of a line point: log axes back from log10, a time x in its zone."""
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=BUNDLE.read_text())
        texts = page.evaluate(
            """(cases) => cases.map(([meta, record]) => {
                const interaction = { frameOffset: () => [0, 0] }
                const overlay = { root: document.body, interaction, send () {} }
                const hover = new pikaplotOverlay.Hover(overlay)
                hover.meta = meta
                hover.show(record, 10, 10)
                return Array.from(hover.tooltip.children).map((line) => line.textContent)
            })""",
            [
                [
                    {"log_x": True, "log_y": True, "x_is_time": False, "x_origin": 0},
                    {
                        "kind": "line",
                        "x": 3.0,
                        "y": -2.0,
                        "rows": 5,
                        "first": 0.0,
                        "last": 1.0,
                        "min": -2.0,
                        "max": 2.0,
                    },
                ],
                [
                    {"x_is_time": True, "x_origin": 1792886400.0, "tz": "Europe/Berlin", "log_y": True},
                    {"kind": "markers", "x": 3600.0, "y": 2.0},
                ],
            ],
        )
    finally:
        page.close()
    assert texts[0][:5] == ["x: 1,000", "y: 0.01", "rows: 5", "first 1 · last 10", "min 0.01 · max 100"]
    # 2026-10-25 01:00 UTC: the second 02:00 of that night in Berlin (CET, UTC+1).
    assert texts[1] == ["x: 2026-10-25 02:00:00 GMT+1", "y: 100"]
