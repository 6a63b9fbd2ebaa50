"""The memory monitor: container-aware usage (fake cgroup v1/v2 trees), cooldowns, and DuckDB's limit
lowered under pressure and restored step by step afterwards (a real session, an injected clock)."""

from __future__ import annotations

import gc
from pathlib import Path

import duckdb
import psutil
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine.session import live_sessions
from pikaplot_widget.plots.evictors import (
    MIN_DUCKDB_LIMIT,
    lower_duckdb_limits,
    parse_duckdb_size,
    register_shared_evictors,
    restore_duckdb_limits,
)
from pikaplot_widget.runtime.memory import (
    PressureMonitor,
    available_memory,
    cgroup_memory,
    host_usage,
    memory_budget,
    monitor,
    system_usage,
)

GiB, MiB = 2**30, 2**20
V1_UNLIMITED = "9223372036854771712"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write `files` (relative path: content) under `root`."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture
def quiet_monitor():
    """The global monitor with its background checks paused and its configuration put back afterwards."""
    was_running = monitor.running
    monitor.stop()
    original = (monitor.thresholds, monitor.target, monitor.reader, monitor.clock, monitor.restore_after)
    try:
        yield monitor
    finally:
        thresholds, target, reader, clock, restore_after = original
        monitor.configure(
            thresholds=thresholds, target=target, reader=reader, clock=clock, restore_after=restore_after
        )
        while restore_duckdb_limits() > 0:  # other live sessions the test lowered: all the way back
            pass
        if was_running:
            monitor.start()


# ---- cgroup readers -------------------------------------------------------------------------


def test_cgroup_v2_limit_of_the_pod_governs_usage_available_and_budget(tmp_path):
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text("0::/kubepods/pod1/container\n")
    write_tree(
        tmp_path / "cgroup",
        {
            "kubepods/pod1/container/memory.max": "max\n",  # the container itself: no limit
            "kubepods/pod1/container/memory.current": "123\n",
            "kubepods/pod1/memory.max": f"{2 * GiB}\n",  # the pod: 2 GiB
            "kubepods/pod1/memory.current": f"{1800 * MiB}\n",
            "kubepods/pod1/memory.stat": f"anon 1\ninactive_file {264 * MiB}\nactive_file 5\n",
        },
    )
    root = tmp_path / "cgroup"
    groups = cgroup_memory(root, proc)
    assert [(g.path, g.limit, g.current) for g in groups] == [(root / "kubepods/pod1", 2 * GiB, 1536 * MiB)]
    usage = system_usage(root, proc)
    assert usage >= 0.75 and usage == pytest.approx(max(0.75, host_usage()), abs=0.01)  # 1536 / 2048
    assert available_memory(root, proc) == min(psutil.virtual_memory().available, 512 * MiB)
    assert memory_budget(root, proc) == min(psutil.virtual_memory().total, 2 * GiB)


def test_cgroup_v2_nested_limits_take_the_tightest_of_each(tmp_path):
    proc = tmp_path / "cgroup.txt"
    proc.write_text("0::/a/b\n")
    root = tmp_path / "fs"
    write_tree(
        root,
        {
            "a/b/memory.max": f"{4 * GiB}",
            "a/b/memory.current": f"{1 * GiB}",  # 25 %, 3 GiB left
            "a/memory.max": f"{2 * GiB}",
            "a/memory.current": f"{1843 * MiB}",  # 90 %, 205 MiB left
        },
    )
    assert system_usage(root, proc) == pytest.approx(max(1843 / 2048, host_usage()), abs=0.01)
    assert available_memory(root, proc) == min(psutil.virtual_memory().available, 205 * MiB)
    assert memory_budget(root, proc) == min(psutil.virtual_memory().total, 2 * GiB)


