"""One test per named fault case; each runs in its own subprocess (see harness.py)."""

from __future__ import annotations

import pytest

from tests.robustness.registry import all_cases

CASES = all_cases()


@pytest.mark.parametrize("name", list(CASES))
def test_fault(name, fault_scheduler):
    """The case's subprocess exits 0 within its time bound."""
    case = CASES[name]
    outcome = fault_scheduler.result(case)
    if outcome.status == "skipped":
        pytest.skip(outcome.summary)
    if outcome.status != "passed":
        pytest.fail(
            f"{name} {outcome.status} ({outcome.seconds:.1f} s): {outcome.summary}\n"
            f"--- stderr tail ---\n{outcome.tail}",
            pytrace=False,
        )


def test_every_group_has_cases():
    """At least 60 cases over the five groups, each group represented."""
    groups = {case.group for case in CASES.values()}
    assert groups == {"data", "sql", "interaction", "resources", "protocol"}
    assert len(CASES) >= 60
