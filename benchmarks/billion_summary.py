"""One line per `billion_probe.py --json` file: first look and exact frame, p50/p95, peak RSS by phase.

python benchmarks/billion_summary.py out/x/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def line(path: Path) -> str:
    """The summary of one probe run."""
    r = json.loads(path.read_text())
    s = r.get("summary", {})
    overall = s.get("latency", {})
    phases = ", ".join(f"{k} {v:.0f}" for k, v in r.get("rss_peak_by_phase_mib", {}).items())
    return (
        f"{path.stem:<22} first look {r['first_look_s'] * 1e3:5.0f} ms  exact {r['first_exact_s']:5.2f} s  "
        f"idle {r['index_done_s']:5.1f} s  p50/p95 {overall.get('p50_ms', float('nan')):5.1f} / "
        f"{overall.get('p95_ms', float('nan')):5.1f} ms  peak RSS {r['peak_rss_mib']:5.0f} MiB  "
        f"threads {r['duckdb_threads']}  [{phases}]  row files {r['stats'].get('row_store')}"
    )


if __name__ == "__main__":
    for name in sys.argv[1:]:
        try:
            print(line(Path(name)))
        except (KeyError, ValueError, OSError) as error:
            print(f"{name}: {error!r}")
