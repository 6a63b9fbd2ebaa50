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


# ---- no moiré from the density index -------------------------------------------------------
def peak_over_median(image: np.ndarray) -> float:
    """The strongest spectral peak of `image` (DC and its axes' first bins left out) over the
    median power: ~20 for white noise of this size, far more for a periodic texture."""
    values = image.astype(np.float64)
    power = np.abs(np.fft.fft2(values - values.mean())) ** 2
    power[:2, :2] = power[-1:, :2] = power[:2, -1:] = power[-1:, -1:] = 0  # DC and the slowest bins
    return float(power.max() / np.median(power))


PEAK_LIMIT = 40.0  # white noise of 700 x 450 pixels peaks near 20 x its median power


@pytest.fixture(scope="module")
def uniform_points():
    rng = np.random.default_rng(7)
    n = 3_000_000
    return pd.DataFrame({"x": rng.uniform(0, 1, n), "y": rng.uniform(0, 1, n)})


def test_density_index_home_view_has_no_periodic_structure(uniform_points, session):
    from pikaplot_widget.engine.runner import QueryRunner
    from pikaplot_widget.engine.scatter import ScatterColumns, fetch_scatter_extent
    from pikaplot_widget.engine.sources import resolve_source
    from pikaplot_widget.plots.scatter.density_index import build_density_index

    runner = QueryRunner(session.cursor())
    source = resolve_source(uniform_points, session)
    source.prepare(runner.cursor)
    cols = ScatterColumns.checked(source, "x", "y")
    extent = fetch_scatter_extent(runner, cols)
    index = build_density_index(runner, cols, extent, min_rows=0)
    assert index is not None
    width, height = 700, 450  # not a divisor of any level's size: cells straddle pixel edges
    box = index.box
    level = index.level_for(box, width, height)
    assert level is not None
    grid = index.resample(level, box, width, height)
    reference, _, _ = np.histogram2d(
        uniform_points.y, uniform_points.x, bins=(height, width), range=((box[2], box[3]), (box[0], box[1]))
    )
    assert peak_over_median(reference) < PEAK_LIMIT  # the limit holds for the truth
    assert peak_over_median(grid.density) < PEAK_LIMIT  # what the colours show
    assert peak_over_median(grid.counts) > 100 * PEAK_LIMIT  # rows per pixel do vary in a rhythm
    # Rows per pixel area as the truth has them, up to noise; the counts stay whole rows.
    assert grid.total == len(uniform_points) and grid.counts.dtype.kind == "i"
    assert np.abs(grid.density - reference).mean() < 1.1 * np.sqrt(reference.mean())
    runner.close()


def test_rendered_uniform_density_has_no_periodic_structure(uniform_points, session):
    p = pk.scatter(uniform_points, "x", "y", session=session, width=760, height=520)
    frame = p.to_array()
    assert p.mode == "density" and p.stats["view_source"] == "index"
    layout = p.controller.layout()
    left, right = (round(float(layout.x_to_px(v))) for v in (0.01, 0.99))  # inside the data
    top, bottom = (round(float(layout.y_to_px(v))) for v in (0.99, 0.01))
    pixels = frame[top:bottom, left:right, :3].astype(np.float64)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 400 and pixels.std() > 1
    assert peak_over_median(pixels.mean(axis=-1)) < PEAK_LIMIT
    p.close()


# ---- user colour maps ------------------------------------------------------------------------
def test_colormap_from_a_list_of_colours_interpolates_between_them():
    from pikaplot_widget.core.colors import colormap

    table = colormap(["black", "#ff0000", "white"])
    assert table.shape == (256, 4) and table.dtype == np.uint8
    assert tuple(table[0]) == (0, 0, 0, 255) and tuple(table[-1]) == (255, 255, 255, 255)
    where = np.linspace(0, 1, 256)  # numpy reference: piecewise linear through the stops
    red = np.interp(where, [0, 0.5, 1], [0, 255, 255])
    green = np.interp(where, [0, 0.5, 1], [0, 0, 255])
    assert np.abs(table[:, 0] - red).max() <= 1 and np.abs(table[:, 1] - green).max() <= 1
    assert tuple(colormap(["#0f08", "#00f"])[0]) == (0, 255, 0, 136)


