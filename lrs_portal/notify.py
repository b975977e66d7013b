"""GOV.UK Notify, the outbox's delivery service for letters and emails when
NOTIFY_API_KEY is set (decisions 0014 and 0028).

One client, one reading of Notify's answers for both channels: 429, 5xx and no
answer at all (a time-out: the client reports 503) are worth trying again later
(NotifyDelayed, which the task retries); any other refusal (400 bad request, 403
wrong key) will not get better by itself (NotifyRefused, and the row is failed).

Each notification is sent with our reference ``lrs-notification-<id>``. Before
sending a notification a second time (a retry after a time-out, a worker that
died before it could record the send), Notify is asked for a notification with
that reference: if Notify already has it, nothing is sent again.

Notify's delivery receipts come back to ``notify_receipt`` (lrs_portal.views)
with the bearer token of NOTIFY_CALLBACK_TOKEN.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from lrs_portal.email_kinds import PERSONALISATION, kind_of
from lrs_portal.models import Notification

NOTIFY_TIMEOUT = 10  # seconds
REFERENCE_PREFIX = "lrs-notification-"

Send = Callable[[NotificationsAPIClient, str], dict[str, Any]]


class NotifyRefused(Exception):
    """Notify refused the notification (address, template or key): sending it
    again will not help, so the row is marked failed."""


class NotifyDelayed(OSError):
    """Notify did not answer, or asked us to slow down: the task tries again later."""


def notify_reference(notification: Notification) -> str:
    """Our reference for a notification at Notify: its id, never personal data
    (it is what Notify's dashboard and receipts show)."""
    return f"{REFERENCE_PREFIX}{notification.pk}"


def notify_deliver(notification: Notification, send: Send) -> str:
    """Send one notification through Notify with ``send``, unless Notify already
    has it from an earlier attempt; return Notify's id for it."""
    client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
        settings.NOTIFY_API_KEY,
        base_url=settings.NOTIFY_API_URL,
        timeout=NOTIFY_TIMEOUT,
    )
    reference = notify_reference(notification)
    with _answers():
        if notification.attempts > 1:
            found = client.get_all_notifications(reference=reference)  # type: ignore[no-untyped-call]
            earlier = found.get("notifications") or []
            if earlier:
                return str(earlier[0]["id"])
        response = send(client, reference)
    return str(response["id"])


def email_notify_deliver(notification: Notification) -> str:
    """Send one email through Notify with its kind's template."""
    kind = notification.kind or kind_of(notification.reference)
    template_id = settings.NOTIFY_EMAIL_TEMPLATE_IDS.get(kind, "")
    if not template_id:
        raise ImproperlyConfigured(
            f"No GOV.UK Notify template for emails of kind {kind!r} "
            "(see docs/decisions/0028-notify-email-and-transparency.md)"
        )
    values = dict(
        zip(PERSONALISATION, (notification.subject, notification.body), strict=True)
    )

    def send(client: NotificationsAPIClient, reference: str) -> dict[str, Any]:
        return client.send_email_notification(  # type: ignore[no-any-return,no-untyped-call]
            email_address=notification.to,
            template_id=template_id,
            personalisation=values,
            reference=reference,
        )

    return notify_deliver(notification, send)


@contextmanager
def _answers() -> Iterator[None]:
    try:
        yield
    except APIError as exc:
        status = exc.status_code
        if status == 429 or status >= 500:
            raise NotifyDelayed(f"GOV.UK Notify answered {status}") from exc
        raise NotifyRefused(f"GOV.UK Notify refused it: {exc}") from exc
