"""Drawable layers, one job each: rectangles, lines, markers, points, images, text."""
