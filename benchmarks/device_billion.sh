#!/usr/bin/env bash
# The 1B-row line benchmark (issue 12's row "line, 1B rows, Parquet") on the lent GPU machine
# (kind nvidia-h200: 16 cores, 128 GiB, one H200), from a bare machine in one `run` call.
#
# Here, once: the Vulkan/EGL loader .debs in .gl/ and the wheels the device's Python 3.12 lacks in
# .gpuwheels/ (see /work/.library/device/README.md; both ignored), and the code to measure copied
# into an ignored folder of the checkout the device tool sends, e.g.
#     mkdir -p .tmp/billion && git -C <worktree> archive HEAD pikaplot_widget benchmarks | tar -x -C .tmp/billion
# then   run(command="bash .tmp/billion/benchmarks/device_billion.sh [steps]",
#            carry=[".gl", ".gpuwheels", ".tmp/billion"], timeout_s=600)
# Steps (default "data scale probe"): data = generate walk_1000000000.parquet on 16 threads;
# scale = benchmarks/scale.py --sizes 1e9 --moves 60 at defaults; probe = billion_probe.py at defaults
# with its experiments; tuned = scale.py with --memory-limit 768MB; experiments = billion_probe.py
# with one change each (experiments.tar.gz). Everything lands in $OUT.
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/billion-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
step() { echo "== $(date +%T) $*"; }
STEPS=${*:-data scale probe}

