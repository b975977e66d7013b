"""API clients in the caseworkers' admin: listed, read-only, revoked with a reason,
linked to their calls in the log."""

from http import HTTPStatus

import pytest
from django.contrib import admin
from django.urls import reverse

from records.models import LearnerView
from records.services import learner_search_by_uln
from registration.models import ApiClient
from registration.services.api_clients import api_client_revoke
from tests.conftest import verified_client
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    issue_api_client,
    member_of,
)

pytestmark = pytest.mark.django_db
ULN = "9276308686"


@pytest.fixture
def organisation():
    return OrganisationFactory.create(
        legal_name="Northfield College Limited",
        last_signed_version=AgreementVersionFactory(),
    )


@pytest.fixture
def member(organisation):
    return member_of(organisation)


@pytest.fixture
def issued(member):
    return issue_api_client(member, allowed_ip_ranges="203.0.113.0/24")


@pytest.fixture
def caseworker_client(caseworker):
    return verified_client(caseworker)


def change_url(client):
    return reverse("admin:registration_apiclient_change", args=[client.pk])


def revoke_url(client):
    return reverse("admin:registration_apiclient_revoke", args=[client.pk])


def test_the_list_shows_every_client_with_what_a_caseworker_needs(
    caseworker_client, issued, member
):
    other = issue_api_client(member_of(OrganisationFactory.create()), name="Other MIS")
    response = caseworker_client.get(reverse("admin:registration_apiclient_changelist"))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    for text in (
        "College MIS",
        "Other MIS",
        "Northfield College Limited",
        member.email,
        "203.0.113.0/24",
        "Active",
        f"api_client={issued.client_id}",
    ):
        assert text in page
    assert other.client_secret not in page
    assert issued.client_secret not in page


def test_the_status_filter_and_search_work(caseworker_client, issued, caseworker):
    api_client_revoke(api_client=issued.api_client, acting_user=caseworker, reason="x")
    changelist = reverse("admin:registration_apiclient_changelist")
    revoked = caseworker_client.get(changelist, {"status": "revoked"})
    assert "College MIS" in revoked.content.decode()
    active = caseworker_client.get(changelist, {"status": "active"})
    assert "College MIS" not in active.content.decode()
    found = caseworker_client.get(
        changelist, {"q": issued.api_client.organisation.ukprn}
    )
    assert "College MIS" in found.content.decode()


def test_the_change_page_is_read_only_with_a_revoke_button(caseworker_client, issued):
    response = caseworker_client.get(change_url(issued.api_client))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert revoke_url(issued.api_client) in page
    assert 'name="name"' not in page  # no editable field
    posted = caseworker_client.post(change_url(issued.api_client), {"name": "Renamed"})
    assert posted.status_code == HTTPStatus.FORBIDDEN
    assert ApiClient.objects.get().name == "College MIS"


def test_a_caseworker_revokes_with_a_reason(caseworker_client, issued, caseworker):
    refused = caseworker_client.post(revoke_url(issued.api_client), {"reason": ""})
    assert refused.status_code == HTTPStatus.OK
    assert ApiClient.objects.get().revoked_at is None
    done = caseworker_client.post(
        revoke_url(issued.api_client), {"reason": "Searches for another company"}
    )
    assert done.status_code == HTTPStatus.FOUND
    client = ApiClient.objects.get()
    assert client.revoked_by == caseworker
    assert client.revoked_reason == "Searches for another company"
    again = caseworker_client.get(revoke_url(issued.api_client))
    assert again.status_code == HTTPStatus.FORBIDDEN


def test_nobody_without_the_permission_revokes(issued, member):
    from lrs_portal.models import User

    staff = member_of(OrganisationFactory.create(), is_staff=True)
    assert isinstance(staff, User)
    response = verified_client(staff).post(
        revoke_url(issued.api_client), {"reason": "x"}
    )
    assert response.status_code == HTTPStatus.NOT_FOUND  # not even visible
    assert ApiClient.objects.get().revoked_at is None


def test_the_calls_link_filters_the_log_to_the_client(
    caseworker_client, issued, member
):
    other = issue_api_client(member, name="Second")
    learner_search_by_uln(
        user=member, uln=ULN, request_id="mine-1", api_client=issued.api_client
    )
    learner_search_by_uln(
        user=member, uln=ULN, request_id="other-1", api_client=other.api_client
    )
    learner_search_by_uln(user=member, uln=ULN, request_id="page-1")
    assert LearnerView.objects.count() == 3
    response = caseworker_client.get(
        reverse("admin:records_learnerview_changelist"),
        {"api_client": issued.client_id},
    )
    page = response.content.decode()
    assert "mine-1" in page
    assert "other-1" not in page
    assert "page-1" not in page


def test_dot_admin_pages_are_not_offered():
    assert not [
        m for m in admin.site._registry if m._meta.app_label == "oauth2_provider"
    ]
