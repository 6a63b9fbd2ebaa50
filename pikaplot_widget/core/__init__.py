"""Pure, dependency-light parts: viewport, ticks, colours and colour maps, downsampling, small types."""
