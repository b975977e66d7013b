"""The web service's test set-up: a provider whose member may look up learners,
and an API client calling as that member.

Until the API clients and their tokens land (issue 12, "API clients"), a call
is authenticated with DRF's force_authenticate: the member, and a stand-in for
their client that has what the service reads of one (its id and organisation).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from rest_framework.authentication import BaseAuthentication
from rest_framework.test import APIClient

from lrs_portal.models import User
from records.models import Learner
from registration.models import Organisation
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of

DOB = date(2007, 5, 14)
AMELIA = {
    "given_name": "Amelia",
    "family_name": "Hughes",
    "date_of_birth": "2007-05-14",
    "gender": 2,
    "postcode": "LS2 9JT",
}


@dataclass
class StandInClient:
    """What a view reads of request.auth: the client's id and organisation."""

    pk: int
    organisation: Organisation


def make_learner(uln: str = "9276308686", **kwargs: Any) -> Learner:
    values: dict[str, Any] = {
        "given_name": "Amelia",
        "family_name": "Hughes",
        "date_of_birth": DOB,
        "gender": 2,
        "postcode": "LS2 9JT",
        "ability_to_share": Learner.AbilityToShare.NOTICE_SEEN,
    }
    values.update(kwargs)
    return Learner.objects.create(uln=uln, **values)


@pytest.fixture
def version(db: None) -> Any:
    return AgreementVersionFactory.create()


@pytest.fixture
def organisation(version: Any) -> Organisation:
    return OrganisationFactory.create(last_signed_version=version)


@pytest.fixture
def member(organisation: Organisation) -> Any:
    return member_of(organisation)


_ids = iter(range(1, 1_000_000))


def api_client_for(user: User, organisation: Organisation | None = None) -> APIClient:
    """An API client calling as ``user`` (force_authenticate until tokens land)."""
    client = APIClient()
    stand_in = StandInClient(
        pk=next(_ids), organisation=organisation or user.membership.organisation
    )
    client.force_authenticate(user=user, token=stand_in)
    return client


@pytest.fixture
def api(member: User) -> APIClient:
    return api_client_for(member)


def post(client: APIClient, name: str, body: Any) -> Any:
    return client.post(f"/api/v1/{name}", body, format="json")


class BearerUser(BaseAuthentication):
    """Test-only, for calls from outside the test client (schemathesis, the
    docs' examples): "Bearer member-<user id>" is that member, until tokens."""

    def authenticate(self, request: Any) -> Any:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer member-"):
            return None
        user = User.objects.get(pk=int(header.removeprefix("Bearer member-")))
        client = StandInClient(pk=user.pk, organisation=user.membership.organisation)
        return user, client

    def authenticate_header(self, request: Any) -> str:
        return "Bearer"


def bearer_token(user: User) -> str:
    return f"member-{user.pk}"


@pytest.fixture
def bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Views accept bearer_token(member) (see BearerUser)."""
    from records.api.views import ApiView

    monkeypatch.setattr(ApiView, "authentication_classes", [BearerUser])


@dataclass
class Caller:
    """A provider's system as it really calls: an API client issued to a member,
    and a test client sending that client's bearer token."""

    http: APIClient
    api_client: Any  # registration.models.ApiClient


def real_caller(user: User, **kwargs: Any) -> Caller:
    """An API client issued to ``user`` (tests.factories.issue_api_client) and a
    token got from POST /api/v1/token with its ID and secret."""
    from django.test import Client

    from tests.factories import api_token, issue_api_client

    issued = issue_api_client(user, **kwargs)
    answer = api_token(Client(), issued.client_id, issued.client_secret)
    assert answer.status_code == 200, answer.content
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")
    return Caller(http=http, api_client=issued.api_client)
