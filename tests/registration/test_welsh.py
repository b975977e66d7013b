"""The registration pages in Welsh (issue 17, docs/decisions/0034): the pages, the
form errors and the refusals a person reads, in Welsh when Welsh is chosen and
unchanged in English."""

from datetime import date
from decimal import Decimal
from html import unescape
from http import HTTPStatus
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from lrs_portal.models import Notification
from registration.api_client_forms import ApiClientRotateForm
from registration.companies_house import Director
from registration.forms import director_label
from registration.services import signing_request_send
from registration.templatetags.suspension_figures import rule_found, rule_limit
from registration.views.apply_company import CompanyLookup
from tests.factories import (
    AgreementVersionFactory,
    RegistrationApplicationFactory,
    UserFactory,
    letter_code,
)

pytestmark = pytest.mark.django_db

GMAIL_ACCOUNT = {
    "full_name": "Jane Doe",
    "email": "jane.doe@gmail.com",
    "password": "a-long-new-password-2026",
}


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""


def _welsh(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    return client


def _page(response) -> str:
    return unescape(str(response.content.decode()))


@pytest.fixture
def applicant_client():
    applicant = UserFactory.create(
        email="jane.doe@northfield-college.example.com", full_name="Jane Doe"
    )
    client = Client()
    client.force_login(applicant)
    RegistrationApplicationFactory.create(
        applicant=applicant, declaration_accepted_at=None
    )
    return client


@pytest.fixture
def token():
    AgreementVersionFactory.create()
    application = RegistrationApplicationFactory.create(submitted=True)
    signing_request_send(acting_user=application.applicant, application=application)
    note = Notification.objects.filter(reference="agreement.signing_link").latest("pk")
    return note.body.split("/agreement/sign/")[1].split("/")[0]


# --- Pages ---------------------------------------------------------------------


def test_the_create_account_page_is_in_welsh_when_welsh_is_chosen(client):
    html = _page(_welsh(client).get(reverse("registration:create-account")))

    assert '<html lang="cy"' in html
    assert "<title>Creu cyfrif i wneud cais" in html
    assert '<h1 class="govuk-heading-l">Creu cyfrif i wneud cais</h1>' in html
    assert "Cyfeiriad e-bost gwaith" in html  # a label given to an include
    assert "Create an account to apply" not in html


def test_the_create_account_page_is_unchanged_in_english(client):
    html = _page(client.get(reverse("registration:create-account")))

    assert '<html lang="en"' in html
    assert '<h1 class="govuk-heading-l">Create an account to apply</h1>' in html
    assert "Work email address" in html
    assert "Creu cyfrif" not in html


def test_the_task_list_names_its_sections_in_welsh(applicant_client):
    """The section titles are module constants: lazy, so they follow the page."""
    html = _page(_welsh(applicant_client).get(reverse("registration:task-list")))

    assert "Cofrestru eich sefydliad i ddefnyddio’r LRS" in html  # noqa: RUF001
    for title in ("Manylion y sefydliad", "Achrediad a dysgwyr", "Busnes byw"):
        assert title in html
    english = _page(Client().get(reverse("registration:create-account")))
    assert "Achrediad" not in english


def test_the_signing_page_is_in_welsh(client, token):
    html = _page(_welsh(client).get(reverse("registration:sign", args=[token])))

    assert '<html lang="cy"' in html
    assert "Llofnodi cytundeb y Gwasanaeth Cofnodion Dysgu" in html
    assert "Y cod o’ch llythyr" in html  # noqa: RUF001 (the label, from forms.py)


# --- Form errors and refusals --------------------------------------------------


def test_the_free_email_refusal_is_in_welsh(client):
    response = _welsh(client).post(
        reverse("registration:create-account"), GMAIL_ACCOUNT
    )

    assert response.status_code == HTTPStatus.OK
    html = _page(response)
    assert "govuk-error-summary" in html
    assert (
        "Rhowch eich cyfeiriad e-bost gwaith, nid gwasanaeth e-bost personol fel "
        "gmail.com"
    ) in html
    assert "Enter your work email address" not in html


def test_the_free_email_refusal_is_unchanged_in_english(client):
    response = client.post(reverse("registration:create-account"), GMAIL_ACCOUNT)

    assert response.status_code == HTTPStatus.OK
    assert (
        "Enter your work email address, not a personal email service like gmail.com"
    ) in _page(response)


def test_a_bad_ukprn_is_refused_in_welsh(applicant_client):
    response = _welsh(applicant_client).post(
        reverse("registration:organisation-details"), {"ukprn": "1234"}
    )

    assert response.status_code == HTTPStatus.OK
    html = _page(response)
    assert (
        "Rhowch UKPRN yn y fformat cywir, fel 10012345: rhaid iddo fod yn 8 digid"
    ) in html
    # A required field's own message, from forms.py.
    assert "Rhowch enw cyfreithiol eich sefydliad" in html


def test_a_signing_refusal_from_the_service_is_in_welsh(client, token):
    response = _welsh(client).post(
        reverse("registration:sign", args=[token]),
        {"typed_name": "Grace Okafor", "confirmed": "on", "code": letter_code()},
    )

    assert response.status_code == HTTPStatus.OK
    refusal = "Teipiwch eich enw llawn fel y mae’n ymddangos yn Companies House"  # noqa: RUF001
    assert refusal in _page(response)


def test_the_grace_period_choices_follow_the_language_of_the_page():
    """Made for each form, not once at import, and counted in Welsh's plurals."""
    with translation.override("cy"):
        welsh = dict(ApiClientRotateForm().fields["grace_days"].choices)
    with translation.override("en-gb"):
        english = dict(ApiClientRotateForm().fields["grace_days"].choices)

    assert welsh["1"] == "1 diwrnod"
    assert welsh["2"] == "2 ddiwrnod"
    assert welsh["0"].startswith("Dim amser")
    assert english["2"] == "2 days"
    assert english["1"] == "1 day"


def test_suspension_figures_are_grouped_in_either_language():
    count = {"rule": "org_volume", "value": "12345.6", "threshold": "1000"}
    share = {"rule": "no_match_rate", "value": "0.456", "threshold": "0.3"}
    for language in ("cy", "en-gb"):
        with translation.override(language):
            assert rule_found(count) == "12,345"
            assert rule_limit(count) == "1,000"
            assert rule_found(share) == "46%"
            assert rule_limit(share) == "30%"
    assert rule_found({"rule": "org_volume", "value": Decimal("NaN")}) == "NaN"


def test_a_directors_label_gives_the_month_in_the_language_of_the_page():
    director = Director(
        name="Jane Smith",
        appointment="abc",
        appointed_on=date(2025, 3, 5),
        officer_role="director",
    )
    with translation.override("cy"):
        assert director_label(director) == "Jane Smith (cyfarwyddwr ers 5 Mawrth 2025)"
    with translation.override("en-gb"):
        assert director_label(director) == "Jane Smith (director since 5 March 2025)"


def test_a_company_status_is_in_words_in_either_language():
    facts = SimpleNamespace(company_status="active", company_status_detail="")
    unknown = SimpleNamespace(company_status="a-new-status", company_status_detail="")
    with translation.override("cy"):
        assert CompanyLookup(facts).status_words == "Gweithredol"
    with translation.override("en-gb"):
        assert CompanyLookup(facts).status_words == "Active"
        assert CompanyLookup(unknown).status_words == "A new status"
