"""Which way imports go (architecture.md; decision 35).

Apps: lrs_portal at the bottom, registration above it, records and approvals above
registration, nothing back up (tests/approvals/test_imports.py keeps records and
approvals apart). Modules of one app: no import loop, counting every import, at
the top of a module or inside a function, since a loop that only a deferred
import keeps from failing at start-up is still two modules that each need the
other. Imports under `if TYPE_CHECKING:` are annotations only and are not counted.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("lrs_portal", "registration", "records", "approvals")
LAYER = {"lrs_portal": 0, "registration": 1, "records": 2, "approvals": 2}

# Imports that go up a layer, each with why it is still there. The test fails
# when one is gone, so the list only shrinks.
KNOWN_UPWARD = {
    ("lrs_portal.admin_site", "registration.services.recertification"),
    ("lrs_portal.middleware", "records.api.problems"),
    ("lrs_portal.views", "registration.models"),
}
# Loops between modules of one app still to untie, each with why (decision 35).
# The test fails when one is gone, so the list only shrinks.
KNOWN_LOOPS: set[frozenset[str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> Iterator[str]:
    """Every module named by an import in the tree, outside TYPE_CHECKING blocks;
    `from a.b import c` names a.b and, if c is a module, a.b.c."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _imports(ast.Module(body=node.orelse, type_ignores=[]))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from _imports(node)


def _graph() -> dict[str, set[str]]:
    """Each application module and the application modules it imports."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = known(imported)
            # A submodule importing its own package is how packages work.
            if target and target != name and not name.startswith(f"{target}."):
                graph[name].add(target)
    return graph


def _loops(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected sets of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _app(module: str) -> str:
    return module.split(".")[0]


def test_it_finds_a_loop_and_only_a_loop():
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert _loops(graph) == [frozenset({"a.x", "a.y", "a.z"})]
    assert _loops({"a.x": {"a.y"}, "a.y": set()}) == []


def test_it_counts_imports_in_functions_but_not_under_type_checking():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from a.hidden import H\n"
        "def f():\n    from a.deferred import D\n"
        "import a.top\n"
    )
    names = set(_imports(tree))
    assert {"a.deferred", "a.deferred.D", "a.top"} <= names
    assert not any(name.startswith("a.hidden") for name in names)


@pytest.mark.parametrize("app", APPS)
def test_no_import_loop_between_modules_of_one_app(app):
    within = {
        name: {target for target in targets if _app(target) == app}
        for name, targets in _graph().items()
        if _app(name) == app
    }
    loops = set(_loops(within))
    known = {loop for loop in KNOWN_LOOPS if _app(next(iter(loop))) == app}
    assert sorted(map(sorted, loops - known)) == [], "an import loop came back"
    assert loops >= known, "a known loop is untied: take it off KNOWN_LOOPS"


def test_imports_go_down_the_layers():
    upward = {
        (name, target)
        for name, targets in _graph().items()
        for target in targets
        if LAYER[_app(target)] > LAYER[_app(name)]
    }
    assert sorted(upward - KNOWN_UPWARD) == []
    assert upward >= KNOWN_UPWARD, "an upward import is gone: take it off the list"


def test_records_and_approvals_never_import_each_other():
    across = {
        (name, target)
        for name, targets in _graph().items()
        for target in targets
        if {_app(name), _app(target)} == {"records", "approvals"}
    }
    assert sorted(across) == []