def test_cgroup_v2_without_a_limit_falls_back_to_the_host(tmp_path):
    proc = tmp_path / "cgroup.txt"
    proc.write_text("0::/\n")
    write_tree(tmp_path, {"memory.max": "max\n", "memory.current": f"{10 * GiB}\n"})
    assert cgroup_memory(tmp_path, proc) == []
    vm = psutil.virtual_memory()
    assert system_usage(tmp_path, proc) == pytest.approx(vm.percent / 100, abs=0.05)
    assert available_memory(tmp_path, proc) == pytest.approx(vm.available, rel=0.05)
    assert memory_budget(tmp_path, proc) == vm.total


def test_cgroup_limit_above_the_host_leaves_the_host_total_as_budget(tmp_path):
    proc = tmp_path / "cgroup.txt"
    proc.write_text("0::/\n")
    total = psutil.virtual_memory().total
    write_tree(tmp_path, {"memory.max": str(10 * total), "memory.current": str(total // 100)})
    (group,) = cgroup_memory(tmp_path, proc)
    assert group.share == pytest.approx(0.001)
    assert memory_budget(tmp_path, proc) == total
    assert system_usage(tmp_path, proc) == pytest.approx(host_usage(), abs=0.05)


def test_cgroup_v1_limit_usage_and_unlimited_sentinel(tmp_path):
    proc = tmp_path / "cgroup.txt"
    proc.write_text("12:pids:/docker/abc\n4:cpu,memory:/docker/abc\n0::/docker/abc\n")
    write_tree(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": V1_UNLIMITED,  # the host's root: unlimited
            "memory/memory.usage_in_bytes": str(50 * GiB),
            "memory/docker/abc/memory.limit_in_bytes": f"{1 * GiB}\n",
            "memory/docker/abc/memory.usage_in_bytes": f"{900 * MiB}\n",
            "memory/docker/abc/memory.stat": f"cache 7\ninactive_file 3\ntotal_inactive_file {100 * MiB}\n",
        },
    )
    groups = cgroup_memory(tmp_path, proc)
    assert [(g.limit, g.current) for g in groups] == [(1 * GiB, 800 * MiB)]
    assert system_usage(tmp_path, proc) == pytest.approx(max(800 / 1024, host_usage()), abs=0.01)
    assert available_memory(tmp_path, proc) == min(psutil.virtual_memory().available, 224 * MiB)
    assert memory_budget(tmp_path, proc) == min(psutil.virtual_memory().total, 1 * GiB)


def test_cgroup_v1_outside_the_namespace_reads_the_mount_root(tmp_path):
    """Docker without a cgroup namespace: /proc says /docker/abc, but the container sees its own cgroup
    at the mount root."""
    proc = tmp_path / "cgroup.txt"
    proc.write_text("4:memory:/docker/abc\n")
    write_tree(
        tmp_path,
        {"memory/memory.limit_in_bytes": f"{512 * MiB}", "memory/memory.usage_in_bytes": f"{384 * MiB}"},
    )
    assert [(g.limit, g.current) for g in cgroup_memory(tmp_path, proc)] == [(512 * MiB, 384 * MiB)]
    assert memory_budget(tmp_path, proc) == min(psutil.virtual_memory().total, 512 * MiB)


@pytest.mark.parametrize(
    "files",
    [
        {},  # no cgroup files at all
        {"memory.max": f"{GiB}"},  # a limit without usage
        {"memory.current": f"{GiB}"},  # usage without a limit
        {"memory.max": "", "memory.current": "garbage"},
        {"memory/memory.limit_in_bytes": V1_UNLIMITED, "memory/memory.usage_in_bytes": "1"},
    ],
)
def test_missing_or_unlimited_cgroup_files_mean_no_limit(tmp_path, files):
    proc = tmp_path / "cgroup.txt"
    proc.write_text("4:memory:/\n0::/\n")
    write_tree(tmp_path, files)
    assert cgroup_memory(tmp_path, proc) == []
    assert memory_budget(tmp_path, proc) == psutil.virtual_memory().total


def test_no_proc_cgroup_file_or_a_path_outside_the_namespace(tmp_path):
    assert cgroup_memory(tmp_path, tmp_path / "missing") == []
    proc = tmp_path / "cgroup.txt"
    proc.write_text("0::/../../elsewhere\n")
    write_tree(tmp_path, {"memory.max": f"{GiB}", "memory.current": f"{GiB // 4}"})
    assert [g.path for g in cgroup_memory(tmp_path, proc)] == [tmp_path]


def test_the_real_reader_is_a_share_and_the_budget_fits_the_host():
    assert 0.0 < system_usage() <= 1.5
    assert 0 < available_memory() <= memory_budget() <= psutil.virtual_memory().total


# ---- DuckDB sizes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("256.0 MiB", 256 * MiB),
        ("2.9 GiB", 2 * GiB + 922 * MiB),  # 9/10 of 1024 MiB, rounded up: 922
        ("15.6 GiB", 15 * GiB + 615 * MiB),
        ("500.0 KiB", 500 * 1024),
        ("3.7 GB", 3_700_000_000),
        ("0 bytes", 0),
    ],
)
def test_parse_duckdb_size(text, expected):
    assert parse_duckdb_size(text) == expected


