"""How scheduled jobs run (architecture.md rule 7).

Every job is a plain function run through ``job_run``: it takes a PostgreSQL
advisory lock named after the job (a second concurrent run is recorded as skipped
and returns at once), records a ``JobRun`` with its counts and the days it
covered, and records a failure before re-raising it. Celery tasks and management
commands both call the same functions; neither holds any logic of its own.

A run renews its row's heartbeat while it is alive, on the lock's own
connection. A worker killed mid-run leaves its row *running* with the lock free:
the next run of the job marks it *abandoned*, and so does ``jobs_watch`` (on
beat every few minutes), which then queues the job again, once. Every job is
idempotent, so that run finishes what the dead one started and repeats nothing.
``jobs_watch`` also tells caseworkers when a nightly job has not succeeded by
JOB_DEADLINE (UK time). Runbook: docs/runbooks/worker-and-beat.md.
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from lrs_portal.models import JobRun, ServiceAlert

logger = logging.getLogger(__name__)


class JobLocked(Exception):
    """Another run of the same job holds its lock."""


@contextmanager
def advisory_lock(key: str, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[bool]:
    """Hold the PostgreSQL advisory lock named key for the block if it is free,
    yielding whether it was taken; on SQLite, yield True.

    The lock lives on a connection of its own, so it is released on exit whatever
    state the caller's transactions are in, and at once if the process dies.
    """
    with _lock_connection(key, using=using) as (locked, _):
        yield locked


@contextmanager
def _lock_connection(
    key: str, *, using: str = DEFAULT_DB_ALIAS
) -> Iterator[tuple[bool, psycopg.Connection[Any] | None]]:
    """advisory_lock, also yielding the lock's connection (None on SQLite)."""
    if connections[using].vendor != "postgresql":
        yield True, None
        return
    params: dict[str, Any] = connections[using].get_connection_params()
    with psycopg.connect(**params, autocommit=True) as lock_connection:
        row = lock_connection.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s))", (key,)
        ).fetchone()
        locked = bool(row and row[0])
        try:
            yield locked, lock_connection
        finally:
            # Closing the connection releases the lock too, but the server ends
            # the session a moment after the client has gone: a run that starts
            # at once could still find it held (seen on a busy machine). Unlocking
            # first releases it before the block ends.
            if locked and not lock_connection.closed:
                with contextlib.suppress(psycopg.Error):
                    lock_connection.execute(
                        "SELECT pg_advisory_unlock(hashtext(%s))", (key,)
                    )


class _Heartbeat:
    """Renew a running JobRun's heartbeat every JOB_HEARTBEAT_SECONDS from a
    thread, on the lock's connection (which the job itself never uses)."""

    def __init__(self, run: JobRun, connection: psycopg.Connection[Any]) -> None:
        self.run_id = run.pk
        self.connection = connection
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                self.connection.execute(
                    "UPDATE lrs_portal_jobrun SET heartbeat_at = now()"
                    " WHERE id = %s AND outcome = 'running'",
                    (self.run_id,),
                )
            except psycopg.Error:  # the job itself will fail and say why
                logger.warning(
                    "job_heartbeat_failed", extra={"job_run_id": self.run_id}
                )

    def __enter__(self) -> "_Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()


