import logging
import re
from datetime import date, timedelta
from decimal import Decimal
from http import HTTPStatus
from itertools import count, islice

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lrs_portal.admin import BaseAdmin
from lrs_portal.models import JobRun
from records.admin import base as admin_base
from records.admin.learners import LearnerAdmin
from records.admin.log import LearnerViewAdmin
from records.models import Achievement, AuditRule, Learner, LearnerView, UsageAlert
from records.uln import uln_check_digit
from tests.conftest import verified_client
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
DOB = date(2007, 5, 14)
A = LearnerView.Action
OUTCOME = LearnerView.Outcome


def valid_ulns():
    """ULNs that pass the check digit, in order: 1000000009-style numbers."""
    for stem in count(100_000_000):
        digit = uln_check_digit(str(stem))
        if digit is not None:
            yield f"{stem}{digit}"


def make_learner(uln, **kwargs):
    values = {
        "given_name": "Amelia",
        "family_name": "Hughes",
        "date_of_birth": DOB,
        "gender": 2,
        "postcode": "LS2 9JT",
    }
    values.update(kwargs)
    return Learner.objects.create(uln=uln, **values)


def log_row(organisation, *, uln="", when=None, user=None, **kwargs):
    values = {
        "action": A.SEARCH_ULN,
        "outcome": OUTCOME.EXACT_MATCH if uln else OUTCOME.NO_MATCH,
        "match_count": 1 if uln else 0,
        "request_id": "req-1",
    }
    values.update(kwargs)
    return LearnerView.objects.create(
        user=user or UserFactory.create(),
        organisation=organisation,
        learner_uln=uln,
        viewed_at=when or timezone.now(),
        **values,
    )


def _grant(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="records", codename__in=codenames
        )
    )


def url(model, view, *args):
    return reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args
    )


def learner_queries(captured, table="records_learner"):
    return [
        q["sql"] for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]
    ]


