"""WGSL of the GPU histogram equalisation (see equalize.py for the method and its exactness)."""

from __future__ import annotations

LIMIT = 1 << 20  # counts below this get a bin of their own; larger ones go to the tail list
BLOCK = 1024  # bins scanned per workgroup (256 threads x 4)
BLOCKS = LIMIT // BLOCK
ITEMS = 4  # grid cells per thread in the per-cell passes
TICKS = 5  # colour-bar targets 0, 1/4, ..., 1 (as Scale.ticks)

# stats[] slots
N, TOTAL, MIN, MAX, TAIL_LEN, NMIN, SPAN, DIRECT, OVERFLOW = range(9)
LOWER, UPPER, RANK_LOWER, RANK_UPPER = 9, 14, 19, 24
BINS_SPAN = 29  # bins scanned: whole blocks up to the largest count
STATS = 32
INDIRECT = 8  # u32: workgroups of scan_blocks (x, y, z), then of ticks (x, y, z), 2 spare

EQUALIZE_WGSL = f"""
const LIMIT: u32 = {LIMIT}u;
const BLOCK_SHIFT: u32 = 10u;
const ITEMS: u32 = {ITEMS}u;
const LOCAL_BINS: u32 = 256u;
struct Params {{ width: u32, height: u32, cells: u32, tail_cap: u32 }};
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> blocks: array<u32>;
@group(0) @binding(4) var<storage, read_write> tail: array<u32>;
@group(0) @binding(5) var<storage, read_write> stats: array<atomic<u32>, {STATS}>;
@group(0) @binding(6) var<storage, read_write> index: array<u32>;

@group(1) @binding(0) var<storage, read_write> indirect: array<u32, {INDIRECT}>;

var<workgroup> local_hist: array<atomic<u32>, 256>;
var<workgroup> wg_n: atomic<u32>;
var<workgroup> wg_total: atomic<u32>;
var<workgroup> wg_min: atomic<u32>;
var<workgroup> wg_max: atomic<u32>;
var<workgroup> partial: array<u32, 256>;

// Pass 1: pixels per count value (small values in workgroup memory first), the tail list of
// counts >= LIMIT, and the number, sum, min and max of the occupied pixels.
@compute @workgroup_size(256)
fn histogram(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {{
    atomicStore(&local_hist[li], 0u);
    if (li == 0u) {{
        atomicStore(&wg_n, 0u); atomicStore(&wg_total, 0u);
        atomicStore(&wg_min, 0xffffffffu); atomicStore(&wg_max, 0u);
    }}
    workgroupBarrier();
    for (var k = 0u; k < ITEMS; k++) {{
        let i = wid.x * 256u * ITEMS + k * 256u + li;
        if (i < params.cells) {{
            let v = counts[i];
            if (v > 0u) {{
                atomicAdd(&wg_n, 1u);
                atomicAdd(&wg_total, v);
                atomicMin(&wg_min, v);
                atomicMax(&wg_max, v);
                if (v < LOCAL_BINS) {{
                    atomicAdd(&local_hist[v], 1u);
                }} else if (v < LIMIT) {{
                    atomicAdd(&hist[v], 1u);
                }} else {{
                    let slot = atomicAdd(&stats[{TAIL_LEN}], 1u);
                    if (slot < params.tail_cap) {{ tail[slot] = v; }}
                }}
            }}
        }}
    }}
    workgroupBarrier();
    let h = atomicLoad(&local_hist[li]);
    if (h > 0u) {{ atomicAdd(&hist[li], h); }}
    if (li == 0u) {{
        let n = atomicLoad(&wg_n);
        if (n > 0u) {{
            atomicAdd(&stats[{N}], n);
            atomicAdd(&stats[{TOTAL}], atomicLoad(&wg_total));
            atomicMin(&stats[{MIN}], atomicLoad(&wg_min));
            atomicMax(&stats[{MAX}], atomicLoad(&wg_max));
        }}
    }}
}}

// Pass 1b (one thread): how many blocks of bins hold counts that occur, and the workgroups of the
// passes over them (dispatched indirectly: a view whose counts stay small scans few bins).
@compute @workgroup_size(1)
fn plan() {{
    let bins = min(atomicLoad(&stats[{MAX}]), LIMIT - 1u) + 1u;
    let blocks_needed = (bins + (1u << BLOCK_SHIFT) - 1u) >> BLOCK_SHIFT;
    let span = blocks_needed << BLOCK_SHIFT;
    atomicStore(&stats[{BINS_SPAN}], span);
    indirect[0] = blocks_needed; indirect[1] = 1u; indirect[2] = 1u;
    indirect[3] = (span + params.tail_cap + 255u) / 256u; indirect[4] = 1u; indirect[5] = 1u;
}}

// Inclusive scan of partial[0..256) in place (all 256 threads call it).
fn scan_partial(li: u32) {{
    for (var offset = 1u; offset < 256u; offset = offset * 2u) {{
        var add = 0u;
        if (li >= offset) {{ add = partial[li - offset]; }}
        workgroupBarrier();
        partial[li] = partial[li] + add;
        workgroupBarrier();
    }}
}}

// Pass 2: inclusive prefix sums within each block of 1024 bins; block totals into blocks[].
@compute @workgroup_size(256)
fn scan_blocks(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {{
    let base = (wid.x << BLOCK_SHIFT) + li * 4u;
    let a0 = atomicLoad(&hist[base]);
    let a1 = a0 + atomicLoad(&hist[base + 1u]);
    let a2 = a1 + atomicLoad(&hist[base + 2u]);
    let a3 = a2 + atomicLoad(&hist[base + 3u]);
    partial[li] = a3;
    workgroupBarrier();
    scan_partial(li);
    var before = 0u;
    if (li > 0u) {{ before = partial[li - 1u]; }}
    atomicStore(&hist[base], a0 + before);
    atomicStore(&hist[base + 1u], a1 + before);
    atomicStore(&hist[base + 2u], a2 + before);
    atomicStore(&hist[base + 3u], a3 + before);
    if (li == 255u) {{ blocks[wid.x] = partial[255]; }}
}}

// Pass 3 (one workgroup): block totals -> exclusive block offsets (blocks past the scanned ones
// hold stale totals: they only shift offsets that are never read).
@compute @workgroup_size(256)
fn scan_offsets(@builtin(local_invocation_index) li: u32) {{
    let base = li * 4u;
    let b0 = blocks[base];
    let b1 = b0 + blocks[base + 1u];
    let b2 = b1 + blocks[base + 2u];
    let b3 = b2 + blocks[base + 3u];
    partial[li] = b3;
    workgroupBarrier();
    scan_partial(li);
    var before = 0u;
    if (li > 0u) {{ before = partial[li - 1u]; }}
    blocks[base] = before;
    blocks[base + 1u] = b0 + before;
    blocks[base + 2u] = b1 + before;
    blocks[base + 3u] = b2 + before;
}}

// Occupied pixels with a count <= v, for v < LIMIT.
fn cum(v: u32) -> u32 {{
    return atomicLoad(&hist[v]) + blocks[v >> BLOCK_SHIFT];
}}

fn tail_at_most(v: u32) -> u32 {{
    let t = min(atomicLoad(&stats[{TAIL_LEN}]), params.tail_cap);
    var c = 0u;
    for (var j = 0u; j < t; j++) {{ if (tail[j] <= v) {{ c++; }} }}
    return c;
}}

// Occupied pixels with a count <= v (v a count that occurs).
fn rank(v: u32) -> u32 {{
    if (v < LIMIT) {{ return cum(v); }}
    return atomicLoad(&stats[{DIRECT}]) + tail_at_most(v);
}}

// Pass 4 (one thread): pixels at the smallest count, and the span of ranks above them.
@compute @workgroup_size(1)
fn finish() {{
    let n = atomicLoad(&stats[{N}]);
    let tail_len = atomicLoad(&stats[{TAIL_LEN}]);
    if (tail_len > params.tail_cap) {{ atomicStore(&stats[{OVERFLOW}], 1u); }}
    atomicStore(&stats[{DIRECT}], n - tail_len);
    var nmin = 0u;
    if (n > 0u) {{
        let lo = atomicLoad(&stats[{MIN}]);
        if (lo < LIMIT) {{
            nmin = cum(lo);
        }} else {{
            let t = min(tail_len, params.tail_cap);
            for (var j = 0u; j < t; j++) {{ if (tail[j] == lo) {{ nmin++; }} }}
        }}
    }}
    atomicStore(&stats[{NMIN}], nmin);
    atomicStore(&stats[{SPAN}], n - nmin);
}}

// Pass 5: per colour-bar target k/4, the largest count at or below it and the smallest at or
// above it (positions are (rank - nmin) / span, compared in integers).
@compute @workgroup_size(256)
fn ticks(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let i = gid.x;
    let n = atomicLoad(&stats[{N}]);
    if (n == 0u) {{ return; }}
    let bins_span = atomicLoad(&stats[{BINS_SPAN}]);
    var v = 0u;
    var r = 0u;
    if (i < bins_span) {{
        v = i;
        if (v == 0u || v < atomicLoad(&stats[{MIN}]) || v > atomicLoad(&stats[{MAX}])) {{ return; }}
        r = cum(v);
        if (r == cum(v - 1u)) {{ return; }}  // no pixel has this count
    }} else {{
        let j = i - bins_span;
        if (j >= min(atomicLoad(&stats[{TAIL_LEN}]), params.tail_cap)) {{ return; }}
        v = tail[j];
        r = rank(v);
    }}
    let x = 4u * (r - atomicLoad(&stats[{NMIN}]));
    let span = atomicLoad(&stats[{SPAN}]);
    for (var k = 0u; k < {TICKS}u; k++) {{
        if (x <= k * span) {{ atomicMax(&stats[{LOWER}u + k], v); }}
        if (x >= k * span) {{ atomicMin(&stats[{UPPER}u + k], v); }}
    }}
}}

// Pass 6 (one thread): the ranks of those counts, for the colour bar's positions.
@compute @workgroup_size(1)
fn tick_ranks() {{
    if (atomicLoad(&stats[{N}]) == 0u) {{ return; }}
    for (var k = 0u; k < {TICKS}u; k++) {{
        atomicStore(&stats[{RANK_LOWER}u + k], rank(atomicLoad(&stats[{LOWER}u + k])));
        atomicStore(&stats[{RANK_UPPER}u + k], rank(atomicLoad(&stats[{UPPER}u + k])));
    }}
}}

// Colour-map index (0-255) of a pixel's count, rounded half up as the CPU scale does.
fn colour_index(v: u32) -> u32 {{
    let span = atomicLoad(&stats[{SPAN}]);
    if (span == 0u) {{ return 255u; }}
    let num = 255u * (rank(v) - atomicLoad(&stats[{NMIN}]));
    let q = num / span;
    return q + select(0u, 1u, 2u * (num - q * span) >= span);
}}

// Pass 7: per pixel, index + 1 (0: empty) as 16-bit halves, rows flipped so row 0 is the top.
@compute @workgroup_size(256)
fn colour(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {{
    for (var k = 0u; k < ITEMS; k++) {{
        let word = wid.x * 256u * ITEMS + k * 256u + li;
        var packed = 0u;
        for (var half = 0u; half < 2u; half++) {{
            let out = word * 2u + half;
            if (out < params.cells) {{
                let row = out / params.width;
                let col = out - row * params.width;
                let v = counts[(params.height - 1u - row) * params.width + col];
                if (v > 0u) {{ packed = packed | ((colour_index(v) + 1u) << (16u * half)); }}
            }}
        }}
        if (word * 2u < params.cells) {{ index[word] = packed; }}
    }}
}}
"""