class JobProgress:
    """What a running job tells its JobRun: counts, and each day it finished."""

    def __init__(self, run: JobRun) -> None:
        self.run = run
        self.counts: dict[str, int] = {}

    def add(self, key: str, number: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + number

    def day_done(self, day: date) -> None:
        """Record a finished day at once, so a later failure keeps it finished."""
        run = self.run
        if run.first_day is None or day < run.first_day:
            run.first_day = day
        if run.last_day is None or day > run.last_day:
            run.last_day = day
        run.counts = dict(self.counts)
        run.save(update_fields=["first_day", "last_day", "counts"])


def job_run(
    job: str, work: Callable[[JobProgress], None], *, record: bool = True
) -> JobRun | None:
    """Run work under the job's lock and record it; raise JobLocked if another
    run holds the lock. With record=False (a dry run) nothing is recorded and
    None is returned.

    A failure is recorded with its exception type and message, then re-raised so
    the command exits non-zero and the task shows as failed.
    """
    with _lock_connection(_lock_key(job)) as (locked, lock_connection):
        if not locked:
            if record:
                JobRun.objects.create(
                    job=job, outcome=JobRun.Outcome.SKIPPED, finished_at=timezone.now()
                )
            logger.info("job_skipped_locked", extra={"job": job})
            raise JobLocked(f"Another {job} run holds the lock: this run did nothing.")
        if not record:
            work(JobProgress(JobRun(job=job)))
            return None
        # Holding the lock, no other run of this job is alive: a row still
        # running is one whose worker died.
        _abandon_running(job)
        now = timezone.now()
        run = JobRun.objects.create(job=job, started_at=now, heartbeat_at=now)
        progress = JobProgress(run)
        logger.info("job_started", extra={"job": job, "job_run_id": run.pk})
        try:
            if lock_connection is None:
                work(progress)
            else:
                with _Heartbeat(run, lock_connection):
                    work(progress)
        except BaseException as exc:
            run.outcome = JobRun.Outcome.FAILED
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            run.counts = progress.counts
            run.finished_at = timezone.now()
            run.save(update_fields=["outcome", "error", "counts", "finished_at"])
            logger.error("job_failed", extra={"job": job, "job_run_id": run.pk})
            raise
        run.outcome = JobRun.Outcome.SUCCEEDED
        run.counts = progress.counts
        run.finished_at = timezone.now()
        run.save(update_fields=["outcome", "counts", "finished_at"])
        logger.info(
            "job_finished",
            extra={"job": job, "job_run_id": run.pk, "counts": progress.counts},
        )
        return run


def _lock_key(job: str) -> str:
    return f"lrs.job.{job}"


def _abandon_running(job: str, *, stale_before: datetime | None = None) -> list[int]:
    """Mark the job's running rows abandoned (only those whose heartbeat is older
    than stale_before, if given); return the ids this call marked. The caller
    holds the job's lock, so none of them is alive."""
    runs = JobRun.objects.filter(job=job, outcome=JobRun.Outcome.RUNNING)
    if stale_before is not None:
        runs = runs.filter(heartbeat_at__lt=stale_before)
    marked = []
    for run in runs.order_by("pk"):
        # One claim per row: two watchdogs at once mark (and re-run) it once.
        claimed = JobRun.objects.filter(
            pk=run.pk, outcome=JobRun.Outcome.RUNNING
        ).update(
            outcome=JobRun.Outcome.ABANDONED,
            finished_at=timezone.now(),
            error=(
                "Its worker died: the run stopped renewing its heartbeat "
                f"(last {run.heartbeat_at or run.started_at:%Y-%m-%d %H:%M:%S} UTC) "
                "and its lock was free. The next run did its work."
            ),
        )
        if claimed:
            marked.append(run.pk)
            logger.warning("job_abandoned", extra={"job": job, "job_run_id": run.pk})
    return marked


def jobs_watch(*, now: datetime | None = None) -> dict[str, list[str]]:
    """Re-run, once, each nightly job whose run died, and tell caseworkers of
    each nightly job not succeeded by the deadline; return what it did."""
    from lrs_portal.celery import app

    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS)
    rerun = []
    for job, task in settings.NIGHTLY_JOBS.items():
        if not JobRun.objects.filter(
            job=job, outcome=JobRun.Outcome.RUNNING, heartbeat_at__lt=stale_before
        ).exists():
            continue
        with advisory_lock(_lock_key(job)) as locked:
            # A held lock means the run is alive, only slow to beat: leave it.
            marked = _abandon_running(job, stale_before=stale_before) if locked else []
        if marked:
            app.send_task(task)
            rerun.append(job)
    return {"rerun": rerun, "late": _jobs_late_notify(now)}


def jobs_late(*, now: datetime | None = None) -> list[str]:
    """The nightly jobs with no succeeded run since midnight (UK time), once the
    deadline (JOB_DEADLINE, UK time) has passed; none before it."""
    local = (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE))
    if local.time() < settings.JOB_DEADLINE:
        return []
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    done = set(
        JobRun.objects.filter(
            outcome=JobRun.Outcome.SUCCEEDED, started_at__gte=midnight
        ).values_list("job", flat=True)
    )
    return [job for job in settings.NIGHTLY_JOBS if job not in done]


def _jobs_late_notify(now: datetime) -> list[str]:
    from lrs_portal.services import service_alert_raise

    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    raised = []
    for job in jobs_late(now=now):
        told = service_alert_raise(  # False: told already tonight
            alert=ServiceAlert(
                kind=ServiceAlert.Kind.JOB_LATE,
                key=f"{job}:{local:%Y-%m-%d}",
                summary=f"The nightly job {job} had not completed by "
                f"{settings.JOB_DEADLINE:%H:%M} on {local:%d %B %Y}.",
            ),
            subject=f"LRS Portal: the nightly job {job} has not completed",
            body=(
                f"The nightly job {job} had not completed by "
                f"{settings.JOB_DEADLINE:%H:%M} (UK time) on "
                f"{local:%d %B %Y}. Until it does, what it checks is not "
                "checked. See 'Job runs' in the admin and the runbook "
                "docs/runbooks/worker-and-beat.md."
            ),
            reference="jobs.late",
        )
        if told:
            raised.append(job)
    return raised
