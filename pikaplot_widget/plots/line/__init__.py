"""The line plot: M4 per pixel column, a line index, y fitted to the view."""
