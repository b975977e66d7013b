"""The learner view log on PostgreSQL: monthly partitions, append-only by grants and
by triggers, advisory locks and estimated counts (records/log_partitions.py,
records/log_grants.py, records/pg.py, migration 0002).

PostgreSQL's DDL is transactional, so creating, detaching and dropping partitions,
and even creating roles, happen inside each test's transaction and are rolled back
with it: no test here needs transaction=True. The last tests run on every database
and check what happens where PostgreSQL is not there.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import (
    IntegrityError,
    ProgrammingError,
    connection,
    transaction,
)
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lrs_portal.jobs import advisory_lock
from lrs_portal.models import JobRun, Notification
from records import log_grants, log_partitions, pg
from records.models import LearnerView
from tests.factories import OrganisationFactory, UserFactory

LOG = log_grants.LOG_TABLE


# --- helpers ---------------------------------------------------------------------


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def this_month() -> date:
    return timezone.now().date().replace(day=1)


def log_row(viewed_at: datetime | None = None) -> LearnerView:
    row = LearnerView.objects.create(
        user=UserFactory.create(),
        organisation=OrganisationFactory.create(),
        action=LearnerView.Action.SEARCH_ULN,
        outcome=LearnerView.Outcome.NO_MATCH,
        viewed_at=viewed_at or timezone.now(),
    )
    # Check the foreign keys now rather than at a commit that never comes: pending
    # checks would stop the partition being truncated, detached or dropped.
    connection.check_constraints()
    return row


def mid_month(month: date) -> datetime:
    return datetime(month.year, month.month, 15, 12, tzinfo=UTC)


def sql(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def as_role(role: str) -> Iterator[None]:
    """Run the block as role; an error rolls back to before SET ROLE, resetting it."""
    with transaction.atomic():
        sql(f'SET ROLE "{role}"')
        yield
        sql("RESET ROLE")


def refused(statement: str) -> BaseException:
    """The error statement raises (inside a savepoint, so the test carries on)."""
    with (
        pytest.raises(ProgrammingError) as error,
        transaction.atomic(),
    ):
        sql(statement)
    return error.value


def second_connection():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    return psycopg.connect(**params, autocommit=True)


@pytest.fixture
def roles() -> tuple[str, str]:
    """A fresh application role and owner role, set up by the command (rolled back)."""
    suffix = uuid.uuid4().hex[:8]
    app, owner = f"lrs_app_test_{suffix}", f"lrs_owner_test_{suffix}"
    call_command(
        "setup_database_roles", app_role=app, owner_role=owner, stdout=StringIO()
    )
    return app, owner


# --- the table and its partitions -------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_log_is_partitioned_by_range_of_viewed_at():
    rows = sql(
        "SELECT p.partstrat, a.attname FROM pg_partitioned_table p"
        " JOIN pg_attribute a ON a.attrelid = p.partrelid"
        " AND a.attnum = p.partattrs[0] WHERE p.partrelid = %s::regclass",
        [LOG],
    )

    assert rows == [("r", "viewed_at")]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_primary_key_is_id_and_viewed_at_and_id_is_an_identity():
    (pk,) = sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'p'",
        [LOG],
    )
    (identity,) = sql(
        "SELECT attidentity FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attname = 'id'",
        [LOG],
    )

    assert pk == ("PRIMARY KEY (id, viewed_at)",)
    assert identity == ("d",)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_models_indexes_are_on_the_parent_and_every_partition():
    indexes = "SELECT indexname FROM pg_indexes WHERE tablename = %s"
    parent = {name for (name,) in sql(indexes, [LOG])}
    (partition_indexes,) = sql(
        "SELECT count(*) FROM pg_indexes WHERE tablename = %s",
        [log_partitions.partition_name(this_month())],
    )

    assert {index.name for index in LearnerView._meta.indexes} <= parent
    assert partition_indexes == (len(parent),)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_row_written_now_lands_in_this_months_partition():
    row = log_row()

    (where,) = sql(
        "SELECT tableoid::regclass::text FROM records_learnerview WHERE id = %s",
        [row.pk],
    )

    assert where == (log_partitions.partition_name(this_month()),)


@pytest.mark.postgres
@pytest.mark.django_db
def test_migration_left_a_partition_for_every_month_of_retention_and_ahead(settings):
    months = {start for _, start, _ in log_partitions.partitions_list()}

    wanted = range(
        -settings.LEARNER_VIEW_RETENTION_MONTHS,
        settings.LEARNER_VIEW_PARTITIONS_AHEAD + 1,
    )
    assert {month_add(this_month(), n) for n in wanted} <= months


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_row_for_a_month_with_no_partition_is_refused():
    far_future = datetime(2099, 1, 1, tzinfo=UTC)

    with (
        pytest.raises(IntegrityError, match="no partition of relation"),
        transaction.atomic(),
    ):
        log_row(viewed_at=far_future)


@pytest.mark.postgres
@pytest.mark.django_db
def test_partitions_ensure_creates_this_month_and_the_months_ahead():
    created = log_partitions.partitions_ensure(months_ahead=2, today=date(2031, 3, 15))

    assert created == [
        "records_learnerview_y2031m03",
        "records_learnerview_y2031m04",
        "records_learnerview_y2031m05",
    ]
    assert ("records_learnerview_y2031m04", date(2031, 4, 1), date(2031, 5, 1)) in (
        log_partitions.partitions_list()
    )
    log_row(viewed_at=datetime(2031, 5, 31, 23, 59, tzinfo=UTC))


@pytest.mark.postgres
@pytest.mark.django_db
def test_partitions_ensure_is_idempotent():
    log_partitions.partitions_ensure(months_ahead=2, today=date(2031, 3, 15))
    before = log_partitions.partitions_list()

    again = log_partitions.partitions_ensure(months_ahead=2, today=date(2031, 3, 15))

    assert again == []
    assert log_partitions.partitions_list() == before


@pytest.mark.postgres
@pytest.mark.django_db
def test_partitions_ensure_in_a_dry_run_creates_nothing():
    before = log_partitions.partitions_list()

    would = log_partitions.partitions_ensure(
        months_ahead=1, today=date(2031, 3, 15), dry_run=True
    )

    assert would == ["records_learnerview_y2031m03", "records_learnerview_y2031m04"]
    assert log_partitions.partitions_list() == before


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_new_partition_refuses_truncate_and_grants_nothing(roles):
    (name,) = log_partitions.partitions_ensure(months_ahead=0, today=date(2031, 3, 15))

    triggers = sql(
        "SELECT tgname FROM pg_trigger"
        " WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY 1",
        [name],
    )
    (grantees,) = sql(
        "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        [name],
    )

    assert triggers == [
        ("records_learnerview_no_truncate",),
        ("records_learnerview_no_update_delete",),
        ("records_learnerview_stamped_by_database",),
    ]
    assert grantees == (0,)


@pytest.mark.postgres
@pytest.mark.django_db
def test_partitions_drop_older_than_drops_only_whole_old_partitions(settings):
    retention = 24
    today = timezone.now().date()
    cutoff_month = month_add(this_month(), -retention)  # rows in it are partly kept
    log_partitions.partitions_ensure(months_back=retention, months_ahead=0)
    (old,) = log_partitions.partitions_ensure(
        months_ahead=0, today=month_add(cutoff_month, -6)
    )
    expected = [
        name for name, _, end in log_partitions.partitions_list() if end <= cutoff_month
    ]
    gone = log_row(viewed_at=mid_month(month_add(cutoff_month, -6)))
    kept = log_row(viewed_at=mid_month(cutoff_month))

    dropped = log_partitions.partitions_drop_older_than(
        retention_months=retention,
        archive_dir=settings.LEARNER_VIEW_ARCHIVE_DIR,
        today=today,
    ).dropped

    assert old in dropped
    assert dropped == expected
    assert log_partitions.partition_name(cutoff_month) not in dropped
    assert sql("SELECT to_regclass(%s)", [old]) == [(None,)]
    assert not LearnerView.objects.filter(pk=gone.pk).exists()
    assert LearnerView.objects.filter(pk=kept.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_partitions_drop_older_than_in_a_dry_run_drops_nothing(tmp_path):
    (old,) = log_partitions.partitions_ensure(
        months_ahead=0, today=month_add(this_month(), -40)
    )
    before = log_partitions.partitions_list()

    would = log_partitions.partitions_drop_older_than(
        retention_months=24, archive_dir=tmp_path / "archives", dry_run=True
    ).dropped

    assert old in would
    assert log_partitions.partitions_list() == before
    assert not (tmp_path / "archives").exists()  # nothing archived


@pytest.mark.postgres
@pytest.mark.django_db
def test_partitions_drop_older_than_needs_a_retention_of_a_month_or_more():
    with pytest.raises(ValueError, match="at least 1"):
        log_partitions.partitions_drop_older_than(
            retention_months=0, archive_dir=Path(".")
        )


# --- first layer: the application role's grants ----------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_app_role_can_insert_and_select_the_log(roles):
    app, _ = roles
    user, organisation = UserFactory.create(), OrganisationFactory.create()

    with as_role(app):
        row = LearnerView.objects.create(
            user=user,
            organisation=organisation,
            action=LearnerView.Action.VIEW_RECORD,
            outcome=LearnerView.Outcome.SHOWN,
            learner_uln="9276308686",
        )
        read = LearnerView.objects.get(pk=row.pk)

    assert read.learner_uln == "9276308686"


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE records_learnerview SET match_count = 1",
        "DELETE FROM records_learnerview",
        "TRUNCATE records_learnerview",
        "UPDATE {partition} SET match_count = 1",
        "DELETE FROM {partition}",
        "TRUNCATE {partition}",
        "INSERT INTO {partition} SELECT * FROM records_learnerview",
        "ALTER TABLE records_learnerview DISABLE TRIGGER USER",
        "ALTER TABLE records_learnerview DETACH PARTITION {partition}",
        "DROP TABLE {partition}",
    ],
)
def test_the_app_role_cannot_change_or_remove_log_rows(roles, statement):
    app, _ = roles
    log_row()
    partition = log_partitions.partition_name(this_month())

    with as_role(app):
        error = refused(statement.format(partition=partition))

    assert isinstance(error, ProgrammingError)
    assert isinstance(error.__cause__, psycopg.errors.InsufficientPrivilege)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_app_role_can_still_change_other_tables(roles):
    app, _ = roles
    run = JobRun.objects.create(job="check")
    notification = Notification.objects.create(
        to="a@example.com", subject="s", body="b", reference="r"
    )

    with as_role(app):
        JobRun.objects.filter(pk=run.pk).update(error="changed")
        Notification.objects.filter(pk=notification.pk).delete()

    run.refresh_from_db()
    assert run.error == "changed"
    assert not Notification.objects.filter(pk=notification.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_partitions_created_later_give_the_app_role_nothing(roles):
    app, owner = roles
    sql(f'SET LOCAL ROLE "{owner}"')  # the owner's default privileges apply
    created = log_partitions.partitions_ensure(months_ahead=0, today=date(2031, 3, 15))
    sql("RESET ROLE")

    with as_role(app):
        error = refused("SELECT 1 FROM records_learnerview_y2031m03")

    assert created == ["records_learnerview_y2031m03"]
    assert isinstance(error.__cause__, psycopg.errors.InsufficientPrivilege)


@pytest.mark.postgres
@pytest.mark.django_db
def test_setup_database_roles_makes_the_owner_own_the_log(roles):
    _, owner = roles

    owners = sql(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c"
        " WHERE c.oid = %s::regclass OR c.oid IN"
        " (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
        [LOG, LOG],
    )

    assert owners == [(owner,)]


@pytest.mark.postgres
@pytest.mark.django_db
def test_setup_database_roles_run_again_changes_nothing(roles):
    app, owner = roles
    acl = "SELECT relname, relacl::text FROM pg_class WHERE relname LIKE %s ORDER BY 1"
    before = sql(acl, [f"{LOG}%"])

    out = StringIO()
    call_command("setup_database_roles", app_role=app, owner_role=owner, stdout=out)

    assert sql(acl, [f"{LOG}%"]) == before
    assert "CREATE ROLE" not in out.getvalue()
    assert f'GRANT SELECT, INSERT ON TABLE {LOG} TO "{app}";' in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db
def test_setup_database_roles_never_prints_a_password(monkeypatch):
    monkeypatch.setenv("TEST_APP_PASSWORD", "a-secret-never-printed")
    out = StringIO()

    call_command(
        "setup_database_roles",
        app_role=f"lrs_app_test_{uuid.uuid4().hex[:8]}",
        owner_role=f"lrs_owner_test_{uuid.uuid4().hex[:8]}",
        app_password_env="TEST_APP_PASSWORD",
        stdout=out,
    )

    assert "PASSWORD '<SCRAM verifier>'" in out.getvalue()
    assert "a-secret-never-printed" not in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db
def test_setup_database_roles_refuses_a_superuser_as_the_app_role():
    [(superuser,)] = sql("SELECT current_user")

    with pytest.raises(CommandError, match="superuser or a member"):
        call_command(
            "setup_database_roles",
            app_role=superuser,
            owner_role=f"lrs_owner_test_{uuid.uuid4().hex[:8]}",
            stdout=StringIO(),
        )


# --- second layer: the triggers, which hold even for the owner -------------------


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE records_learnerview SET match_count = 1",
        "DELETE FROM records_learnerview",
        "TRUNCATE records_learnerview",
        "UPDATE {partition} SET match_count = 1",
        "DELETE FROM {partition}",
        "TRUNCATE {partition}",
    ],
)
def test_the_triggers_refuse_the_owner_too(statement):
    log_row()
    sql("SET LOCAL lrs.allow_truncate = off")

    error = refused(
        statement.format(partition=log_partitions.partition_name(this_month()))
    )

    assert isinstance(error, ProgrammingError)
    assert isinstance(error.__cause__, psycopg.errors.RaiseException)
    assert "records_learnerview is append-only" in str(error)


@pytest.mark.postgres
@pytest.mark.django_db
def test_truncating_an_empty_log_is_let_through():
    # What Django's test runner does between transaction=True tests.
    sql("TRUNCATE records_learnerview")

    assert not LearnerView.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_test_database_may_allow_truncate_of_the_log():
    log_row()
    sql("SET LOCAL lrs.allow_truncate = on")

    sql("TRUNCATE records_learnerview")

    assert not LearnerView.objects.exists()


# --- advisory locks and estimated counts -----------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_held_advisory_lock_cannot_be_taken_by_another_connection():
    key = f"tests.{uuid.uuid4()}"
    try_lock = "SELECT pg_try_advisory_lock(hashtext(%s))"

    with advisory_lock(key) as locked, second_connection() as other:
        taken_by_other = other.execute(try_lock, (key,)).fetchone()
        with advisory_lock(key) as locked_again:
            pass

    assert locked is True
    assert taken_by_other == (False,)
    assert locked_again is False


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_advisory_lock_is_free_again_after_the_block_even_if_it_failed():
    key = f"tests.{uuid.uuid4()}"
    with pytest.raises(RuntimeError), advisory_lock(key):
        raise RuntimeError

    with second_connection() as other:
        taken = other.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
        assert taken.fetchone() == (True,)


@pytest.mark.postgres
@pytest.mark.django_db
def test_estimated_count_sums_the_partitions_after_analyze():
    for days in (0, 40, 80):
        for _ in range(10):
            log_row(viewed_at=timezone.now() - timedelta(days=days))
    sql(f"ANALYZE {LOG}")

    with CaptureQueriesContext(connection) as queries:
        estimate = pg.estimated_count(LearnerView)

    assert 25 <= estimate <= 35
    assert not any("count(*)" in q["sql"].lower() for q in queries.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db
def test_estimated_count_of_a_plain_table():
    for _ in range(3):
        JobRun.objects.create(job="check")
    sql("ANALYZE lrs_portal_jobrun")

    assert pg.estimated_count(JobRun) == 3


# --- maintain_partitions ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_maintain_partitions_dry_run_changes_nothing(settings):
    settings.LEARNER_VIEW_PARTITIONS_AHEAD = 5
    (old,) = log_partitions.partitions_ensure(
        months_ahead=0, today=month_add(this_month(), -40)
    )
    before = log_partitions.partitions_list()
    out = StringIO()

    call_command("maintain_partitions", "--dry-run", stdout=out)

    assert log_partitions.partitions_list() == before
    assert not JobRun.objects.exists()
    assert f"Would drop {old}" in out.getvalue()
    assert (
        f"Would create {log_partitions.partition_name(month_add(this_month(), 5))}"
        in (out.getvalue())
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_maintain_partitions_creates_ahead_drops_past_retention_and_records_it(
    settings,
):
    settings.LEARNER_VIEW_PARTITIONS_AHEAD = 5
    (old,) = log_partitions.partitions_ensure(
        months_ahead=0, today=month_add(this_month(), -40)
    )
    ahead = log_partitions.partition_name(month_add(this_month(), 5))
    out = StringIO()

    call_command("maintain_partitions", stdout=out)

    names = [name for name, _, _ in log_partitions.partitions_list()]
    assert ahead in names
    assert old not in names
    assert f"Created {ahead}" in out.getvalue()
    assert f"Dropped {old}" in out.getvalue()
    run = JobRun.objects.get()
    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert run.counts["dropped"] >= 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_maintain_partitions_run_twice_does_nothing_the_second_time():
    call_command("maintain_partitions", stdout=StringIO())
    out = StringIO()

    call_command("maintain_partitions", stdout=out)

    assert "Nothing to do" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db
def test_maintain_partitions_skips_while_another_run_holds_the_lock():
    out = StringIO()

    with advisory_lock("lrs.job.maintain_partitions"):
        call_command("maintain_partitions", stdout=out)

    assert "holds the lock" in out.getvalue()
    assert JobRun.objects.get().outcome == JobRun.Outcome.SKIPPED


@pytest.mark.postgres
@pytest.mark.django_db
def test_maintain_partitions_as_the_app_role_fails_and_says_why(roles, settings):
    app, _ = roles
    settings.LEARNER_VIEW_PARTITIONS_AHEAD = 5

    with as_role(app), pytest.raises(CommandError, match="owner role"):
        call_command("maintain_partitions", stdout=StringIO())


# --- where PostgreSQL is not there (SQLite: the demo) ------------------------------


@pytest.fixture
def without_postgres(monkeypatch):
    """On SQLite, nothing; on PostgreSQL, take the path every other database takes."""
    for module in (pg, log_partitions, log_grants):
        monkeypatch.setattr(module, "is_postgres", lambda **_: False)


def test_partition_names_are_the_utc_month():
    assert (
        log_partitions.partition_name(date(2026, 1, 31))
        == "records_learnerview_y2026m01"
    )


@pytest.mark.django_db
def test_partition_functions_do_nothing_without_postgres(
    without_postgres, django_assert_num_queries, tmp_path
):
    with django_assert_num_queries(0):
        assert log_partitions.partitions_ensure(months_ahead=3) == []
        retired = log_partitions.partitions_drop_older_than(
            retention_months=1, archive_dir=tmp_path / "archives"
        )
        assert retired == log_partitions.Retired()
        assert log_partitions.partitions_list() == []
        assert log_grants.log_privileges_restrict() == []
    assert not (tmp_path / "archives").exists()  # nothing archived


@pytest.mark.django_db
def test_advisory_lock_is_always_taken_without_postgres(
    without_postgres, django_assert_num_queries
):
    with django_assert_num_queries(0), advisory_lock("anything") as locked:
        assert locked is True


@pytest.mark.django_db
def test_estimated_count_counts_without_postgres(without_postgres):
    for _ in range(3):
        JobRun.objects.create(job="check")

    assert pg.estimated_count(JobRun) == 3


@pytest.mark.django_db
def test_maintain_partitions_without_postgres_says_so_and_succeeds(without_postgres):
    out = StringIO()

    call_command("maintain_partitions", stdout=out)

    assert "Partitioning is PostgreSQL-only" in out.getvalue()
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_setup_database_roles_without_postgres_fails_clearly(without_postgres):
    with pytest.raises(CommandError, match="PostgreSQL-only"):
        call_command("setup_database_roles", stdout=StringIO())
