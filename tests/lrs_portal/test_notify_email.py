"""Email through GOV.UK Notify (recorded responses, never the network), and its
delivery receipts through the callback."""

import json
from http import HTTPStatus
from unittest import mock

import pytest
import requests
import responses
from django.core.checks import Error
from django.urls import reverse
from responses import matchers

from lrs_portal import roles
from lrs_portal.checks import check_notify_email_templates
from lrs_portal.email_kinds import BY_NAME, EMAIL_KINDS, kind_of
from lrs_portal.models import Notification, ServiceAlert
from lrs_portal.notify import NotifyDelayed
from lrs_portal.services import notification_deliver, notification_send
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
KEY = f"lrs_test-{SERVICE_ID}-3d844edf-8d35-48ac-975b-e847b4f122b0"
EMAILS = "https://api.notifications.service.gov.uk/v2/notifications/email"
LIST = "https://api.notifications.service.gov.uk/v2/notifications"
NOTIFY_ID = "740e5834-3a29-46b4-9a6f-16142fde533a"
TOKEN = "a-callback-token-of-at-least-32-characters"
TEMPLATES = {
    kind.name: f"00000000-0000-4000-8000-{n:012d}" for n, kind in enumerate(EMAIL_KINDS)
}

# Notify's answers, as its API documentation records them.
CREATED = {
    "id": NOTIFY_ID,
    "reference": "lrs-notification-1",
    "content": {"subject": "S", "body": "B", "from_email": "lrs@notifications.gov.uk"},
    "uri": f"https://api.notifications.service.gov.uk/v2/notifications/{NOTIFY_ID}",
    "template": {"id": TEMPLATES["members.invitation"], "version": 1, "uri": "x"},
}
BAD_REQUEST = {
    "status_code": 400,
    "errors": [{"error": "BadRequestError", "message": "Can't send to this recipient "
                "using a team-only API key"}],
}  # fmt: skip
FORBIDDEN = {
    "status_code": 403,
    "errors": [{"error": "AuthError", "message": "Invalid token: API key not found"}],
}
SERVER_ERROR = {
    "status_code": 500,
    "errors": [{"error": "Exception", "message": "Internal server error"}],
}


@pytest.fixture
def notify(settings):
    settings.NOTIFY_API_KEY = KEY
    settings.NOTIFY_EMAIL_TEMPLATE_IDS = TEMPLATES
    with responses.RequestsMock() as http:
        yield http


def _email(reference="members.invitation", to="jane@college.example.com"):
    with mock.patch("lrs_portal.tasks.notification_deliver_task.delay"):
        return notification_send(
            to=to,
            subject="Your invitation",
            body="Create your account",
            reference=reference,
        )


# --- sending -----------------------------------------------------------------


def test_an_email_goes_to_notify_with_its_kinds_template(notify, mailoutbox):
    notify.post(EMAILS, json=CREATED, status=201)
    email = _email()

    assert notification_deliver(notification_id=email.pk) is True

    sent = json.loads(notify.calls[0].request.body)
    assert sent == {
        "email_address": "jane@college.example.com",
        "template_id": TEMPLATES["members.invitation"],
        "personalisation": {
            "subject": "Your invitation",
            "body": "Create your account",
        },
        "reference": f"lrs-notification-{email.pk}",
    }
    email.refresh_from_db()
    assert email.status == Notification.Status.SENT
    assert email.provider_reference == NOTIFY_ID
    assert mailoutbox == []  # not also through SMTP


def test_each_kind_uses_its_own_template(notify):
    notify.post(EMAILS, json=CREATED, status=201)
    email = _email(reference="suspension.41.opened")

    notification_deliver(notification_id=email.pk)

    assert email.kind == "suspension.opened"
    sent = json.loads(notify.calls[0].request.body)
    assert sent["template_id"] == TEMPLATES["suspension.opened"]


@pytest.mark.parametrize(("status", "body"), [(400, BAD_REQUEST), (403, FORBIDDEN)])
def test_an_email_notify_refuses_fails_at_once_without_a_retry(notify, status, body):
    notify.post(EMAILS, json=body, status=status)
    email = _email()

    assert notification_deliver(notification_id=email.pk) is False

    email.refresh_from_db()
    assert email.status == Notification.Status.FAILED
    assert email.attempts == 1
    assert len(notify.calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"json": SERVER_ERROR, "status": 500},
        {"body": requests.exceptions.ReadTimeout("no answer in 10 s")},
    ],
    ids=["5xx", "time-out"],
)
def test_a_server_error_or_time_out_leaves_the_email_for_a_retry(notify, answer):
    notify.post(EMAILS, **answer)
    email = _email()

    with pytest.raises(NotifyDelayed):
        notification_deliver(notification_id=email.pk)

    email.refresh_from_db()
    assert email.status == Notification.Status.QUEUED
    assert email.claimed_at is None


