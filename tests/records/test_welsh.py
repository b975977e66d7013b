# ruff: noqa: RUF001 (the Welsh is written with the typographic apostrophe)
"""The learner lookup pages in Welsh (issue 17, docs/decisions/0034), and the web
service English whatever the browser asks: its problem documents share their
words with the pages (records.uln, records.forms, records.permissions)."""

from datetime import date
from html import unescape
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from records.batch_files import BatchFileRefused, batch_file_read
from records.models import Learner, LearnerView
from registration.models import Organisation
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.api.conftest import api_client_for

pytestmark = pytest.mark.django_db
ULN = "9276308686"
BAD_CHECK_DIGIT = "9276308687"
CONFIRMED = {"privacy_notice": "on", "own_student": "on"}
DETAILS = {
    "given_name": "Amelia",
    "family_name": "Hughes",
    "date_of_birth_day": "14",
    "date_of_birth_month": "5",
    "date_of_birth_year": "2007",
    "gender": "2",
    "postcode": "LS2 9JT",
    **CONFIRMED,
}


@pytest.fixture
def organisation():
    return OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create()
    )


@pytest.fixture
def member(organisation):
    return member_of(organisation)


def _client(user, language=None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def welsh(member):
    return _client(member, "cy")


def text(response) -> str:
    return str(unescape(response.content.decode()))


def _learner() -> Learner:
    return Learner.objects.create(
        uln=ULN,
        given_name="Amelia",
        family_name="Hughes",
        date_of_birth=date(2007, 5, 14),
        gender=Learner.Gender.FEMALE,
        postcode="LS2 9JT",
    )


# --- the pages in Welsh ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("records:find", "Dod o hyd i ddysgwr"),
        ("records:find-by-uln", "Dod o hyd i ddysgwr yn ôl ULN"),
        ("records:find-by-details", "Dod o hyd i ddysgwr yn ôl ei fanylion"),
        ("records:batches", "Sypiau o ddysgwyr"),
        ("records:batch-new", "Uwchlwytho ffeil swp"),
    ],
)
def test_the_lookup_pages_are_in_welsh_when_welsh_is_chosen(welsh, name, heading):
    page = text(welsh.get(reverse(name)))

    assert '<html lang="cy"' in page
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in page
    assert "Find a learner" not in page


def test_the_english_pages_are_unchanged(member):
    page = text(_client(member).get(reverse("records:find-by-details")))

    assert '<html lang="en"' in page
    assert '<h1 class="govuk-heading-l">Find a learner by their details</h1>' in page
    assert "For example, 27 3 2007" in page
    assert "I have given this learner the LRS privacy notice" in page


def test_the_details_form_labels_and_choices_are_in_welsh(welsh):
    page = text(welsh.get(reverse("records:find-by-details")))

    for words in (
        "Enw cyntaf",
        "Cyfenw",
        "Dyddiad geni",
        "Er enghraifft, 27 3 2007",
        "Diwrnod",
        "Blwyddyn",
        "Benyw",
        "Cod post",
        "Rwyf wedi rhoi hysbysiad preifatrwydd yr LRS i’r dysgwr hwn",
        "Chwilio",
    ):
        assert words in page, words


def test_a_uln_with_a_wrong_check_digit_is_refused_in_welsh(welsh):
    response = welsh.post(
        reverse("records:find-by-uln"), {"uln": BAD_CHECK_DIGIT, **CONFIRMED}
    )

    page = text(response)
    assert response.status_code == HTTPStatus.OK
    assert "Mae problem wedi codi" in page or "govuk-error-summary" in page
    assert (
        "Nid yw’r ULN hwn yn ddilys: gwiriwch am ddigid a deipiwyd yn anghywir" in page
    )
    assert "check for a mistyped digit" not in page
    assert not LearnerView.objects.exists()


def test_the_temporary_uln_is_refused_in_welsh(welsh):
    page = text(
        welsh.post(reverse("records:find-by-uln"), {"uln": "9999999999", **CONFIRMED})
    )

    assert "9999999999 yw’r ULN dros dro, nid rhif y dysgwr ei hun" in page


def test_an_impossible_date_of_birth_is_refused_in_welsh(welsh):
    response = welsh.post(
        reverse("records:find-by-details"),
        {**DETAILS, "date_of_birth_day": "30", "date_of_birth_month": "2"},
    )

    page = text(response)
    assert "Dyddiad geni: rhowch ddyddiad go iawn" in page
    assert "must be a real date" not in page
    assert not LearnerView.objects.exists()


def test_a_missing_name_and_a_missing_box_are_refused_in_welsh(welsh):
    page = text(
        welsh.post(
            reverse("records:find-by-details"),
            {**DETAILS, "given_name": "", "date_of_birth_year": ""},
        )
    )

    assert "Mae angen enw cyntaf y dysgwr" in page
    assert "Dyddiad geni: rhaid cynnwys blwyddyn" in page


def test_the_same_mistakes_stay_english_on_the_english_page(member):
    client = _client(member)
    uln = text(
        client.post(
            reverse("records:find-by-uln"), {"uln": BAD_CHECK_DIGIT, **CONFIRMED}
        )
    )
    details = text(
        client.post(
            reverse("records:find-by-details"),
            {**DETAILS, "date_of_birth_day": "30", "date_of_birth_month": "2"},
        )
    )

    assert "This ULN is not valid: check for a mistyped digit" in uln
    assert "Date of birth must be a real date" in details


