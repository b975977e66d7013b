"""A quarter's recertification end to end (issue 14's 'Done when'): the beat's
task through a real Celery worker and Redis, its emails through the outbox to
GOV.UK Notify on recorded responses, the super user's answers on the page, and
the gate in between.

The worker runs in a thread of the test process (celery.contrib.testing's
start_worker: a real worker consuming from the Redis broker, solo pool), so the
`responses` library's recording of Notify answers the worker's HTTP calls; a
worker in another process could not be given them. Time passes by moving the
campaign's dates back, as fifteen days would.
"""

import json
import uuid
from datetime import timedelta

import pytest
import responses
from django.test import Client
from django.urls import reverse

from lrs_portal.models import JobRun, Notification
from records.permissions import REFUSALS, lookup_refusal
from registration.models import (
    Membership,
    RecertificationCampaign,
    RecertificationConfirmation,
)
from registration.tasks import recertification_task
from tests.conftest import until
from tests.factories import AgreementVersionFactory, OrganisationFactory, member_of
from tests.lrs_portal.test_notify_email import EMAILS, KEY, TEMPLATES

STATUS = RecertificationConfirmation.Status
FIFTEEN_DAYS = timedelta(days=15)


@pytest.fixture
def notify(settings):
    """GOV.UK Notify's email API, answering as its documentation records: 201
    with a new notification id for each email."""
    settings.NOTIFY_API_KEY = KEY
    settings.NOTIFY_EMAIL_TEMPLATE_IDS = TEMPLATES

    def created(request):
        sent = json.loads(request.body)
        notify_id = str(uuid.uuid4())
        return 201, {}, json.dumps({
            "id": notify_id,
            "reference": sent["reference"],
            "content": {"subject": sent["personalisation"]["subject"],
                        "body": sent["personalisation"]["body"],
                        "from_email": "lrs@notifications.service.gov.uk"},
            "uri": f"https://api.notifications.service.gov.uk/v2/notifications/{notify_id}",
            "template": {"id": sent["template_id"], "version": 1, "uri": "x"},
        })  # fmt: skip

    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.add_callback(responses.POST, EMAILS, callback=created)
        yield http


def _run_the_beat_task(runs_before):
    recertification_task.delay()
    until(
        lambda: (
            JobRun.objects.filter(
                job="recertification", outcome=JobRun.Outcome.SUCCEEDED
            ).count()
            > runs_before
        ),
        "the recertification job",
    )
    until(
        lambda: (
            not Notification.objects.filter(status=Notification.Status.QUEUED).exists()
        ),
        "the emails",
    )


def _emails():
    return {(n.kind, n.to) for n in Notification.objects.all()}


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_quarter_of_recertification_through_the_worker_and_notify(
    in_process_worker, notify
):
    organisation = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory()
    )
    super_user = member_of(organisation, super_user=True, full_name="Sam Super")
    kept = member_of(organisation, full_name="Kay Kept")
    leaving = member_of(organisation, full_name="Lee Leaving")

    # Day one of the quarter: the beat's task opens the campaign and the super
    # user is asked, through Notify.
    _run_the_beat_task(0)
    campaign = RecertificationCampaign.objects.get(organisation=organisation)
    assert _emails() == {("recertification.opened", super_user.email)}
    assert lookup_refusal(kept, kept.membership) is None  # not yet due

    # Fifteen days on, nobody answered: both users are stopped and told, the
    # super user once.
    RecertificationCampaign.objects.filter(pk=campaign.pk).update(
        opened_at=campaign.opened_at - FIFTEEN_DAYS,
        due_at=campaign.due_at - FIFTEEN_DAYS,
    )
    Membership.objects.filter(organisation=organisation).exclude(
        recertify_by=None
    ).update(recertify_by=campaign.due_at - FIFTEEN_DAYS)
    _run_the_beat_task(1)
    assert _emails() == {
        ("recertification.opened", super_user.email),
        ("recertification.lapsed", super_user.email),
        ("recertification.user.lapsed", kept.email),
        ("recertification.user.lapsed", leaving.email),
    }
    kept.membership.refresh_from_db()
    assert lookup_refusal(kept, kept.membership) == REFUSALS["not_recertified"]

    # The super user confirms one and removes the other on their page.
    page = Client()
    page.force_login(super_user)
    rows = {c.user_id: c.pk for c in RecertificationConfirmation.objects.all()}
    confirm = reverse("registration:recertification-confirm", args=[rows[kept.pk]])
    remove = reverse("registration:recertification-remove", args=[rows[leaving.pk]])
    assert page.post(confirm).status_code == 302
    assert page.post(remove).status_code == 302

    kept.membership.refresh_from_db()
    assert lookup_refusal(kept, kept.membership) is None
    leaving.refresh_from_db()
    assert leaving.is_active is False
    assert dict(
        RecertificationConfirmation.objects.values_list("user_id", "status")
    ) == {kept.pk: STATUS.CONFIRMED, leaving.pk: STATUS.REMOVED}

    # The beat runs again the next day: nothing more is opened or sent.
    sent = Notification.objects.count()
    _run_the_beat_task(2)
    assert Notification.objects.count() == sent
    assert RecertificationCampaign.objects.count() == 1

    # Every email went through Notify once, with its kind's template.
    used = [json.loads(call.request.body) for call in notify.calls]
    assert len(used) == sent == 4
    emails = Notification.objects.all()
    assert {(u["email_address"], u["template_id"]) for u in used} == {
        (n.to, TEMPLATES[n.kind]) for n in emails
    }
    assert all(n.status == Notification.Status.SENT for n in emails)
    assert len({n.provider_reference for n in emails}) == 4  # Notify's ids


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_departments_quarter_through_the_worker_and_notify(
    in_process_worker, notify
):
    from lrs_portal import roles
    from tests.conftest import verified_client
    from tests.factories import UserFactory

    superuser = UserFactory.create(superuser=True)
    caseworker = UserFactory.create(roles=[roles.CASEWORKER], is_staff=True)
    admin = verified_client(caseworker)

    _run_the_beat_task(0)
    campaign = RecertificationCampaign.objects.get(organisation__isnull=True)
    assert _emails() == {("recertification.department.opened", superuser.email)}
    assert admin.get(reverse("admin:index")).status_code == 200

    RecertificationCampaign.objects.filter(pk=campaign.pk).update(
        opened_at=campaign.opened_at - FIFTEEN_DAYS,
        due_at=campaign.due_at - FIFTEEN_DAYS,
    )
    _run_the_beat_task(1)
    assert _emails() == {
        ("recertification.department.opened", superuser.email),
        ("recertification.department.lapsed", superuser.email),
        ("recertification.staff.lapsed", caseworker.email),
    }
    assert admin.get(reverse("admin:index")).status_code == 302  # stopped

    confirmation = RecertificationConfirmation.objects.get(user=caseworker)
    verified_client(superuser).post(
        reverse("admin:registration_recertificationconfirmation_changelist"),
        {"action": "confirm_selected", "_selected_action": [confirmation.pk]},
    )
    assert admin.get(reverse("admin:index")).status_code == 200

    sent = Notification.objects.count()
    _run_the_beat_task(2)
    assert Notification.objects.count() == sent == 3
    used = [json.loads(call.request.body) for call in notify.calls]
    assert {(u["email_address"], u["template_id"]) for u in used} == {
        (n.to, TEMPLATES[n.kind]) for n in Notification.objects.all()
    }
    assert len(used) == 3
