"""The named fault cases: a decorator registers each one under its name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

GROUPS = ("data", "sql", "interaction", "interaction_view", "resources", "protocol")
MODULES = (
    "data",
    "data_types",
    "data_sources",
    "sql",
    "interaction",
    "interaction_view",
    "resources",
    "protocol",
)
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Case:
    """One fault case: a function that raises (AssertionError or other) when the contract is broken."""

    name: str
    func: Callable[[], None]
    timeout: float = DEFAULT_TIMEOUT_S
    exclusive: bool = False  # timing-sensitive: runs with no other case beside it

    @property
    def group(self) -> str:
        """The group named by the name's prefix ("data", "sql", ...)."""
        return self.name.split("-", 1)[0]

    @property
    def doc(self) -> str:
        """The first line of the case's docstring."""
        return (self.func.__doc__ or "").strip().splitlines()[0] if self.func.__doc__ else ""


_CASES: dict[str, Case] = {}


def case(
    name: str, *, timeout: float = DEFAULT_TIMEOUT_S, exclusive: bool = False
) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register the decorated function as the fault case `name` (prefixed by its group)."""
    if name.split("-", 1)[0] not in GROUPS:
        raise ValueError(f"case {name!r} must start with one of {GROUPS}")

    def register(func: Callable[[], None]) -> Callable[[], None]:
        if name in _CASES:
            raise ValueError(f"duplicate case name {name!r}")
        _CASES[name] = Case(name, func, timeout, exclusive)
        return func

    return register


def all_cases() -> dict[str, Case]:
    """Every registered case, in definition order (imports the case modules once)."""
    for module in MODULES:
        importlib.import_module(f"tests.robustness.cases_{module}")
    return dict(_CASES)