@pytest.mark.parametrize(
    "array",
    [
        np.array([[0.0, 0.0, 1.0], [1.0, 0.5, 0.0]]),
        np.array([[0, 0, 255, 255], [255, 128, 0, 255]], np.uint8),
    ],
)
def test_colormap_from_an_array(array):
    from pikaplot_widget.core.colors import colormap

    table = colormap(array)
    assert tuple(table[0][:3]) == (0, 0, 255) and tuple(table[-1][:3]) == (255, 128, 0)
    assert np.abs(table[128, :3].astype(int) - np.array([128, 64, 127])).max() <= 1


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("nope", ValueError),
        (["red"], ValueError),
        (["red", "notacolour"], ValueError),
        (["#12", "#fff"], ValueError),
        (np.zeros((5, 2)), ValueError),
        (np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), ValueError),
        (np.array([[0.0, 0.0, np.nan], [1.0, 0.0, 0.0]]), ValueError),
        (np.array([[0, 0, 0], [300, 0, 0]]), ValueError),
        (np.array([["a", "b", "c"], ["d", "e", "f"]]), TypeError),
        (42, TypeError),
    ],
)
def test_bad_colormaps_are_refused_naming_the_argument(table, session, bad, error):
    with pytest.raises(error, match="colormap"):
        pk.scatter(table, "x", "y", colormap=bad, session=session)


def test_scatter_draws_with_a_user_colormap(table, session):
    """Numeric colour through a two-colour map: the lowest and highest values get its ends."""
    low, high = np.array([230, 20, 20]), np.array([20, 20, 230])
    data = table.assign(c=np.where(table.c < 0.5, 0.0, 1.0))
    p = pk.scatter(data, "x", "y", color="c", colormap=[f"#{230:02x}1414", "#1414e6"], session=session)
    frame = p.to_array()
    area = p.controller.layout().area
    inside = frame[area.top : area.bottom, area.left : area.right, :3].reshape(-1, 3).astype(int)
    near_low = (np.abs(inside - low).max(axis=1) < 40).sum()
    near_high = (np.abs(inside - high).max(axis=1) < 40).sum()
    assert near_low > 200 and near_high > 200
    assert tuple(p.controller.painter.table[0][:3]) == tuple(low) and tuple(
        p.controller.painter.table[-1][:3]
    ) == tuple(high)
    p.close()


# ---- markers that stay legible when many overlap -----------------------------------------------
def ink(frame: np.ndarray, layout, box: tuple[float, float, float, float]) -> float:
    """Mean darkness (0 white .. 1 black) of the frame over a box in data units."""
    left, right = (round(float(layout.x_to_px(v))) for v in box[:2])
    top, bottom = (round(float(layout.y_to_px(v))) for v in (box[3], box[2]))
    region = frame[top:bottom, left:right, :3].astype(np.float64)  # 1 - luminance
    return float(1.0 - region.mean() / 255.0)


def test_crowded_markers_keep_ink_rising_with_density(session):
    """Rows per area rising along x (density proportional to x): the ink of the markers rises
    from every eighth of the plot to the next, however many markers (before: from 80k markers
    on, the denser half was one flat solid mass; at 150k the last steps rose by 0.001)."""
    rng = np.random.default_rng(5)
    alphas = []
    for n in (20_000, 80_000, 150_000):
        data = pd.DataFrame({"x": np.sqrt(rng.uniform(0, 1, n)) * 2, "y": rng.uniform(0, 1, n)})
        p = pk.scatter(data, "x", "y", session=session, x_range=(0, 2), y_range=(0, 1))
        frame = p.to_array()
        assert p.mode == "markers"
        layout = p.controller.layout()
        inks = [ink(frame, layout, (a + 0.02, a + 0.23, 0.05, 0.95)) for a in np.arange(0, 2, 0.25)]
        assert np.diff(inks).min() > 0.012, (n, inks)
        alphas.append(p.controller.painter.marker_alpha)
        p.close()
    assert alphas[0] > alphas[1] > alphas[2]  # opacity falls as markers crowd


