"""The package's shape: imports run one way between its parts, and no module grows past ~400 lines.

Read from the source with `ast`, so a breach fails here before it confuses anyone.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pikaplot_widget"
MAX_LINES = 400

# What each part may import of the package (besides itself). Parts are top-level folders or modules.
ALLOWED = {
    "core": set(),
    "runtime": set(),
    "engine": {"core", "runtime"},
    "render": {"core", "runtime"},
    "plots": {"core", "runtime", "engine", "render"},
    "interaction": {"core", "render"},
    "messages": set(),  # checks what the browser sends: depends on nothing
    "lifecycle": {"plots"},
    "reading": {"core", "interaction", "messages", "plots", "ranges"},
    "ranges": {"core"},
    "output": {"core", "messages", "plots"},
    "series_legend": {"messages", "plots"},  # hidden series and legend clicks, mixed into the widget
    "theming": {"plots", "render"},
    "frames": set(),  # frames out to the browser, mixed into the widget
    "frontend": set(),  # the widget's ESM: jupyter_rfb's, quickened, wrapped by the overlay
    "state_sync": set(),  # range and status traitlets sent after the frame, mixed into the widget
    "comm_routing": set(),  # the plot comm's incoming messages stay on the browser's subshell
    "widget": {
        "core",
        "runtime",
        "plots",
        "interaction",
        "lifecycle",
        "messages",
        "output",
        "reading",
        "ranges",
        "render",
        "theming",
    },
    "api": {"core", "engine", "plots", "ranges", "render", "widget"},
    "link": {"widget"},
    "__init__": {"api", "core", "engine", "link", "render", "runtime", "widget"},
}
ALLOWED["widget"].update({"series_legend", "frames", "frontend", "state_sync", "comm_routing"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1 and parts[:-1] != ["pikaplot_widget"]:
        parts = parts[:-1]
    return ".".join(parts)


def part_of(module: str) -> str:
    """The part a module belongs to: its first name under the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_modules(path: Path) -> list[str]:
    """Absolute names of the package modules `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("pikaplot_widget")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("pikaplot_widget"):
                found.append(target)
                found += [f"{target}.{alias.name}" for alias in node.names if node.module is None]
    return found


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_imports_run_one_way():
    breaches = []
    for path in package_files():
        source = module_name(path)
        part = part_of(source)
        assert part in ALLOWED, f"{path}: a new part of the package; give it a rule in ALLOWED"
        for target in imported_modules(path):
            other = part_of(target)
            if other != part and other not in ALLOWED[part]:
                breaches.append(f"{source} imports {target} ({part} may not import {other})")
    assert not breaches, "\n".join(breaches)


def test_the_rule_reader_sees_relative_imports():
    """The checker itself: a sideways import written relatively is resolved and caught."""
    engine_line = PACKAGE / "engine" / "line.py"
    assert "pikaplot_widget.engine.sources" in imported_modules(engine_line)
    assert part_of("pikaplot_widget.render.chart.layout") == "render"
    plot_base = PACKAGE / "plots" / "base.py"
    assert {part_of(m) for m in imported_modules(plot_base)} >= {"core", "engine", "render", "runtime"}


def test_no_module_is_too_long():
    long = [
        f"{p.relative_to(PACKAGE)}: {n} lines"
        for p in package_files()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    assert not long, "split by responsibility: " + ", ".join(long)


def test_the_package_is_typed():
    assert (PACKAGE / "py.typed").exists()


DUCKDB_BACKEND = {"engine/session.py", "engine/runner.py", "engine/sources.py", "engine/duckdb_memory.py"}
SPARK_BACKEND = {"engine/spark_session.py", "engine/spark_reader.py"}


def runtime_imports(path: Path) -> set[str]:
    """Top names of the modules `path` imports outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_engines_are_used_only_through_the_seam():
    """DuckDB is imported only by the DuckDB backend, pyspark only by the Spark backend: plot kinds,
    the widget and the SQL builders speak to the Backend / Reader seam (engine/backend.py)."""
    breaches = []
    for path in package_files():
        where = str(path.relative_to(PACKAGE))
        names = runtime_imports(path)
        if "duckdb" in names and where not in DUCKDB_BACKEND:
            breaches.append(f"{where} imports duckdb")
        if "pyspark" in names and where not in SPARK_BACKEND:
            breaches.append(f"{where} imports pyspark")
    assert not breaches, "\n".join(breaches)
    assert "duckdb" in runtime_imports(PACKAGE / "engine" / "session.py")  # the checker sees imports
