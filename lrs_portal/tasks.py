"""Celery tasks of lrs_portal: thin adapters that call one service each.

They import the services at the top; the services enqueue them by name
(lrs_portal.celery.task_named), so the import goes one way only.
"""

from contextlib import suppress
from smtplib import SMTPException

from celery import shared_task

from lrs_portal.jobs import JobLocked, jobs_watch
from lrs_portal.notify import NotifyDelayed
from lrs_portal.services import (
    notification_deliver,
    notification_retry_queued,
    sessions_clear_expired,
)
from lrs_portal.trail import trail_audit_run


@shared_task(
    autoretry_for=(SMTPException, OSError, NotifyDelayed),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    max_retries=4,
)
def notification_deliver_task(notification_id: int) -> None:
    notification_deliver(notification_id=notification_id)


@shared_task
def notification_retry_queued_task() -> None:
    notification_retry_queued()


@shared_task
def sessions_clear_expired_task() -> None:
    sessions_clear_expired()


@shared_task
def trail_audit_task() -> None:
    with suppress(JobLocked):
        trail_audit_run()


@shared_task
def jobs_watch_task() -> None:
    jobs_watch()
