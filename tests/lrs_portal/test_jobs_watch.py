"""Jobs that die mid-run (issue 16): heartbeats, abandoned runs re-run once, the
nightly deadline, and the broker's visibility timeout set with the longest run."""

import os
import signal
import subprocess
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta
from http import HTTPStatus
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from lrs_portal.celery import app
from lrs_portal.jobs import advisory_lock, job_run, jobs_late, jobs_watch
from lrs_portal.models import JobRun, Notification, ServiceAlert
from tests.conftest import ROOT, verified_client

# 06:30 in London on a winter day (GMT): after the 06:00 deadline.
AFTER_DEADLINE = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
BEFORE_DEADLINE = datetime(2026, 12, 7, 5, 59, tzinfo=UTC)

# A job that renews its heartbeat every second and never ends, as a worker's
# process does until it is killed.
HOLDER = """
import django, sys, time
django.setup()
from lrs_portal.jobs import job_run
def work(progress):
    print("started", flush=True)
    time.sleep(600)
job_run(sys.argv[1], work)
"""


def stale(now: datetime | None = None) -> datetime:
    """A moment at which every heartbeat so far is stale."""
    seconds = django_settings.JOB_HEARTBEAT_STALE_SECONDS + 1
    return (now or timezone.now()) + timedelta(seconds=seconds)


@pytest.fixture
def sent_tasks():
    with mock.patch.object(app, "send_task") as send:
        yield send


# --- a worker killed mid-run ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_job_killed_with_sigkill_is_abandoned_and_run_again_once(sent_tasks):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_HEARTBEAT_STALE_SECONDS": "3",
        "DEBUG": "true",
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "audit_usage"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"started"
        run = JobRun.objects.get(job="audit_usage")
        # It beats while alive: wait (bounded) for a heartbeat after the start.
        for _ in range(200):  # at most 20 s, on a busy machine
            run.refresh_from_db()
            if run.heartbeat_at and run.heartbeat_at > run.started_at:
                break
            clock.sleep(0.1)
        assert run.heartbeat_at is not None
        assert run.heartbeat_at > run.started_at
        with advisory_lock("lrs.job.audit_usage") as free_while_alive:
            assert not free_while_alive
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)

    run.refresh_from_db()
    with advisory_lock("lrs.job.audit_usage") as free:
        assert free  # the lock died with the process
    assert run.outcome == JobRun.Outcome.RUNNING  # but the row still says running

    first = jobs_watch(now=stale(run.heartbeat_at))
    second = jobs_watch(now=stale(run.heartbeat_at))

    run.refresh_from_db()
    assert run.outcome == JobRun.Outcome.ABANDONED
    assert "Its worker died" in run.error
    assert first["rerun"] == ["audit_usage"]
    assert second["rerun"] == []
    sent_tasks.assert_called_once_with("records.tasks.audit_usage_task")


@pytest.mark.django_db
def test_the_next_run_marks_a_dead_runs_row_abandoned():
    dead = JobRun.objects.create(job="housekeeping", heartbeat_at=timezone.now())

    run = job_run("housekeeping", lambda progress: None)

    dead.refresh_from_db()
    assert dead.outcome == JobRun.Outcome.ABANDONED
    assert run is not None
    assert run.outcome == JobRun.Outcome.SUCCEEDED


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_watchdog_leaves_a_slow_run_that_holds_its_lock(sent_tasks):
    slow = JobRun.objects.create(job="housekeeping", heartbeat_at=timezone.now())

    with advisory_lock("lrs.job.housekeeping") as taken:
        assert taken
        result = jobs_watch(now=stale())

    slow.refresh_from_db()
    assert slow.outcome == JobRun.Outcome.RUNNING
    assert result["rerun"] == []
    sent_tasks.assert_not_called()


@pytest.mark.django_db
def test_the_watchdog_leaves_a_run_whose_heartbeat_is_fresh(sent_tasks):
    alive = JobRun.objects.create(job="housekeeping", heartbeat_at=timezone.now())

    jobs_watch(now=timezone.now() + timedelta(seconds=5))

    alive.refresh_from_db()
    assert alive.outcome == JobRun.Outcome.RUNNING
    sent_tasks.assert_not_called()


@pytest.mark.django_db
def test_a_rerun_maintenance_job_goes_to_its_owner_queue():
    route = app.amqp.router.route({}, "records.tasks.maintain_partitions_task")
    assert route["queue"].name == "maintenance"


# --- not completed by the deadline ----------------------------------------------------


@pytest.mark.django_db
def test_no_job_is_late_before_the_deadline():
    assert jobs_late(now=BEFORE_DEADLINE) == []


@pytest.mark.django_db
def test_a_job_with_no_success_since_midnight_is_late_after_the_deadline():
    for job in django_settings.NIGHTLY_JOBS:
        if job != "housekeeping":
            JobRun.objects.create(
                job=job,
                started_at=AFTER_DEADLINE - timedelta(hours=3),
                outcome=JobRun.Outcome.SUCCEEDED,
            )
    # Yesterday's success does not count for today.
    JobRun.objects.create(
        job="housekeeping",
        started_at=AFTER_DEADLINE - timedelta(days=1),
        outcome=JobRun.Outcome.SUCCEEDED,
    )

    assert jobs_late(now=AFTER_DEADLINE) == ["housekeeping"]