def test_lone_markers_are_drawn_as_before_and_stay_visible_in_a_crowd(session):
    rng = np.random.default_rng(6)
    sparse = pd.DataFrame({"x": rng.uniform(0, 1, 300), "y": rng.uniform(0, 1, 300)})
    p = pk.scatter(sparse, "x", "y", session=session)
    p.to_array()
    painter = p.controller.painter
    assert painter.marker_alpha == pytest.approx(210 / 255) and painter.marker_scale == 1
    p.close()
    crowd = pd.DataFrame(
        {"x": np.r_[rng.normal(0, 0.05, 100_000), 0.9], "y": np.r_[rng.normal(0, 0.05, 100_000), 0.9]}
    )
    p = pk.scatter(crowd, "x", "y", session=session, x_range=(-0.5, 1.0), y_range=(-0.5, 1.0))
    frame = p.to_array()
    assert p.mode == "markers" and p.controller.painter.marker_scale < 1
    layout = p.controller.layout()
    x, y = round(float(layout.x_to_px(0.9))), round(float(layout.y_to_px(0.9)))
    spot = frame[y - 1 : y + 2, x - 1 : x + 2, :3].astype(int)
    assert (255 - spot).max() > 60  # the outlier shows
    p.close()


def test_cell_counts_against_brute_force(rng):
    from pikaplot_widget.plots.scatter.opacity import cell_counts, typical_overlap

    x, y = rng.normal(50, 20, 5_000), rng.normal(50, 10, 5_000)
    x[7] = np.nan
    counts = cell_counts(x, y, 5.0)
    keys = [
        (int(np.floor(a / 5)), int(np.floor(b / 5))) if np.isfinite(a) else None
        for a, b in zip(x, y, strict=True)
    ]
    for i in rng.integers(0, 5_000, 200):
        if i != 7:
            assert counts[i] == sum(k == keys[i] for k in keys)
    assert counts[7] == 0
    _, per_cell = np.unique([k for k in keys if k is not None], axis=0, return_counts=True)
    assert typical_overlap(counts) == pytest.approx((per_cell**2).sum() / per_cell.sum())


@pytest.mark.parametrize("how", ["eq_hist", "log", "linear"])
def test_fixed_point_scale_labels_rows(how, rng):
    """Rows per area in 1/16 steps: the same positions and labels as the float values."""
    from pikaplot_widget.core.colors import Scale

    steps = rng.integers(0, 4000, (60, 80))
    fixed, real = Scale.fit(steps, how, 1 / 16), Scale.fit(steps / 16, how)
    assert fixed.lookup_table() is not None  # the fast integer path
    assert [label for _, label in fixed.ticks()] == [label for _, label in real.ticks()]
    assert [p for p, _ in fixed.ticks()] == pytest.approx([p for p, _ in real.ticks()])
    np.testing.assert_allclose(fixed(steps), real(steps / 16), equal_nan=True)


def test_numpy_numbers_are_line_widths_drawn_as_python_numbers(session):
    frame = pd.DataFrame({"x": np.arange(200.0), "y": np.sin(np.arange(200.0) / 9)})
    plain = pk.line(frame, "x", "y", line_width=2, session=session)
    reference = plain.to_array()
    plain.close()
    for width in (np.int64(2), np.float32(2.0), np.uint8(2)):
        p = pk.line(frame, "x", "y", line_width=width, session=session)
        try:
            assert np.array_equal(p.to_array(), reference)
        finally:
            p.close()
    with pytest.raises(TypeError, match="line_width"):
        pk.line(frame, "x", "y", line_width=np.bool_(True), session=session)


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [
        ([(1, 0, 0), (0, 0, 1)], (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),  # ints all 0 or 1: floats
        (np.array([[0, 1, 0, 1], [1, 1, 0, 0]]), (0.0, 1.0, 0.0, 1.0), (1.0, 1.0, 0.0, 0.0)),
        ([(255, 0, 0), (0, 0, 255)], (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),  # other ints: 0..255
        (np.array([[1, 2, 3], [0, 0, 1]], np.int32), (1 / 255, 2 / 255, 3 / 255), (0.0, 0.0, 1 / 255)),
        (np.array([[1, 0, 0], [0, 0, 1]], np.uint8), (1 / 255, 0.0, 0.0), (0.0, 0.0, 1 / 255)),  # uint8
        ([(1.0, 0.0, 0.0), (0, 0, 1)], (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    ],
)
def test_integer_colormaps_ends_of_the_ramp(spec, low, high):
    from pikaplot_widget.core.colors import colormap

    table = colormap(spec)

    def rgba(stop: tuple[float, ...]) -> np.ndarray:  # numpy reference: the stop in 0..255
        return np.round(np.array([*stop, 1.0][:4]) * 255).astype(np.uint8)

    np.testing.assert_array_equal(table[0], rgba(low))
    np.testing.assert_array_equal(table[-1], rgba(high))
    middle = np.round((rgba(low).astype(float) + rgba(high)) / 2)
    assert np.abs(table[128].astype(float) - middle).max() <= 1.5
