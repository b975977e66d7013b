"""API clients: the model's rules, the services, and the token endpoint."""

import base64
from datetime import date, timedelta
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from lrs_portal.models import system_user
from registration.api_clients import (
    ApiClient,
    api_client_timeline_entries,
    ip_ranges_parse,
    latest_expiry,
)
from registration.services.api_clients import (
    ApiClientRefused,
    api_client_create,
    api_client_record_use,
    api_client_revoke,
    api_client_rotate_secret,
)
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    api_token,
    issue_api_client,
    member_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


@pytest.fixture
def super_user(organisation):
    return member_of(organisation, super_user=True)


@pytest.fixture
def member(organisation):
    return member_of(organisation)


@pytest.fixture
def issued(member):
    return issue_api_client(member)


# --- the model's rules ------------------------------------------------------------


def test_it_normalises_ranges_and_names_each_bad_one():
    assert ip_ranges_parse("203.0.113.7/24, 2001:db8::/48\n203.0.113.0/24") == [
        "203.0.113.0/24",
        "2001:db8::/48",
    ]
    with pytest.raises(ValidationError) as caught:
        ip_ranges_parse("10.0.0.0/8 not-an-ip 300.1.1.1")
    assert len(caught.value.messages) == 2
    assert "not-an-ip" in caught.value.messages[0]


def test_it_allows_only_addresses_inside_the_ranges(issued):
    client = issued.api_client
    assert client.allows_address("198.51.100.9")  # no ranges: any address
    client.allowed_ip_ranges = "203.0.113.0/24\n2001:db8::/48"
    assert client.allows_address("203.0.113.200")
    assert client.allows_address("::ffff:203.0.113.5")
    assert client.allows_address("2001:db8::1")
    assert not client.allows_address("203.0.114.1")
    assert not client.allows_address("")
    assert not client.allows_address("not an address")


def test_latest_expiry_is_twelve_months_on_even_from_a_leap_day():
    assert latest_expiry(date(2026, 3, 1)) == date(2027, 3, 1)
    assert latest_expiry(date(2028, 2, 29)) == date(2029, 2, 28)


# --- creating -----------------------------------------------------------------------


def test_it_creates_a_confidential_client_credentials_client_with_a_hashed_secret(
    issued, member, organisation
):
    client = issued.api_client
    application = Application.objects.get(pk=client.application_id)
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert application.client_secret != issued.client_secret
    assert application.client_secret.startswith("md5$")  # the test hasher
    assert client.member == member
    assert client.organisation == organisation
    assert client.status == ApiClient.Status.ACTIVE
    assert client.history.get().history_change_reason.startswith("API client created")


def test_it_refuses_a_member_of_another_organisation(organisation):
    stranger = member_of(OrganisationFactory.create())
    with pytest.raises(ApiClientRefused, match="not a member"):
        api_client_create(
            organisation=organisation,
            member=stranger,
            name="MIS",
            expires_on=timezone.now().date() + timedelta(days=30),
            acting_user=system_user(),
        )
    assert not ApiClient.objects.exists()
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("days", "message"), [(-1, "today or in the future"), (367, "12 months")]
)
def test_it_refuses_an_expiry_outside_twelve_months(member, days, message):
    with pytest.raises(ApiClientRefused, match=message):
        issue_api_client(member, expires_on=timezone.now().date() + timedelta(days))
    assert not ApiClient.objects.exists()


def test_it_refuses_bad_ranges_and_creates_nothing(member):
    with pytest.raises(ValidationError):
        issue_api_client(member, allowed_ip_ranges="10.0.0.0/33")
    assert not Application.objects.exists()


# --- the token endpoint -------------------------------------------------------------


def _token(client, issued, secret=None, **extra):
    return api_token(client, issued.client_id, secret or issued.client_secret, **extra)


def test_it_gives_a_bearer_token_for_an_hour_and_no_refresh_token(client, issued):
    response = _token(client, issued)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body
    stored = AccessToken.objects.get()
    assert stored.application_id == issued.api_client.application_id
    assert stored.token == ""  # only its checksum is kept at rest
    assert timedelta(minutes=59) < stored.expires - timezone.now() <= timedelta(hours=1)


