from contextlib import suppress
from smtplib import SMTPException

from celery import shared_task

from lrs_portal.notify import NotifyDelayed


@shared_task(
    autoretry_for=(SMTPException, OSError, NotifyDelayed),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    max_retries=4,
)
def notification_deliver_task(notification_id: int) -> None:
    from lrs_portal.services import notification_deliver

    notification_deliver(notification_id=notification_id)


@shared_task
def notification_retry_queued_task() -> None:
    from lrs_portal.services import notification_retry_queued

    notification_retry_queued()


@shared_task
def sessions_clear_expired_task() -> None:
    from lrs_portal.services import sessions_clear_expired

    sessions_clear_expired()


@shared_task
def trail_audit_task() -> None:
    from lrs_portal.jobs import JobLocked
    from lrs_portal.trail import trail_audit_run

    with suppress(JobLocked):
        trail_audit_run()


@shared_task
def jobs_watch_task() -> None:
    from lrs_portal.jobs import jobs_watch

    jobs_watch()
