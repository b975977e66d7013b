"""Every web service address, read from the URLconf, against the callers it must
refuse or keep to their own: no token, a revoked client, a suspended
organisation, and a client of another organisation. Real API clients and tokens
(POST /api/v1/token), not stand-ins. An address added to the URLconf fails
test_every_api_address_has_a_case until it is given one here."""

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from records.batches import batch_run
from records.models import Batch, LearnerView
from registration.models import Organisation
from registration.services.api_clients import api_client_revoke
from tests.factories import OrganisationFactory, member_of
from tests.records.api.conftest import make_learner, real_caller

pytestmark = pytest.mark.django_db

# Public, and so outside the matrix: the OpenAPI document and its page
# (test_schema), the token endpoint (HTTP Basic with the client's secret:
# tests/registration/test_api_clients.py), and the 404 for any other address.
PUBLIC = {"api:schema", "api:docs", "api-token", "api-unmatched:not-found"}


def _uln_file() -> dict[str, Any]:
    return {"file": SimpleUploadedFile("f.csv", b"uln\r\n9276308686\r\n")}


# Each operation's method and a well-formed request to it.
CASES: dict[str, tuple[str, Any, str]] = {
    "api:me": ("get", None, "json"),
    "api:learner-searches": ("post", {"uln": "9276308686"}, "json"),
    "api:learning-events": (
        "post",
        {"uln": "9276308686", "given_name": "Amelia", "family_name": "Hughes"},
        "json",
    ),
    "api:batches": ("post", _uln_file, "multipart"),
    "api:batch": ("get", None, "json"),
    "api:batch-results": ("get", None, "json"),
}


def _api_names(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _api_names(entry, route, inner)
        elif route.startswith(("api/", "^api/")) and entry.name:
            yield f"{namespace}{entry.name}", entry


def api_names() -> set[str]:
    return {name for name, _ in _api_names(get_resolver())}


def test_every_api_address_has_a_case():
    assert api_names() - PUBLIC == set(CASES)


OPERATIONS = sorted(CASES)
NAME_A_BATCH = ("api:batch", "api:batch-results")


@pytest.fixture
def theirs(organisation, member):
    """A batch of the organisation's, finished, for the addresses that name one."""
    make_learner()
    caller = real_caller(member)
    response = caller.http.post("/api/v1/batches", _uln_file(), format="multipart")
    batch = Batch.objects.get(public_id=response.json()["id"])
    batch_run(batch_id=batch.pk)  # its one row searched and logged
    return batch


def _call(http: APIClient, name: str, batch: Batch) -> Any:
    method, body, format_ = CASES[name]
    kwargs = {"id": batch.public_id} if name in NAME_A_BATCH else {}
    data = body() if callable(body) else body
    return getattr(http, method)(reverse(name, kwargs=kwargs), data, format=format_)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return dict(response.json())


def _nothing_more(batch: Batch) -> None:
    """Only the fixture's batch and its one log row: the call searched nothing."""
    assert Batch.objects.count() == 1
    assert LearnerView.objects.count() == 1


@pytest.mark.parametrize("name", OPERATIONS)
def test_no_token_is_401(theirs, name):
    response = _call(APIClient(), name, theirs)

    assert _problem(response, HTTPStatus.UNAUTHORIZED)["code"] == "token_missing"
    assert response["WWW-Authenticate"].startswith("Bearer")
    _nothing_more(theirs)


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_revoked_client_is_403(theirs, organisation, member, name):
    caller = real_caller(member)
    api_client_revoke(
        api_client=caller.api_client,
        acting_user=member_of(organisation, super_user=True),
        reason="Replaced",
    )

    response = _call(caller.http, name, theirs)

    assert _problem(response, HTTPStatus.FORBIDDEN)["code"] == "client_revoked"
    _nothing_more(theirs)


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_suspended_organisations_client_is_403(theirs, organisation, member, name):
    caller = real_caller(member)
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()

    response = _call(caller.http, name, theirs)

    assert _problem(response, HTTPStatus.FORBIDDEN)["code"] == (
        "organisation_suspended"
    )
    _nothing_more(theirs)


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_client_of_another_organisation_acts_for_its_own_alone(
    theirs, organisation, name
):
    other = OrganisationFactory.create(
        last_signed_version=organisation.last_signed_version
    )
    caller = real_caller(member_of(other, super_user=True))

    response = _call(caller.http, name, theirs)

    if name in NAME_A_BATCH:
        assert _problem(response, HTTPStatus.NOT_FOUND)["status"] == 404
        _nothing_more(theirs)
        return
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.ACCEPTED)
    if name == "api:me":
        assert response.json()["organisation"]["ukprn"] == other.ukprn
    # Whatever it did is its own organisation's: its log rows and batches.
    assert set(
        LearnerView.objects.exclude(organisation=organisation).values_list(
            "organisation", flat=True
        )
    ) <= {other.pk}
    assert set(Batch.objects.values_list("organisation", flat=True)) <= {
        organisation.pk,
        other.pk,
    }
    assert Batch.objects.filter(organisation=organisation).count() == 1
    assert LearnerView.objects.filter(organisation=organisation).count() == 1
