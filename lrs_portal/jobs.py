"""How scheduled jobs run (architecture.md rule 7).

Every job is a plain function run through ``job_run``: it takes a PostgreSQL
advisory lock named after the job (a second concurrent run is recorded as skipped
and returns at once), records a ``JobRun`` with its counts and the days it
covered, and records a failure before re-raising it. Celery tasks and management
commands both call the same functions; neither holds any logic of its own.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from lrs_portal.models import JobRun

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
    if connections[using].vendor != "postgresql":
        yield True
        return
    params: dict[str, Any] = connections[using].get_connection_params()
    with psycopg.connect(**params, autocommit=True) as lock_connection:
        row = lock_connection.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s))", (key,)
        ).fetchone()
        yield bool(row and row[0])
    # Closing the lock's connection released the lock.


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
    with advisory_lock(f"lrs.job.{job}") as locked:
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
        run = JobRun.objects.create(job=job)
        progress = JobProgress(run)
        logger.info("job_started", extra={"job": job, "job_run_id": run.pk})
        try:
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