def test_a_match_is_shown_in_welsh(welsh):
    _learner()

    page = text(welsh.post(reverse("records:find-by-uln"), {"uln": ULN, **CONFIRMED}))

    assert '<h1 class="govuk-heading-l">Daethpwyd o hyd i’r dysgwr</h1>' in page
    assert "Amelia Hughes" in page
    assert "14 Mai 2007" in page  # the date in Welsh too
    assert "Gweld y cofnod" in page


def test_no_match_is_shown_in_welsh(welsh):
    page = text(welsh.post(reverse("records:find-by-uln"), {"uln": ULN, **CONFIRMED}))

    assert "Heb ddod o hyd i ddysgwr" in page
    assert "Nid oes gan unrhyw ddysgwr yr ULN a roesoch." in page


def test_a_refusal_is_given_in_welsh(welsh, organisation):
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()

    response = welsh.get(reverse("records:find"))

    page = text(response)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Ni allwch chwilio am ddysgwyr" in page
    assert "Mae mynediad eich sefydliad at yr LRS wedi’i atal." in page
    assert "is suspended" not in page


def test_the_public_pages_are_in_welsh(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"

    register = text(client.get(reverse("records:access-register")))
    yours = text(client.get(reverse("records:your-record")))

    assert "Sefydliadau sydd â mynediad at gofnodion dysgwyr" in register
    assert "Pwy sydd wedi edrych ar eich cofnod dysgwr" in yours
    assert '<html lang="cy"' in yours


def test_a_batch_file_refused_whole_says_why_in_welsh(welsh):
    page = text(
        welsh.post(
            reverse("records:batch-new"),
            {**CONFIRMED, "file": _upload(b"surname\nHughes\n")},
        )
    )

    assert "Rhaid i linell gyntaf y ffeil enwi ei cholofnau" in page
    assert "The first line" not in page


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("learners.csv", data, content_type="text/csv")


def test_a_batch_line_error_is_stored_in_english_even_from_a_welsh_page():
    with translation.override("cy"):
        parsed = batch_file_read(b"uln\n9276308687\n")
        with pytest.raises(BatchFileRefused, match="Does dim dysgwyr yn y ffeil"):
            batch_file_read(b"uln\n")

    assert parsed.lines[0].error == "This ULN is not valid: check for a mistyped digit"


# --- the web service stays English ---------------------------------------------


def _problem_words(response) -> set[str]:
    problem = response.json()
    words = {str(problem.get("detail", ""))}
    for error in problem.get("errors", []):
        words.add(str(error.get("detail", "")))
    return words


def test_the_api_answers_a_bad_uln_in_english_whatever_the_browser_asks(member):
    api = api_client_for(member)
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"

    response = api.post(
        "/api/v1/learner-searches",
        {"uln": BAD_CHECK_DIGIT},
        format="json",
        headers={"accept-language": "cy"},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Language"].startswith("en")
    assert "This ULN is not valid: check for a mistyped digit" in _problem_words(
        response
    )


def test_the_api_answers_an_impossible_date_in_english(member):
    api = api_client_for(member)

    response = api.post(
        "/api/v1/learner-searches",
        {
            "given_name": "Amelia",
            "family_name": "Hughes",
            "date_of_birth": "2007-02-30",
            "gender": 2,
            "postcode": "LS2 9JT",
        },
        format="json",
        headers={"accept-language": "cy"},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Date of birth must be a real date" in _problem_words(response)


def test_the_api_gives_a_refusal_in_english(member, organisation):
    api = api_client_for(member)
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()

    response = api.post(
        "/api/v1/learner-searches",
        {"uln": ULN},
        format="json",
        headers={"accept-language": "cy"},
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Your organisation's access to the LRS is suspended." in _problem_words(
        response
    )


def test_the_usage_page_and_its_chart_are_in_welsh(organisation):
    owner = _client(member_of(organisation, super_user=True), "cy")

    page = text(owner.get(reverse("records:usage")))

    assert '<h1 class="govuk-heading-l">Defnydd eich sefydliad</h1>' in page
    assert "Chwiliadau bob dydd am y 30 diwrnod diwethaf (UTC)" in page
    assert "Heddiw hyd yma: 0 chwiliad o" in page
    assert "Terfyn dyddiol:" in page  # in the chart


def test_a_running_batch_gives_its_progress_line_in_welsh(welsh):
    response = welsh.post(
        reverse("records:batch-new"),
        {**CONFIRMED, "file": _upload(f"uln\n{ULN}\n".encode())},
    )
    assert response.status_code == HTTPStatus.FOUND

    page = text(welsh.get(response["Location"]))

    assert "Yn chwilio am ddysgwyr" in page
    assert "0 o 1 llinell wedi’u gwneud (yn y ciw)." in page
    # what batch-progress.js fills in as the batch moves on
    assert 'data-template="{done} o {total} llinell wedi’u gwneud ({status})."' in page
    assert 'data-status-running="yn rhedeg"' in page
