"""A year's confirmation end to end through a real Celery worker and Redis, with
GOV.UK Notify's recorded responses (issue 14's "Done when", decision 0031).

The worker is Celery's own WorkController, consuming a private queue on the
Redis broker, run in a thread of the test process: Notify is answered by the
`responses` library, which only reaches requests made in this process (a
worker in a subprocess, as tests/conftest.py's `worker`, would reach the
network). The beat's tasks are sent to the broker as beat sends them; every email
goes through the outbox and is delivered by the worker through Notify.
"""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import responses
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lrs_portal.email_kinds import EMAIL_KINDS
from lrs_portal.models import JobRun, Notification
from registration.models import Organisation, Suspension, YearlyConfirmation
from registration.tasks import housekeeping_task, yearly_confirmation_task
from tests.conftest import until
from tests.factories import (
    AgreementVersionFactory,
    OrganisationFactory,
    member_of,
    organisation_officers,
)

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
KEY = f"lrs_test-{SERVICE_ID}-3d844edf-8d35-48ac-975b-e847b4f122b0"
EMAILS = "https://api.notifications.service.gov.uk/v2/notifications/email"
NOTIFY_ID = "740e5834-3a29-46b4-9a6f-16142fde533a"
TEMPLATES = {
    kind.name: f"00000000-0000-4000-8000-{n:012d}" for n, kind in enumerate(EMAIL_KINDS)
}
# Notify's answer to a sent email, as its API documentation records it.
CREATED = {
    "id": NOTIFY_ID,
    "reference": "lrs-notification-1",
    "content": {"subject": "S", "body": "B", "from_email": "lrs@notifications.gov.uk"},
    "uri": f"https://api.notifications.service.gov.uk/v2/notifications/{NOTIFY_ID}",
    "template": {
        "id": TEMPLATES["yearly_confirmation.opened"],
        "version": 1,
        "uri": "x",
    },
}
WAIT_SECONDS = 120


@pytest.fixture
def notify(settings) -> Iterator[responses.RequestsMock]:
    settings.NOTIFY_API_KEY = KEY
    settings.NOTIFY_EMAIL_TEMPLATE_IDS = TEMPLATES
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.post(EMAILS, json=CREATED, status=201)
        yield http


def _sent(**filters) -> bool:
    emails = Notification.objects.filter(**filters)
    return emails.exists() and not emails.exclude(status="sent").exists()


def _notify_requests(http: responses.RequestsMock) -> list[dict[str, Any]]:
    return [json.loads(call.request.body) for call in http.calls]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _organisation(days_ago: int) -> tuple[Organisation, object]:
    organisation = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory(),
        registered_at=timezone.now() - timedelta(days=days_ago),
    )
    organisation_officers(organisation)
    return organisation, member_of(organisation, super_user=True)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_year_of_confirmations_through_the_worker_redis_and_notify(
    notify, in_process_worker, caseworker
):
    today = timezone.localdate()
    # Due in 20 days: the daily job opens it.
    northfield, priya = _organisation(345)
    # Opened 23 days ago, due in 7: the daily job reminds.
    riverside, sam = _organisation(100)
    reminded = YearlyConfirmation.objects.create(
        organisation=riverside,
        anniversary=today + timedelta(days=7),
        due_on=today + timedelta(days=7),
        opened_at=timezone.now() - timedelta(days=23),
    )
    # Due 30 days ago and never answered: housekeeping suspends it.
    late, alex = _organisation(100)
    overdue = YearlyConfirmation.objects.create(
        organisation=late,
        anniversary=today - timedelta(days=30),
        due_on=today - timedelta(days=30),
        opened_at=timezone.now() - timedelta(days=60),
    )

    # The beat's daily step, as beat sends it.
    yearly_confirmation_task.delay()
    until(
        lambda: (
            _sent(kind="yearly_confirmation.opened", to=priya.email)
            and _sent(kind="yearly_confirmation.reminder", to=sam.email)
        ),
        "open Northfield's confirmation and remind Riverside",
    )
    opened = YearlyConfirmation.objects.get(organisation=northfield)
    assert opened.due_on == today + timedelta(days=20)
    # The organisation due 30 days ago is past its reminders: it is suspended.
    reminder = Notification.objects.get(kind="yearly_confirmation.reminder")
    assert reminder.reference == (
        f"yearly_confirmation.{reminded.pk}.reminder.{today:%Y%m%d}"
    )

    # Run again (a second beat, or a retry): nothing new is created or sent.
    yearly_confirmation_task.delay()
    until(
        lambda: JobRun.objects.filter(job="yearly_confirmation").count() == 2,
        "run the daily step a second time",
    )
    assert YearlyConfirmation.objects.count() == 3
    assert (
        Notification.objects.filter(kind__startswith="yearly_confirmation").count() == 2
    )

    # The night's housekeeping suspends the organisation 30 days after it was due.
    housekeeping_task.delay()
    until(
        lambda: _sent(kind="suspension.opened", to=alex.email),
        "suspend the organisation that did not confirm",
    )
    late.refresh_from_db()
    assert late.status == Organisation.Status.SUSPENDED

    # Northfield's super user reports a change: a caseworker is emailed.
    priya_browser = _client(priya)
    priya_browser.post(
        reverse("registration:yearly-confirmation-change"),
        {
            "purpose_unchanged": "yes",
            "learners_per_year": "3000",
            "awarding_organisations_unchanged": "yes",
            "director_in_office": "yes",
        },
    )
    priya_browser.post(reverse("registration:yearly-confirmation-check"))
    until(
        lambda: _sent(kind="yearly_confirmation.changed", to=caseworker.email),
        "email the caseworker about the change",
    )
    opened.refresh_from_db()
    assert opened.status == YearlyConfirmation.Status.CHANGED
    assert opened.reverification_case is not None

    # The suspended organisation's super user confirms: access comes back.
    alex_browser = _client(alex)
    alex_browser.post(reverse("registration:yearly-confirmation-nothing-changed"))
    done = alex_browser.post(reverse("registration:yearly-confirmation-check"))
    assert done.url == reverse("registration:yearly-confirmation-done")
    until(
        lambda: _sent(kind="suspension.lifted", to=alex.email),
        "tell the organisation its suspension is lifted",
    )
    late.refresh_from_db()
    overdue.refresh_from_db()
    assert late.status == Organisation.Status.REGISTERED
    assert overdue.status == YearlyConfirmation.Status.CONFIRMED
    assert Suspension.objects.get().status == Suspension.Status.LIFTED

    # Every email went to Notify once, with its kind's template.
    emails = Notification.objects.exclude(channel="letter")
    requests = _notify_requests(notify)
    assert len(requests) == emails.count()
    by_reference = {r["reference"]: r for r in requests}
    for email in emails:
        request = by_reference[f"lrs-notification-{email.pk}"]
        assert request["template_id"] == TEMPLATES[email.kind], email.kind
        assert request["email_address"] == email.to
        assert request["personalisation"] == {
            "subject": email.subject,
            "body": email.body,
        }
        assert email.provider_reference == NOTIFY_ID
    kinds = set(emails.values_list("kind", flat=True))
    assert {
        "yearly_confirmation.opened",
        "yearly_confirmation.reminder",
        "yearly_confirmation.changed",
        "suspension.opened",
        "suspension.lifted",
    } <= kinds
