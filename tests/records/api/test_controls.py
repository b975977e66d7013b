"""The controls on every call: the gate's refusals (403, the pages' words), the
real-time caps (429 and Retry-After), the rate limit per client (429), and a
matrix of every operation against callers who must be refused."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from records.api import throttles
from records.models import LearnerView, UsageAlert
from registration.models import Organisation
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.api.conftest import api_client_for, make_learner, real_caller

pytestmark = pytest.mark.django_db

OPERATIONS = [
    ("get", "me", None),
    ("post", "learner-searches", {"uln": "9276308686"}),
    (
        "post",
        "learning-events",
        {"uln": "9276308686", "given_name": "Amelia", "family_name": "Hughes"},
    ),
]


def call(client, method, name, body):
    return getattr(client, method)(f"/api/v1/{name}", body, format="json")


def _problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= {k for k, v in problem.items() if v}
    return problem


def _suspend_organisation(organisation, member):
    organisation.status = Organisation.Status.SUSPENDED
    organisation.save()


def _revoke_organisation(organisation, member):
    organisation.status = Organisation.Status.REVOKED
    organisation.save()


def _suspend_member(organisation, member):
    member.membership.suspended_at = timezone.now()
    member.membership.save()


def _new_agreement_not_signed(organisation, member):
    AgreementVersionFactory.create()


@pytest.mark.parametrize(("method", "name", "body"), OPERATIONS)
@pytest.mark.parametrize(
    ("refuse", "code", "words"),
    [
        (
            _suspend_organisation,
            "organisation_suspended",
            "Your organisation's access to the LRS is suspended.",
        ),
        (
            _revoke_organisation,
            "organisation_revoked",
            "Your organisation's access to the LRS has been revoked.",
        ),
        (_suspend_member, "user_suspended", "Your access to the LRS is suspended."),
        (
            _new_agreement_not_signed,
            "agreement_not_signed",
            "Your organisation has not signed the current LRS agreement.",
        ),
    ],
)
def test_every_operation_refuses_a_caller_the_gate_refuses_in_the_pages_words(
    api, organisation, member, method, name, body, refuse, code, words
):
    make_learner()
    refuse(organisation, member)

    problem = _problem(call(api, method, name, body), HTTPStatus.FORBIDDEN)

    assert problem["code"] == code
    assert problem["detail"].startswith(words)
    assert "Hughes" not in str(problem)
    assert not LearnerView.objects.exists()


@pytest.mark.parametrize(("method", "name", "body"), OPERATIONS)
def test_every_operation_refuses_a_call_with_no_token(method, name, body, db):
    make_learner()

    response = call(APIClient(), method, name, body)

    problem = _problem(response, HTTPStatus.UNAUTHORIZED)
    assert problem["code"] == "token_missing"
    assert "POST /api/v1/token" in problem["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not LearnerView.objects.exists()


@pytest.mark.parametrize(("method", "name", "body"), OPERATIONS)
def test_a_client_of_another_organisation_acts_for_its_own_alone(
    organisation, member, method, name, body
):
    make_learner()
    other = OrganisationFactory.create(
        last_signed_version=organisation.last_signed_version
    )
    theirs = api_client_for(member_of(other))

    response = call(theirs, method, name, body)

    assert response.status_code == HTTPStatus.OK
    if name == "me":
        assert response.json()["organisation"]["ukprn"] == other.ukprn
    else:
        assert set(LearnerView.objects.values_list("organisation", flat=True)) == {
            other.pk
        }


# --- the real-time caps --------------------------------------------------------


def _search(client):
    return call(client, "post", "learner-searches", {"uln": "9276308686"})


@override_settings(LOOKUP_USER_HOURLY_CAP=2)
def test_past_the_hourly_cap_a_search_is_429_until_the_oldest_leaves_the_hour(
    api, member
):
    make_learner()
    assert _search(api).status_code == HTTPStatus.OK
    assert _search(api).status_code == HTTPStatus.OK
    first = LearnerView.objects.order_by("viewed_at").first().viewed_at

    response = _search(api)

    problem = _problem(response, HTTPStatus.TOO_MANY_REQUESTS)
    assert problem["code"] == "user_cap"
    assert problem["detail"] == (
        "You have reached the number of lookups allowed in an hour. Try again later."
    )
    assert problem["type"].endswith("/lookup-cap-reached")
    frees = (first + timedelta(hours=1) - timezone.now()).total_seconds()
    assert frees - 5 <= int(response["Retry-After"]) <= frees + 1
    # Refused and logged as refused, and the alert raised, as on the pages.
    assert LearnerView.objects.filter(outcome="refused").count() == 1
    assert UsageAlert.objects.filter(rule="realtime_user_hourly_cap").exists()


@override_settings(LOOKUP_ORG_DAILY_MINIMUM=1, LOOKUP_USER_HOURLY_CAP=60)
def test_past_the_organisations_daily_cap_retry_after_is_the_end_of_its_day(
    api, organisation
):
    organisation.estimated_learners_per_year = 1
    organisation.save()
    make_learner()
    assert _search(api).status_code == HTTPStatus.OK

    response = _search(api)

    problem = _problem(response, HTTPStatus.TOO_MANY_REQUESTS)
    assert problem["code"] == "organisation_cap"
    now = timezone.now()
    midnight = (now + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    left = (midnight - now).total_seconds()
    assert left - 5 <= int(response["Retry-After"]) <= left + 1


# --- the rate limit per client -------------------------------------------------


@pytest.fixture
def frozen_second(monkeypatch):
    """Every call in the same second, so the count does not roll over mid-test."""
    monkeypatch.setattr(throttles.time, "time", lambda: 1_900_000_000.25)


@override_settings(API_RATE_LIMIT_PER_SECOND=3)
def test_a_client_past_its_rate_limit_is_429_with_retry_after(
    api, frozen_second, settings
):
    from django.core.cache import cache

    cache.clear()
    answers = [api.get("/api/v1/me").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    response = api.get("/api/v1/me")
    problem = _problem(response, HTTPStatus.TOO_MANY_REQUESTS)
    assert problem["type"].endswith("/rate-limited")
    assert response["Retry-After"] == "1"


@override_settings(API_RATE_LIMIT_PER_SECOND=2)
def test_the_rate_limit_is_counted_in_the_cache_that_every_worker_shares(
    member, organisation, frozen_second
):
    from django.core.cache import cache

    cache.clear()
    # Two Django test clients with the same API client stand for two gunicorn
    # workers: each has its own throttle objects, and only the cache in common.
    caller = real_caller(member)
    first = caller.http
    second = APIClient()
    second.credentials(HTTP_AUTHORIZATION=f"Bearer {caller.token}")
    other = api_client_for(member_of(organisation))

    statuses = [c.get("/api/v1/me").status_code for c in (first, second, first)]

    assert statuses == [200, 200, 429]
    assert other.get("/api/v1/me").status_code == HTTPStatus.OK  # its own count
