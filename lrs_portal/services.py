"""Writes with side effects for lrs_portal: notifications (email and letters) and
sessions."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.celery import task_named
from lrs_portal.email_kinds import BY_NAME, kind_of
from lrs_portal.letters import letter_deliver, letter_forget_secrets
from lrs_portal.models import Notification, ServiceAlert, User, UserSession
from lrs_portal.notify import REFERENCE_PREFIX, NotifyRefused, email_notify_deliver

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=10)
DELIVER_TASK = "lrs_portal.tasks.notification_deliver_task"


def notification_send(
    *, to: str, subject: str, body: str, reference: str
) -> Notification:
    """Queue an email, sent by a worker once the surrounding transaction commits.

    Its kind (the reference less its ids) must be one of lrs_portal.email_kinds,
    each of which has its GOV.UK Notify template.
    """
    kind = kind_of(reference)
    if kind not in BY_NAME:
        raise ValueError(
            f"Emails of kind {kind!r} are not listed in lrs_portal.email_kinds"
        )
    notification = Notification.objects.create(
        to=to, subject=subject, body=body, reference=reference, kind=kind
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
        kind=kind_of(reference),
    )
    notification.save()
    transaction.on_commit(lambda: _enqueue(notification.pk))
    return notification


def _enqueue(notification_id: int) -> None:
    try:
        task_named(DELIVER_TASK).delay(notification_id)
    except Exception:  # broker down: the row stays queued for the retry sweep
        logger.warning(
            "notification_enqueue_failed", extra={"notification_id": notification_id}
        )


def role_emails(role: str) -> list[str]:
    """The addresses of every active holder of a role, each once, sorted."""
    return list(
        User.objects.filter(groups__name=role, is_active=True)
        .values_list("email", flat=True)
        .order_by("email")
        .distinct()
    )


def notification_send_to_role(
    *, role: str, subject: str, body: str, reference: str
) -> int:
    """Queue the email to every active holder of a role (each once); return how
    many were queued."""
    sent = 0
    for email in role_emails(role):
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
        if notification.attempts >= MAX_ATTEMPTS or isinstance(exc, NotifyRefused):
            notification.status = Notification.Status.FAILED
            letter_forget_secrets(notification)
        notification.save(update_fields=["claimed_at", "status", "personalisation"])
        if isinstance(exc, NotifyRefused):
            logger.error(
                f"{notification.channel}_refused",
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
    elif settings.NOTIFY_API_KEY:
        notification.provider_reference = email_notify_deliver(notification)
    else:  # development, the demo and tests: the console or in-memory backend
        send_mail(notification.subject, notification.body, None, [notification.to])


def notification_retry_queued() -> int:
    """Enqueue every email still queued and free to claim; return how many.

    Catches emails whose enqueue failed (broker down) or whose worker died.
    """
    notification_deliver_task = task_named(DELIVER_TASK)
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


def notification_receipt_record(
    *, provider_id: str, reference: str, delivery: str, completed_at: datetime | None
) -> Notification | None:
    """Record GOV.UK Notify's delivery receipt on its email; None when no email of
    ours has that Notify id (or, before its id was recorded, that reference).

    A receipt older than the one recorded changes nothing (Notify may send them out
    of order). A permanent failure to a director or a provider super user raises a
    service alert for caseworkers, once.
    """
    emails = Notification.objects.select_for_update().filter(
        channel=Notification.Channel.EMAIL
    )
    with transaction.atomic():
        notification = emails.filter(provider_reference=provider_id).first()
        number = reference.removeprefix(REFERENCE_PREFIX)
        if notification is None and reference != number and number.isdigit():
            # The worker died between Notify's answer and recording it.
            notification = emails.filter(pk=int(number), provider_reference="").first()
            if notification is not None:
                notification.provider_reference = provider_id
        if notification is None:
            return None
        recorded = notification.delivery_completed_at
        if recorded and completed_at and completed_at < recorded:
            return notification
        notification.delivery = delivery
        notification.delivery_completed_at = completed_at or timezone.now()
        notification.save(
            update_fields=["delivery", "delivery_completed_at", "provider_reference"]
        )
        if delivery == Notification.Delivery.PERMANENT_FAILURE:
            _undelivered_alert(notification)
    return notification


def _undelivered_alert(notification: Notification) -> None:
    kind = BY_NAME.get(notification.kind)
    if kind is not None and kind.to_director:
        who = "the signing director"
    elif User.objects.filter(
        email=notification.to, groups__name=roles.PROVIDER_SUPER_USER
    ).exists():
        who = "a provider super user"
    else:
        return
    link = settings.SERVICE_URL + reverse(
        "admin:lrs_portal_notification_change", args=[notification.pk]
    )
    service_alert_raise(
        alert=ServiceAlert(
            kind=ServiceAlert.Kind.EMAIL_UNDELIVERED,
            key=f"notification.{notification.pk}",
            summary=f"Email to {who} not delivered: {notification.subject}"[:300],
            notification=notification,
        ),
        subject="LRS Portal: an email to a provider could not be delivered",
        body=(
            f"GOV.UK Notify could not deliver an email to {who}: the address does "
            f"not exist or will not accept email.\n\nThe email: "
            f"{notification.subject}\n{link}\n\nCheck the address with the "
            "organisation and correct it (for a director, send a new signing "
            "link), or they will not hear from the service."
        ),
        reference="notify.permanent_failure",
    )


def sessions_clear_expired() -> int:
    """Delete sessions past their expiry date; return how many."""
    deleted, _ = UserSession.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def user_end_sessions(*, user: User) -> int:
    """End every live session of a user (suspension is immediate: rule 5)."""
    deleted, _ = UserSession.objects.filter(user=user).delete()
    return deleted
