"""The core pages in Welsh (issue 17, docs/decisions/0034): the page template,
the error pages, the sign-in forms and their errors, the GOV.UK components'
and the timeout warning's JavaScript words, Welsh dates and month names."""

# Welsh writes its apostrophes as typographic ones, as the catalogue does.
# ruff: noqa: RUF001

import re
from datetime import date, datetime, timedelta
from http import HTTPStatus

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from lrs_portal.dates import month_number
from lrs_portal.forms import wait_words
from lrs_portal.passwords import password_error
from tests.factories import PASSWORD
from tests.lrs_portal.auth_helpers import post_credentials

pytestmark = pytest.mark.django_db


def _welsh(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    return client


def _h1(body: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.DOTALL)
    assert found, "the page has an h1"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


# --- the page template and the pages every service has ----------------------------


def test_the_start_page_in_welsh_has_welsh_words_and_lang(client):
    body = _welsh(client).get(reverse("lrs_portal:start")).content.decode()

    assert '<html lang="cy"' in body
    assert _h1(body) == "Cael mynediad i’r Gwasanaeth Cofnodion Dysgu"
    assert "<title>Cael mynediad i’r Gwasanaeth Cofnodion Dysgu - LRS Portal" in body
    assert "Neidio i’r prif gynnwys" in body  # skip link
    assert 'aria-label="Gwybodaeth am y gwasanaeth"' in body
    assert ">Mewngofnodi</a>" in body  # the header's sign-in link
    assert "Mae hwn yn wasanaeth newydd. Bydd eich" in body  # phase banner
    assert 'href="/contact#feedback">adborth</a>' in body
    assert "Datganiad hygyrchedd" in body  # footer
    assert "Drwydded Llywodraeth Agored v3.0" in body
    assert "© Hawlfraint y Goron" in body
    assert "Skip to main content" not in body
    assert "This is a new service" not in body


def test_the_start_page_in_english_is_unchanged(client):
    body = client.get(reverse("lrs_portal:start")).content.decode()

    assert '<html lang="en"' in body
    assert _h1(body) == "Access the Learning Records Service"
    assert "Skip to main content" in body
    assert (
        'This is a new service. Your <a class="govuk-link" '
        'href="/contact#feedback">feedback</a> will help us to improve it.'
    ) in body
    assert "All content is available under the" in body
    assert "Cael mynediad" not in body


def test_the_switcher_offers_each_language_in_its_own_words(client):
    english = client.get(reverse("lrs_portal:start")).content.decode()
    welsh = _welsh(Client()).get(reverse("lrs_portal:start")).content.decode()

    # On either page, the button to the other language speaks that language.
    assert "Newid yr iaith i’r Gymraeg" in english
    assert "Change the language to English" in welsh
    assert "Newid yr iaith i’r Saesneg" not in welsh


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        (
            "lrs_portal:accessibility-statement",
            "Datganiad hygyrchedd ar gyfer LRS Portal",
        ),
        ("lrs_portal:privacy", "Hysbysiad preifatrwydd"),
        ("lrs_portal:cookies", "Cwcis"),
        ("lrs_portal:contact", "Cysylltu â LRS Portal"),
        ("lrs_portal:signed-out", "Rydych wedi allgofnodi"),
        ("lrs_portal:password-reset", "Ailosod eich cyfrinair"),
        ("two_factor:login", "Mewngofnodi"),
    ],
)
def test_each_public_page_has_its_welsh_heading(client, name, heading):
    response = _welsh(client).get(reverse(name))

    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert '<html lang="cy"' in body
    assert _h1(body) == heading


def test_the_accessibility_statement_says_the_welsh_awaits_a_translator(client):
    english = client.get(reverse("lrs_portal:accessibility-statement")).content
    welsh = _welsh(Client()).get(reverse("lrs_portal:accessibility-statement"))

    assert b"first draft" in english
    assert b"awaiting review by a Welsh translator" in english
    assert b"not yet available in Welsh" not in english
    assert b"in English only:" not in english
    assert "aros i gael ei adolygu gan gyfieithydd Cymraeg" in welsh.content.decode()


def test_the_privacy_notice_in_welsh_keeps_the_figures_the_settings_give(
    client, settings
):
    settings.LEARNER_VIEW_RETENTION_MONTHS = 36
    settings.HOUSEKEEPING_UNUSED_ACCOUNT_DAYS = 90
    settings.SESSION_COOKIE_AGE = 8 * 3600

    body = _welsh(client).get(reverse("lrs_portal:privacy")).content.decode()

    assert "36 mis, yna caiff ei ddileu fis ar y tro" in body
    assert "ers 90 diwrnod yn cael ei gau" in body
    assert "ac am 8 awr ar y mwyaf" in body


