"""docs/commands.md has a section for every management command of the project's
apps, opening with the command's own help and naming each of its options and
arguments, and no section for a command that is gone."""

import re
from argparse import Action

import pytest
from django.core.management import get_commands, load_command_class
from django.core.management.base import BaseCommand

from tests.docs.guides import guide

APPS = ("lrs_portal", "registration", "records", "approvals")
OTHERS = "\n## Commands from Django and the libraries"
HEADING = re.compile(r"^### `([a-z_]+)`$", re.MULTILINE)


def _project_commands() -> dict[str, str]:
    return {name: app for name, app in get_commands().items() if app in APPS}


def _sections() -> dict[str, str]:
    text = guide("commands.md").split(OTHERS, 1)[0]
    parts = HEADING.split(text)[1:]
    return dict(zip(parts[::2], parts[1::2], strict=True))


def _own_actions(name: str) -> list[Action]:
    """The command's own arguments and options, without Django's common ones."""
    common = {action.dest for action in BaseCommand().create_parser("", "")._actions}
    parser = load_command_class(_project_commands()[name], name).create_parser("", name)
    return [action for action in parser._actions if action.dest not in common]


def _label(action: Action) -> str:
    """As the guide names it: an option's long form, a positional's name."""
    return action.option_strings[-1] if action.option_strings else action.dest.upper()


def _arguments(name: str) -> list[str]:
    return [_label(action) for action in _own_actions(name)]


def test_the_guide_has_a_section_for_every_command_and_none_for_a_missing_one():
    commands = set(_project_commands())
    sections = set(_sections())

    assert sorted(commands - sections) == [], "commands the guide does not describe"
    assert sorted(sections - commands) == [], "sections for commands that are gone"
    assert len(commands) >= 20


@pytest.mark.parametrize("name", sorted(_project_commands()))
def test_the_guide_names_every_option_and_argument_of(name):
    section = _sections().get(name, "")

    missing = [arg for arg in _arguments(name) if f"`{arg}`" not in section]

    assert missing == [], f"docs/commands.md, {name}: not named {missing}"


@pytest.mark.parametrize("name", sorted(_project_commands()))
def test_the_section_opens_with_the_commands_own_help(name):
    command = load_command_class(_project_commands()[name], name)
    first_paragraph = _sections().get(name, "").strip().split("\n\n", 1)[0]

    assert " ".join(first_paragraph.split()) == " ".join(str(command.help).split())


@pytest.mark.parametrize("name", sorted(_project_commands()))
def test_each_arguments_row_gives_its_own_help(name):
    rows = [
        line
        for line in _sections().get(name, "").splitlines()
        if line.startswith("| `")
    ]

    wrong = [
        _label(action)
        for action in _own_actions(name)
        if action.help
        and not any(
            f"`{_label(action)}`" in row.split("|")[1]
            and str(action.help).replace("%(default)s", str(action.default)) in row
            for row in rows
        )
    ]

    assert wrong == []


def test_the_guide_lists_the_commands_under_their_own_app():
    text = guide("commands.md").split(OTHERS, 1)[0]
    apps = re.split(r"^## `([a-z_]+)`$", text, flags=re.MULTILINE)[1:]
    found = {
        name: app
        for app, body in zip(apps[::2], apps[1::2], strict=True)
        for name in HEADING.findall(body)
    }

    assert found == _project_commands()


def test_a_section_without_an_option_is_caught():
    # The check itself: an option dropped from a section is reported.
    section = _sections()["import_ico_register"].replace("`--complete`", "")

    missing = [
        arg for arg in _arguments("import_ico_register") if f"`{arg}`" not in section
    ]

    assert missing == ["--complete"]
