"""The look of a plot: light and dark themes ("auto" following the front end), user colour maps,
markers whose opacity follows the overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pikaplot_widget as pk
from pikaplot_widget.render.theme import DARK, LIGHT
from tests.unit.events import send


@pytest.fixture
def table(rng):
    n = 5_000
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n), "c": rng.uniform(size=n)})


def corner(frame: np.ndarray) -> np.ndarray:
    """The frame's top-left pixels (outside the plot area: background only)."""
    return frame[:4, :4, :3].reshape(-1, 3)


def background_share(frame: np.ndarray, rgb: tuple[float, ...]) -> float:
    """Fraction of the frame's pixels exactly in the background colour `rgb`."""
    target = np.round(np.asarray(rgb[:3]) * 255)
    return float((np.abs(frame[..., :3].astype(int) - target).max(axis=-1) <= 1).mean())


@pytest.mark.parametrize("kind", ["line", "scatter"])
def test_light_and_dark_backgrounds(table, session, kind):
    make = pk.line if kind == "line" else pk.scatter
    light = make(table.sort_values("x"), "x", "y", theme="light", session=session, title="t")
    dark = make(table.sort_values("x"), "x", "y", theme="dark", session=session, title="t")
    lf, df = light.to_array(), dark.to_array()
    assert (corner(lf) == 255).all()
    assert np.abs(corner(df).astype(int) - np.round(np.asarray(DARK.background[:3]) * 255)).max() <= 1
    assert background_share(lf, LIGHT.background) > 0.5 and background_share(df, DARK.background) > 0.5
    assert df[..., :3].mean() < 80 and lf[..., :3].mean() > 200
    assert light.theme == "light" and dark.theme == "dark" and dark.drawn_theme == "dark"
    light.close()
    dark.close()


def test_auto_follows_the_front_end_and_theme_is_settable(table, session):
    p = pk.scatter(table, "x", "y", session=session)
    assert p.theme == "auto"
    assert (corner(p.to_array()) == 255).all()  # no browser: light
    send(p, type="pikaplot_theme", dark=True)
    assert p.drawn_theme == "dark" and p._look["name"] == "dark"
    assert corner(p.to_array()).max() < 40
    send(p, type="pikaplot_theme", dark=False)
    assert (corner(p.to_array()) == 255).all()
    p.theme = "dark"
    assert corner(p.to_array()).max() < 40
    send(p, type="pikaplot_theme", dark=False)  # an explicit choice ignores the notebook's theme
    assert corner(p.to_array()).max() < 40 and p._look == {
        "choice": "dark",
        "name": "dark",
        "background": DARK.css(DARK.background),
    }
    p.theme = "auto"
    assert (corner(p.to_array()) == 255).all()
    with pytest.raises(ValueError, match="theme"):
        p.theme = "purple"
    assert p.theme == "auto"
    p.close()


@pytest.mark.parametrize("bad", [{"type": "pikaplot_theme"}, {"type": "pikaplot_theme", "dark": "yes"}])
def test_malformed_theme_messages_are_dropped(table, session, bad):
    p = pk.scatter(table, "x", "y", session=session)
    before = p.stats["events_dropped"]
    send(p, **bad)
    assert p.stats["events_dropped"] == before + 1 and p.drawn_theme == "light"
    p.close()


def test_bad_theme_argument(table, session):
    for make in (pk.line, pk.scatter):
        with pytest.raises(ValueError, match="theme"):
            make(table, "x", "y", theme="night", session=session)


def test_dark_theme_reaches_text_grid_legend_and_dimming(table, session):
    p = pk.scatter(table, "x", "y", color="c", theme="dark", session=session, title="Title")
    frame = p.to_array()
    area = p.controller.layout().area
    # Text in the title row is near the dark theme's text colour, never the light theme's.
    title_row = frame[: area.top, area.left : area.right, :3].astype(int)
    text_px = title_row[title_row.sum(axis=-1) > 3 * 150]
    assert len(text_px) > 20
    assert np.abs(text_px.mean(axis=0) - np.asarray(DARK.text[:3]) * 255).max() < 60
    # A selection dims with the background colour: the dimmed part gets darker, not whiter.
    p.select(x=(float(table.x.min()), float(table.x.median())))
    selected = p.to_array()
    right = (slice(area.top, area.bottom), slice(area.left + area.width * 3 // 4, area.right))
    assert selected[right][..., :3].mean() <= frame[right][..., :3].mean() + 1
    p.close()
