#!/usr/bin/env bash
# scale.py's line zoom benchmark (10M in memory, 100M and 1B rows from Parquet) on the lent GPU
# machine (kind nvidia-h200: 16 cores, one H200), pikaplot rendering with wgpu on the GPU, and
# plotly-resampler on the same files. The two sides need different wheels, so two `run` calls,
# the second within the machine's warm time (the data in /tmp/scale-data survives between them):
#     run("bash benchmarks/device_scale.sh pikaplot", carry=[".gl", ".gpuwheels"])
#     run("bash benchmarks/device_scale.sh peer", carry=[".gpuwheels-peer"])
# .gl/ and .gpuwheels/ as in device_billion.sh; .gpuwheels-peer/ = `pip download --only-binary=:all:
# --python-version 3.12 --platform manylinux_2_28_x86_64 ... plotly-resampler==0.11.1` less numpy
# and pandas (the device has them). Each worker prints one RESULT line (scale.py's JSON) into $OUT.
set -u
command -v nvidia-smi >/dev/null || { echo "run this on the lent GPU machine: it replaces benchmarks/data"; exit 1; }
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/scale-out}
SIDE=${1:-pikaplot}
SIZES=${SIZES:-1e7 1e8 1e9}
mkdir -p "$OUT" /tmp/scale-data
exec > >(tee -a "$OUT/log_$SIDE.txt") 2>&1
step() { echo "== $(date +%T) $*"; }
rm -rf "$HERE/benchmarks/data" && ln -s /tmp/scale-data "$HERE/benchmarks/data"
step "machine"; nproc; free -g | head -2; df -h /tmp | tail -1; python3 -V
if [ "$SIDE" = peer ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/peer-site \
        .gpuwheels-peer/*.whl || exit 1
    export PYTHONPATH=$HERE XDG_RUNTIME_DIR=/tmp PYTHONUNBUFFERED=1
else
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
        .gpuwheels/*.whl || exit 1
    export PYTHONPATH=$HERE:/tmp/site XDG_RUNTIME_DIR=/tmp PYTHONUNBUFFERED=1
fi
cd /tmp
step "data"
python3 "$HERE/benchmarks/datasets.py" --workers 16 $SIZES
for size in $SIZES; do
    n=$(python3 -c "print(int(float('$size')))")
    if [ "$SIDE" = peer ]; then
        configs="plotly-resampler"
        [ "$n" -gt 200000000 ] && continue  # no in-RAM peer at 1B
    elif [ "$n" -gt 200000000 ]; then
        configs="parquet"
    else
        configs="duckdb parquet"
    fi
    for config in $configs; do
        step "$config $n"
        timeout 300 python3 "$HERE/benchmarks/scale.py" --worker "$config" --n "$n" --moves 60 \
            --peer-path /tmp/peer-site | grep '^RESULT ' | sed "s/^RESULT /RESULT $config $n /" |
            tee -a "$OUT/results_$SIDE.txt"
    done
done
step "done"