command -v nvidia-smi >/dev/null || { echo "run this on the lent GPU machine: it replaces benchmarks/data"; exit 1; }
step "machine"
nproc; free -g | head -2; df -h /tmp | tail -1; python3 -V; nvidia-smi -L
step "loaders and wheels"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .gpuwheels/*.whl || exit 1
export PYTHONPATH=$HERE:/tmp/site XDG_RUNTIME_DIR=/tmp PYTHONUNBUFFERED=1
# The data lives outside the carried folder (a carried path is replaced on every call): it survives
# between calls while the machine stays warm.
mkdir -p /tmp/billion-data && rm -rf "$HERE/benchmarks/data" && ln -s /tmp/billion-data "$HERE/benchmarks/data"
cd /tmp  # not the checkout's root: python -c would import the package from there
python3 -c "import duckdb, pyarrow, numpy, psutil, wgpu, pikaplot_widget as pk
print('duckdb', duckdb.__version__, 'pyarrow', pyarrow.__version__, 'numpy', numpy.__version__,
      'wgpu', wgpu.__version__, pk.__file__); print(pk.gpu_info())" || exit 1

probe() {  # one billion_probe.py run: probe NAME ARGS... -> $OUT/x/NAME.json and .txt
    local name=$1
    shift
    timeout 100 python3 "$HERE/benchmarks/billion_probe.py" --n 1e9 --moves 60 "$@" --json "$OUT/x/$name.json" \
        >"$OUT/x/$name.txt" 2>&1
    echo "$name rc $?"
}

for s in $STEPS; do
    case $s in
    data)
        step "data: datasets.py --workers 16 1e9"
        /usr/bin/time -v python3 "$HERE/benchmarks/datasets.py" --workers 16 1e9 2>&1 |
            grep -E "parquet|Elapsed|Maximum resident" ;;
    scale)
        step "scale.py --sizes 1e9 --moves 60 (defaults)"
        timeout 280 python3 "$HERE/benchmarks/scale.py" --sizes 1e9 --moves 60 | tee "$OUT/scale_defaults.txt" ;;
    probe)
        step "billion_probe.py (defaults) with --decode --level0-numpy --scan"
        timeout 280 python3 "$HERE/benchmarks/billion_probe.py" --n 1e9 --moves 60 --decode --level0-numpy \
            --scan --json "$OUT/probe_defaults.json" > "$OUT/probe_defaults.txt"
        echo "rc $?"; grep -E '"(first|index_done|peak_rss|duckdb_(threads|memory)|p50|p95)' "$OUT/probe_defaults.txt" | head -40 ;;
    tuned)
        step "scale.py --sizes 1e9 --moves 60 --memory-limit 768MB (tuned)"
        timeout 280 python3 "$HERE/benchmarks/scale.py" --sizes 1e9 --moves 60 --memory-limit 768MB |
            tee "$OUT/scale_tuned.txt" ;;
    probe-tuned)
        step "billion_probe.py --memory-limit 768MB"
        timeout 280 python3 "$HERE/benchmarks/billion_probe.py" --n 1e9 --moves 60 --memory-limit 768MB \
            --json "$OUT/probe_tuned.json" > "$OUT/probe_tuned.txt"; echo "rc $?" ;;
    experiments)  # diagnosis: what each change does to time and memory (one process each)
        step "experiments"
        mkdir -p "$OUT/x"
        lean="--set enable_external_file_cache=false --set allocator_flush_threshold=16MB"
        lean="$lean --set allocator_background_threads=true"
        probe defaults_profiled --profile-deep --decode
        probe checkpoint --checkpoint
        probe no_file_cache --set enable_external_file_cache=false
        probe allocator --set allocator_flush_threshold=16MB --set allocator_background_threads=true
        probe threads8 --threads 8
        probe lean_checkpoint --checkpoint $lean
        probe lean_checkpoint_threads8 --checkpoint --threads 8 $lean
        probe lean_checkpoint_l0numpy --checkpoint --in-memory-mib 512 $lean
        probe rows1024_l0numpy --checkpoint --rows-per-bucket 1024 --in-memory-mib 512 $lean
        tar -czf "$OUT/experiments.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments2)  # Parquet metadata cache; the level-0 build in x-range chunks
        step "experiments2"
        mkdir -p "$OUT/x"
        lean="--checkpoint --set allocator_flush_threshold=16MB --set allocator_background_threads=true"
        probe meta --set parquet_metadata_cache=true --decode
        probe meta_l0numpy --set parquet_metadata_cache=true --in-memory-mib 512
        probe meta_lean_threads8 --set parquet_metadata_cache=true --threads 8 $lean
        probe meta_lean_threads12 --set parquet_metadata_cache=true --threads 12 $lean
        timeout 150 python3 "$HERE/benchmarks/index_build_memory.py" --n 1e9 --chunks 1,16 | tee "$OUT/x/build.txt"
        tar -czf "$OUT/experiments2.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments3)  # the level-0 build in 16 x-range chunks, compressed, with fewer threads
        step "experiments3"
        mkdir -p "$OUT/x"
        alloc="--set allocator_flush_threshold=16MB --set allocator_background_threads=true"
        probe defaults
        probe chunked --chunked-build 16 --checkpoint
        probe chunked_alloc_meta --chunked-build 16 --checkpoint $alloc --set parquet_metadata_cache=true
        probe chunked_alloc_threads8 --chunked-build 16 --checkpoint $alloc --threads 8
        tar -czf "$OUT/experiments3.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments4)  # with the row files: where the peak is, and limits/threads beside the chunked build
        step "experiments4"
        mkdir -p "$OUT/x"
        probe defaults
        probe chunked --chunked-build 16 --checkpoint
        probe chunked_limit1g --chunked-build 16 --checkpoint --memory-limit 1GB
        probe chunked_threads12 --chunked-build 16 --checkpoint --threads 12
        probe chunked_limit768 --chunked-build 16 --checkpoint --memory-limit 768MB
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments4.txt"
        tar -czf "$OUT/experiments4.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments5)  # the index build and the row files apart
        step "experiments5"
        mkdir -p "$OUT/x"
        probe defaults
        probe chunked_limit768 --chunked-build 16 --checkpoint --memory-limit 768MB
        probe limit768 --memory-limit 768MB
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments5.txt"
        tar -czf "$OUT/experiments5.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments6)  # the first look with and without DuckDB's Parquet metadata cache, alternating
        step "experiments6"
        mkdir -p "$OUT/x"
        for i in 1 2; do
            probe "defaults_$i" --moves 20
            probe "meta_$i" --moves 20 --set parquet_metadata_cache=true
        done
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments6.txt"
        tar -czf "$OUT/experiments6.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments7)  # the first look from row-group bounds; fewer DuckDB threads against the 1 GB floor
        step "experiments7"
        mkdir -p "$OUT/x"
        probe defaults_1 --moves 20
        probe defaults_2 --moves 20
        probe threads8 --moves 20 --threads 8
        probe threads8_limit768 --moves 20 --threads 8 --memory-limit 768MB
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments7.txt"
        tar -czf "$OUT/experiments7.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments8)  # lower memory limits against the 1 GB floor; 100M rows at the same limits
        step "experiments8"
        mkdir -p "$OUT/x"
        probe limit640 --moves 20 --memory-limit 640MB
        probe limit512 --moves 20 --memory-limit 512MB
        probe limit640_no_file_cache --moves 20 --memory-limit 640MB --set enable_external_file_cache=false
        probe threads12_limit640 --moves 20 --threads 12 --memory-limit 640MB
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments8.txt"
        tar -czf "$OUT/experiments8.tar.gz" -C "$OUT" x && rm -rf "$OUT/x"
        python3 "$HERE/benchmarks/datasets.py" --workers 16 1e8
        for limit in default 640MB 512MB; do
            extra=""; [ "$limit" = default ] || extra="--memory-limit $limit"
            echo "limit $limit" | tee -a "$OUT/experiments8_100m.txt"
            timeout 150 python3 "$HERE/benchmarks/scale.py" --worker parquet --n 100000000 --moves 60 $extra |
                grep '^RESULT' | python3 -c "import json, sys, numpy as np
r = json.loads(sys.stdin.read()[7:]); t = np.array(r['latencies']) * 1e3
print(f\"p50 {np.percentile(t, 50):.1f} p95 {np.percentile(t, 95):.1f} ms, peak {r['peak_rss_mib']:.0f} MiB,\",
      {k: r[k] for k in ('exact_s', 'scan_s', 'idle_s', 'row_store') if k in r})" | tee -a "$OUT/experiments8_100m.txt"
        done ;;
    experiments9)  # the new defaults (512 MiB floor, 8 MiB a thread; 1 GiB for one-statement builds)
        step "experiments9"
        mkdir -p "$OUT/x"
        probe defaults --moves 60
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments9.txt"
        tar -czf "$OUT/experiments9.tar.gz" -C "$OUT" x && rm -rf "$OUT/x"
        python3 "$HERE/benchmarks/datasets.py" --workers 16 1e8
        timeout 200 python3 "$HERE/benchmarks/memory_defaults.py" --rows 1e8 --no-peer --plots 2 |
            tee "$OUT/experiments9_two_plots.txt"
        timeout 120 python3 -c "
import time, pikaplot_widget as pk
p = '$HERE/benchmarks/data/walk_100000000.parquet'
t = time.perf_counter()
plot = pk.line(f\"SELECT x, y FROM read_parquet('{p}') WHERE y = y\", x='x', y='y', width=800, height=400)
plot.to_array(timeout=600); plot.controller.wait_idle(600)
s = plot.stats
print('SQL text 100M (one statement):', round(time.perf_counter() - t, 2), 's to idle; index levels',
      s['index_levels'], 'error', repr(s['index_error']), 'limit', pk.default_session().memory_limit)
" | tee -a "$OUT/experiments9.txt" ;;
    experiments10)  # the new default twice beside a 1 GiB limit (the old floor), 60 views each
        step "experiments10"
        mkdir -p "$OUT/x"
        probe defaults_a --moves 60
        probe limit1g --moves 60 --memory-limit 1GiB
        probe defaults_b --moves 60
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments10.txt"
        tar -czf "$OUT/experiments10.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments11)  # the index database in a file (its tables no longer raise the limit), twice, beside 384 MiB
        step "experiments11"
        mkdir -p "$OUT/x"
        probe defaults_a --moves 60
        probe limit384 --moves 60 --memory-limit 384MiB
        probe defaults_b --moves 60
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments11.txt"
        tar -czf "$OUT/experiments11.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments12)  # DuckDB's allocator: flush threshold and background threads (the row-file pass peaks)
        step "experiments12"
        mkdir -p "$OUT/x"
        probe defaults --moves 60
        probe flush32 --moves 60 --set allocator_flush_threshold=32MiB
        probe background --moves 60 --set allocator_background_threads=true
        probe flush32_background --moves 60 --set allocator_flush_threshold=32MiB --set allocator_background_threads=true
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments12.txt"
        tar -czf "$OUT/experiments12.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments13)  # the 384 MiB floor with the index in a file: 1B twice, then 100M with two plots
        step "experiments13"
        mkdir -p "$OUT/x"
        probe defaults_a --moves 60
        probe defaults_b --moves 60
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments13.txt"
        tar -czf "$OUT/experiments13.tar.gz" -C "$OUT" x && rm -rf "$OUT/x"
        python3 "$HERE/benchmarks/datasets.py" --workers 16 1e8
        timeout 200 python3 "$HERE/benchmarks/memory_defaults.py" --rows 1e8 --no-peer --plots 2 |
            tee "$OUT/experiments13_two_plots.txt" ;;
    experiments14)  # the row-file pass in ranges of row groups (its DuckDB threads no longer decode far ahead)
        step "experiments14"
        mkdir -p "$OUT/x"
        probe defaults_a --moves 60
        probe defaults_b --moves 60
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments14.txt"
        tar -czf "$OUT/experiments14.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments15)  # the row-file pass's range size: 4, 8 (the default now), 16 row groups
        step "experiments15"
        mkdir -p "$OUT/x"
        probe pass4 --moves 60 --pass-row-groups 4
        probe pass8 --moves 60
        probe pass16 --moves 60 --pass-row-groups 16
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments15.txt"
        tar -czf "$OUT/experiments15.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    experiments16)  # defaults after the fine level 0 (not used at 1B) and level merges by slices
        step "experiments16"
        mkdir -p "$OUT/x"
        probe defaults16a --moves 60 --scan
        probe defaults16b --moves 60
        python3 "$HERE/benchmarks/billion_summary.py" "$OUT"/x/*.json | tee "$OUT/experiments16.txt"
        tar -czf "$OUT/experiments16.tar.gz" -C "$OUT" x && rm -rf "$OUT/x" ;;
    firstexact | firstexact-before)  # first_frame.py: scan vs first exact frame at 100M and 1B rows
        step "$s"
        code=$HERE; [ "$s" = firstexact-before ] && code=$HERE/before
        for rows in 1e8 1e9; do
            PYTHONPATH=$code:/tmp/site timeout 200 python3 "$HERE/benchmarks/first_frame.py" --rows $rows --repeat 3 |
                tee -a "$OUT/$s.txt"
        done ;;
    firstlook)  # the sampled windows of the first look, alone
        step "first_look_probe.py"
        timeout 120 python3 "$HERE/benchmarks/first_look_probe.py" --n 1e9 | cut -c1-400 | tee "$OUT/first_look.txt" ;;
    esac
done
step "done"
