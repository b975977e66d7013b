"""What one signed-in request costs in queries, so that the cost cannot creep
back (issue 21; bench/request_cost.py measures the time, bench/RESULTS.md says
where it goes). Each test names every statement it allows: a new one fails the
test, which then says which one it was.

Transaction control (BEGIN, SAVEPOINT, RELEASE, COMMIT) is left out: a lookup's
transaction is the rule (logged in the transaction that reads), not a cost.
"""

import re
from datetime import time
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_static.models import StaticDevice

from lrs_portal.models import User
from registration.models import Organisation
from tests.conftest import verified_client
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    TOTPDeviceFactory,
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
        verb = sql.lstrip("(").split(None, 1)[0]
        column = re.match(r'SELECT (?:DISTINCT )?(?:\w+\()?"(\w+)"\.', sql)
        if "pg_advisory_xact_lock" in sql:
            table = "pg_advisory_xact_lock"
        elif " UNION ALL " in sql and '"otp_' in sql:
            table = "otp_devices"
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
        "SELECT otp_devices",  # a confirmed device of any kind, one UNION ALL
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


def test_a_staff_page_costs_these_statements(caseworker, settings):
    # The index asks which nightly jobs are late only once the day's deadline
    # has passed (lrs_portal.jobs.jobs_late): a deadline of midnight makes the
    # statements the same at any time of day.
    settings.JOB_DEADLINE = time(0, 0)
    client = verified_client(caseworker)

    captured = _second(client, lambda c: c.get("/admin/"))

    assert _tables(captured) == [
        "SELECT lrs_portal_user_session",
        "SELECT lrs_portal_user",
        "SELECT otp_totp_totpdevice",  # the verified second factor
        # Not stopped by the department's recertification (decision 29).
        "SELECT registration_recertificationconfirmation",
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


@pytest.mark.parametrize(
    ("devices", "shown"),
    [
        ((), "Not set up"),
        ((("totp", False),), "Not set up"),  # an authenticator never confirmed
        ((("totp", True),), "Set up"),
        ((("static", True),), "Set up"),  # backup codes alone
        ((("static", False), ("totp", True)), "Set up"),
    ],
)
def test_the_account_page_asks_every_device_table_in_one_query(
    signed_in, member, devices, shown
):
    for kind, confirmed in devices:
        if kind == "totp":
            TOTPDeviceFactory.create(user=member, confirmed=confirmed)
        else:
            StaticDevice.objects.create(user=member, name="b", confirmed=confirmed)

    with CaptureQueriesContext(connection) as captured:
        response = signed_in.get("/account/")

    assert shown in response.content.decode().split("Two-factor authentication")[1]
    device_queries = [q for q in captured if "otp_" in q["sql"]]
    assert len(device_queries) == 1


def test_a_role_given_or_taken_through_the_user_counts_at_once(member):
    """The groups are read once an instance (issue 21), and forgotten when they
    change through it, so requires_mfa never answers from a stale read."""
    from django.contrib.auth.models import Group

    from lrs_portal import roles

    staff_role = Group.objects.get(name=sorted(roles.MFA_REQUIRED)[0])
    assert member.requires_mfa is False

    member.groups.add(staff_role)
    assert member.requires_mfa is True
    assert staff_role.name in member.role_names

    member.groups.remove(staff_role)
    assert member.requires_mfa is False

    staff_role.user_set.add(member)  # through the group: refresh to see it
    member.refresh_from_db()
    assert member.requires_mfa is True
