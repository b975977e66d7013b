"""The public and provider pages in Welsh (issue 17, docs/decisions/0034): the
switcher, every template string marked, and every marked string with its Welsh."""

import os
import re
import shutil
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest
from django.conf import settings
from django.urls import reverse

from tests.lrs_portal.template_strings import unmarked_strings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CATALOGUE = ROOT / "locale" / "cy" / "LC_MESSAGES" / "django.po"

# The casework admin and the web service (its documentation page included) are
# English only (decision 34); the password-reset email's words are Django's own,
# sent by Django's view.
ENGLISH_ONLY = ("admin/", "accounts/emails/", "records/api/")


def _templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES.rglob("*")
        if path.suffix in {".html", ".txt"}
        and not str(path.relative_to(TEMPLATES)).startswith(ENGLISH_ONLY)
    )


def test_every_template_string_is_marked_for_translation():
    unmarked = {}
    for path in _templates():
        found = unmarked_strings(path, TEMPLATES)
        if found:
            unmarked[str(path.relative_to(TEMPLATES))] = found
    assert not unmarked, "words a Welsh reader would get in English:\n" + "\n".join(
        str(item) for items in unmarked.values() for item in items
    )


def test_the_checker_finds_text_attributes_and_labels_given_to_includes(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Find a learner" %}</h1>\n'
        "<p>Search by ULN</p>\n"
        '<img src="x.png" alt="A crest">\n'
        '{% include "includes/x.html" with label="Date of birth" id="dob" %}\n'
        '{{ value|default:"Not given" }}{{ value|default:_("Not known") }}\n'
        "{% blocktranslate trimmed %}You have {{ n }} left{% endblocktranslate %}\n"
        "<script>var a = 'not words to translate';</script>{# a comment #}\n"
        '<span class="govuk-tag">GOV.UK</span>'
    )

    found = {(item.line, item.text) for item in unmarked_strings(page, tmp_path)}

    assert found == {
        (2, "Search by ULN"),
        (3, "A crest"),
        (4, "Date of birth"),
        (5, "Not given"),
    }


def _fresh_catalogue(tmp_path: Path) -> polib.POFile:
    """What `make messages` would write now, made in a copy of the source so the
    test never changes the working tree."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.mo", "static", "migrations")
    for part in ("lrs_portal", "registration", "records", "approvals", "templates"):
        shutil.copytree(ROOT / part, copy / part, ignore=ignore)
    shutil.copytree(ROOT / "locale", copy / "locale")
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    arguments = re.search(
        r"^MESSAGES_ARGS := (.*?)(?<!\\)$",
        (ROOT / "Makefile").read_text(),
        re.MULTILINE | re.DOTALL,
    )
    assert arguments, "the Makefile's MESSAGES_ARGS"
    words = arguments.group(1).replace("\\\n", " ").split()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages"]
        + [word.strip("'") for word in words],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(copy)},
    )
    return polib.pofile(str(copy / "locale" / "cy" / "LC_MESSAGES" / "django.po"))


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs gettext's xgettext (apt gettext)"
)
def test_every_marked_string_has_its_welsh_in_the_committed_catalogue(tmp_path):
    committed = polib.pofile(str(CATALOGUE))
    fresh = _fresh_catalogue(tmp_path)

    known = {(entry.msgctxt, entry.msgid) for entry in committed}
    missing = [e.msgid for e in fresh if (e.msgctxt, e.msgid) not in known]
    assert not missing, "run `make messages` and write their Welsh:\n" + "\n".join(
        missing
    )
    stale = sorted(
        {(e.msgctxt, e.msgid) for e in committed}
        - {(e.msgctxt, e.msgid) for e in fresh}
    )
    assert not stale, f"no longer used: run `make messages` ({stale[:10]})"
    untranslated = [e.msgid for e in committed if not e.translated()]
    assert not untranslated, "marked but no Welsh:\n" + "\n".join(untranslated)


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{(\w*)\}")


def test_each_welsh_string_keeps_the_placeholders_of_its_english():
    catalogue = polib.pofile(str(CATALOGUE))
    wrong = []
    for entry in catalogue.translated_entries():
        english = sorted(_PLACEHOLDER.findall(entry.msgid))
        welsh = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        if entry.msgid_plural:
            english = sorted(
                set(_PLACEHOLDER.findall(entry.msgid))
                | set(_PLACEHOLDER.findall(entry.msgid_plural))
            )
        for text in welsh:
            found = sorted(_PLACEHOLDER.findall(text))
            if entry.msgid_plural:
                if not set(found) <= set(english):
                    wrong.append((entry.msgid, text))
            elif found != english:
                wrong.append((entry.msgid, text))
    assert not wrong, wrong


# --- the switcher ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_is_english_until_welsh_is_chosen_then_welsh(client):
    start = reverse("lrs_portal:start")
    english = client.get(start).content.decode()
    assert '<html lang="en"' in english
    assert 'lang="cy" hreflang="cy"' in english
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies

    response = client.post(
        reverse("lrs_portal:language"), {"language": "cy", "next": start}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == start
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "cy"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    welsh = client.get(start).content.decode()
    assert '<html lang="cy"' in welsh
    assert '<span aria-current="true" lang="cy">Cymraeg</span>' in welsh
    assert 'aria-label="Dewiswch iaith"' in welsh  # from the compiled catalogue
    assert 'value="en-gb"' in welsh  # the way back to English


@pytest.mark.django_db
def test_the_browser_language_chooses_until_the_person_does(client):
    start = reverse("lrs_portal:start")
    assert (
        '<html lang="cy"'
        in client.get(start, headers={"accept-language": "cy"}).content.decode()
    )
    client.post(reverse("lrs_portal:language"), {"language": "en-gb", "next": start})

    assert (
        '<html lang="en"'
        in client.get(start, headers={"accept-language": "cy"}).content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "NaN", ""],
)
def test_the_switcher_never_sends_anyone_off_the_service(client, next_url):
    response = client.post(
        reverse("lrs_portal:language"), {"language": "cy", "next": next_url}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_an_unknown_language_changes_nothing(client):
    response = client.post(
        reverse("lrs_portal:language"), {"language": "fr", "next": "/"}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
def test_the_switcher_carries_the_page_in_the_form_not_in_any_address(client):
    """A signing link's token is in its page's path: the switcher must not copy it
    into another address (a query string is written to access logs)."""
    path = "/agreement/sign/a-secret-token-from-an-email/"
    body = client.get(path).content.decode()

    switcher = body.split('class="app-language-select"', 1)[1].split("</nav>", 1)[0]
    action = re.search(r'action="([^"]*)"', switcher)
    assert action
    assert action.group(1) == reverse("lrs_portal:language")
    assert f'name="next" value="{path}"' in switcher
    assert "?" not in action.group(1)


@pytest.mark.django_db
def test_the_cookies_page_lists_the_language_cookie(client):
    body = client.get(reverse("lrs_portal:cookies")).content.decode()

    assert settings.LANGUAGE_COOKIE_NAME in body


def test_the_casework_admin_stays_english(admin_verified_client):
    admin_verified_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"

    body = admin_verified_client.get(reverse("admin:index")).content.decode()

    assert 'lang="en' in body
