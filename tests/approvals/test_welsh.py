# ruff: noqa: RUF001 (the Welsh is written with the typographic apostrophe)
"""The data share request pages in Welsh (issue 17, docs/decisions/0034): their
headings, labels, form errors and messages; the request's history still records
a section's title in English."""

from html import unescape
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from approvals.models import DataShareRequest
from tests.approvals.conftest import Cast
from tests.approvals.factories import DataShareRequestFactory

pytestmark = pytest.mark.django_db


def _client(user, language: str | None = "cy") -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _url(name: str, share: DataShareRequest, *args) -> str:
    return reverse(f"approvals:{name}", args=[share.reference, *args])


def text(response) -> str:
    return str(unescape(response.content.decode()))


def _draft(cast: Cast) -> DataShareRequest:
    return DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )


def test_the_task_list_is_in_welsh(cast: Cast):
    draft = _draft(cast)

    page = text(_client(cast.requester).get(_url("tasks", draft)))

    assert '<html lang="cy"' in page
    assert (
        '<h1 class="govuk-heading-l">Gwneud cais am ddata disgyblion swmpus</h1>'
        in (page)
    )
    assert f"Cais i rannu data {draft.reference}" in page
    assert "Y prosiect a’i fudd i’r cyhoedd" in page  # a section's title
    assert "Gwirio atebion a chyflwyno" in page
    assert "The project and its public benefit" not in page


def test_the_list_and_the_public_register_are_in_welsh(cast: Cast, client):
    listing = text(_client(cast.requester).get(reverse("approvals:requests")))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    register = text(client.get(reverse("approvals:published")))

    assert "Ceisiadau i rannu data" in listing
    assert "Dechrau cais newydd" in listing
    assert "Rhannu data a gymeradwywyd" in register


def test_a_section_s_labels_and_its_impossible_date_are_in_welsh(cast: Cast):
    draft = _draft(cast)
    client = _client(cast.requester)

    blank = text(client.get(_url("section", draft, "dates")))
    response = client.post(
        _url("section", draft, "dates"),
        {
            "start_date_day": "31",
            "start_date_month": "2",
            "start_date_year": "2027",
            "end_date_day": "1",
            "end_date_month": "1",
            "end_date_year": "2028",
            "retention_plan": "",
        },
    )

    page = text(response)
    assert '<h1 class="govuk-heading-l">Dyddiadau, cadw a dinistrio</h1>' in blank
    assert "Dyddiad dechrau" in blank
    assert "Er enghraifft, 27 3 2027" in blank
    assert "Cadw a pharhau" in blank
    assert "Dyddiad dechrau: rhowch ddyddiad go iawn" in page
    assert "Rhowch sut y byddwch chi’n cadw ac yna’n dinistrio’r data" in page
    assert "must be a real date" not in page
    assert 'href="#id_start_date_day"' in page


def test_a_long_answer_names_its_field_in_welsh(cast: Cast):
    draft = _draft(cast)

    page = text(
        _client(cast.requester).post(
            _url("section", draft, "project"),
            {"project_title": "x" * 201, "summary": "s", "research_interest": "r"},
        )
    )

    assert "Teitl y prosiect: dim mwy na 200 nod" in page


def test_adding_a_dataset_says_so_in_welsh(cast: Cast):
    client = _client(cast.requester)

    response = client.post(
        _url("datasets", cast.request),
        {"academic_year": "2020/21", "tier": "3"},
        follow=True,
    )

    assert "Rydych chi wedi ychwanegu 2020/21" in text(response)


def test_a_bad_academic_year_is_refused_in_welsh(cast: Cast):
    page = text(
        _client(cast.requester).post(
            _url("datasets", cast.request), {"academic_year": "2019/21", "tier": "2"}
        )
    )

    assert "Rhaid i’r flwyddyn academaidd fod yn ddwy flynedd yn olynol" in page


def test_submitting_an_incomplete_request_names_the_sections_in_welsh(cast: Cast):
    draft = _draft(cast)

    response = _client(cast.requester).post(
        _url("check-answers", draft), {"confirmed": "on"}
    )

    page = text(response)
    assert response.status_code == HTTPStatus.OK
    assert "Cwblhewch yr adran: Y prosiect a’i fudd i’r cyhoedd" in page
    assert "Gwiriwch eich atebion cyn cyflwyno eich cais" in page


def test_the_status_page_is_in_welsh(cast: Cast):
    page = text(_client(cast.requester).get(_url("request", cast.request)))

    assert f"Cais i rannu data {cast.request.reference}" in page
    assert "Statws:" in page


def test_the_english_pages_are_unchanged(cast: Cast):
    draft = _draft(cast)
    client = _client(cast.requester, language=None)

    tasks = text(client.get(_url("tasks", draft)))
    dates = text(
        client.post(
            _url("section", draft, "dates"),
            {
                "start_date_day": "31",
                "start_date_month": "2",
                "start_date_year": "2027",
            },
        )
    )

    assert '<html lang="en"' in tasks
    assert "Request bulk pupil data" in tasks
    assert "The project and its public benefit" in tasks
    assert "Start date must be a real date" in dates


def test_a_section_saved_from_a_welsh_page_is_recorded_in_english(cast: Cast):
    draft = _draft(cast)

    _client(cast.requester).post(
        _url("section", draft, "project"),
        {"project_title": "Teitl", "summary": "Crynodeb", "research_interest": "Yr"},
    )

    reasons = list(draft.history.values_list("history_change_reason", flat=True))
    assert any("The project and its public benefit" in (r or "") for r in reasons), (
        reasons
    )
    assert not any("Y prosiect" in (r or "") for r in reasons)
