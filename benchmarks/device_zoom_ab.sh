#!/usr/bin/env bash
# Issue 12's 10M-row in-memory zoom A/B on the lent H200 (kind nvidia-h200), in one `run` call:
# ROUNDS rounds, each running three `scale.py --worker` processes in a rotating order: this tree,
# an older tree (OLD, e.g. `mkdir -p .tmp/dev/old && git archive <commit> pikaplot_widget benchmarks
# | tar -x -C .tmp/dev/old`) and plotly-resampler 0.11.1; then first_frame.py at 100M rows once.
# The H200 is another machine on every start (the peer's own p95 moved 3.95-5.02 ms between three
# in one hour), so only sides alternated in one call compare; an A/B under ~20 % needs 10 rounds.
#     run(command="ROUNDS=10 bash benchmarks/device_zoom_ab.sh",
#         carry=[".gl", ".gpuwheels", ".gpuwheels-peer", ".tmp/dev"], timeout_s=600)
# .gl/, .gpuwheels/ and .gpuwheels-peer/ as in device_billion.sh and device_scale.sh (.gpuwheels
# also needs jupyter_rfb, anywidget, ipywidgets and IPython's own pure-Python wheels, jedi left out).
# $OUT gets results.txt (one "ROUND SIDE RESULT {json}" line per run), summary.txt (p50 / p95 ms
# per run, medians per side), first_frame.txt and log.txt.
# Env: ROUNDS (5), N (10000000), BIG (1e8, first_frame's rows), OLD (.tmp/dev/old), BUDGET (570 s
# for everything: rounds stop early rather than starve first_frame), SKIP_SETUP=1 (no .debs, no pip:
# a dry run elsewhere, with SITE / PEER_SITE / PY pointing at prepared folders; each tree keeps its
# own benchmarks/data there).
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
OLD=$(cd "${OLD:-$HERE/.tmp/dev/old}" && pwd)
OUT=${OUT:-/tmp/h200-out}
ROUNDS=${ROUNDS:-5}
N=${N:-10000000}
BIG=${BIG:-1e8}
BUDGET=${BUDGET:-570}
FF_RESERVE=${FF_RESERVE:-75}  # first_frame.py at 100M rows, with its own start-up
SITE=${SITE:-/tmp/site}
PEER_SITE=${PEER_SITE:-/tmp/peer-site}
PY=${PY:-python3}
DATA=${DATA:-/tmp/scale-data}
mkdir -p "$OUT" "$DATA"
exec > >(tee -a "$OUT/log.txt") 2>&1
step() { echo "== $(date +%T) +${SECONDS}s $*"; }

