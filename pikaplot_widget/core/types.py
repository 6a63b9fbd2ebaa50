"""Small value types shared across the package."""

from __future__ import annotations

from dataclasses import dataclass

Size = tuple[int, int, float]  # physical width, height and the pixel ratio of a frame
ViewBox = tuple[float, float, float, float]  # x0, x1, y0, y1 in axis units


@dataclass(frozen=True)
class Labels:
    """Text around a plot."""

    title: str = ""
    x_label: str = ""
    y_label: str = ""