def test_it_refuses_a_wrong_secret(client, issued):
    response = _token(client, issued, secret="wrong")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_it_refuses_credentials_in_the_body(client, issued):
    response = client.post(
        "/api/v1/token",
        {
            "grant_type": "client_credentials",
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
        },
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "implicit"])
def test_it_refuses_every_other_grant(client, issued, grant_type):
    basic = base64.b64encode(
        f"{issued.client_id}:{issued.client_secret}".encode()
    ).decode()
    response = client.post(
        "/api/v1/token",
        {"grant_type": grant_type, "username": "x", "password": "y", "code": "z"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
    assert not AccessToken.objects.exists()


def test_it_answers_get_with_method_not_allowed(client):
    assert client.get("/api/v1/token").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_a_revoked_client_gets_no_token(client, issued, super_user):
    api_client_revoke(
        api_client=issued.api_client, acting_user=super_user, reason="Leaked"
    )
    assert _token(client, issued).status_code == HTTPStatus.UNAUTHORIZED
    assert not AccessToken.objects.exists()


def test_an_expired_client_gets_no_token(client, issued):
    ApiClient.objects.filter(pk=issued.api_client.pk).update(
        expires_on=timezone.now().date() - timedelta(days=1)
    )
    assert _token(client, issued).status_code == HTTPStatus.UNAUTHORIZED


def test_a_client_gets_a_token_only_from_its_ranges(client, member):
    issued = issue_api_client(member, allowed_ip_ranges="203.0.113.0/24")
    outside = _token(client, issued, REMOTE_ADDR="198.51.100.1")
    assert outside.status_code == HTTPStatus.UNAUTHORIZED
    inside = _token(client, issued, REMOTE_ADDR="203.0.113.10")
    assert inside.status_code == HTTPStatus.OK


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(
    client, member, settings
):
    issued = issue_api_client(member, allowed_ip_ranges="203.0.113.0/24")
    spoofed = {"REMOTE_ADDR": "198.51.100.1", "HTTP_X_FORWARDED_FOR": "203.0.113.10"}
    assert _token(client, issued, **spoofed).status_code == HTTPStatus.UNAUTHORIZED
    settings.TRUSTED_PROXY_COUNT = 1
    assert _token(client, issued, **spoofed).status_code == HTTPStatus.OK


# --- rotating the secret ------------------------------------------------------------


def test_the_old_secret_works_until_the_grace_ends(client, issued, super_user):
    rotated = api_client_rotate_secret(
        api_client=issued.api_client, grace_days=2, acting_user=super_user
    )
    assert rotated.client_secret != issued.client_secret
    assert rotated.client_id == issued.client_id
    assert _token(client, issued).status_code == HTTPStatus.OK
    assert _token(client, rotated).status_code == HTTPStatus.OK
    ApiClient.objects.filter(pk=issued.api_client.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    assert _token(client, issued).status_code == HTTPStatus.UNAUTHORIZED
    assert _token(client, rotated).status_code == HTTPStatus.OK


def test_with_no_grace_the_old_secret_and_its_tokens_stop_at_once(
    client, issued, super_user
):
    assert _token(client, issued).status_code == HTTPStatus.OK
    rotated = api_client_rotate_secret(
        api_client=issued.api_client, grace_days=0, acting_user=super_user
    )
    assert not AccessToken.objects.exists()
    assert _token(client, issued).status_code == HTTPStatus.UNAUTHORIZED
    assert _token(client, rotated).status_code == HTTPStatus.OK


@pytest.mark.parametrize("days", [-1, 8])
def test_it_refuses_a_grace_outside_zero_to_seven_days(issued, super_user, days):
    with pytest.raises(ApiClientRefused):
        api_client_rotate_secret(
            api_client=issued.api_client, grace_days=days, acting_user=super_user
        )


def test_a_revoked_client_cannot_be_rotated_or_revoked_again(issued, super_user):
    api_client_revoke(api_client=issued.api_client, acting_user=super_user, reason="x")
    with pytest.raises(ApiClientRefused):
        api_client_rotate_secret(
            api_client=issued.api_client, grace_days=1, acting_user=super_user
        )
    with pytest.raises(ApiClientRefused, match="already revoked"):
        api_client_revoke(
            api_client=issued.api_client, acting_user=super_user, reason="y"
        )


def test_revoking_needs_a_reason(issued, super_user):
    with pytest.raises(ApiClientRefused):
        api_client_revoke(
            api_client=issued.api_client, acting_user=super_user, reason=" "
        )


def test_revoking_ends_the_previous_secret_grace(client, issued, super_user):
    api_client_rotate_secret(
        api_client=issued.api_client, grace_days=7, acting_user=super_user
    )
    revoked = api_client_revoke(
        api_client=issued.api_client, acting_user=super_user, reason="Leaked"
    )
    assert revoked.previous_secret_hash == ""
    assert revoked.status == ApiClient.Status.REVOKED


# --- last used, history, timeline ----------------------------------------------------


def test_last_used_is_written_at_most_once_a_minute(issued, django_assert_num_queries):
    client = issued.api_client
    now = timezone.now()
    assert api_client_record_use(api_client=client, now=now)
    with django_assert_num_queries(0):
        assert not api_client_record_use(
            api_client=client, now=now + timedelta(seconds=30)
        )
    # Another process holding an older copy: the UPDATE's condition stops it.
    stale_copy = ApiClient.objects.get(pk=client.pk)
    stale_copy.last_used_at = None
    assert not api_client_record_use(
        api_client=stale_copy, now=now + timedelta(seconds=30)
    )
    assert api_client_record_use(api_client=client, now=now + timedelta(minutes=2))
    client.refresh_from_db()
    assert client.last_used_at == now + timedelta(minutes=2)
    assert client.history.count() == 1  # usage is not history


def test_every_change_is_on_the_organisation_timeline(issued, super_user, organisation):
    client = issued.api_client
    api_client_rotate_secret(api_client=client, grace_days=1, acting_user=super_user)
    api_client_revoke(api_client=client, acting_user=super_user, reason="Replaced")
    entries = list(api_client_timeline_entries(organisation))
    whats = [entry.what for entry in entries]
    assert whats[0].startswith("API client “College MIS” created for")
    assert whats[1] == "API client “College MIS”: secret changed"
    assert whats[2] == "API client “College MIS” revoked: Replaced"
    assert entries[2].who == super_user.email
    assert list(api_client_timeline_entries(OrganisationFactory.create())) == []
