"""One frame of a 2D chart: layout, axes, legend."""
