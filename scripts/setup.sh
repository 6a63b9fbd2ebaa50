#!/usr/bin/env bash
# Set up everything pikaplot_widget needs on a fresh Debian/Ubuntu machine (run from the repo root).
#   system: Mesa's Vulkan driver (wgpu's CPU adapter when there is no GPU), Chromium (browser tests)
#   python: a virtual environment in .venv with the package (editable) and its test tools
#   front end: esbuild bundles js/ into pikaplot_widget/static/ (Node.js is needed only for this)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  # fonts-droid-fallback (1.8 MB download): CJK glyphs for labels; without it they are drawn as boxes
  packages=(mesa-vulkan-drivers libvulkan1 chromium fonts-droid-fallback)
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -d .venv ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# the Spark tests' local Spark Connect server (pyspark + Java 17; the kernel itself needs only the client)
bash scripts/spark_server.sh install

if command -v npm >/dev/null 2>&1; then
  npm install --no-audit --no-fund --silent
  npm run --silent build
fi
echo "setup done: $(.venv/bin/python -c 'import pikaplot_widget as pk; i = pk.gpu_info(); print(i["device"], "/", i["backend"])')"
