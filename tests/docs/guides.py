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


def env_calls(path: Path) -> list[tuple[str, str, dict[str, object]]]:
    """Each read in this file whose name is a literal: the reader, the name, and
    the keywords given as literals (``default``, ``minimum``)."""
    calls: list[tuple[str, str, dict[str, object]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = str(
            func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        )
        first = node.args[0]
        if called in ENV_READERS and isinstance(first, ast.Constant):
            keywords: dict[str, object] = {
                keyword.arg: keyword.value.value
                for keyword in node.keywords
                if keyword.arg and isinstance(keyword.value, ast.Constant)
            }
            calls.append((called, str(first.value), keywords))
    return calls


def backticked(text: str) -> set[str]:
    """Every `NAME` (capitals, digits, underscores) written in backticks."""
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", text))
