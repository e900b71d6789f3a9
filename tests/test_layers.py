"""The layers hold: no module imports a layer above its own, and no import cycle between modules.

Layers, lowest first: ``lib`` < ``cells`` < ``meetings`` < ``scoring`` < ``reports`` < ``demo``, and
``config``, ``tests``, ``bench`` (and ``manage.py``) above all. A module may import its own layer or
lower ones; ``lib`` imports no project package at all. Every import counts, at module level or inside
a function. A migration may import its own app and lower ones. Cycles are looked for among the
module-level imports (``if TYPE_CHECKING:`` blocks left out) and reported with their path.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", ".git", "node_modules", "staticfiles", "media", "__pycache__", "vendor"}
ORDER = ("lib", "cells", "meetings", "scoring", "reports", "demo")
TOP = ("config", "tests", "bench", "manage")
LAYERS = {name: rank for rank, name in enumerate(ORDER)} | {name: len(ORDER) for name in TOP}

# Known upward imports in other engineers' areas of issue #16, as (file, imported module).
# To be removed at integration.
ALLOWED: set[tuple[str, str]] = set()
# Known cycles, as the set of their modules. To be removed at integration.
ALLOWED_CYCLES: list[frozenset[str]] = []


def project_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every project .py file under ``root``."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if rel.parts[0] not in LAYERS and rel.stem not in LAYERS:
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(tree: ast.Module, module: str, is_package: bool, *, top_level_only: bool):
    """(line, imported module) for every import in ``tree``; relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]

    def walk(nodes):
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name, None
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".") if package else []
                    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                yield node.lineno, target, [alias.name for alias in node.names]
            elif top_level_only:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                    continue
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    yield from walk(node.orelse)
                    continue
                yield from walk(ast.iter_child_nodes(node))
            else:
                yield from walk(ast.iter_child_nodes(node))

    yield from walk(tree.body)


def _layer(module: str) -> int | None:
    return LAYERS.get(module.split(".")[0])


def upward_imports(root: Path = ROOT) -> list[str]:
    """ "file:line: importer imports module" for every import of a higher layer (lib: of any project package)."""
    problems = []
    for module, path in project_files(root).items():
        own = module.split(".")[0]
        own_layer = _layer(module)
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target, _names in _imports(tree, module, _is_package(path), top_level_only=False):
            top = target.split(".")[0]
            if top not in LAYERS or top == own:
                continue
            upward = _layer(target) > own_layer or (own == "lib" and top != "lib")
            if upward and (rel, target) not in ALLOWED:
                problems.append(f"{rel}:{line}: {module} ({own}) imports {target} ({top})")
    return problems


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports at module level."""
    files = project_files(root)
    graph: dict[str, set[str]] = {module: set() for module in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for _line, target, names in _imports(tree, module, _is_package(path), top_level_only=True):
            for name in names or [None]:
                full = f"{target}.{name}" if name else target
                if full in files:
                    graph[module].add(full)  # from package import submodule
                elif target in files:
                    graph[module].add(target)
    for module in graph:
        graph[module].discard(module)
    return graph


def import_cycles(root: Path = ROOT) -> list[list[str]]:
    """One cycle path (a -> b -> ... -> a) per strongly connected group of modules, in a stable order."""
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(start: str) -> None:  # Tarjan, iterative
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for module in sorted(graph):
        if module not in index:
            connect(module)

    cycles = []
    for group in groups:
        if frozenset(group) in ALLOWED_CYCLES:
            continue
        start = min(group)
        # Breadth-first back to the start inside the group: the shortest cycle through it.
        previous = {start: None}
        queue = [start]
        found = None
        while queue and found is None:
            node = queue.pop(0)
            for child in sorted(graph[node] & group):
                if child == start:
                    found = node
                    break
                if child not in previous:
                    previous[child] = node
                    queue.append(child)
        path = [start]
        node = found
        while node is not None and node != start:
            path.insert(1, node)
            node = previous[node]
        cycles.append([*path, start])
    return sorted(cycles)


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports() == []


def test_no_import_cycle_between_modules():
    assert [" -> ".join(cycle) for cycle in import_cycles()] == []


def test_the_allowed_list_names_only_imports_that_still_exist():
    """An ALLOWED entry that no longer matches an import is dead: take it out."""
    seen = set()
    for module, path in project_files(ROOT).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for _line, target, _names in _imports(tree, module, _is_package(path), top_level_only=False):
            seen.add((path.relative_to(ROOT).as_posix(), target))
    assert ALLOWED - seen == set()


# --- the checker itself, on a tiny fake tree ---------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_an_upward_import_anywhere_and_names_file_and_line(tmp_path):
    _write(
        tmp_path,
        {
            "lib/__init__.py": "",
            "lib/dates.py": "import datetime\n",
            "lib/bad.py": "def f():\n    from cells import models\n",
            "cells/__init__.py": "",
            "cells/models.py": "from lib import dates\n",
            "cells/services.py": "import os\n\n\ndef g():\n    from meetings.models import Meeting\n",
            "cells/migrations/__init__.py": "",
            "cells/migrations/0002_x.py": "import cells.models\nimport scoring.models\n",
            "meetings/__init__.py": "",
            "meetings/models.py": "from cells.models import X\nfrom . import votes\n",
            "meetings/votes.py": "from ..reports import figures\n",
            "reports/__init__.py": "",
            "reports/figures.py": "from demo import cells\n",
            "demo/__init__.py": "",
            "demo/cells.py": "from reports import figures\nfrom tests import factories\n",
            "tests/__init__.py": "",
            "tests/factories.py": "from demo import cells\n",
            ".venv/lib/site.py": "from demo import cells\n",
        },
    )
    assert upward_imports(tmp_path) == [
        "cells/migrations/0002_x.py:2: cells.migrations.0002_x (cells) imports scoring.models (scoring)",
        "cells/services.py:5: cells.services (cells) imports meetings.models (meetings)",
        "demo/cells.py:2: demo.cells (demo) imports tests (tests)",
        "lib/bad.py:2: lib.bad (lib) imports cells (cells)",
        "meetings/votes.py:1: meetings.votes (meetings) imports reports (reports)",
        "reports/figures.py:1: reports.figures (reports) imports demo (demo)",
    ]


def test_the_checker_finds_a_cycle_and_reports_its_path(tmp_path):
    _write(
        tmp_path,
        {
            "cells/__init__.py": "",
            "cells/a.py": "from cells import b\n",
            "cells/b.py": "from .c import thing\n",
            "cells/c.py": "import cells.a\n\n\ndef later():\n    import cells.d\n",
            "cells/d.py": "from cells.c import thing\n",  # only a function-level import back: no cycle
            "cells/e.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cells import f\n",
            "cells/f.py": "from cells import e\n",
        },
    )
    assert import_cycles(tmp_path) == [["cells.a", "cells.b", "cells.c", "cells.a"]]
