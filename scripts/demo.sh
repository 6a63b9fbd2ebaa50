#!/usr/bin/env bash
# Open the demo notebook in JupyterLab (add --allow-root when running as root, e.g. in a container).
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
extra=()
if [ "$(id -u)" -eq 0 ]; then extra+=(--allow-root); fi
exec .venv/bin/jupyter lab notebooks/demo.ipynb "${extra[@]}" "$@"
