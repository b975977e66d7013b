"""The web service's test set-up: a provider whose member may look up learners,
and an API client calling as that member: a real client (api_client_create)
and a bearer token got from POST /api/v1/token with its ID and secret, so every
call goes through ApiClientAuthentication and ApiClientRequired as a provider's
system's does.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
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


def api_client_for(user: User) -> APIClient:
    """A test client calling as ``user`` through a real API client's token."""
    return real_caller(user).http


@pytest.fixture
def api(member: User) -> APIClient:
    return api_client_for(member)


def post(client: APIClient, name: str, body: Any) -> Any:
    return client.post(f"/api/v1/{name}", body, format="json")


def bearer_token(user: User, **kwargs: Any) -> str:
    """A live bearer token of a new API client issued to ``user``, for calls
    from outside the test client (schemathesis, the docs' examples)."""
    return str(real_caller(user, **kwargs).token)


@dataclass
class Caller:
    """A provider's system as it really calls: an API client issued to a member,
    and a test client sending that client's bearer token."""

    http: APIClient
    api_client: Any  # registration.models.ApiClient
    token: str


def real_caller(user: User, **kwargs: Any) -> Caller:
    """An API client issued to ``user`` (tests.factories.issue_api_client) and a
    token got from POST /api/v1/token with its ID and secret."""
    from django.test import Client

    from tests.factories import api_token, issue_api_client

    issued = issue_api_client(user, **kwargs)
    answer = api_token(Client(), issued.client_id, issued.client_secret)
    assert answer.status_code == 200, answer.content
    token = answer.json()["access_token"]
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return Caller(http=http, api_client=issued.api_client, token=token)
