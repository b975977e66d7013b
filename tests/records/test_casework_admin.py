"""The casework admin: the suspension queue and case page, decisions through the
workflow pages, audit rules and the dashboard (issue 5)."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from lrs_portal.models import JobRun
from records.audit import audit_rules_ensure
from records.jobs import audit_usage_run
from records.models import AuditRule, LearnerView
from registration.models import Organisation, Suspension
from tests.conftest import verified_client
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.records.factories import nth_uln

pytestmark = pytest.mark.django_db


def _url(name, *args):
    return reverse(f"admin:{name}", args=args)


@pytest.fixture
def suspended():
    """A college (limit 30 searches a day) suspended by the audit for 95."""
    college = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create(),
        estimated_learners_per_year=2000,
    )
    member_of(college, super_user=True)
    searcher = member_of(college)
    day = timezone.now().date() - timedelta(days=1)
    LearnerView.objects.bulk_create(
        LearnerView(
            user=searcher,
            organisation=college,
            action=LearnerView.Action.SEARCH_ULN,
            outcome=LearnerView.Outcome.EXACT_MATCH,
            viewed_at=datetime.combine(day, time(10), tzinfo=UTC)
            + timedelta(seconds=i),
            learner_uln=nth_uln(9 * i),
        )
        for i in range(95)
    )
    audit_usage_run()
    return Suspension.objects.get()


@pytest.fixture
def casework(caseworker):
    return verified_client(caseworker)


def test_the_queue_shows_suspensions_in_force_by_default(casework, suspended):
    body = casework.get(_url("registration_suspension_changelist")).content.decode()

    assert suspended.organisation.legal_name in body
    assert "In force" in body


def test_the_case_page_shows_the_usage_chart_and_the_rules_hit(casework, suspended):
    response = casework.get(_url("registration_suspension_change", suspended.pk))

    body = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "<svg" in body
    assert "against a limit of 30" in body
    assert "Organisation volume above its expected volume" in body
    assert "org_volume" in body  # the alert of the day
    assert "Reinstate (false positive)" in body


def test_a_caseworker_reinstates_through_the_workflow_page(casework, suspended):
    url = _url("registration_suspension_reinstate", suspended.pk)

    assert casework.get(url).status_code == HTTPStatus.OK
    response = casework.post(url, {"reason": "Enrolment week, confirmed by phone"})

    assert response.status_code == HTTPStatus.FOUND
    suspended.refresh_from_db()
    assert suspended.status == Suspension.Status.REINSTATED
    assert suspended.decision_reason == "Enrolment week, confirmed by phone"
    assert suspended.organisation.status == Organisation.Status.REGISTERED


def test_a_decision_without_a_reason_changes_nothing(casework, suspended):
    response = casework.post(
        _url("registration_suspension_escalate", suspended.pk), {"reason": "  "}
    )

    assert response.status_code == HTTPStatus.OK
    assert "errornote" in response.content.decode()
    suspended.refresh_from_db()
    assert suspended.status == Suspension.Status.OPEN


def test_a_decided_case_offers_no_decision(casework, suspended, caseworker):
    from registration.services import suspension_reinstate

    suspension_reinstate(suspension=suspended, acting_user=caseworker, reason="OK")

    body = casework.get(
        _url("registration_suspension_change", suspended.pk)
    ).content.decode()
    response = casework.post(
        _url("registration_suspension_escalate", suspended.pk), {"reason": "Late"}
    )

    assert "Escalate to revocation" not in body
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_staff_without_the_decide_permission_cannot_decide(suspended, assessor):
    assessor.is_staff = True
    assessor.save()
    client = verified_client(assessor)

    response = client.post(
        _url("registration_suspension_reinstate", suspended.pk), {"reason": "x"}
    )

    assert response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)
    suspended.refresh_from_db()
    assert suspended.status == Suspension.Status.OPEN


def test_a_provider_cannot_reach_the_casework_admin(suspended):
    super_user = suspended.organisation.memberships.get(is_super_user=True).user
    client = verified_client(super_user)

    response = client.get(_url("registration_suspension_change", suspended.pk))

    assert response.status_code == HTTPStatus.FOUND
    assert "/login/" in response.url


def test_the_dashboard_shows_runs_alerts_suspensions_and_heavy_users(
    casework, suspended, django_assert_max_num_queries
):
    with django_assert_max_num_queries(25):
        response = casework.get(_url("registration_suspension_dashboard"))

    body = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "audit_usage" in body
    assert "Nightly usage audit" in body  # suspensions by source
    assert "org_volume" in body  # open alerts by rule
    searcher = suspended.organisation.memberships.get(is_super_user=False).user
    assert searcher.email in body  # the heaviest user
    assert JobRun.objects.count() == 1


def test_the_dashboard_has_empty_states(casework):
    body = casework.get(_url("registration_suspension_dashboard")).content.decode()

    assert "No job has run in the last 7 days" in body
    assert "No suspension is in force" in body
    assert "No open usage alerts" in body


def test_a_caseworker_tunes_a_rule_and_history_records_who(casework, caseworker):
    audit_rules_ensure()
    rule = AuditRule.objects.get(code=AuditRule.Code.USER_VOLUME)

    response = casework.post(
        _url("records_auditrule_change", rule.pk),
        {"enabled": "on", "threshold": "120", "minimum_volume": "0"},
    )

    assert response.status_code == HTTPStatus.FOUND
    rule.refresh_from_db()
    assert rule.threshold == Decimal(120)
    assert rule.suspends is False
    assert rule.history.latest("history_date").history_user == caseworker


def test_a_rule_threshold_must_be_positive(casework):
    audit_rules_ensure()
    rule = AuditRule.objects.get(code=AuditRule.Code.USER_VOLUME)

    response = casework.post(
        _url("records_auditrule_change", rule.pk),
        {"enabled": "on", "threshold": "0", "minimum_volume": "0"},
    )

    assert response.status_code == HTTPStatus.OK
    rule.refresh_from_db()
    assert rule.threshold == Decimal(150)


def test_rules_cannot_be_added_or_deleted(casework):
    audit_rules_ensure()
    rule = AuditRule.objects.first()

    assert casework.get(_url("records_auditrule_add")).status_code == 403
    assert casework.get(_url("records_auditrule_delete", rule.pk)).status_code == 403


def test_the_admin_home_links_to_the_dashboard(casework):
    body = casework.get(reverse("admin:index")).content.decode()

    assert _url("registration_suspension_dashboard") in body
