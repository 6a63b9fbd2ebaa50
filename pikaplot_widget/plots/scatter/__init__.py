"""The scatter plot: markers for few rows in view, a density image for many."""
