"""Plot kinds: each ties the engine (its data) to the renderer (its frames) through a worker."""
