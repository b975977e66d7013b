"""What the application's own database role cannot rewrite (issue 16): the log's
time and id, the history tables, the admin log and the change trail; and the
nightly trail audit, which finds changes made outside the application.

Each test runs as a fresh application role made by setup_database_roles (rolled
back with the test), as tests/records/test_log_postgres.py does.
"""

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO

import psycopg
import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from lrs_portal import pg
from lrs_portal.models import ChangeTrail, JobRun, Notification, ServiceAlert
from lrs_portal.trail import trail_audit_run
from records.models import LearnerView
from records.services import learner_search_by_uln
from registration.models import Membership, Organisation
from registration.services.organisations import organisation_transition
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    UserFactory,
    member_of,
)
from tests.records.test_log_postgres import as_role, refused, roles, sql

__all__ = ["roles"]  # the fixture, used by name

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def later(seconds: int = 1) -> datetime:
    """A moment after every change so far has left the audit's matching window."""
    from django.conf import settings

    return timezone.now() + timedelta(seconds=settings.TRAIL_MATCH_SECONDS + seconds)


def audit(now=None) -> JobRun:
    run = trail_audit_run(now=now or later())
    assert run is not None
    return run


# --- the log's time and id are the database's -------------------------------------


def test_a_lookup_as_the_app_role_is_logged_at_the_databases_time(roles):
    app, _ = roles
    searcher = member_of(
        OrganisationFactory.create(last_signed_version=AgreementVersionFactory())
    )

    with as_role(app):
        learner_search_by_uln(user=searcher, uln="9276308686", request_id="r1")
        (database_now,) = sql("SELECT statement_timestamp()")[0]

    row = LearnerView.objects.get(request_id="r1")
    assert timedelta(0) <= database_now - row.viewed_at < timedelta(seconds=5)


def test_a_log_row_claiming_another_time_is_refused_for_the_app_role(roles):
    app, _ = roles
    user, organisation = UserFactory.create(), OrganisationFactory.create()

    with as_role(app), pytest.raises(IntegrityError) as error, transaction.atomic():
        LearnerView.objects.create(
            user=user,
            organisation=organisation,
            action=LearnerView.Action.SEARCH_ULN,
            outcome=LearnerView.Outcome.NO_MATCH,
            viewed_at=timezone.now() - timedelta(hours=3),
        )

    assert "viewed_at is set by the database" in str(error.value)
    assert isinstance(error.value.__cause__, psycopg.errors.CheckViolation)
    assert not LearnerView.objects.filter(user=user).exists()


def test_a_log_row_claiming_an_id_gets_the_databases_own(roles):
    app, _ = roles
    user, organisation = UserFactory.create(), OrganisationFactory.create()
    first = LearnerView.objects.create(
        user=user,
        organisation=organisation,
        action=LearnerView.Action.SEARCH_ULN,
        outcome=LearnerView.Outcome.NO_MATCH,
    )

    with as_role(app):
        (row,) = sql(
            "INSERT INTO records_learnerview (id, user_id, organisation_id, action,"
            " outcome, match_count, learner_uln, request_id)"
            " VALUES (%s, %s, %s, 'search_uln', 'no_match', 0, '', 'dup')"
            " RETURNING id",
            [first.pk, user.pk, organisation.pk],
        )

    assert row[0] > first.pk
    assert LearnerView.objects.filter(pk=first.pk).count() == 1


def test_the_owner_may_still_write_a_past_time(roles):
    # bench/ and the tests' back-dated days are written as the owner.
    _, owner = roles
    when = timezone.now() - timedelta(days=2)

    with as_role(owner):
        row = LearnerView.objects.create(
            user=UserFactory.create(),
            organisation=OrganisationFactory.create(),
            action=LearnerView.Action.SEARCH_ULN,
            outcome=LearnerView.Outcome.NO_MATCH,
            viewed_at=when,
        )

    row.refresh_from_db()
    assert row.viewed_at == when


# --- history, admin log, trail and job runs: insert-only --------------------------


INSERT_ONLY = (
    "lrs_portal_historicaluser",
    "registration_historicalorganisation",
    "records_historicalauditrule",
    "approvals_historicalpanelmeeting_members",
    "django_admin_log",
    "lrs_portal_changetrail",
)


@pytest.mark.parametrize("table", INSERT_ONLY)
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {t} SET id = id", "DELETE FROM {t}", "TRUNCATE {t}"],
)
def test_the_app_role_cannot_rewrite_a_trail_table(roles, table, statement):
    app, _ = roles

    with as_role(app):
        error = refused(statement.format(t=table))

    assert isinstance(error.__cause__, psycopg.errors.InsufficientPrivilege)


