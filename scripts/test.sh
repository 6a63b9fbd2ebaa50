#!/usr/bin/env bash
# Lint, type-check and run every test: unit tests (real DuckDB, real wgpu) and browser tests (JupyterLab + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
.venv/bin/ruff check .
.venv/bin/mypy
# a local Spark Connect server for tests/spark (one already answering on the port is used and left running)
if ! bash scripts/spark_server.sh running; then
  bash scripts/spark_server.sh start
  trap 'bash scripts/spark_server.sh stop' EXIT
fi
export SPARK_REMOTE="${SPARK_REMOTE:-sc://127.0.0.1:15002}"
.venv/bin/python -m pytest tests -q "$@"
