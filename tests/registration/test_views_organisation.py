from http import HTTPStatus

import pytest
from django.urls import reverse

from registration.models import (
    Organisation,
    RegistrationApplication,
    ReverificationCase,
)
from tests.factories import (
    OrganisationFactory,
    RegistrationApplicationFactory,
    member_of,
)

pytestmark = pytest.mark.django_db
DETAILS = reverse("registration:organisation-details-change")
AGAIN = reverse("registration:reregister")


@pytest.fixture
def organisation():
    return OrganisationFactory.create(legal_name="EDUDUDES LTD", trading_names="")


def test_the_super_user_reports_a_new_name_which_opens_a_case(client, organisation):
    client.force_login(member_of(organisation, super_user=True))

    response = client.post(
        DETAILS,
        {
            "legal_name": "TRUST SYSTEMS SOFTWARE UK LTD",
            "trading_names": "Trustopia",
            "companies_house_number": organisation.companies_house_number,
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    organisation.refresh_from_db()
    assert organisation.legal_name == "TRUST SYSTEMS SOFTWARE UK LTD"
    assert organisation.flagged_for_review
    assert set(ReverificationCase.objects.values_list("reason", flat=True)) == {
        "legal_name_changed",
        "trading_name_changed",
    }


def test_a_bad_company_number_changes_nothing(client, organisation):
    client.force_login(member_of(organisation, super_user=True))

    response = client.post(
        DETAILS,
        {"legal_name": "NEW LTD", "trading_names": "", "companies_house_number": "XX1"},
    )

    assert response.status_code == HTTPStatus.OK
    assert "govuk-error-summary" in response.content.decode()
    organisation.refresh_from_db()
    assert organisation.legal_name == "EDUDUDES LTD"
    assert not ReverificationCase.objects.exists()


@pytest.mark.parametrize("who", ["member", "other_super_user"])
def test_only_the_super_user_sees_the_details_page(client, organisation, who):
    user = (
        member_of(organisation)
        if who == "member"
        else member_of(OrganisationFactory.create(), super_user=True)
    )
    client.force_login(user)

    response = client.post(
        DETAILS,
        {
            "legal_name": "HIJACK LTD",
            "trading_names": "",
            "companies_house_number": "12345678",
        },
    )

    if who == "member":
        assert response.status_code == HTTPStatus.FORBIDDEN
    organisation.refresh_from_db()
    assert organisation.legal_name == "EDUDUDES LTD"


def test_a_revoked_organisations_super_user_starts_a_prefilled_reregistration(
    client, organisation
):
    super_user = member_of(organisation, super_user=True)
    RegistrationApplicationFactory.create(
        applicant=super_user,
        organisation=organisation,
        status=RegistrationApplication.Status.APPROVED,
        legal_name="EDUDUDES LTD",
    )
    organisation.status = Organisation.Status.REVOKED
    organisation.save()
    client.force_login(super_user)

    assert client.get(AGAIN).status_code == HTTPStatus.OK
    response = client.post(AGAIN)

    assert response.url == reverse("registration:task-list")
    again = RegistrationApplication.objects.get(status="draft")
    assert again.kind == RegistrationApplication.Kind.REREGISTRATION
    assert again.legal_name == "EDUDUDES LTD"
    assert client.get(reverse("registration:task-list")).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "status", [Organisation.Status.REGISTERED, Organisation.Status.SUSPENDED]
)
def test_only_a_revoked_or_deregistered_organisation_registers_again(
    client, organisation, status
):
    organisation.status = status
    organisation.save()
    client.force_login(member_of(organisation, super_user=True))

    assert client.get(AGAIN).status_code == HTTPStatus.NOT_FOUND
    assert client.post(AGAIN).status_code == HTTPStatus.NOT_FOUND


def test_an_ordinary_member_cannot_start_a_reregistration(client, organisation):
    organisation.status = Organisation.Status.REVOKED
    organisation.save()
    client.force_login(member_of(organisation))

    assert client.post(AGAIN).status_code == HTTPStatus.NOT_FOUND
    assert not RegistrationApplication.objects.exists()


def test_saving_the_details_returns_to_a_page_that_exists(client, organisation):
    client.force_login(member_of(organisation, super_user=True))

    response = client.post(
        DETAILS,
        {
            "legal_name": "EDUDUDES LEARNING LTD",
            "trading_names": "",
            "companies_house_number": organisation.companies_house_number,
        },
        follow=True,
    )

    assert response.redirect_chain == [(DETAILS, HTTPStatus.FOUND)]
    assert response.status_code == HTTPStatus.OK


def test_a_second_change_while_the_case_is_open_is_added_to_it(client, organisation):
    client.force_login(member_of(organisation, super_user=True))
    number = organisation.companies_house_number
    for name in ("SECOND NAME LTD", "THIRD NAME LTD"):
        client.post(
            DETAILS,
            {"legal_name": name, "trading_names": "", "companies_house_number": number},
        )

    case = ReverificationCase.objects.get()
    assert "Changed from 'EDUDUDES LTD' to 'SECOND NAME LTD'." in case.details
    assert "Changed from 'SECOND NAME LTD' to 'THIRD NAME LTD'." in case.details
    assert case.new_value == "THIRD NAME LTD"
    assert case.history.count() == 2