def test_parsed_sizes_print_as_duckdb_printed_them_and_stay_within():
    con = duckdb.connect()
    for limit in ("3000MiB", "16029MiB", "4GB", "123456789B", "700KiB", "1.5GiB"):
        con.execute("SET memory_limit = ?", [limit])
        text = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        con.execute("SET memory_limit = ?", [f"{parse_duckdb_size(text)}B"])
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == text, limit
    assert parse_duckdb_size("2.9 GiB") <= 3000 * MiB
    with pytest.raises(ValueError, match="DuckDB size"):
        parse_duckdb_size("lots")


# ---- the monitor ----------------------------------------------------------------------------


def test_cooldown_skips_an_evictor_and_calm_checks_run_the_restorers():
    clock = FakeClock()
    usage = {"value": 0.9}
    calls: list[str] = []
    steps = [4, 2, 1]

    def cheap() -> int:
        calls.append("cheap")
        return 10

    def slow() -> int:
        calls.append("slow")
        return 20

    def restorer() -> int:
        return steps.pop(0) if steps else 0

    m = PressureMonitor(reader=lambda: usage["value"], clock=clock, restore_after=2)
    m.register_evictor("slow", slow, order=90, cooldown=5.0)
    m.register_evictor("cheap", cheap, order=10)
    m.register_restorer("back", restorer)
    assert m.check() == "orange" and calls == ["cheap", "slow"]
    clock.now += 4.9
    assert m.check() == "orange" and calls == ["cheap", "slow", "cheap"]
    assert m.evictions[-1].freed == {"cheap": 10} and m.evictions[-1].skipped == ["slow"]
    clock.now += 0.1
    m.check()
    assert calls[-2:] == ["cheap", "slow"] and m.evictions[-1].skipped == []
    usage["value"] = 0.65  # yellow counts as calm
    assert [m.check() for _ in range(2)] == ["yellow", "yellow"]
    assert [r.restored for r in m.restores] == [{"back": 4}]
    usage["value"] = 0.97  # pressure again: calm checks start over
    assert m.check() == "red"
    usage["value"] = 0.2
    m.check()
    assert len(m.restores) == 1
    for _ in range(4):
        m.check()
    assert [r.restored for r in m.restores] == [{"back": 4}, {"back": 2}, {"back": 1}]  # 0: not recorded
    assert m.restores[-1].level == "green" and m.restores[-1].usage == 0.2
    m.configure(clock=FakeClock(0.0))  # a new clock forgets the cooldowns
    usage["value"] = 0.9
    m.check()
    assert calls[-2:] == ["cheap", "slow"]
    with pytest.raises(ValueError, match="restore_after"):
        m.configure(restore_after=0)