def test_a_retry_after_a_time_out_that_notify_took_sends_nothing_again(notify):
    # Notify accepted the first request but the answer never came back.
    notify.post(EMAILS, body=requests.exceptions.ReadTimeout("no answer"))
    email = _email()
    with pytest.raises(NotifyDelayed):
        notification_deliver(notification_id=email.pk)
    notify.get(
        LIST,
        match=[
            matchers.query_param_matcher({"reference": f"lrs-notification-{email.pk}"})
        ],
        json={"notifications": [{**CREATED, "status": "sending"}], "links": {}},
    )

    assert notification_deliver(notification_id=email.pk) is True

    posts = [call for call in notify.calls if call.request.method == "POST"]
    assert len(posts) == 1
    email.refresh_from_db()
    assert email.status == Notification.Status.SENT
    assert email.provider_reference == NOTIFY_ID


def test_a_retry_after_a_server_error_sends_the_email_once(notify):
    notify.post(EMAILS, json=SERVER_ERROR, status=500)
    email = _email()
    with pytest.raises(NotifyDelayed):
        notification_deliver(notification_id=email.pk)
    notify.get(LIST, json={"notifications": [], "links": {}})
    notify.post(EMAILS, json=CREATED, status=201)

    assert notification_deliver(notification_id=email.pk) is True
    assert notification_deliver(notification_id=email.pk) is False  # task run twice

    posts = [call for call in notify.calls if call.request.method == "POST"]
    assert len(posts) == 2  # the refused one and the one that went
    email.refresh_from_db()
    assert email.status == Notification.Status.SENT
    assert email.attempts == 2


def test_without_a_key_email_goes_through_the_configured_backend(mailoutbox):
    email = _email()

    assert notification_deliver(notification_id=email.pk) is True

    assert [message.to for message in mailoutbox] == [["jane@college.example.com"]]


def test_an_email_of_a_kind_not_listed_is_refused_when_queued():
    with pytest.raises(ValueError, match="not listed"):
        _email(reference="reminders.7.something_new")

    assert not Notification.objects.exists()


def test_a_kind_is_the_reference_without_its_ids():
    assert kind_of("suspension.12.opened") == "suspension.opened"
    assert kind_of("approvals.DS123456.staff") == "approvals.staff"
    assert kind_of("reverification.2026-12-06.cases_opened") == (
        "reverification.cases_opened"
    )
    assert kind_of("housekeeping.user.9.deactivated") == "housekeeping.user.deactivated"
    assert kind_of("agreement.signing_link") == "agreement.signing_link"


def test_each_kind_has_its_own_setting():
    settings_names = [kind.setting for kind in EMAIL_KINDS]

    assert len(set(settings_names)) == len(EMAIL_KINDS) == len(BY_NAME)
    assert "NOTIFY_TEMPLATE_SUSPENSION_OPENED" in settings_names


def test_the_deploy_check_names_every_kind_without_a_template(settings):
    settings.NOTIFY_API_KEY = KEY
    settings.NOTIFY_EMAIL_TEMPLATE_IDS = {**TEMPLATES, "jobs.late": ""}

    (error,) = check_notify_email_templates()

    assert isinstance(error, Error)
    assert error.id == "lrs_portal.E007"
    assert "NOTIFY_TEMPLATE_JOBS_LATE" in error.msg
    assert "NOTIFY_TEMPLATE_MEMBERS_INVITATION" not in error.msg
    settings.NOTIFY_EMAIL_TEMPLATE_IDS = TEMPLATES
    assert check_notify_email_templates() == []
    settings.NOTIFY_API_KEY = ""
    settings.NOTIFY_EMAIL_TEMPLATE_IDS = {}
    assert check_notify_email_templates() == []  # console and locmem need none


# --- delivery receipts -------------------------------------------------------


