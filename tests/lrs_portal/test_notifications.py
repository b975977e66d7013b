from smtplib import SMTPException
from unittest import mock

import pytest

from lrs_portal.models import Notification
from lrs_portal.services import MAX_ATTEMPTS, notification_deliver, notification_send
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_it_enqueues_delivery_only_after_commit(django_capture_on_commit_callbacks):
    with (
        mock.patch("lrs_portal.tasks.notification_deliver_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        notification = notification_send(
            to="a@example.com", subject="S", body="B", reference="members.invitation"
        )
        assert not delay.called

    assert len(callbacks) == 1
    delay.assert_called_once_with(notification.pk)


def test_a_broker_failure_leaves_the_email_queued(django_capture_on_commit_callbacks):
    with (
        mock.patch(
            "lrs_portal.tasks.notification_deliver_task.delay",
            side_effect=OSError("broker down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notification = notification_send(
            to="a@example.com", subject="S", body="B", reference="members.invitation"
        )

    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED


def test_delivering_twice_sends_one_email(mailoutbox):
    notification = NotificationFactory.create()

    assert notification_deliver(notification_id=notification.pk) is True
    assert notification_deliver(notification_id=notification.pk) is False

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.sent_at is not None


def test_a_failed_send_can_be_retried(mailoutbox):
    notification = NotificationFactory.create()
    with (
        mock.patch("lrs_portal.services.send_mail", side_effect=SMTPException),
        pytest.raises(SMTPException),
    ):
        notification_deliver(notification_id=notification.pk)

    assert notification_deliver(notification_id=notification.pk) is True
    assert len(mailoutbox) == 1


def test_it_gives_up_after_the_last_attempt():
    notification = NotificationFactory.create(attempts=MAX_ATTEMPTS - 1)
    with (
        mock.patch("lrs_portal.services.send_mail", side_effect=SMTPException),
        pytest.raises(SMTPException),
    ):
        notification_deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED


def test_the_retry_sweep_requeues_stranded_emails_only():
    from datetime import timedelta

    from django.utils import timezone

    from lrs_portal.services import notification_retry_queued

    stranded = NotificationFactory.create()
    crashed = NotificationFactory.create(
        claimed_at=timezone.now() - timedelta(minutes=30)
    )
    NotificationFactory.create(claimed_at=timezone.now())  # being sent now
    NotificationFactory.create(status=Notification.Status.SENT)

    with mock.patch("lrs_portal.tasks.notification_deliver_task.delay") as delay:
        count = notification_retry_queued()

    assert count == 2
    assert sorted(c.args[0] for c in delay.call_args_list) == sorted(
        [stranded.pk, crashed.pk]
    )
