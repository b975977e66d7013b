import json
from datetime import timedelta
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from oauth2_provider.models import Application

from registration.api_clients import latest_expiry
from registration.models import ApiClient
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    api_token,
    member_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


@pytest.fixture
def member(organisation):
    return member_of(organisation)


def run(*args: str) -> str:
    out = StringIO()
    call_command("api_client_create", *args, stdout=out)
    return out.getvalue()


def test_it_prints_exactly_the_id_and_secret_as_json_and_they_get_a_token(
    client, organisation, member
):
    printed = run(
        "--organisation",
        organisation.ukprn,
        "--member",
        member.email.upper(),
        "--name",
        "Student records",
        "--json",
    )
    payload = json.loads(printed)
    assert set(payload) == {"client_id", "client_secret"}
    created = ApiClient.objects.get()
    assert created.member == member
    assert created.organisation == organisation
    assert created.name == "Student records"
    assert created.expires_on == latest_expiry()
    response = api_token(client, payload["client_id"], payload["client_secret"])
    assert response.status_code == HTTPStatus.OK


def test_without_json_it_says_the_secret_is_shown_once(organisation, member):
    printed = run(
        "--organisation", organisation.ukprn, "--member", member.email, "--name", "MIS"
    )
    client = ApiClient.objects.get()
    assert client.client_id in printed
    assert "not shown again" in printed


def test_it_takes_an_expiry_and_ranges(organisation, member):
    expires = timezone.now().date() + timedelta(days=10)
    run(
        "--organisation", organisation.ukprn, "--member", member.email, "--name", "MIS",
        "--expires", expires.isoformat(), "--allowed-ip-ranges", "203.0.113.0/24",
    )  # fmt: skip
    client = ApiClient.objects.get()
    assert client.expires_on == expires
    assert client.ip_ranges == ["203.0.113.0/24"]


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("bad_ukprn", "No organisation has the UKPRN"),
        ("unknown", "No user has the email address"),
        ("other_organisation", "is not a member of"),
        ("bad_range", "not an IP address or range"),
        ("too_late", "12 months"),
    ],
)
def test_a_bad_request_is_a_clear_error_and_creates_nothing(
    organisation, member, who, message
):
    args = {
        "--organisation": organisation.ukprn,
        "--member": member.email,
        "--name": "MIS",
    }
    if who == "bad_ukprn":
        args["--organisation"] = "99999999"
    elif who == "unknown":
        args["--member"] = "nobody@example.com"
    elif who == "other_organisation":
        args["--member"] = member_of(OrganisationFactory.create()).email
    elif who == "bad_range":
        args["--allowed-ip-ranges"] = "10.0.0.0/99"
    else:
        args["--expires"] = (latest_expiry() + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match=message):
        run(*[part for pair in args.items() for part in pair])
    assert not ApiClient.objects.exists()
    assert not Application.objects.exists()
