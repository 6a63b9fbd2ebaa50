"""The line index file cannot be written (disk full, here a file size limit in a child process): the
plot reports `index_error`, its views read the rows and equal numpy's, the session's catalog still
works, and a later plot keeps its index in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, tempfile, time
    import numpy as np, pyarrow as pa
    import pikaplot_widget as pk
    from pikaplot_widget.engine import index_files
    tempfile.tempdir = sys.argv[1]
    index_files.in_memory_filesystem = lambda directory: False
    n = 2_000_000
    rng = np.random.default_rng(3)
    x = rng.permutation(n).astype(np.float64)
    y = np.cumsum(rng.normal(size=n))
    table = pa.table({"x": x, "y": y})
    session = pk.Session()
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), hard))
    out = []
    for _ in range(int(sys.argv[3])):
        plot = pk.line(table, x="x", y="y", session=session, width=1920, height=120)
        plot.to_array(timeout=60)
        deadline = time.monotonic() + 60
        while plot.stats["index_s"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        views = []
        for lo, hi in ((1.0, n - 2.0), (1000.0, 90000.0)):
            plot.x_range = (lo, hi)
            plot.to_array(timeout=60)
            data = plot.controller.data
            inside = y[(x >= lo) & (x <= hi)]
            views.append([bool(data.y_min_in_view == inside.min()), bool(data.y_max_in_view == inside.max())])
        out.append({"error": plot.stats["index_error"], "levels": plot.stats["index_levels"],
                    "index_s": plot.stats["index_s"], "views": views})
    catalog = session.connection.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
    path = session.connection.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = 'pikaplot_index'").fetchone()
    print(json.dumps({"plots": out, "catalog": catalog, "path": path[0] if path else "none"}))
    session.close()
    """
)


def _run(folder: str, limit: int, plots: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, folder, str(limit), str(plots)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE on Linux")
def test_a_full_disk_at_the_checkpoint_leaves_the_catalog_working(tmp_path):
    """3 MB: the first plot's index fits; the second's CHECKPOINT cannot write the file and DuckDB
    invalidates the database (which then fails every catalog query of the session's)."""
    result = _run(str(tmp_path), 3_000_000, 3)
    first, second, third = result["plots"]
    assert first["error"] == "" and first["levels"] >= 1
    assert "Checkpoint failed" in second["error"] or "File too large" in second["error"]
    assert second["levels"] == 0 and second["index_s"] > 0
    assert third["error"] == "" and third["levels"] >= 1  # kept in memory from then on
    assert result["path"] is None  # the in-memory database
    for plot in (first, second, third):
        assert plot["views"] == [[True, True], [True, True]]
    assert result["catalog"] >= 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE on Linux")
def test_a_full_disk_at_the_first_write_is_reported(tmp_path):
    """20 kB: the database's header fits, its WAL does not: each build fails at its commit."""
    result = _run(str(tmp_path), 20_000, 2)
    for plot in result["plots"]:
        assert "File too large" in plot["error"] and plot["levels"] == 0 and plot["index_s"] > 0
        assert plot["views"] == [[True, True], [True, True]]
