"""docs/configuration.md names every environment variable that settings reads,
and nothing that settings no longer reads."""

import re

from lrs_portal.email_kinds import EMAIL_KINDS
from tests.docs.guides import (
    backticked,
    env_calls,
    env_reads,
    guide,
    settings_files,
)

OUTSIDE = "\n## Read outside settings"


def _settings_reads() -> tuple[set[str], list[str]]:
    names: set[str] = set()
    computed: list[str] = []
    for path in settings_files():
        found, lines = env_reads(path)
        names |= found
        source = path.read_text().splitlines()
        computed += [
            f"{path.name}:{line}: {source[line - 1].strip()}" for line in lines
        ]
    return names, computed


def _tables() -> list[tuple[list[str], list[list[str]]]]:
    """Each table of the guide's part about settings (the part before "Read
    outside settings"): its header's cells, and the cells of its rows that name a
    variable (a row whose first cell is a backticked name)."""
    text = guide("configuration.md").split(OUTSIDE, 1)[0]
    tables: list[tuple[list[str], list[list[str]]]] = []
    in_table = False
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_table = False
        elif not in_table:
            tables.append((cells, []))
            in_table = True
        elif line.startswith("| `"):
            tables[-1][1].append(cells)
    return tables


def _cells(header: str) -> dict[str, str]:
    """Each variable named in the first cell of a variable row, and the row's cell
    in the column with this header ("Default", "Meaning")."""
    return {
        name: cells[columns.index(header)]
        for columns, rows in _tables()
        if header in columns
        for cells in rows
        for name in backticked(cells[0])
    }


def _documented() -> set[str]:
    return set(_cells("Variable"))


def _read_with(keyword: str, reader: str | None = None) -> dict[str, object]:
    """Each variable read with a literal ``keyword`` (by ``reader`` only, when
    given), and its value; ``minimum`` counts env_int's own 0 where none is given."""
    found: dict[str, object] = {}
    for path in settings_files():
        for called, name, keywords in env_calls(path):
            if reader and called != reader:
                continue
            if keyword in keywords:
                found[name] = keywords[keyword]
            elif keyword == "minimum" and called == "env_int":
                found[name] = 0
    return found


def test_settings_files_are_found_and_read():
    names, _ = _settings_reads()

    # The walk found the reads: a settings package that moved out of sight would
    # otherwise pass every check below with nothing to check.
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= names
    assert len(names) > 90


def test_every_variable_settings_reads_is_in_the_guide():
    names, _ = _settings_reads()

    missing = sorted(names - _documented())

    assert missing == [], f"docs/configuration.md does not name: {missing}"


def test_the_guide_names_no_variable_settings_does_not_read():
    names, _ = _settings_reads()
    kinds = {kind.setting for kind in EMAIL_KINDS}

    stale = sorted(_documented() - names - kinds)

    assert stale == [], (
        f"docs/configuration.md names, but settings never reads: {stale}"
    )


def test_the_only_name_worked_out_at_run_time_is_each_email_kinds_template():
    _, computed = _settings_reads()

    # One read takes its name from a variable: NOTIFY_TEMPLATE_<KIND>, one per
    # kind of email. Any other such read needs its names checked here too.
    assert len(computed) == 1, computed
    assert "kind.setting" in computed[0]


def test_the_guide_names_each_kind_of_emails_template_variable():
    documented = _documented()

    missing = [kind.setting for kind in EMAIL_KINDS if kind.setting not in documented]

    assert missing == []


def _as_written(default: object) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    return "empty" if default == "" else str(default)


def test_each_literal_default_is_the_one_the_guide_gives():
    cells = _cells("Default")
    defaults = _read_with("default")
    # An empty BANK_HOLIDAYS means the built-in list, which its row describes.
    defaults.pop("BANK_HOLIDAYS")

    wrong = [
        (name, default)
        for name, default in sorted(defaults.items())
        if not re.search(
            rf"(?<![\w.]){re.escape(_as_written(default))}(?![\w.])",
            cells.get(name, ""),
        )
    ]

    assert len(defaults) > 70
    assert wrong == []


def test_each_whole_numbers_minimum_is_the_one_the_guide_gives():
    meanings = _cells("Meaning")
    minimums = _read_with("minimum", reader="env_int")

    wrong = [
        (name, minimum)
        for name, minimum in sorted(minimums.items())
        if str(minimum) not in _minimums_written(meanings.get(name, ""))
    ]

    assert len(minimums) > 60
    assert wrong == []


def _minimums_written(meaning: str) -> set[str]:
    """The figures of "Minimum 1." or "Minimum 1 and 2." (a row of two)."""
    return {
        figure
        for match in re.finditer(r"[Mm]inimum (\d+)(?: and (\d+))?", meaning)
        for figure in match.groups()
        if figure
    }


def test_every_variable_row_gives_an_example():
    tables = _tables()

    without = [
        cells[0]
        for columns, rows in tables
        for cells in rows
        if "Example" not in columns
        or len(cells) != len(columns)
        or not cells[columns.index("Example")]
    ]

    assert sum(len(rows) for _, rows in tables) > 100
    assert without == []
