"""Run fault cases in subprocesses with a time bound, two at a time, and classify the outcome."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from tests.robustness.registry import Case
from tests.robustness.runner import PASSED_MARK, SKIP_STATUS

ROOT = Path(__file__).resolve().parents[2]
SLOTS = 2  # cases running side by side (the machine has 2 cores)
TAIL_CHARS = 4000


@dataclass(frozen=True)
class Outcome:
    """How one case's subprocess ended."""

    name: str
    status: str  # "passed", "failed", "skipped", "crashed", "hung"
    returncode: int | None
    seconds: float
    stdout: str
    stderr: str

    @property
    def summary(self) -> str:
        """One line: what went wrong (or the skip reason)."""
        after_checks = PASSED_MARK in self.stdout
        if self.status == "hung":
            where = " after its checks passed (at exit)" if after_checks else ""
            return f"hung: no exit within {self.seconds:.0f} s{where}"
        if self.status == "crashed":
            assert self.returncode is not None
            try:
                name = signal.Signals(-self.returncode).name
            except ValueError:
                name = f"signal {-self.returncode}"
            where = " after its checks passed (at exit)" if after_checks else ""
            return f"crashed: killed by {name}{where}"
        last = _exception_line(self.stderr) or f"exit status {self.returncode}"
        if self.status == "failed" and after_checks:
            return f"checks passed but the process exited with status {self.returncode}: {last}"
        return last

    @property
    def tail(self) -> str:
        """The end of stderr (where tracebacks and faulthandler dumps are)."""
        return self.stderr[-TAIL_CHARS:]


def _exception_line(stderr: str) -> str:
    """The first line of the last traceback's exception (DuckDB's messages span several lines)."""
    lines = stderr.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if starts:
        for line in lines[starts[-1] + 1 :]:
            if line.strip() and not line.startswith((" ", "\t")):
                return line.strip()
    tail = [line.strip() for line in lines if line.strip()]
    return tail[-1] if tail else ""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONFAULTHANDLER"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Children:
    """The subprocesses started and not yet finished (so an interrupted run can end them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            _kill_group(proc)


_children = _Children()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End a child we started and whatever it started (its own process group, by id)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_case(case: Case) -> Outcome:
    """Run `case` in a fresh interpreter; kill it (and its group) past its time bound."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.robustness.runner", case.name],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _children.add(proc)
    hung = False
    try:
        out, err = proc.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        hung = True
        _kill_group(proc)
        out, err = proc.communicate()
    finally:
        _children.discard(proc)
    rc = proc.returncode
    if hung:
        status = "hung"
    elif rc == 0:
        status = "passed"
    elif rc == SKIP_STATUS:
        status = "skipped"
    elif rc is not None and rc < 0:
        status = "crashed"
    else:
        status = "failed"
    text = (out.decode(errors="replace"), err.decode(errors="replace"))
    return Outcome(case.name, status, rc, time.monotonic() - started, *text)


class Scheduler:
    """Runs the given cases in order, SLOTS at a time; an exclusive case runs alone."""

    def __init__(self, cases: list[Case], slots: int = SLOTS) -> None:
        self._queue = deque(cases)
        self._names = {c.name for c in cases}
        self._slots = slots
        self._busy = 0
        self._exclusive_waiting = 0
        self._stopped = False
        self._results: dict[str, Outcome] = {}
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._work, name=f"fault-slot-{i}", daemon=True) for i in range(slots)
        ]

    def start(self) -> None:
        """Start the worker threads."""
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                if self._stopped or not self._queue:
                    return
                case = self._queue.popleft()
                need = self._slots if case.exclusive else 1
                self._exclusive_waiting += case.exclusive
                while not self._stopped and (
                    self._busy + need > self._slots or (not case.exclusive and self._exclusive_waiting)
                ):
                    self._cond.wait()
                self._exclusive_waiting -= case.exclusive
                if self._stopped:
                    return
                self._busy += need
            try:
                outcome = run_case(case)
            finally:
                with self._cond:
                    self._busy -= need
                    self._cond.notify_all()
            with self._cond:
                self._results[case.name] = outcome
                self._cond.notify_all()

    def result(self, case: Case) -> Outcome:
        """Wait for `case`'s outcome (running it here if it was not scheduled or never ran)."""
        if case.name in self._names:
            with self._cond:
                while case.name not in self._results:
                    if self._stopped or not any(t.is_alive() for t in self._threads):
                        break
                    self._cond.wait(1.0)
                outcome = self._results.get(case.name)
            if outcome is not None:
                return outcome
        return run_case(case)

    def stop(self) -> None:
        """Run nothing more and end the cases still running."""
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()
        _children.kill_all()
        for thread in self._threads:
            thread.join(timeout=5)