def unbounded_counts(captured):
    """COUNT queries with no WHERE: a count of a whole table."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and "WHERE" not in q["sql"].upper()
    ]


@pytest.fixture
def client(admin_verified_client):
    return admin_verified_client


@pytest.fixture
def ulns():
    return valid_ulns()


@pytest.fixture
def one_of_each(ulns):
    organisation = OrganisationFactory.create()
    learner = make_learner(next(ulns))
    Achievement.objects.create(
        learner=learner,
        awarding_organisation="Pearson",
        qualification_title="BTEC Level 3 Extended Diploma in Engineering",
        qualification_type="BTEC",
        level="3",
        subject="Engineering",
        grade="D*D*D",
        award_date=date(2025, 8, 14),
    )
    log_row(organisation, uln=learner.uln)
    UsageAlert.objects.create(
        subject_type=UsageAlert.Subject.ORGANISATION,
        organisation=organisation,
        day=date(2026, 11, 27),
        rule="nightly_org_daily_views",
        value=900,
        threshold=500,
    )
    JobRun.objects.create(
        job="usage_audit",
        outcome=JobRun.Outcome.SUCCEEDED,
        first_day=date(2026, 11, 26),
        last_day=date(2026, 11, 27),
        counts={"views": 12, "alerts": 1},
    )


MODELS = (Learner, Achievement, LearnerView, UsageAlert, JobRun)


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_each_records_admin_page_loads_with_a_row(client, one_of_each, model):
    from django.contrib import admin

    assert client.get(url(model, "changelist")).status_code == HTTPStatus.OK
    assert client.get(url(model, "changelist"), {"q": "zz"}).status_code == (
        HTTPStatus.OK
    )
    obj = model._default_manager.get()
    change = client.get(url(model, "change", obj.pk))
    assert change.status_code == HTTPStatus.OK
    if isinstance(admin.site.get_model_admin(model), BaseAdmin):
        body = change.content.decode()
        assert url(model, "history", obj.pk) in body
        assert "Object permissions" in body
        assert client.get(url(model, "history", obj.pk)).status_code == HTTPStatus.OK
        assert client.get(url(model, "permissions", obj.pk)).status_code == (
            HTTPStatus.OK
        )


# --- learner search --------------------------------------------------------------


def test_a_uln_search_is_an_indexed_equality(client, ulns):
    wanted = make_learner(next(ulns))
    other = make_learner(next(ulns))

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(Learner, "changelist"), {"q": f" {wanted.uln} "})

    assert response.status_code == HTTPStatus.OK
    assert list(response.context["cl"].result_list) == [wanted]
    assert other.uln not in response.content.decode()
    sql = learner_queries(captured)
    assert sql
    assert any(f'"records_learner"."uln" = \'{wanted.uln}\'' in s for s in sql)
    for statement in sql:
        assert not re.search(r'UPPER\("records_learner"\."uln"', statement)
        assert " LIKE " not in statement.upper()


def test_a_family_name_search_is_upper_equality_not_a_pattern(client, ulns):
    hughes = make_learner(next(ulns), family_name="Hughes")
    make_learner(next(ulns), family_name="Hughes-Smith")
    make_learner(next(ulns), family_name="Patel")

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(Learner, "changelist"), {"q": "hUGHES"})

    assert list(response.context["cl"].result_list) == [hughes]
    sql = learner_queries(captured)
    assert any('UPPER("records_learner"."family_name") = \'HUGHES\'' in s for s in sql)
    assert not any(" LIKE " in s.upper() for s in sql)


@pytest.mark.postgres
def test_the_family_name_changelist_query_uses_the_expression_index(superuser, ulns):
    for uln in islice(ulns, 20):
        make_learner(uln, family_name=f"Name{uln[-3:]}")
    request = RequestFactory().get(url(Learner, "changelist"), {"q": "Hughes"})
    request.user = superuser
    model_admin = LearnerAdmin(Learner, admin.site)
    changelist = model_admin.get_changelist_instance(request)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = changelist.queryset.explain()

    assert "learner_family_dob_idx" in plan


def test_a_column_outside_sortable_by_is_not_sorted_even_when_asked(client, ulns):
    make_learner(next(ulns))

    with CaptureQueriesContext(connection) as captured:
        client.get(url(Learner, "changelist"), {"o": "2.1"})  # given, family name

    page = [s for s in learner_queries(captured) if "LIMIT" in s or "ORDER" in s]
    assert page
    assert all('given_name" ASC' not in s for s in page)
    assert any('ORDER BY "records_learner"."uln" ASC' in s for s in page)


# --- counts on large tables --------------------------------------------------------


@pytest.fixture
def large_tables(monkeypatch):
    """estimated_count as PostgreSQL would answer for the real tables."""
    monkeypatch.setattr(admin_base, "estimated_count", lambda model: 12_345_678)


@pytest.mark.parametrize("model", [Learner, LearnerView, Achievement])
def test_an_unfiltered_large_changelist_counts_nothing(
    client, one_of_each, large_tables, model
):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(model, "changelist"))

    assert response.status_code == HTTPStatus.OK
    assert unbounded_counts(captured) == []
    body = response.content.decode()
    assert "About 12,345,678" in body
    # Pages stop at the 10,000th row (the log's at the 1,000th): 200 pages of
    # 50 (20 for the log), not 246,914.
    pages = 20 if model is LearnerView else 200
    assert response.context["cl"].paginator.num_pages == pages


@pytest.mark.parametrize(
    ("model", "params", "limit"),
    [
        (LearnerView, {"within": "24h"}, 1000),
        (Learner, {"q": "Hughes"}, 10000),
    ],
)
def test_a_filtered_changelist_counts_a_capped_number_of_rows_in_no_order(
    client, one_of_each, model, params, limit
):
    with CaptureQueriesContext(connection) as captured:
        client.get(url(model, "changelist"), params)

    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert counts
    assert all(f"LIMIT {limit})" in s and "WHERE" in s for s in counts)
    # Any rows count the same: no ORDER BY to hold the planner to one index.
    assert not any("ORDER BY" in s for s in counts)


def test_a_table_estimated_below_ten_thousand_rows_is_counted_exactly(
    client, one_of_each, monkeypatch
):
    # A table never analysed is estimated at 0: the list must not then think it
    # is one page long and load every row.
    monkeypatch.setattr(admin_base, "estimated_count", lambda model: 0)

    response = client.get(url(LearnerView, "changelist"))

    assert response.context["cl"].result_count == 1
    assert "About" not in response.content.decode()


@pytest.mark.postgres
def test_on_postgresql_the_unfiltered_large_changelists_run_no_count(
    client, one_of_each, monkeypatch
):
    # The real estimate runs (its query is captured too), plus 20M as if the
    # tables were full: no data churn, so other tests' planner statistics stay.
    real = admin_base.estimated_count
    monkeypatch.setattr(
        admin_base, "estimated_count", lambda model: real(model) + 20_000_000
    )
    for model in (Learner, LearnerView, Achievement):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(model, "changelist"))

        assert response.status_code == HTTPStatus.OK
        assert any("reltuples" in q["sql"] for q in captured.captured_queries)
        assert unbounded_counts(captured) == []
        assert response.context["cl"].paginator.count_is_estimate


# --- query counts ------------------------------------------------------------------


def test_the_learner_changelist_runs_a_fixed_number_of_queries(
    client, ulns, django_assert_max_num_queries
):
    Learner.objects.bulk_create(
        Learner(
            uln=uln,
            given_name="A",
            family_name=f"B{n}",
            date_of_birth=DOB,
            gender=0,
            postcode="LS1 1AA",
        )
        for n, uln in enumerate(islice(ulns, 50))
    )

    with django_assert_max_num_queries(8):
        response = client.get(url(Learner, "changelist"))

    assert len(response.context["cl"].result_list) == 50


def test_the_log_changelist_runs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    for n in range(50):  # 50 organisations and 50 users
        log_row(OrganisationFactory.create(), request_id=f"req-{n}")

    with django_assert_max_num_queries(8):
        response = client.get(url(LearnerView, "changelist"))

    assert len(response.context["cl"].result_list) == 50


# --- the lookup log is read-only -------------------------------------------------


def test_the_log_cannot_be_added_changed_or_deleted_even_by_a_superuser(
    client, one_of_each
):
    row = LearnerView.objects.get()

    assert client.get(url(LearnerView, "add")).status_code == HTTPStatus.FORBIDDEN
    deleted = client.post(url(LearnerView, "delete", row.pk), {"post": "yes"})
    assert deleted.status_code == HTTPStatus.FORBIDDEN
    change = client.get(url(LearnerView, "change", row.pk))
    assert change.status_code == HTTPStatus.OK
    body = change.content.decode()
    assert 'name="_save"' not in body
    assert 'name="_continue"' not in body
    changelist = client.get(url(LearnerView, "changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert LearnerView.objects.filter(pk=row.pk).exists()


def test_the_log_filters_by_ukprn_user_email_and_time(client):
    ours, theirs = OrganisationFactory.create_batch(2)
    person = UserFactory.create()
    mine = log_row(ours, user=person)
    log_row(theirs)
    old = log_row(ours, user=person, when=timezone.now() - timedelta(days=3))

    def shown(**params):
        response = client.get(url(LearnerView, "changelist"), params)
        return list(response.context["cl"].result_list)

    assert shown(organisation_ukprn=ours.ukprn) == [mine, old]
    assert shown(user_email=person.email, within="24h") == [mine]
    assert shown(within="7d", organisation_ukprn=ours.ukprn) == [mine, old]


def test_the_log_filters_by_the_organisations_and_users_id_not_a_join(client):
    ours = OrganisationFactory.create()
    person = UserFactory.create()
    log_row(ours, user=person)

    for params, column, value in (
        ({"organisation_ukprn": ours.ukprn}, "organisation_id", ours.pk),
        ({"user_email": person.email}, "user_id", person.pk),
    ):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(LearnerView, "changelist"), params)
        assert len(response.context["cl"].result_list) == 1
        log = [
            q["sql"]
            for q in captured.captured_queries
            if 'FROM "records_learnerview"' in q["sql"]
        ]
        assert log
        assert all(f'"records_learnerview"."{column}" = {value}' in s for s in log)
        conditions = [s.split(" WHERE ", 1)[1] for s in log]
        assert not any("ukprn" in c or "email" in c for c in conditions)


def test_an_unknown_ukprn_or_email_shows_no_rows(client):
    log_row(OrganisationFactory.create())

    for params in ({"organisation_ukprn": "99999999"}, {"user_email": "no@x.com"}):
        response = client.get(url(LearnerView, "changelist"), params)
        assert list(response.context["cl"].result_list) == []


@pytest.mark.postgres
def test_the_outcome_filter_reads_its_own_index(superuser):
    organisation = OrganisationFactory.create()
    for _ in range(3):
        log_row(organisation, outcome=OUTCOME.REFUSED)
    request = RequestFactory().get(
        url(LearnerView, "changelist"), {"outcome": "refused"}
    )
    request.user = superuser
    model_admin = LearnerViewAdmin(LearnerView, admin.site)
    changelist = model_admin.get_changelist_instance(request)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = changelist.queryset.explain()

    assert "outcome_viewed_at_idx" in plan or "learnerview_outcome_time_idx" in plan


def test_the_log_is_searched_by_exact_uln_or_recent_request_id(client, ulns):
    organisation = OrganisationFactory.create()
    uln = next(ulns)
    hit = log_row(organisation, uln=uln, request_id="abc123")
    log_row(organisation, uln=next(ulns))
    old = log_row(
        organisation, request_id="abc123", when=timezone.now() - timedelta(days=2)
    )

    def found(**params):
        response = client.get(url(LearnerView, "changelist"), params)
        return list(response.context["cl"].result_list)

    assert found(q=uln) == [hit]
    assert found(q="abc123") == [hit]
    assert found(q="abc123", within="7d") == [hit, old]
    assert found(q="abc12") == []


# --- learner pages ---------------------------------------------------------------


def test_the_learner_page_shows_achievements_and_the_access_report_link(
    client, one_of_each
):
    learner = Learner.objects.get()

    body = client.get(url(Learner, "change", learner.pk)).content.decode()

    assert "BTEC Level 3 Extended Diploma in Engineering" in body
    assert reverse("admin:records_learner_access_report", args=[learner.pk]) in body
    assert 'name="_save"' not in body


def test_opening_a_learner_is_logged_with_who_and_which(
    client, one_of_each, superuser, caplog
):
    learner = Learner.objects.get()

    with caplog.at_level(logging.INFO, logger="records.admin"):
        client.get(url(Learner, "change", learner.pk))

    [record] = [r for r in caplog.records if r.msg == "learner viewed in admin"]
    assert (record.user_id, record.learner_id) == (superuser.pk, learner.pk)


def test_a_caseworker_sees_a_learner_read_only_with_the_access_report(
    caseworker, one_of_each
):
    client = verified_client(caseworker)
    learner = Learner.objects.get()

    page = client.get(url(Learner, "change", learner.pk))
    report = reverse("admin:records_learner_access_report", args=[learner.pk])

    body = page.content.decode()
    assert page.status_code == HTTPStatus.OK
    assert "BTEC Level 3 Extended Diploma in Engineering" in body
    assert 'name="_save"' not in body
    assert report in body
    assert client.get(report).status_code == HTTPStatus.OK
    assert client.get(url(Learner, "add")).status_code == HTTPStatus.FORBIDDEN


def test_staff_without_records_permissions_cannot_see_learners(assessor, one_of_each):
    client = verified_client(assessor)
    learner = Learner.objects.get()

    assert client.get(url(Learner, "changelist")).status_code == HTTPStatus.FORBIDDEN
    report = reverse("admin:records_learner_access_report", args=[learner.pk])
    assert client.get(report).status_code == HTTPStatus.NOT_FOUND


def test_the_access_report_needs_view_learnerview_as_well(assessor, one_of_each):
    _grant(assessor, "view_learner")
    client = verified_client(assessor)
    learner = Learner.objects.get()

    body = client.get(url(Learner, "change", learner.pk)).content.decode()
    report = reverse("admin:records_learner_access_report", args=[learner.pk])

    assert report not in body
    assert client.get(report).status_code == HTTPStatus.FORBIDDEN


def test_achievements_are_searched_by_exact_uln(client, one_of_each, ulns):
    learner = Learner.objects.get()

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(Achievement, "changelist"), {"q": learner.uln})

    assert len(response.context["cl"].result_list) == 1
    assert any(
        f'"records_learner"."uln" = \'{learner.uln}\'' in q["sql"]
        for q in captured.captured_queries
    )
    missing = client.get(url(Achievement, "changelist"), {"q": next(ulns)})
    assert list(missing.context["cl"].result_list) == []


# --- usage alerts ----------------------------------------------------------------


def _alert(organisation, rule, **kwargs):
    return UsageAlert.objects.create(
        subject_type=UsageAlert.Subject.ORGANISATION,
        organisation=organisation,
        day=date(2026, 11, 27),
        rule=rule,
        **{"value": 900, "threshold": 500, **kwargs},
    )


def test_the_alert_queue_shows_open_alerts_by_default(client):
    organisation = OrganisationFactory.create()
    open_alert = _alert(organisation, "a")
    closed = _alert(organisation, "b", status=UsageAlert.Status.CLOSED)

    default = client.get(url(UsageAlert, "changelist"))
    everything = client.get(url(UsageAlert, "changelist"), {"status": "all"})

    assert list(default.context["cl"].result_list) == [open_alert]
    assert set(everything.context["cl"].result_list) == {open_alert, closed}


def test_alerts_and_rules_are_shown_by_their_names_not_their_codes(client):
    organisation = OrganisationFactory.create()
    _alert(organisation, AuditRule.Code.ORG_VOLUME, value=Decimal("120000.00"))
    _alert(organisation, "realtime_org_daily_cap")
    AuditRule.objects.update_or_create(
        code=AuditRule.Code.USER_VOLUME, defaults={"threshold": Decimal("1500.00")}
    )

    alerts = client.get(url(UsageAlert, "changelist")).content.decode()
    filtered = client.get(
        url(UsageAlert, "changelist"), {"rule": AuditRule.Code.ORG_VOLUME}
    )
    rules = client.get(url(AuditRule, "changelist")).content.decode()

    assert "Organisation volume above its expected volume" in alerts
    assert "Organisation&#x27;s daily cap reached (in real time)" in alerts
    assert ">org_volume<" not in alerts
    assert ">realtime_org_daily_cap<" not in alerts
    assert "120,000" in alerts
    assert "120000" not in alerts
    assert [a.rule for a in filtered.context["cl"].result_list] == ["org_volume"]
    assert "User volume above a daily cap" in rules
    assert "1,500" in rules


def test_closing_alerts_asks_for_a_reason_and_records_it(client, superuser):
    organisation = OrganisationFactory.create()
    first, second = _alert(organisation, "a"), _alert(organisation, "b")
    changelist = url(UsageAlert, "changelist")
    selected = {"action": "close_alerts", "_selected_action": [first.pk, second.pk]}

    asked = client.post(changelist, {**selected, "index": 0})
    assert asked.status_code == HTTPStatus.OK
    assert "Reason" in asked.content.decode()
    blank = client.post(changelist, {**selected, "apply": "yes", "reason": ""})
    assert blank.status_code == HTTPStatus.OK
    first.refresh_from_db()
    assert first.status == UsageAlert.Status.OPEN

    done = client.post(
        changelist, {**selected, "apply": "yes", "reason": "Exam season peak"}
    )

    assert done.status_code == HTTPStatus.FOUND
    for alert in (first, second):
        alert.refresh_from_db()
        assert alert.status == UsageAlert.Status.CLOSED
        latest = alert.history.latest()
        assert latest.history_change_reason == "Exam season peak"
        assert latest.history_user == superuser
    page = client.get(url(UsageAlert, "change", first.pk)).content.decode()
    assert "Exam season peak" in page


def test_alert_fields_are_read_only(client):
    alert = _alert(OrganisationFactory.create(), "a")

    body = client.get(url(UsageAlert, "change", alert.pk)).content.decode()

    assert 'name="status"' not in body
    assert 'name="_save"' not in body


def test_job_runs_show_their_days_and_counts(client, one_of_each):
    body = client.get(url(JobRun, "changelist")).content.decode()

    assert "2026-11-26 to 2026-11-27" in body
    assert "alerts: 1, views: 12" in body


def test_closing_alerts_needs_the_change_permission(assessor):
    alert = _alert(OrganisationFactory.create(), "a")
    _grant(assessor, "view_usagealert")
    client = verified_client(assessor)
    changelist = url(UsageAlert, "changelist")

    body = client.get(changelist).content.decode()
    client.post(
        changelist,
        {
            "action": "close_alerts",
            "_selected_action": [alert.pk],
            "apply": "yes",
            "reason": "x",
        },
    )

    assert "close_alerts" not in body
    alert.refresh_from_db()
    assert alert.status == UsageAlert.Status.OPEN


def test_a_caseworker_can_close_alerts(caseworker):
    alert = _alert(OrganisationFactory.create(), "a")
    client = verified_client(caseworker)

    client.post(
        url(UsageAlert, "changelist"),
        {
            "action": "close_alerts",
            "_selected_action": [alert.pk],
            "apply": "yes",
            "reason": "Checked with the provider",
        },
    )

    alert.refresh_from_db()
    assert alert.status == UsageAlert.Status.CLOSED
    assert alert.history.latest().history_user == caseworker


def test_a_caseworker_closes_alerts_as_false_positives_with_a_reason(caseworker):
    alert = _alert(OrganisationFactory.create(), "a")
    client = verified_client(caseworker)
    changelist = url(UsageAlert, "changelist")
    selected = {"action": "close_as_false_positives", "_selected_action": [alert.pk]}

    asked = client.post(changelist, {**selected, "index": 0}).content.decode()
    assert "accept each organisation" in asked
    assert 'value="close_as_false_positives"' in asked
    client.post(changelist, {**selected, "apply": "yes", "reason": ""})
    alert.refresh_from_db()
    assert (alert.status, alert.false_positive) == (UsageAlert.Status.OPEN, False)
    client.post(
        changelist, {**selected, "apply": "yes", "reason": "Runs adult courses"}
    )

    alert.refresh_from_db()
    assert (alert.status, alert.false_positive) == (UsageAlert.Status.CLOSED, True)
    latest = alert.history.latest()
    assert latest.history_change_reason == "False positive: Runs adult courses"
    assert latest.history_user == caseworker
