"""The Mermaid diagram in docs/architecture.md draws exactly the imports between
the four apps: a solid arrow for each import that follows the direction
(lrs_portal at the bottom, registration above it, records and approvals above
registration), a dotted one for each that goes against it."""

import ast
import re

from tests.conftest import ROOT
from tests.docs.guides import guide

APPS = ("lrs_portal", "registration", "records", "approvals")
LEVEL = {"lrs_portal": 0, "registration": 1, "records": 2, "approvals": 2}
EDGE = re.compile(r"^\s*(\w+)\s*(-->|-\.->)\s*(?:\|[^|]*\|)?\s*(\w+)\s*$")


def imports_between_apps() -> set[tuple[str, str]]:
    """(importer, imported) for every import, at the top of a module or inside a
    function, from one app's code (migrations included) into another app."""
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif (
                    isinstance(node, ast.ImportFrom) and node.module and not node.level
                ):
                    modules = [node.module]
                else:
                    continue
                found |= {
                    (app, top)
                    for top in (module.split(".")[0] for module in modules)
                    if top in APPS and top != app
                }
    return found


def diagram() -> dict[tuple[str, str], str]:
    """Each edge of the guide's Mermaid block, with its arrow."""
    block = guide("architecture.md").split("```mermaid", 1)[1].split("```", 1)[0]
    edges = {}
    for line in block.splitlines():
        match = EDGE.match(line)
        if match:
            edges[(match[1], match[3])] = match[2]
    return edges


def test_the_diagram_has_every_import_between_the_apps_and_no_other():
    drawn = set(diagram())
    real = imports_between_apps()

    assert sorted(real - drawn) == [], "imports the diagram does not draw"
    assert sorted(drawn - real) == [], "arrows for imports that no longer exist"


def test_an_import_against_the_direction_is_drawn_dotted_and_only_that():
    for (importer, imported), arrow in diagram().items():
        against = LEVEL[imported] >= LEVEL[importer]
        assert arrow == ("-.->" if against else "-->"), (importer, imported)


def test_the_walk_finds_the_imports_the_apps_are_built_on():
    # Were the walk to read nothing, the diagram test would pass on an empty diagram.
    real = imports_between_apps()

    assert {("registration", "lrs_portal"), ("records", "registration")} <= real
    assert ("approvals", "registration") in real