step "machine"
nproc; free -g | head -2; df -h /tmp | tail -1; $PY -V; command -v nvidia-smi >/dev/null && nvidia-smi -L

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    command -v nvidia-smi >/dev/null || { echo "not the GPU machine: it unpacks .debs into /; SKIP_SETUP=1 for a dry run"; exit 1; }
    step "loaders and wheels"
    for f in "$HERE"/.gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    ldconfig -p | grep -E 'libvulkan|libEGL' | head -3
    timeout 150 $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
        "$HERE"/.gpuwheels/*.whl || { echo "pip .gpuwheels failed"; exit 1; }
    timeout 150 $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$PEER_SITE" \
        "$HERE"/.gpuwheels-peer/*.whl || echo "pip .gpuwheels-peer failed: the peer runs will fail"
fi
export XDG_RUNTIME_DIR=/tmp PYTHONUNBUFFERED=1
# the data lives outside the carried folders; both trees' benchmarks/data point at it
# (not in a dry run: there a tree's benchmarks/data may hold files of its own)
if [ "${SKIP_SETUP:-0}" != 1 ]; then
    for tree in "$HERE" "$OLD"; do
        rm -rf "$tree/benchmarks/data" && ln -s "$DATA" "$tree/benchmarks/data"
    done
fi
cd /tmp  # not the checkout's root: python -c would import the package from the working directory

step "gpu"
gpu() {
    PYTHONPATH=$HERE:$SITE timeout 60 $PY -c "import duckdb, wgpu, numpy, pyarrow, pikaplot_widget as pk
print('duckdb', duckdb.__version__, 'wgpu', wgpu.__version__, 'numpy', numpy.__version__,
      'pyarrow', pyarrow.__version__, pk.__file__)
print(pk.gpu_info())"
}
info=$(gpu 2>&1); echo "$info"
if ! grep -q NVIDIA <<<"$info" && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    echo "no NVIDIA adapter: retrying with the driver's ICD files named"
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    info=$(gpu 2>&1); echo "$info"
fi
grep -q NVIDIA <<<"$info" || echo "WARNING: pikaplot does not render on the NVIDIA GPU here"
PYTHONPATH=$OLD:$SITE timeout 60 $PY -c "import pikaplot_widget as pk; print('old code', pk.__file__)"
PYTHONPATH=$HERE timeout 60 $PY -c "import sys; sys.path.append('$PEER_SITE')
import plotly, plotly_resampler, tsdownsample, dash, pandas
print('plotly', plotly.__version__, 'plotly-resampler', plotly_resampler.__version__, 'dash', dash.__version__,
      'pandas', pandas.__version__, plotly_resampler.__file__)"

step "data: datasets.py --workers 16 $N $BIG"
PYTHONPATH=$HERE timeout 180 $PY "$HERE/benchmarks/datasets.py" --workers 16 "$N" "$BIG"
ls -la "$DATA"

one() {  # one ROUND SIDE: a scale.py worker in its own process -> results.txt
    local round=$1 side=$2 t0=$SECONDS rc
    step "round $round: $side"
    case $side in
    current) PYTHONPATH=$HERE:$SITE timeout 120 $PY "$HERE/benchmarks/scale.py" --worker duckdb --n "$N" --moves 60 ;;
    old) PYTHONPATH=$OLD:$SITE timeout 120 $PY "$OLD/benchmarks/scale.py" --worker duckdb --n "$N" --moves 60 ;;
    peer) PYTHONPATH=$HERE timeout 120 $PY "$HERE/benchmarks/scale.py" --worker plotly-resampler --n "$N" \
        --moves 60 --peer-path "$PEER_SITE" ;;
    esac >"/tmp/run_$side.txt" 2>&1
    rc=$?
    cut -c1-600 "/tmp/run_$side.txt"  # the log keeps the head of the RESULT line and any traceback
    grep '^RESULT ' "/tmp/run_$side.txt" | sed "s/^/$round $side /" >>"$OUT/results.txt"
    echo "  rc $rc, $((SECONDS - t0)) s"
}

sides=(current old peer)
longest=0
for ((r = 1; r <= ROUNDS; r++)); do
    if ((SECONDS + longest + FF_RESERVE > BUDGET)); then
        step "stopping before round $r: ${SECONDS}s used, a round takes up to ${longest}s"
        break
    fi
    t0=$SECONDS
    for ((k = 0; k < 3; k++)); do  # the order rotates each round, so no side is always first
        one "$r" "${sides[$(((r - 1 + k) % 3))]}"
    done
    ((SECONDS - t0 > longest)) && longest=$((SECONDS - t0))
done

step "summary"
$PY - "$OUT/results.txt" <<'EOF' | tee "$OUT/summary.txt"
import json, sys
import numpy as np
rows = {}
print(f"{'round':>5} {'side':<8} {'p50':>6} {'p95':>6} {'max':>6} {'query p50':>9} {'render p50':>10} {'exact s':>8} {'RSS MiB':>8}")
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    rnd, side, _, payload = line.split(" ", 3)
    r = json.loads(payload)
    t = np.array(r["latencies"]) * 1e3
    q = np.median(r["queries"]) * 1e3 if r.get("queries") else float("nan")
    d = np.median(r["renders"]) * 1e3 if r.get("renders") else float("nan")
    p50, p95 = np.percentile(t, 50), np.percentile(t, 95)
    rows.setdefault(side, []).append((p50, p95))
    print(f"{rnd:>5} {side:<8} {p50:6.2f} {p95:6.2f} {t.max():6.2f} {q:9.2f} {d:10.2f} {r['exact_s']:8.2f} {r['peak_rss_mib']:8.0f}")
for side, v in rows.items():
    a = np.array(v)
    print(f"{side:<8} runs {len(v)}: median p50 {np.median(a[:, 0]):.2f} ms, median p95 {np.median(a[:, 1]):.2f} ms, "
          f"p95s {' '.join(f'{x:.2f}' for x in a[:, 1])}")
EOF

left=$((BUDGET - SECONDS))
((left > 150)) && left=150
step "first_frame.py --rows $BIG --repeat 3 (timeout ${left}s)"
if ((left > 20)); then
    PYTHONPATH=$HERE:$SITE timeout "$left" $PY "$HERE/benchmarks/first_frame.py" --rows "$BIG" --repeat 3 2>&1 |
        tee "$OUT/first_frame.txt"
else
    echo "no time left for first_frame.py" | tee "$OUT/first_frame.txt"
fi
step "done"
