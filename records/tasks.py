"""Celery tasks for the records app's nightly jobs: each only calls the job.

A run that finds another holding the job's lock is recorded as skipped by
lrs_portal.jobs and ends quietly here.
"""

from contextlib import suppress

from celery import shared_task

from lrs_portal.jobs import JobLocked


@shared_task
def audit_usage_task() -> None:
    from records.jobs import audit_usage_run

    with suppress(JobLocked):
        audit_usage_run()


@shared_task
def maintain_partitions_task() -> None:
    from records.jobs import partitions_maintain

    with suppress(JobLocked):
        partitions_maintain()


@shared_task
def batch_run_task(batch_id: int) -> None:
    """Run a batch file's searches (records.batches.batch_run): idempotent, so a
    redelivery after a worker died carries on where the last chunk ended."""
    from records.batches import batch_run

    batch_run(batch_id=batch_id)


@shared_task
def subject_access_reminders_task() -> None:
    from records.subject_access import sars_remind_run

    with suppress(JobLocked):
        sars_remind_run()
