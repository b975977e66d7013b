"""The import direction of architecture.md: approvals may import lrs_portal and
registration, never records; lrs_portal and registration never import approvals."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported_packages(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_approvals_never_imports_records():
    assert "records" not in _imported_packages("approvals")


@pytest.mark.parametrize("package", ["lrs_portal", "registration", "records"])
def test_nothing_below_imports_approvals(package):
    assert "approvals" not in _imported_packages(package)