def test_the_app_role_still_writes_history_and_the_admin_log(roles, caseworker):
    app, _ = roles
    organisation = OrganisationFactory.create()

    with as_role(app):
        organisation_transition(
            organisation=organisation,
            to=Organisation.Status.SUSPENDED,
            acting_user=caseworker,
            reason="Checked by phone",
        )
        LogEntry.objects.log_actions(
            user_id=caseworker.pk, queryset=[organisation], action_flag=2
        )

    assert organisation.history.first().history_change_reason == "Checked by phone"
    assert LogEntry.objects.filter(object_id=str(organisation.pk)).exists()


@pytest.mark.parametrize("statement", ["DELETE FROM {t}", "TRUNCATE {t}"])
def test_the_app_role_cannot_remove_job_runs(roles, statement):
    app, _ = roles
    JobRun.objects.create(job="check")

    with as_role(app):
        error = refused(statement.format(t="lrs_portal_jobrun"))

    assert isinstance(error.__cause__, psycopg.errors.InsufficientPrivilege)


@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET row_id = 'x'", "DELETE FROM {t}"]
)
def test_the_trail_refuses_change_even_to_its_owner(statement):
    UserFactory.create(is_staff=True)  # a trail row, at least
    with pytest.raises(ProgrammingError, match="is append-only"), transaction.atomic():
        sql(statement.format(t="lrs_portal_changetrail"))


# --- the change trail ----------------------------------------------------------------


def test_a_raw_change_of_a_users_flags_is_on_the_trail_with_who_made_it(roles):
    app, _ = roles
    user = UserFactory.create()

    with as_role(app):
        sql("UPDATE lrs_portal_user SET is_superuser = true WHERE id = %s", [user.pk])

    change = ChangeTrail.objects.filter(table_name="lrs_portal_user").latest("id")
    assert (change.operation, change.row_id, change.db_user) == (
        "UPDATE",
        str(user.pk),
        app,
    )
    assert change.old_values == {"is_superuser": False}
    assert change.new_values == {"is_superuser": True}


def test_a_password_change_leaves_nothing_on_the_trail(roles):
    app, _ = roles
    user = UserFactory.create()
    before = ChangeTrail.objects.count()

    with as_role(app):
        sql("UPDATE lrs_portal_user SET password = 'x' WHERE id = %s", [user.pk])

    assert ChangeTrail.objects.count() == before


def test_a_role_given_by_raw_sql_is_on_the_trail(roles):
    app, _ = roles
    user = UserFactory.create()

    with as_role(app):
        sql(
            "INSERT INTO lrs_portal_user_groups (user_id, group_id)"
            " SELECT %s, id FROM auth_group WHERE name = 'Caseworker'",
            [user.pk],
        )

    change = ChangeTrail.objects.latest("id")
    assert change.table_name == "lrs_portal_user_groups"
    assert change.new_values["user_id"] == user.pk


@pytest.mark.parametrize(
    "table",
    [
        "records_auditrule",
        "registration_organisation",
        "registration_membership",
        "registration_suspension",
        "auth_group",
        "auth_permission",
        "auth_group_permissions",
        "lrs_portal_user",
        "lrs_portal_user_groups",
        "lrs_portal_user_user_permissions",
    ],
)
def test_every_table_that_decides_access_is_on_the_trail(table):
    triggers = sql(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass"
        " AND NOT tgisinternal",
        [table],
    )

    assert (f"{table}_trail",) in triggers


def test_a_members_daily_lookup_stamp_is_not_on_the_trail(roles):
    app, _ = roles
    membership = Membership.objects.get(user=member_of(OrganisationFactory.create()))
    before = ChangeTrail.objects.count()

    with as_role(app):
        sql(
            "UPDATE registration_membership SET last_lookup_on = current_date"
            " WHERE id = %s",
            [membership.pk],
        )

    assert ChangeTrail.objects.count() == before


# --- the nightly trail audit ------------------------------------------------------
# The audit tells transactions apart, so these tests commit: a committed app role
# (dropped after), with the test database's superuser as the owner, whose own
# changes (the factories') the audit leaves aside as a deploy's.


@pytest.fixture
def app_role(transactional_db) -> Iterator[str]:
    app = f"lrs_app_trail_{uuid.uuid4().hex[:8]}"
    owner = connection.settings_dict["USER"]
    call_command(
        "setup_database_roles", app_role=app, owner_role=owner, stdout=StringIO()
    )
    yield app
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{app}"')
        cursor.execute(f'DROP ROLE "{app}"')


