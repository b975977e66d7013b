"""The README stays a first screen and an index; every link in it and in the
guides leads somewhere, headings included."""

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.docs.guides import DOCS

README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")
PAGES = [README, *sorted(DOCS.rglob("*.md"))]


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {
        slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")
    }


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return [link for link in LINK.findall(text) if "://" not in link]


def test_the_readme_is_at_most_200_lines_with_both_commands_on_its_first_screen():
    lines = README.read_text().splitlines()

    assert len(lines) <= 200
    first_screen = "\n".join(lines[:25])
    assert "make run" in first_screen
    assert "make test" in first_screen


def test_the_readme_links_every_guide_and_its_screenshot():
    linked = {(README.parent / link.split("#")[0]).resolve() for link in links(README)}

    guides = {page.resolve() for page in DOCS.glob("*.md")}
    assert sorted(map(str, guides - linked)) == []
    screenshots = list((DOCS / "images").glob("*.png"))
    assert screenshots
    assert {shot.resolve() for shot in screenshots} <= linked
    assert all(shot.stat().st_size < 100_000 for shot in screenshots)


def test_the_decisions_index_lists_every_record():
    index = (DOCS / "decisions" / "README.md").read_text()

    missing = [
        record.name
        for record in sorted((DOCS / "decisions").glob("0*.md"))
        if f"]({record.name})" not in index
    ]

    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for link in links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists() or (
            anchor and target.suffix == ".md" and anchor not in anchors(target)
        ):
            broken.append(link)

    assert broken == []


def test_the_slug_is_githubs():
    assert slug(" The lookup log's partitions") == "the-lookup-logs-partitions"
    assert slug("Sign-in, sessions and HTTPS") == "sign-in-sessions-and-https"


CODE = ["lrs_portal", "registration", "records", "approvals", "bench", "templates"]
MENTION = re.compile(r"(?<![\w/.])docs/[\w./-]+?\.md\b")


def test_every_guide_the_code_names_exists():
    # Hints, error messages and comments send people to a guide by its path.
    named = {
        (path.relative_to(ROOT), mention)
        for folder in CODE
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".html", ".txt", ".md"}
        for mention in MENTION.findall(path.read_text(errors="replace"))
    }

    missing = sorted(
        (str(path), mention) for path, mention in named if not (ROOT / mention).exists()
    )

    assert len(named) > 20
    assert missing == []
