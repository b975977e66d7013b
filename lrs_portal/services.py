"""Writes with side effects for lrs_portal: notifications and sessions."""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from lrs_portal.models import Notification, User, UserSession

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=10)


def notification_send(
    *, to: str, subject: str, body: str, reference: str
) -> Notification:
    """Queue an email, sent by a worker once the surrounding transaction commits."""
    from lrs_portal.tasks import notification_deliver_task

    notification = Notification.objects.create(
        to=to, subject=subject, body=body, reference=reference
    )

    def enqueue() -> None:
        try:
            notification_deliver_task.delay(notification.pk)
        except Exception:  # broker down: the row stays queued for the retry sweep
            logger.warning(
                "notification_enqueue_failed",
                extra={"notification_id": notification.pk},
            )

    transaction.on_commit(enqueue)
    return notification


def notification_send_to_role(
    *, role: str, subject: str, body: str, reference: str
) -> int:
    """Queue the email to every active holder of a role (each once); return how
    many were queued."""
    emails = (
        User.objects.filter(groups__name=role, is_active=True)
        .values_list("email", flat=True)
        .order_by("email")
        .distinct()
    )
    sent = 0
    for email in emails:
        notification_send(to=email, subject=subject, body=body, reference=reference)
        sent += 1
    return sent


def notification_deliver(*, notification_id: int) -> bool:
    """Send one queued email at most once; return whether this call sent it.

    The row is claimed with a conditional UPDATE (not a lock held across SMTP), so
    a redelivered task or a second worker finds nothing to do.
    """
    now = timezone.now()
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
    claimed = Notification.objects.filter(
        claimable, pk=notification_id, status=Notification.Status.QUEUED
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    try:
        send_mail(notification.subject, notification.body, None, [notification.to])
    except Exception:
        notification.claimed_at = None
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = Notification.Status.FAILED
        notification.save(update_fields=["claimed_at", "status"])
        raise
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
    notification.save(update_fields=["status", "sent_at"])
    return True


def notification_retry_queued() -> int:
    """Enqueue every email still queued and free to claim; return how many.

    Catches emails whose enqueue failed (broker down) or whose worker died.
    """
    from lrs_portal.tasks import notification_deliver_task

    stale = timezone.now() - CLAIM_TIMEOUT
    pending = Notification.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale),
        status=Notification.Status.QUEUED,
    ).values_list("pk", flat=True)
    count = 0
    for pk in pending.iterator():
        notification_deliver_task.delay(pk)
        count += 1
    return count


def sessions_clear_expired() -> int:
    """Delete sessions past their expiry date; return how many."""
    deleted, _ = UserSession.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def user_end_sessions(*, user: User) -> int:
    """End every live session of a user (suspension is immediate: rule 5)."""
    deleted, _ = UserSession.objects.filter(user=user).delete()
    return deleted
