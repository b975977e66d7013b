"""Reading the guides under docs/ and the code they describe, for the tests that
keep the two in step."""

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

DOCS = ROOT / "docs"
ENV_READERS = {
    "env_bool",
    "env_clock",
    "env_int",
    "env_list",
    "env_str",
    "env_url_config",
}


def guide(name: str) -> str:
    return (DOCS / name).read_text()


def settings_files() -> list[Path]:
    """lrs_portal/settings.py, or every module of a settings package, and any
    other lrs_portal/settings*.py."""
    found = sorted(ROOT.glob("lrs_portal/settings*.py"))
    found += sorted(ROOT.glob("lrs_portal/settings*/**/*.py"))
    return found


def env_reads(path: Path) -> tuple[set[str], list[int]]:
    """The variable names this file passes, as a literal, to an env_* reader, and
    the lines of the reads whose name is not a literal (worked out at run time)."""
    names: set[str] = set()
    computed: list[int] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if called not in ENV_READERS or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
        else:
            computed.append(node.lineno)
    return names, computed


def env_defaults(path: Path) -> dict[str, object]:
    """Each variable this file reads with a literal default, and that default."""
    found: dict[str, object] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        first = node.args[0]
        if called not in ENV_READERS or not isinstance(first, ast.Constant):
            continue
        for keyword in node.keywords:
            if keyword.arg == "default" and isinstance(keyword.value, ast.Constant):
                found[first.value] = keyword.value.value
    return found


def backticked(text: str) -> set[str]:
    """Every `NAME` (capitals, digits, underscores) written in backticks."""
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", text))