def test_the_cookies_page_in_welsh_describes_each_cookie_in_welsh(client):
    body = _welsh(client).get(reverse("lrs_portal:cookies")).content.decode()

    assert "Yn eich cadw wedi mewngofnodi wrth i chi symud rhwng tudalennau" in body
    assert "Yn cofio’r iaith a ddewisoch" in body
    days = settings.LANGUAGE_COOKIE_AGE // 86400
    assert f"Ar ôl {days:,} diwrnod" in body
    assert "Keeps you signed in" not in body
    assert 'data-label="Diben"' in body or ">Diben</th>" in body


def test_the_page_not_found_page_in_welsh(client):
    response = _welsh(client).get("/no-such-page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    body = response.content.decode()
    assert '<html lang="cy"' in body
    assert _h1(body) == "Heb ddod o hyd i’r dudalen"
    assert 'href="/">ewch i ddechrau’r gwasanaeth</a>' in body


def test_a_method_not_allowed_page_in_welsh(client):
    response = _welsh(client).get(reverse("lrs_portal:sign-out"))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    body = response.content.decode()
    assert _h1(body) == "Ni ellir agor y dudalen hon yn uniongyrchol"
    assert "Nid ydych wedi mewngofnodi." in body


def test_the_server_error_page_renders_in_welsh_with_no_request():
    with translation.override("cy"):
        body = render_to_string("500.html")

    assert '<html lang="cy"' in body
    assert "Mae’n ddrwg gennym, mae problem gyda’r gwasanaeth" in body
    assert "Rhowch gynnig arall arni yn nes ymlaen." in body


# --- forms and their errors ---------------------------------------------------------


def test_a_sign_in_error_in_welsh(client):
    response = _welsh(client).post(
        reverse("two_factor:login"),
        {"sign_in-current_step": "auth", "auth-username": "", "auth-password": ""},
    )

    body = response.content.decode()
    assert "<title>Gwall: Mewngofnodi" in body
    assert "Mae problem wedi codi" in body  # the error summary
    assert "Rhowch eich cyfeiriad e-bost" in body
    assert "Rhowch eich cyfrinair" in body
    assert '<span class="govuk-visually-hidden">Gwall:</span>' in body
    assert "Cyfeiriad e-bost</label>" in body
    assert "Enter your email address" not in body


def test_the_same_sign_in_error_in_english_is_unchanged(client):
    body = client.post(
        reverse("two_factor:login"),
        {"sign_in-current_step": "auth", "auth-username": "", "auth-password": ""},
    ).content.decode()

    assert "<title>Error: Sign in" in body
    assert "Enter your email address" in body
    assert '<span class="govuk-visually-hidden">Error:</span>' in body


def test_the_password_input_gets_its_javascript_words_in_welsh(client):
    welsh = _welsh(client).get(reverse("two_factor:login")).content.decode()
    english = Client().get(reverse("two_factor:login")).content.decode()

    assert 'data-module="govuk-password-input"' in welsh
    assert 'data-i18n.show-password="Dangos"' in welsh
    assert 'data-i18n.hide-password="Cuddio"' in welsh
    assert (
        'data-i18n.password-shown-announcement="Mae eich cyfrinair i’w weld"' in welsh
    )
    assert 'aria-label="Dangos y cyfrinair" hidden>Dangos</button>' in welsh
    assert 'data-i18n.show-password="Show"' in english
    assert 'aria-label="Show password" hidden>Show</button>' in english


def test_a_weak_new_password_is_refused_in_welsh():
    with translation.override("cy"):
        error = password_error("4829173650192", user=None)
        default = password_error("4829173650192", user=None, label="Cyfrinair newydd")

    assert error is not None
    assert error.messages == [
        "Cyfrinair: rhaid iddo gynnwys llythrennau, nid rhifau yn unig"
    ]
    assert default is not None
    assert default.messages[0].startswith("Cyfrinair newydd: ")
    english = password_error("4829173650192", user=None)
    assert english is not None
    assert english.messages == ["Password must include letters, not only numbers"]


def test_how_long_to_wait_is_written_in_welsh_with_its_plural():
    now = timezone.now()
    with translation.override("cy"):
        assert wait_words(now + timedelta(seconds=0.2)) == "1 eiliad"
        assert wait_words(now + timedelta(seconds=30)) == "30 eiliad"
        assert wait_words(now + timedelta(seconds=61)) == "2 funud"
        assert wait_words(now + timedelta(seconds=300)) == "5 munud"
    assert wait_words(now + timedelta(seconds=61)) == "2 minutes"


# --- the timeout warning's JavaScript words -------------------------------------------


def test_the_timeout_warning_carries_its_javascript_words_in_the_page_language(
    provider_user,
):
    client = _welsh(Client())
    client.force_login(provider_user)

    body = client.get(reverse("lrs_portal:account")).content.decode()

    dialog = body.split('id="app-timeout-warning"', 1)[1].split("</dialog>", 1)[0]
    assert 'data-one-minute="1 munud"' in dialog
    assert 'data-minutes="{count} munud"' in dialog
    assert 'data-one-second="1 eiliad"' in dialog
    assert 'data-seconds="{count} eiliad"' in dialog
    assert 'data-announce="Byddwn yn eich allgofnodi ymhen {time}."' in dialog
    assert "Rydych ar fin cael eich allgofnodi" in dialog
    assert "data-countdown>2 funud</span>" in dialog
    assert "Aros wedi mewngofnodi" in dialog


def test_the_timeout_script_reads_its_words_from_the_page():
    script = (
        settings.BASE_DIR
        / "lrs_portal"
        / "static"
        / "lrs_portal"
        / "timeout-warning.js"
    ).read_text()

    for name in ("oneMinute", "minutes", "oneSecond", "seconds", "announce"):
        assert f'text("{name}"' in script
    assert "`We will sign you out in ${said}.`" not in script


# --- dates ----------------------------------------------------------------------------


def test_welsh_pages_write_dates_as_the_english_pages_do():
    when = datetime(2026, 12, 6, 18, 52, tzinfo=timezone.get_current_timezone())
    with translation.override("cy"):
        assert formats.date_format(date(2026, 12, 6)) == "6 Rhagfyr 2026"
        assert formats.date_format(when, "DATETIME_FORMAT") == "6 Rhagfyr 2026, 18:52"
        assert formats.time_format(when) == "18:52"
        assert formats.date_format(date(2026, 3, 1)) == "1 Mawrth 2026"
    with translation.override("en-gb"):
        assert formats.date_format(date(2026, 12, 6)) == "6 December 2026"


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("Ionawr", "1"),
        ("chwefror", "2"),
        ("Chwef", "2"),
        ("MAWRTH", "3"),
        ("Ebrill", "4"),
        ("Mai", "5"),
        ("Mehefin", "6"),
        ("Gorffennaf", "7"),
        ("Gorff.", "7"),
        ("Awst", "8"),
        ("Medi", "9"),
        ("Hydref", "10"),
        ("Tachwedd", "11"),
        ("Tach", "11"),
        ("Rhagfyr", "12"),
        ("rhag.", "12"),
        ("May", "5"),  # English names still count
        ("Sept", "9"),
    ],
)
def test_a_month_box_accepts_welsh_month_names_and_short_forms(typed, number):
    assert month_number(typed) == number


