"""Letters through the outbox: GOV.UK Notify's letter API (recorded responses), or a
PDF in a folder when there is no key (the demo)."""

import json
from unittest import mock

import pytest
import responses

from lrs_portal.letters import letter_text
from lrs_portal.models import Notification
from lrs_portal.notify import NotifyDelayed
from lrs_portal.services import letter_send, notification_deliver

pytestmark = pytest.mark.django_db

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
KEY = f"lrs_test-{SERVICE_ID}-{SECRET}"
TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
LETTERS = "https://api.notifications.service.gov.uk/v2/notifications/letter"

# Notify's answers, as its API documentation records them.
CREATED = {
    "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
    "reference": "lrs-notification-1",
    "content": {"subject": "Sign the LRS agreement", "body": "Dear Jane"},
    "uri": "https://api.notifications.service.gov.uk/v2/notifications/740e5834",
    "template": {"id": TEMPLATE, "version": 1, "uri": "https://api.example/t"},
    "scheduled_for": None,
    "postage": "second",
}
BAD_POSTCODE = {
    "status_code": 400,
    "errors": [
        {
            "error": "ValidationError",
            "message": "Last line of address must be a real UK postcode or another "
            "country",
        }
    ],
}
SERVER_ERROR = {
    "status_code": 500,
    "errors": [{"error": "Exception", "message": "Internal server error"}],
}
RATE_LIMITED = {
    "status_code": 429,
    "errors": [
        {
            "error": "RateLimitError",
            "message": "Exceeded rate limit for key type LIVE of 3000 requests per "
            "60 seconds",
        }
    ],
}


@pytest.fixture
def notify(settings):
    settings.NOTIFY_API_KEY = KEY
    settings.NOTIFY_LETTER_TEMPLATE_ID = TEMPLATE
    with responses.RequestsMock() as http:
        yield http


def _letter(**kwargs):
    with mock.patch("lrs_portal.tasks.notification_deliver_task.delay"):
        return letter_send(
            address=["Jane Alice Smith", "1 College Road", "Leeds", "LS2 9JT"],
            subject="Sign the LRS agreement",
            body="Dear ((director_name)), your code is ((code)).",
            personalisation={"director_name": "Jane Alice Smith", "code": "ABCD-2345"},
            reference="agreement.signing_code",
            **kwargs,
        )


def test_a_letter_goes_to_notify_with_its_template_address_and_code(notify):
    notify.post(LETTERS, json=CREATED, status=201)
    letter = _letter()

    assert notification_deliver(notification_id=letter.pk) is True

    sent = json.loads(notify.calls[0].request.body)
    assert sent["template_id"] == TEMPLATE
    assert sent["reference"] == f"lrs-notification-{letter.pk}"
    assert sent["personalisation"] == {
        "address_line_1": "Jane Alice Smith",
        "address_line_2": "1 College Road",
        "address_line_3": "Leeds",
        "address_line_4": "LS2 9JT",
        "director_name": "Jane Alice Smith",
        "code": "ABCD-2345",
    }
    assert notify.calls[0].request.headers["Authorization"].startswith("Bearer ")
    letter.refresh_from_db()
    assert letter.status == Notification.Status.SENT
    assert letter.provider_reference == CREATED["id"]
    assert "ABCD-2345" not in json.dumps(letter.personalisation)


def test_a_letter_notify_refuses_fails_at_once_and_forgets_its_code(notify, caplog):
    notify.post(LETTERS, json=BAD_POSTCODE, status=400)
    letter = _letter()

    assert notification_deliver(notification_id=letter.pk) is False

    letter.refresh_from_db()
    assert letter.status == Notification.Status.FAILED
    assert letter.attempts == 1
    assert "ABCD-2345" not in json.dumps(letter.personalisation)
    assert "real UK postcode" in caplog.text
    assert "ABCD-2345" not in caplog.text


@pytest.mark.parametrize(("status", "body"), [(500, SERVER_ERROR), (429, RATE_LIMITED)])
def test_a_letter_notify_cannot_take_now_stays_queued_for_a_retry(notify, status, body):
    notify.post(LETTERS, json=body, status=status)
    letter = _letter()

    with pytest.raises(NotifyDelayed):
        notification_deliver(notification_id=letter.pk)

    letter.refresh_from_db()
    assert letter.status == Notification.Status.QUEUED
    assert letter.claimed_at is None
    assert letter.personalisation["code"] == "ABCD-2345"  # needed for the retry


def test_a_delivered_letter_is_not_sent_twice(notify):
    notify.post(LETTERS, json=CREATED, status=201)
    letter = _letter()

    notification_deliver(notification_id=letter.pk)

    assert notification_deliver(notification_id=letter.pk) is False
    assert len(notify.calls) == 1


def test_without_a_key_the_letter_is_a_pdf_in_the_letters_folder(settings, tmp_path):
    settings.NOTIFY_API_KEY = ""
    settings.LETTERS_DIR = tmp_path
    letter = _letter()

    with responses.RequestsMock():  # nothing goes over the network
        notification_deliver(notification_id=letter.pk)

    (pdf,) = tmp_path.glob("letter-*.pdf")
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF-1.4")
    assert content.rstrip().endswith(b"%%EOF")
    assert b"(Dear Jane Alice Smith, your code is ABCD-2345.) Tj" in content
    assert b"(LS2 9JT) Tj" in content
    letter.refresh_from_db()
    assert letter.provider_reference == pdf.name
    assert letter.status == Notification.Status.SENT


def test_in_the_demo_the_code_is_printed_to_the_console(settings, tmp_path, capsys):
    settings.NOTIFY_API_KEY = ""
    settings.DEBUG = True
    settings.LETTERS_DIR = tmp_path
    letter = _letter()

    notification_deliver(notification_id=letter.pk)

    assert "your code is ABCD-2345" in capsys.readouterr().out


def test_with_debug_off_the_code_is_not_printed(settings, tmp_path, capsys):
    settings.NOTIFY_API_KEY = ""
    settings.LETTERS_DIR = tmp_path
    letter = _letter()

    notification_deliver(notification_id=letter.pk)

    assert "ABCD-2345" not in capsys.readouterr().out


def test_the_letters_placeholders_are_filled_and_unknown_ones_left(settings):
    letter = Notification(
        body="((a)) and ((b)) and (plain)", personalisation={"a": "one"}
    )

    assert letter_text(letter) == "one and ((b)) and (plain)"


def test_brackets_in_a_letter_cannot_break_the_pdf(settings, tmp_path):
    from lrs_portal.letters import letter_pdf

    content = letter_pdf(["O'Brien (Leeds) \\ Ltd"])

    assert b"(O'Brien \\(Leeds\\) \\\\ Ltd) Tj" in content


def test_the_deploy_check_warns_when_letters_would_not_be_posted(settings):
    from registration.checks import notify_key_check

    settings.NOTIFY_API_KEY = ""
    (warning,) = notify_key_check(None)
    settings.NOTIFY_API_KEY = KEY

    assert warning.id == "registration.W002"
    assert notify_key_check(None) == []