def test_pressure_lowers_duckdb_once_and_calm_checks_restore_it_exactly(quiet_monitor, monkeypatch):
    gc.collect()  # sessions earlier tests left unreferenced would be lowered and restored too
    others = [s for s in live_sessions() if not s.closed]  # ...and those still referenced (the default)
    for other in others:  # this test follows one session's limit: the others' stay as they are
        monkeypatch.setattr(other, "memory_in_use", lambda: 2**62)
    session = pk.Session(memory_limit=3000 * MiB)
    original = session.memory_limit
    assert original == "2.9 GiB"
    clock = FakeClock()
    usage = {"value": 0.9}
    register_shared_evictors()
    quiet_monitor.configure(reader=lambda: usage["value"], clock=clock, restore_after=3)
    try:
        assert quiet_monitor.check() == "orange"
        assert "duckdb" in quiet_monitor.evictions[-1].freed
        assert session.memory_limit == "256.0 MiB"  # a fresh session holds little: the floor

        usage["value"] = 0.3
        seen = []
        for _ in range(4):  # t = 1001 .. 1004: two checks wait, then 256 -> 512 MiB -> 1 GiB
            clock.now += 1.0
            quiet_monitor.check()
            seen.append(session.memory_limit)
        assert seen == ["256.0 MiB", "256.0 MiB", "512.0 MiB", "1.0 GiB"]
        assert quiet_monitor.restores[-1].restored == {"duckdb": 512 * MiB}

        usage["value"] = 0.9  # a spike 4.5 s after the lowering: DuckDB is cooling down, not halved
        clock.now += 0.5
        assert quiet_monitor.check() == "orange"
        spike = quiet_monitor.evictions[-1]
        assert "duckdb" in spike.skipped and "duckdb" not in spike.freed
        assert session.memory_limit == "1.0 GiB"
        clock.now += 1.0  # 5.5 s after: lowered again
        quiet_monitor.check()
        assert "duckdb" in quiet_monitor.evictions[-1].freed and session.memory_limit == "256.0 MiB"

        usage["value"] = 0.65  # yellow: calm enough to restore, to the first original and no further
        seen = []
        for _ in range(9):
            clock.now += 1.0
            quiet_monitor.check()
            seen.append(session.memory_limit)
        assert seen == ["256.0 MiB"] * 2 + ["512.0 MiB", "1.0 GiB", "2.0 GiB"] + [original] * 4
        sizes = [parse_duckdb_size(text) for text in seen]
        assert sizes[2:6] == [512 * MiB, GiB, 2 * GiB, 2 * GiB + 922 * MiB]
        assert max(sizes) <= 3000 * MiB and min(sizes) == MIN_DUCKDB_LIMIT
        assert quiet_monitor.restores[-1].restored["duckdb"] == 922 * MiB
    finally:
        session.close()


def test_a_limit_set_by_hand_after_lowering_is_left_alone(quiet_monitor):
    session = pk.Session(memory_limit="2GiB")
    try:
        lower_duckdb_limits()
        assert session.memory_limit == "256.0 MiB"
        session.set_memory_limit("1GiB")  # the user decides
        for _ in range(3):
            restore_duckdb_limits()
        assert session.memory_limit == "1.0 GiB"
        lower_duckdb_limits()  # a new lowering remembers the new limit
        assert session.memory_limit == "256.0 MiB"
        while restore_duckdb_limits() > 0:
            pass
        assert session.memory_limit == "1.0 GiB"
    finally:
        session.close()
    assert restore_duckdb_limits() == 0  # closed sessions are forgotten


def test_a_closed_session_does_not_trouble_the_restorer(quiet_monitor):
    session = pk.Session(memory_limit="1GiB")
    lower_duckdb_limits()
    assert session.memory_limit == "256.0 MiB"
    session.close()
    steps = 0
    while restore_duckdb_limits() > 0:  # other live sessions come back; the closed one is skipped
        steps += 1
    assert steps < 64 and restore_duckdb_limits() == 0
