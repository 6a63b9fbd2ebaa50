"""Turns a scatter view (markers or a density grid) into chart layers, a legend and a frame."""

from __future__ import annotations

import numpy as np

from ...core import colors
from ...core.types import Labels
from ...engine.scatter import ScatterColumns, ScatterExtent, ScatterPoints
from ...render import theme
from ...render.chart.layout import ChartLayout, ChartSpec, DataLayers
from ...render.chart.legend import CategoryLegend, ColorBar, Legend, legend_width
from ...render.equalize import EqualizedGrid
from ...render.layers.base import Layer
from ...render.layers.density import DensityLayer
from ...render.layers.image import ImageLayer, indexed_image, lut_image
from ...render.layers.points import PointLayer, pack_points
from ..painter import Painter
from .density import DensityGrid
from .opacity import cell_counts, marker_alphas, radius_scale, typical_overlap
from .provider import ScatterView

SIZE_RANGE_PX = (1.5, 8.0)  # radius range of markers sized by a column
GPU_EQUALIZE = True  # resident views equalised on the GPU (False: on the CPU, as before; benchmarks)


class ScatterPainter(Painter):
    """Draws scatter frames: markers coloured by value or category, or a colour-mapped density."""

    def __init__(
        self,
        labels: Labels,
        columns: ScatterColumns,
        colormap: colors.ColormapSpec = "viridis",
        normalization: str = "eq_hist",
        marker_size: float | None = None,
    ) -> None:
        super().__init__(labels, columns.x_is_time, columns.x_origin_us, columns.scale)
        self.scatter_columns = columns
        self.table = colors.colormap(colormap)
        if normalization not in colors.NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {', '.join(colors.NORMALIZATIONS)}, got {normalization!r}"
            )
        self.normalization = normalization
        self.marker_size = marker_size
        self.extent: ScatterExtent | None = None
        self.min_right = 0
        self.dim_outside = True
        self.marker_alpha = 1.0  # the median opacity and radius scale of the latest markers
        self.marker_scale = 1.0

    def set_extent(self, extent: ScatterExtent) -> None:
        """Know the categories and colour domain; reserve a legend column wide enough for all views."""
        self.extent = extent
        font = ChartLayout(ChartSpec(width=200, height=200)).font
        widest = ColorBar(self.table, ((0.0, "888.8k"), (1.0, "-8.888e+88")), self._legend_title("density"))
        reserve = legend_width(widest, font, 1.0)
        if self.scatter_columns.color_kind == "category":
            reserve = max(reserve, legend_width(self._category_legend(), font, 1.0))
        self.min_right = reserve

    def _legend_title(self, mode: str) -> str:
        if self.scatter_columns.color is not None:
            return self.scatter_columns.color
        return "rows per pixel" if mode == "density" else ""

    def _category_legend(self) -> CategoryLegend:
        extent = self.extent
        assert extent is not None
        names = list(extent.categories) + ([colors.OTHER_LABEL] if extent.has_other else [])
        palette = colors.palette(len(extent.categories))
        return CategoryLegend(tuple(names), palette[: len(names)], self._legend_title("markers"))

    def add_data(self, spec: ChartSpec, data: object) -> None:
        """Markers or the density image of a `ScatterView`, with its legend."""
        spec.min_right = round(self.min_right * spec.ratio)
        if isinstance(data, ScatterView) and self.extent is not None:
            spec.data_layers, spec.legend = self._content(data, spec.ratio)

    def _content(self, data: ScatterView, ratio: float) -> tuple[DataLayers, Legend | None]:
        if data.points is not None:
            points = data.points
            legend = self._points_legend()
            return (lambda layout, clip: self._markers(layout, clip, points, ratio)), legend
        assert data.grid is not None
        equalized = data.equalized
        if equalized is not None and self.normalization == "eq_hist" and GPU_EQUALIZE:
            ticks = tuple(equalized.stats.scale().ticks())
            legend = ColorBar(self.table, ticks, self._legend_title("density"))
            grid = equalized
            return (lambda layout, clip: self._gpu_image(layout, grid)), legend
        image, lut, legend = self._density(data.grid)
        return (lambda layout, clip: self._image(layout, image, lut)), legend

    # ---- markers ---------------------------------------------------------------------------
    def marker_colors(self, points: ScatterPoints) -> np.ndarray:
        """RGBA uint8 per point: by category, by value through the colour map, or one colour."""
        extent = self.extent
        assert extent is not None
        n = points.x.size
        if self.scatter_columns.color_kind == "category" and points.color is not None:
            rgb = colors.palette(len(extent.categories))[points.color.astype(np.intp)]
            return np.hstack([rgb, np.full((n, 1), 230, np.uint8)])
        if self.scatter_columns.color_kind == "numeric" and points.color is not None:
            lo, hi = extent.color_min, extent.color_max
            position = (
                (points.color - lo) / (hi - lo) if hi > lo else np.where(np.isnan(points.color), np.nan, 0.5)
            )
            out = colors.lookup(self.table, position)
            out[:, 3] = 230
            return out
        series = (np.asarray(self.theme.series[:3]) * 255 + 0.5).astype(np.uint8)
        return np.tile(np.r_[series, np.uint8(210)], (n, 1))

    def marker_radii(self, points: ScatterPoints, ratio: float) -> np.ndarray | float:
        """Radius per point in physical pixels (a size column maps linearly onto SIZE_RANGE_PX)."""
        if points.size is not None:
            values = points.size
            finite = values[np.isfinite(values)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
            span = hi - lo
            t = (values - lo) / span if span > 0 else np.full(values.shape, 0.5)
            radius = SIZE_RANGE_PX[0] + np.nan_to_num(t, nan=0.0) * (SIZE_RANGE_PX[1] - SIZE_RANGE_PX[0])
            return radius * ratio
        if self.marker_size is not None:
            return self.marker_size / 2 * ratio
        return theme.MARKER_RADIUS_PX * ratio  # smaller where markers crowd: see opacity.py

    def _markers(
        self, layout: ChartLayout, clip: tuple[int, int, int, int], points: ScatterPoints, ratio: float
    ) -> list[Layer]:
        if points.x.size == 0:
            return []
        xy = np.column_stack([layout.x_to_px(points.x), layout.y_to_px(points.y)])
        radii = self.marker_radii(points, ratio)
        colours = self.marker_colors(points)
        diameter = 2.0 * float(np.nanmean(radii))
        counts = cell_counts(xy[:, 0], xy[:, 1], diameter)
        resize = points.size is None and self.marker_size is None
        overlap = typical_overlap(counts)
        scale = radius_scale(overlap) if resize else 1.0
        if scale < 1.0:  # smaller markers crowd less: count again at their size; lone ones stay
            radii = np.where(counts > 1, np.asarray(radii) * scale, radii)
            counts = cell_counts(xy[:, 0], xy[:, 1], diameter * scale)
        alphas = marker_alphas(counts, float(colours[0, 3]) / 255.0, overlap)
        colours[:, 3] = np.round(alphas * 255).astype(np.uint8)
        self.marker_alpha, self.marker_scale = float(np.median(alphas)), scale
        records = pack_points(xy, radii, colours)
        return [PointLayer(records, clip)]

    def _points_legend(self) -> Legend | None:
        extent = self.extent
        assert extent is not None
        if self.scatter_columns.color_kind == "category":
            return self._category_legend()
        if self.scatter_columns.color_kind == "numeric":
            ticks = colors.linear_ticks(extent.color_min, extent.color_max)
            return ColorBar(self.table, tuple(ticks), self._legend_title("markers"))
        return None

    # ---- density ---------------------------------------------------------------------------
    def _density(self, grid: DensityGrid) -> tuple[np.ndarray, np.ndarray | None, Legend | None]:
        """The image (top row first), its colour map (None for RGBA) and the legend."""
        extent = self.extent
        assert extent is not None
        density_values, unit = _rows_per_area(grid)
        scale = colors.Scale.fit(density_values, self.normalization, unit)
        kind = self.scatter_columns.color_kind
        if kind == "category" and grid.planes is not None:
            density = scale(density_values)
            rgba = colors.blend_categories(
                grid.planes, colors.palette(len(extent.categories)), colors.alpha_from(density)
            )
            return np.flipud(rgba), None, self._category_legend()
        if kind == "numeric" and grid.color_sum is not None and grid.color_count is not None:
            density = scale(density_values)
            lo, hi = extent.color_min, extent.color_max
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = grid.color_sum / grid.color_count
            position = (mean - lo) / (hi - lo) if hi > lo else np.where(np.isnan(mean), np.nan, 0.5)
            missing = (grid.counts > 0) & (grid.color_count == 0)
            image = lut_image(np.clip(position, 0, 1), colors.alpha_from(density), missing)
            ticks = colors.linear_ticks(lo, hi)
            return (
                np.flipud(image),
                self.table,
                ColorBar(self.table, tuple(ticks), self._legend_title("density")),
            )
        image = indexed_image(*scale.color_indices(density_values))
        legend = ColorBar(self.table, tuple(scale.ticks()), self._legend_title("density"))
        return np.flipud(image), self.table, legend

    def _gpu_image(self, layout: ChartLayout, grid: EqualizedGrid) -> list[Layer]:
        area = layout.area
        if (grid.height, grid.width) != (area.height, area.width):  # a stale grid: not drawn
            return []
        return [DensityLayer(grid, area.left, area.top, self.table)]

    def _image(self, layout: ChartLayout, image: np.ndarray, lut: np.ndarray | None) -> list[Layer]:
        area = layout.area
        if image.shape[:2] != (area.height, area.width):  # a stale grid for another size: not drawn
            return []
        return [ImageLayer(image, area.left, area.top, lut)]


AREA_STEPS = 16  # rows per pixel area are coloured in steps of 1/16 of a row


def _rows_per_area(grid: DensityGrid) -> tuple[np.ndarray, float]:
    """What the colours follow, as integers and the row count one step stands for: the counts
    themselves, or (index views, where pixels gather different areas) rows per pixel area in
    fixed point, so the scale keeps its fast integer path. An occupied pixel stays occupied."""
    if grid.area is None:
        return grid.counts, 1.0
    steps = np.rint(grid.density * AREA_STEPS).astype(np.int64)
    return np.where(grid.counts > 0, np.maximum(steps, 1), 0), 1.0 / AREA_STEPS