@pytest.fixture
def callback(client, settings):
    settings.NOTIFY_CALLBACK_TOKEN = TOKEN

    def post(body, token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.post(
            reverse("lrs_portal:notify-receipt"),
            data=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    return post


def _sent(**kwargs):
    fields = {"status": Notification.Status.SENT, "provider_reference": NOTIFY_ID}
    return NotificationFactory.create(**{**fields, **kwargs})


def _receipt(status="delivered", **extra):
    return {
        "id": NOTIFY_ID,
        "reference": "lrs-notification-1",
        "to": "jane@college.example.com",
        "status": status,
        "created_at": "2026-12-06T10:00:00.000000Z",
        "completed_at": "2026-12-06T10:00:05.000000Z",
        "sent_at": "2026-12-06T10:00:01.000000Z",
        "notification_type": "email",
        "template_id": TEMPLATES["members.invitation"],
        "template_version": 1,
        **extra,
    }


def test_a_receipt_is_recorded_on_its_email(callback):
    email = _sent()

    response = callback(_receipt("delivered"))

    assert response.status_code == HTTPStatus.NO_CONTENT
    email.refresh_from_db()
    assert email.delivery == Notification.Delivery.DELIVERED
    assert email.delivery_completed_at.isoformat() == "2026-12-06T10:00:05+00:00"


@pytest.mark.parametrize(
    "token", [None, "", "wrong-token-of-the-same-length-as-it!!", TOKEN[:-1]]
)
def test_a_receipt_without_the_right_token_is_refused(callback, token):
    email = _sent()

    response = callback(_receipt("permanent-failure"), token=token)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    email.refresh_from_db()
    assert email.delivery == ""


def test_with_no_token_configured_every_receipt_is_refused(callback, settings):
    settings.NOTIFY_CALLBACK_TOKEN = ""
    _sent()

    assert callback(_receipt(), token="").status_code == HTTPStatus.UNAUTHORIZED


def test_a_receipt_for_an_unknown_notification_is_not_found(callback):
    _sent(provider_reference="11111111-1111-4111-8111-111111111111")

    response = callback(_receipt(reference="lrs-notification-999999"))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"


def test_a_receipt_finds_an_email_whose_notify_id_was_not_yet_recorded(callback):
    email = NotificationFactory.create(status=Notification.Status.QUEUED)

    response = callback(_receipt(reference=f"lrs-notification-{email.pk}"))

    assert response.status_code == HTTPStatus.NO_CONTENT
    email.refresh_from_db()
    assert email.provider_reference == NOTIFY_ID
    assert email.delivery == Notification.Delivery.DELIVERED


def test_a_reference_cannot_claim_an_email_that_has_another_notify_id(callback):
    other = _sent(provider_reference="22222222-2222-4222-8222-222222222222")

    response = callback(_receipt(reference=f"lrs-notification-{other.pk}"))

    assert response.status_code == HTTPStatus.NOT_FOUND
    other.refresh_from_db()
    assert other.delivery == ""


@pytest.mark.parametrize(
    "body",
    [
        {"id": "not-a-uuid", "status": "delivered"},
        {"id": NOTIFY_ID, "status": "opened"},
        {"id": NOTIFY_ID},
        _receipt(notification_type="sms"),
        _receipt(completed_at="yesterday"),
        _receipt(reference="x" * 101),
        [1, 2, 3],
        "delivered",
    ],
)
def test_a_body_that_is_not_an_email_receipt_is_a_bad_request(callback, body):
    email = _sent()

    response = callback(body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    email.refresh_from_db()
    assert email.delivery == ""


def test_an_older_receipt_does_not_replace_a_newer_one(callback):
    email = _sent()
    callback(_receipt("delivered", completed_at="2026-12-06T11:00:00Z"))

    callback(_receipt("temporary-failure", completed_at="2026-12-06T10:30:00Z"))

    email.refresh_from_db()
    assert email.delivery == Notification.Delivery.DELIVERED


def test_a_permanent_failure_to_a_director_opens_one_task_for_caseworkers(
    callback, caseworker
):
    email = _sent(reference="agreement.signing_link", kind="agreement.signing_link")

    with mock.patch("lrs_portal.tasks.notification_deliver_task.delay"):
        callback(_receipt("permanent-failure"))
        callback(_receipt("permanent-failure", completed_at="2026-12-06T10:01:00Z"))

    (alert,) = ServiceAlert.objects.all()
    assert alert.kind == ServiceAlert.Kind.EMAIL_UNDELIVERED
    assert alert.notification == email
    assert "signing director" in alert.summary
    (told,) = Notification.objects.filter(kind="notify.permanent_failure")
    assert told.to == caseworker.email
    assert f"/admin/lrs_portal/notification/{email.pk}/" in told.body


def test_a_permanent_failure_to_a_super_user_opens_a_task(callback, caseworker):
    super_user = UserFactory.create()
    super_user.groups.add(*roles_groups(roles.PROVIDER_SUPER_USER))
    _sent(
        to=super_user.email, reference="suspension.3.upheld", kind="suspension.upheld"
    )

    with mock.patch("lrs_portal.tasks.notification_deliver_task.delay"):
        callback(_receipt("permanent-failure"))

    assert ServiceAlert.objects.get().summary.startswith(
        "Email to a provider super user not delivered"
    )


def test_other_failures_and_other_recipients_open_no_task(callback, caseworker):
    _sent(to=caseworker.email, reference="jobs.late", kind="jobs.late")
    callback(_receipt("permanent-failure"))
    director = _sent(
        provider_reference="33333333-3333-4333-8333-333333333333",
        reference="agreement.signing_link",
        kind="agreement.signing_link",
    )
    callback(
        _receipt("temporary-failure", id=director.provider_reference, reference="")
    )

    assert not ServiceAlert.objects.exists()


def test_admin_shows_the_delivery_receipt(callback, admin_verified_client):
    email = _sent()
    callback(_receipt("permanent-failure"))

    listing = admin_verified_client.get(
        reverse("admin:lrs_portal_notification_changelist"),
        {"delivery": "permanent-failure"},
    )
    page = admin_verified_client.get(
        reverse("admin:lrs_portal_notification_change", args=[email.pk])
    )

    assert email.to in listing.content.decode()
    assert "Permanent failure (address refused)" in page.content.decode()


def roles_groups(*names):
    from django.contrib.auth.models import Group

    return [Group.objects.get_or_create(name=name)[0] for name in names]