@pytest.mark.parametrize("typed", ["Rhagfyrr", "Mis", "13", "fai", ""])
def test_a_month_box_leaves_anything_else_for_the_date_check(typed):
    assert month_number(typed) == typed


@pytest.mark.parametrize(
    ("language", "heading", "error"),
    [
        ("cy", "Gosod eich ap dilysu", "Nid yw’r cod a roesoch yn ddilys."),
        ("en-gb", "Set up your authenticator app", "Entered token is not valid."),
    ],
)
def test_a_wrong_set_up_code_is_refused_in_the_page_language(
    provider_user, language, heading, error
):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(provider_user)
    url = reverse("two_factor:setup")
    client.get(url)
    client.post(url, {"setup_view-current_step": "welcome"})

    response = client.post(
        url, {"setup_view-current_step": "generator", "generator-token": "000000"}
    )

    body = response.content.decode()
    assert _h1(body) == heading
    assert error in body


def test_the_lockout_page_is_in_welsh_with_its_counts(client, provider_user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=2)
    _welsh(client)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_credentials(client, provider_user.email, "wrong-password")

    response = post_credentials(client, provider_user.email, PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    body = response.content.decode()
    assert '<html lang="cy"' in body
    assert _h1(body) == "Rydych wedi cael eich cloi allan am 2 funud"
    assert "Arhoswch 2 funud, yna" in body
    assert f"wedi cael ei roi {settings.AXES_FAILURE_LIMIT} o weithiau" in body


def test_the_lockout_page_in_english_counts_one_minute_and_many(
    client, provider_user, settings
):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_credentials(client, provider_user.email, "wrong-password")

    body = post_credentials(client, provider_user.email, PASSWORD).content.decode()

    assert _h1(body) == "You have been locked out for 1 minute"
    assert "Wait 1 minute, then" in body


def test_the_account_page_names_the_roles_in_welsh(provider_super_user):
    client = _welsh(Client())
    client.force_login(provider_super_user)

    body = client.get(reverse("lrs_portal:account")).content.decode()

    assert _h1(body) == "Eich cyfrif"
    assert "<li>Uwch-ddefnyddiwr darparwr</li>" in body
    assert "<li>Defnyddiwr darparwr</li>" in body
    assert "Provider super user" not in body


def test_the_account_page_still_offers_data_sharing_to_a_welsh_requester(requester):
    client = _welsh(Client())
    client.force_login(requester)

    body = client.get(reverse("lrs_portal:account")).content.decode()

    assert "<li>Ceisydd DSAP</li>" in body
    assert "Ceisiadau i rannu data" in body  # shown by the role's English name
