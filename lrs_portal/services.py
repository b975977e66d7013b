"""Writes with side effects for lrs_portal: notifications (email and letters) and
sessions."""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.letters import LetterRefused, letter_deliver, letter_forget_secrets
from lrs_portal.models import Notification, ServiceAlert, User, UserSession

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=10)


def notification_send(
    *, to: str, subject: str, body: str, reference: str
) -> Notification:
    """Queue an email, sent by a worker once the surrounding transaction commits."""
    notification = Notification.objects.create(
        to=to, subject=subject, body=body, reference=reference
    )
    transaction.on_commit(lambda: _enqueue(notification.pk))
    return notification


def letter_send(
    *,
    address: list[str],
    subject: str,
    body: str,
    personalisation: dict[str, str],
    reference: str,
) -> Notification:
    """Queue a letter (GOV.UK Notify, or a PDF in the demo), posted by a worker once
    the surrounding transaction commits; ((placeholders)) in the body are filled
    from personalisation."""
    notification = Notification(
        channel=Notification.Channel.LETTER,
        postal_address=address,
        subject=subject,
        body=body,
        personalisation=personalisation,
        reference=reference,
    )
    notification.save()
    transaction.on_commit(lambda: _enqueue(notification.pk))
    return notification


def _enqueue(notification_id: int) -> None:
    from lrs_portal.tasks import notification_deliver_task

    try:
        notification_deliver_task.delay(notification_id)
    except Exception:  # broker down: the row stays queued for the retry sweep
        logger.warning(
            "notification_enqueue_failed", extra={"notification_id": notification_id}
        )


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


def service_alert_raise(
    *, alert: ServiceAlert, subject: str, body: str, reference: str
) -> bool:
    """Record a service alert and email the caseworkers, once: False when an
    alert with the same kind and key was raised before (nothing is sent)."""
    try:
        with transaction.atomic():
            alert.save()
            notification_send_to_role(
                role=roles.CASEWORKER, subject=subject, body=body, reference=reference
            )
    except IntegrityError:
        return False
    return True


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
        _deliver(notification)
    except Exception as exc:
        notification.claimed_at = None
        if notification.attempts >= MAX_ATTEMPTS or isinstance(exc, LetterRefused):
            notification.status = Notification.Status.FAILED
            letter_forget_secrets(notification)
        notification.save(update_fields=["claimed_at", "status", "personalisation"])
        if isinstance(exc, LetterRefused):
            logger.error(
                "letter_refused",
                extra={"notification_id": notification.pk, "reason": str(exc)},
            )
            return False
        raise
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
    letter_forget_secrets(notification)
    notification.save(
        update_fields=["status", "sent_at", "personalisation", "provider_reference"]
    )
    return True


def _deliver(notification: Notification) -> None:
    if notification.channel == Notification.Channel.LETTER:
        notification.provider_reference = letter_deliver(notification)
    else:
        send_mail(notification.subject, notification.body, None, [notification.to])


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