@pytest.mark.django_db
def test_caseworkers_are_told_of_a_late_job_once(caseworker, sent_tasks):
    for job in django_settings.NIGHTLY_JOBS:
        if job != "audit_usage":
            JobRun.objects.create(
                job=job, started_at=AFTER_DEADLINE, outcome=JobRun.Outcome.SUCCEEDED
            )

    first = jobs_watch(now=AFTER_DEADLINE)
    second = jobs_watch(now=AFTER_DEADLINE + timedelta(minutes=5))

    assert first["late"] == ["audit_usage"]
    assert second["late"] == []
    alert = ServiceAlert.objects.get()
    assert alert.kind == ServiceAlert.Kind.JOB_LATE
    assert "06:00" in alert.summary
    notices = Notification.objects.filter(reference="jobs.late")
    assert list(notices.values_list("to", flat=True)) == [caseworker.email]


@pytest.mark.django_db
def test_the_deadline_is_a_setting(settings):
    settings.JOB_DEADLINE = time(7, 0)

    assert jobs_late(now=AFTER_DEADLINE) == []


@pytest.mark.django_db
def test_the_admin_index_warns_of_a_late_job(caseworker, settings):
    settings.JOB_DEADLINE = time(0, 0)  # passed already, and no job ran today
    settings.BROKER_CONFIGURED = True

    response = verified_client(caseworker).get(reverse("admin:index"))

    assert response.status_code == HTTPStatus.OK
    assert b"The nightly job <strong>audit_usage</strong> has not completed" in (
        response.content
    )


@pytest.mark.django_db
def test_the_admin_index_is_quiet_when_every_job_is_done(caseworker, settings):
    settings.JOB_DEADLINE = time(0, 0)
    settings.BROKER_CONFIGURED = True
    for job in settings.NIGHTLY_JOBS:
        JobRun.objects.create(job=job, outcome=JobRun.Outcome.SUCCEEDED)

    response = verified_client(caseworker).get(reverse("admin:index"))

    assert b"has not completed" not in response.content


@pytest.mark.django_db
def test_the_demo_without_a_broker_warns_of_no_job(caseworker, settings):
    settings.JOB_DEADLINE = time(0, 0)
    settings.BROKER_CONFIGURED = False

    response = verified_client(caseworker).get(reverse("admin:index"))

    assert b"has not completed" not in response.content


# --- the visibility timeout and the longest run, set together -------------------------


def test_the_visibility_timeout_is_the_longest_run_and_a_margin(settings):
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]

    assert visibility == 60 * (
        settings.JOB_LONGEST_RUN_MINUTES + settings.BROKER_VISIBILITY_MARGIN_MINUTES
    )


def test_no_task_may_run_longer_than_the_visibility_timeout(settings):
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    app.loader.import_default_modules()
    limits = {
        name: task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    }

    assert limits["registration.tasks.reverify_organisations_task"] == (
        settings.JOB_LONGEST_RUN_MINUTES * 60
    )
    assert max(limits.values()) == settings.JOB_LONGEST_RUN_MINUTES * 60
    assert all(limit < visibility for limit in limits.values())


def test_a_dead_run_is_noticed_long_before_redis_would_redeliver(settings):
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    watch_every = 5 * 60  # lrs-portal-jobs-watch

    assert settings.JOB_HEARTBEAT_STALE_SECONDS + watch_every < visibility / 10
    assert settings.CELERY_BEAT_SCHEDULE["lrs-portal-jobs-watch"]["task"] == (
        "lrs_portal.tasks.jobs_watch_task"
    )


def test_every_nightly_job_has_a_registered_task():
    app.loader.import_default_modules()

    assert set(django_settings.NIGHTLY_JOBS.values()) <= set(app.tasks)


def test_a_reverify_budget_beyond_the_longest_run_stops_start_up():
    env = {
        **os.environ,
        "JOB_LONGEST_RUN_MINUTES": "90",
        "REVERIFY_TIME_BUDGET_MINUTES": "85",
        "DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "REVERIFY_TIME_BUDGET_MINUTES" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["servicealert", "changetrail", "jobrun"])
def test_caseworkers_read_service_alerts_and_the_trail_in_admin(caseworker, model):
    ServiceAlert.objects.create(
        kind=ServiceAlert.Kind.JOB_LATE, key="audit_usage:2026-12-07", summary="Late"
    )
    client = verified_client(caseworker)

    listing = client.get(reverse(f"admin:lrs_portal_{model}_changelist"))
    adding = client.get(reverse(f"admin:lrs_portal_{model}_add"))

    assert listing.status_code == HTTPStatus.OK
    assert adding.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.django_db
def test_a_provider_cannot_read_service_alerts(provider_user):
    response = verified_client(provider_user).get(
        reverse("admin:lrs_portal_servicealert_changelist")
    )

    assert response.status_code != HTTPStatus.OK


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_lock_is_free_the_moment_its_block_ends():
    # Closing the lock's connection alone left the server a moment to end the
    # session: a second run at once could find the lock still held.
    def held() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND objid = hashtext(%s)::oid AND granted",
                ["lrs.job.maintain_partitions"],
            )
            return int(cursor.fetchone()[0])

    for _ in range(20):
        with advisory_lock("lrs.job.maintain_partitions") as taken:
            assert taken
            assert held() == 1
        assert held() == 0