def test_a_change_through_the_service_raises_nothing(app_role, caseworker):
    organisation = OrganisationFactory.create()

    with as_role(app_role):
        organisation_transition(
            organisation=organisation,
            to=Organisation.Status.SUSPENDED,
            acting_user=caseworker,
            reason="Checked by phone",
        )
    run = audit()

    assert run.counts["changes"] > run.counts["changes_by_owner"]
    assert run.counts["matched"] >= 1
    assert not ServiceAlert.objects.exists()


def test_adding_a_requester_already_affiliated_raises_nothing(app_role, caseworker):
    # The role's grant went in with no history when the affiliation was already
    # recorded: a false "change made outside the portal" every night.
    from approvals.services import requester_add
    from tests.approvals.factories import AffiliationFactory

    affiliation = AffiliationFactory.create()

    with as_role(app_role):
        requester_add(
            user=affiliation.user,
            organisation=affiliation.organisation,
            acting_user=caseworker,
        )
    run = audit()

    assert run.counts["changes"] > run.counts["changes_by_owner"]
    assert not ServiceAlert.objects.exists()


def test_the_same_change_by_raw_sql_raises_one_alert_once(app_role, caseworker):
    organisation = OrganisationFactory.create()

    with as_role(app_role):
        sql(
            "UPDATE registration_organisation SET status = 'suspended' WHERE id = %s",
            [organisation.pk],
        )
    first = audit()
    second = audit(now=later(5))

    alert = ServiceAlert.objects.get()
    assert alert.kind == ServiceAlert.Kind.CHANGE_OUTSIDE_APPLICATION
    assert alert.change.table_name == "registration_organisation"
    assert app_role in alert.summary
    assert first.counts["alerts"] == 1
    assert second.counts.get("alerts", 0) == 0
    notices = Notification.objects.filter(reference="trail.outside_change")
    assert list(notices.values_list("to", flat=True)) == [caseworker.email]


def test_a_raw_change_inside_a_transaction_that_saved_history_is_still_caught(
    app_role,
):
    user = UserFactory.create()

    with as_role(app_role):
        user.full_name = "Renamed"
        user.save()  # a history row, with is_superuser false
        sql("UPDATE lrs_portal_user SET is_superuser = true WHERE id = %s", [user.pk])
    audit()

    assert ServiceAlert.objects.get().change.new_values == {"is_superuser": True}


def test_a_raw_role_grant_raises_an_alert_but_one_recorded_in_admin_does_not(
    app_role, caseworker
):
    granted_in_admin, granted_raw = UserFactory.create(), UserFactory.create()
    grant = (
        "INSERT INTO lrs_portal_user_groups (user_id, group_id)"
        " SELECT %s, id FROM auth_group WHERE name = 'Caseworker'"
    )

    with as_role(app_role):
        sql(grant, [granted_in_admin.pk])
        LogEntry.objects.log_actions(
            user_id=caseworker.pk, queryset=[granted_in_admin], action_flag=2
        )
    with as_role(app_role):
        sql(grant, [granted_raw.pk])
    audit()

    (alert,) = ServiceAlert.objects.all()
    assert alert.change.new_values["user_id"] == granted_raw.pk


def test_changes_made_as_the_owner_are_not_compared(app_role):
    organisation = OrganisationFactory.create()
    with transaction.atomic():
        sql(
            "UPDATE registration_organisation SET status = 'suspended' WHERE id = %s",
            [organisation.pk],
        )

    run = audit()

    assert run.counts["changes_by_owner"] >= 1
    assert not ServiceAlert.objects.exists()


def test_a_change_too_recent_to_judge_waits_for_the_next_run(app_role):
    organisation = OrganisationFactory.create()

    with as_role(app_role):
        sql(
            "UPDATE registration_organisation SET status = 'suspended' WHERE id = %s",
            [organisation.pk],
        )
    audit(now=timezone.now())
    assert not ServiceAlert.objects.exists()
    audit()

    assert ServiceAlert.objects.count() == 1


def test_every_history_table_marks_the_transactions_that_write_it():
    tables = {
        table
        for table in pg.insert_only_tables()
        if table not in (pg.TRAIL_TABLE, pg.MARKS_TABLE)
    }
    marked = {
        table
        for (table,) in sql(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = c.relname || '_marks'"
        )
    }

    assert "django_admin_log" in tables
    assert "registration_historicalorganisation" in tables
    assert tables <= marked


@pytest.mark.django_db
def test_the_trail_audit_without_postgres_compares_nothing(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    run = audit()

    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert run.counts == {}
