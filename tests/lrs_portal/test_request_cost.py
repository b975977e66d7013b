"""What one signed-in request costs in queries, so that the cost cannot creep
back (issue 21; bench/request_cost.py measures the time, bench/RESULTS.md says
where it goes). Each test names every statement it allows: a new one fails the
test, which then says which one it was.

Transaction control (BEGIN, SAVEPOINT, RELEASE, COMMIT) is left out: a lookup's
transaction is the rule (logged in the transaction that reads), not a cost.
"""

import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from lrs_portal.models import User
from registration.models import Organisation
from tests.conftest import verified_client
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    api_token,
    issue_api_client,
    member_of,
)
from tests.records.test_views_lookup import ULN, by_uln, make_learner

pytestmark = pytest.mark.django_db
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _tables(captured: CaptureQueriesContext) -> list[str]:
    """Each statement as the first table it names (or its first words)."""
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith(CONTROL):
            continue
        verb = sql.split(None, 1)[0]
        column = re.match(r'SELECT (?:DISTINCT )?(?:\w+\()?"(\w+)"\.', sql)
        if "pg_advisory_xact_lock" in sql:
            table = "pg_advisory_xact_lock"
        elif column:  # the table of the first column selected
            table = column[1]
        elif " FROM " in sql:
            table = sql.split(" FROM ", 1)[1].split('"', 2)[1]
        else:
            table = sql.split('"', 2)[1]
        found.append(f"{verb} {table}")
    return found


def _caps_lock() -> list[str]:
    """The organisation's caps lock (PostgreSQL only; decision 26)."""
    return ["SELECT pg_advisory_xact_lock"] if connection.vendor == "postgresql" else []


@pytest.fixture
def organisation() -> Organisation:
    return OrganisationFactory.create(last_signed_version=AgreementVersionFactory())


@pytest.fixture
def member(organisation: Organisation) -> User:
    user: User = member_of(organisation)
    return user


@pytest.fixture
def signed_in(member: User) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _second(client: Client, request: object) -> CaptureQueriesContext:
    """The statements of the second of two identical requests (the first may
    do once-a-day work, such as noting the member's last lookup day)."""
    assert callable(request)
    request(client)
    with CaptureQueriesContext(connection) as captured:
        response = request(client)
    assert response.status_code == HTTPStatus.OK, response.content[:500]
    return captured


def test_the_account_page_costs_these_statements(signed_in):
    captured = _second(signed_in, lambda c: c.get("/account/"))

    assert _tables(captured) == [
        "SELECT lrs_portal_user_session",
        "SELECT lrs_portal_user",
        "SELECT auth_group",  # requires_mfa and role_names, read once
        "SELECT registration_membership",  # with its organisation
        "SELECT otp_static_staticdevice",  # user_has_device
        "SELECT otp_totp_totpdevice",
    ]


def test_a_uln_lookup_costs_these_statements(signed_in):
    make_learner()

    captured = _second(signed_in, by_uln)

    assert _tables(captured) == [
        "SELECT lrs_portal_user_session",
        "SELECT lrs_portal_user",
        "SELECT auth_group",  # requires_mfa
        "SELECT registration_membership",  # the gate, locked
        *_caps_lock(),  # the organisation's
        "SELECT records_learnerview",  # both caps' counts
        "SELECT records_learner",
        "INSERT records_learnerview",  # the log row
    ]


def test_a_staff_page_costs_these_statements(caseworker):
    client = verified_client(caseworker)

    captured = _second(client, lambda c: c.get("/admin/"))

    assert _tables(captured) == [
        "SELECT lrs_portal_user_session",
        "SELECT lrs_portal_user",
        "SELECT otp_totp_totpdevice",  # the verified second factor
        "SELECT django_content_type",  # the user's own permissions
        "SELECT django_content_type",  # their groups'
        # Each queue's waiting and overdue counts (decision 32), one a queue.
        "SELECT registration_registrationapplication",
        "SELECT registration_suspension",
        "SELECT approvals_datasharerequest",
        # The casework dashboard.
        "SELECT lrs_portal_jobrun",
        "SELECT lrs_portal_servicealert",
        "SELECT approvals_risksettings",
        "SELECT approvals_risksettings",
        "SELECT registration_reverificationcase",
        "SELECT registration_reverificationcase",
        "SELECT records_subjectaccessrequest",
        "SELECT records_subjectaccessrequest",
        "SELECT django_admin_log",
    ]


@pytest.fixture
def bearer(client: Client, member: User) -> dict[str, str]:
    issued = issue_api_client(member)
    response = api_token(client, issued.client_id, issued.client_secret)
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


def test_api_me_costs_these_statements(client, bearer):
    captured = _second(client, lambda c: c.get("/api/v1/me", **bearer))

    assert _tables(captured) == [
        "SELECT oauth2_provider_accesstoken",  # with its client and member
        "SELECT registration_membership",  # refused as the pages refuse
        "SELECT registration_membership",
        "SELECT records_learnerview",  # the allowance
    ]


def test_an_api_uln_search_costs_these_statements(client, bearer):
    make_learner()

    captured = _second(
        client,
        lambda c: c.post(
            "/api/v1/learner-searches",
            {"uln": ULN},
            content_type="application/json",
            **bearer,
        ),
    )

    assert _tables(captured) == [
        "SELECT oauth2_provider_accesstoken",
        "SELECT registration_membership",  # refused as the pages refuse
        "SELECT registration_membership",  # the gate, locked
        *_caps_lock(),
        "SELECT records_learnerview",
        "SELECT records_learner",
        "INSERT records_learnerview",
    ]
