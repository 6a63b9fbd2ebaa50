#!/usr/bin/env bash
# Lint, type-check and run every test: unit tests (real DuckDB, real wgpu) and browser tests (JupyterLab + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest tests -q "$@"
