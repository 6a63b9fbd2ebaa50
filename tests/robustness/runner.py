"""Run one fault case in this process: `python -m tests.robustness.runner CASE_NAME`.

Exit status: 0 passed, 1 the case raised (traceback on stderr), 77 skipped. A crash (signal)
or a hang is seen by the harness; faulthandler dumps every thread's stack shortly before the
harness's time bound, so the stderr tail shows where it hung.
"""

from __future__ import annotations

import faulthandler
import sys
import traceback

from tests.robustness.checks import Skip
from tests.robustness.registry import all_cases

PASSED_MARK = "FAULT-CASE-PASSED"
SKIP_STATUS = 77


def main(argv: list[str]) -> int:
    """Run the case named by argv[1]; return the exit status."""
    if len(argv) != 2:
        print("usage: python -m tests.robustness.runner CASE_NAME", file=sys.stderr)
        return 2
    cases = all_cases()
    if argv[1] not in cases:
        print(f"unknown case {argv[1]!r}", file=sys.stderr)
        return 2
    case = cases[argv[1]]
    faulthandler.enable()
    faulthandler.dump_traceback_later(max(case.timeout - 3.0, 1.0), exit=False)
    try:
        case.func()
    except Skip as reason:
        print(f"SKIP: {reason}", file=sys.stderr)
        return SKIP_STATUS
    except BaseException:
        traceback.print_exc()
        return 1
    print(PASSED_MARK, flush=True)  # the checks passed; what follows is the interpreter's exit
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
