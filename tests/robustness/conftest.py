"""Schedules the selected fault cases once per test session, two subprocesses at a time."""

from __future__ import annotations

import pytest

from tests.robustness.harness import Scheduler
from tests.robustness.registry import all_cases


@pytest.fixture(scope="session")
def fault_scheduler(request):
    """Starts every selected `test_fault[...]` case in the background, in collection order."""
    cases = all_cases()
    selected = [
        cases[item.callspec.params["name"]]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_fault" and hasattr(item, "callspec")
    ]
    scheduler = Scheduler(selected)
    scheduler.start()
    yield scheduler
    scheduler.stop()
