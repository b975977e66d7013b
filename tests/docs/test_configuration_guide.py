"""docs/configuration.md names every environment variable that settings reads,
and nothing that settings no longer reads."""

import re

from lrs_portal.email_kinds import EMAIL_KINDS
from tests.docs.guides import (
    backticked,
    env_defaults,
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


def _default_cells() -> dict[str, str]:
    """Each variable named in the first cell of a table row of the guide's part
    about settings (the part before "Read outside settings"), and the row's
    second cell: its default."""
    text = guide("configuration.md").split(OUTSIDE, 1)[0]
    rows = [line.split("|") for line in text.splitlines() if line.startswith("| `")]
    return {name: cells[2] for cells in rows for name in backticked(cells[1])}


def _documented() -> set[str]:
    return set(_default_cells())


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
    cells = _default_cells()
    defaults = {
        name: default
        for path in settings_files()
        for name, default in env_defaults(path).items()
    }
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
