"""The super user's API client pages: list, create, secret once, rotate, revoke."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registration.api_client_forms import months_ahead
from registration.models import ApiClient
from tests.factories import OrganisationFactory, api_token, issue_api_client, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    return OrganisationFactory.create(legal_name="Northfield College Limited")


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True, full_name="Sam Super")


@pytest.fixture
def member(organisation):
    return member_of(organisation, full_name="Uma User")


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def super_client(super_user):
    return signed_in(super_user)


def url(name, *args):
    return reverse(f"registration:{name}", args=args)


def body(response):
    return response.content.decode()


def _create(super_client, responsible, **overrides):
    data = {
        "name": "Student records",
        "member": responsible.pk,
        "allowed_ip_ranges": "",
        "expires_in": "12",
    }
    data.update(overrides)
    return super_client.post(url("api-client-create"), data)


def test_the_list_has_an_empty_state(super_client):
    response = super_client.get(url("api-clients"))
    assert response.status_code == HTTPStatus.OK
    assert "Your organisation has no API clients yet." in body(response)


def test_creating_shows_the_secret_once_and_never_in_a_url(
    super_client, member, super_user
):
    response = _create(super_client, member, allowed_ip_ranges="203.0.113.0/24")
    created = ApiClient.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == url("api-client-secret", created.pk)
    assert created.member == member
    assert created.created_by == super_user
    assert created.expires_on == months_ahead(12)
    assert created.ip_ranges == ["203.0.113.0/24"]

    shown = super_client.get(response["Location"])
    page = body(shown)
    assert "Copy the secret of Student records now" in page
    assert "no-store" in shown["Cache-Control"]
    secret = page.split('<code class="app-secret">')[2].split("</code>")[0]
    assert secret not in response["Location"]
    assert (
        api_token(
            Client(), created.client_id, secret, REMOTE_ADDR="203.0.113.1"
        ).status_code
        == HTTPStatus.OK
    )

    again = body(super_client.get(response["Location"]))
    assert secret not in again
    assert "The secret has already been shown" in again
    listed = body(super_client.get(url("api-clients")))
    assert "Student records" in listed
    assert secret not in listed


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Enter a name for the API client"),
        ({"name": "x" * 101}, "Name must be 100 characters or fewer"),
        ({"member": ""}, "Choose the member responsible for the API client"),
        ({"member": "999999"}, "Choose one of your organisation&#x27;s members"),
        ({"member": "99999999999999999999999"}, "Choose one of your organisation"),
        ({"allowed_ip_ranges": "10.0.0.0/33"}, "is not an IP address or range"),
        ({"expires_in": "13"}, "Choose how long the API client should last"),
        ({"expires_in": ""}, "Choose how long the API client should last"),
    ],
)
def test_bad_input_is_explained_and_creates_nothing(
    super_client, member, overrides, message
):
    response = _create(super_client, member, **overrides)
    assert response.status_code == HTTPStatus.OK
    page = body(response)
    assert "There is a problem" in page
    assert message in page
    assert not ApiClient.objects.exists()


def test_a_member_of_another_organisation_cannot_be_chosen(super_client):
    stranger = member_of(OrganisationFactory.create())
    response = _create(super_client, stranger)
    assert "Choose one of your organisation" in body(response)
    assert not ApiClient.objects.exists()


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_for_the_grace(
    super_client, member
):
    issued = issue_api_client(member)
    response = super_client.post(
        url("api-client-rotate", issued.api_client.pk), {"grace_days": "2"}
    )
    assert response["Location"] == url("api-client-secret", issued.api_client.pk)
    page = body(super_client.get(response["Location"]))
    new_secret = page.split('<code class="app-secret">')[2].split("</code>")[0]
    assert new_secret != issued.client_secret
    client = ApiClient.objects.get()
    assert client.previous_secret_valid()
    assert client.previous_secret_until is not None
    delta = client.previous_secret_until - timezone.now()
    assert 47 * 3600 < delta.total_seconds() <= 48 * 3600
    assert api_token(Client(), issued.client_id, new_secret).status_code == 200
    assert (
        api_token(Client(), issued.client_id, issued.client_secret).status_code == 200
    )


@pytest.mark.parametrize("grace", ["8", "-1", "", "x" * 300])
def test_a_grace_outside_zero_to_seven_days_is_refused(super_client, member, grace):
    issued = issue_api_client(member)
    response = super_client.post(
        url("api-client-rotate", issued.api_client.pk), {"grace_days": grace}
    )
    assert response.status_code == HTTPStatus.OK
    assert "Choose how long the old secret should keep working" in body(response)
    assert ApiClient.objects.get().secret_rotated_at is None


def test_revoking_asks_for_confirmation_and_a_reason(super_client, member, super_user):
    issued = issue_api_client(member)
    page = super_client.get(url("api-client-revoke", issued.api_client.pk))
    assert "Are you sure you want to revoke College MIS?" in body(page)
    refused = super_client.post(url("api-client-revoke", issued.api_client.pk), {})
    assert "Enter why you are revoking the API client" in body(refused)
    assert ApiClient.objects.get().revoked_at is None

    done = super_client.post(
        url("api-client-revoke", issued.api_client.pk), {"reason": "System replaced"}
    )
    assert done["Location"] == url("api-clients")
    client = ApiClient.objects.get()
    assert client.revoked_by == super_user
    assert client.revoked_reason == "System replaced"
    assert "Revoked" in body(super_client.get(url("api-clients")))
    # Revoked: neither rotated nor revoked again.
    again = super_client.get(url("api-client-rotate", client.pk))
    assert again["Location"] == url("api-clients")


def _every_page(pk):
    return [
        ("get", url("api-clients")),
        ("get", url("api-client-create")),
        ("post", url("api-client-create")),
        ("get", url("api-client-secret", pk)),
        ("get", url("api-client-rotate", pk)),
        ("post", url("api-client-rotate", pk)),
        ("get", url("api-client-revoke", pk)),
        ("post", url("api-client-revoke", pk)),
    ]


def test_other_members_are_told_only_the_super_user_may_on_every_page(member):
    # Their own organisation's pages: 403 saying who can use them (issue 17),
    # and nothing changes.
    issued = issue_api_client(member)
    client = signed_in(member)
    for method, address in _every_page(issued.api_client.pk):
        response = getattr(client, method)(address, {"reason": "x", "grace_days": "1"})
        assert response.status_code == HTTPStatus.FORBIDDEN, address
    assert ApiClient.objects.get().revoked_at is None


def test_another_organisations_super_user_gets_404_for_our_clients(member):
    issued = issue_api_client(member)
    theirs = signed_in(member_of(OrganisationFactory.create(), super_user=True))
    for method, address in _every_page(issued.api_client.pk)[3:]:
        response = getattr(theirs, method)(address, {"reason": "x", "grace_days": "1"})
        assert response.status_code == HTTPStatus.NOT_FOUND, address
    assert "College MIS" not in body(theirs.get(url("api-clients")))
    client = ApiClient.objects.get()
    assert client.revoked_at is None
    assert client.secret_rotated_at is None


def test_a_suspended_super_user_is_refused(super_user, super_client):
    membership = super_user.membership
    membership.suspended_at = timezone.now()
    membership.save()
    response = super_client.get(url("api-clients"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "College MIS" not in body(response)


def test_the_account_page_links_to_the_api_clients(super_client):
    page = body(super_client.get(reverse("lrs_portal:account")))
    assert url("api-clients") in page
