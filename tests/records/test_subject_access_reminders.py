"""Caseworkers are told of subject access requests near and past their statutory
deadline (issue 14, decision 0028): each once a deadline, by the daily job, and
end to end through a real Celery worker, Redis and GOV.UK Notify's recorded
responses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lrs_portal.models import JobRun, Notification
from records.models import SubjectAccessRequest
from records.subject_access import REMINDERS_JOB, sar_due, sars_remind
from records.tasks import subject_access_reminders_task
from tests.conftest import until
from tests.registration.test_yearly_confirmation_worker import (  # noqa: F401
    TEMPLATES,
    _notify_requests,
    notify,
)

ULN = "9276308686"
St = SubjectAccessRequest.Status


def _sar(days_ago: int, **kwargs) -> SubjectAccessRequest:
    values = {
        "learner_uln": ULN,
        "requester_name": "Amelia Hughes",
        "reply_to": "amelia@example.com",
        "arrived_by": SubjectAccessRequest.Arrived.EMAIL,
        "received_on": timezone.localdate() - timedelta(days=days_ago),
    }
    return SubjectAccessRequest.objects.create(**{**values, **kwargs})


def _kinds() -> list[str]:
    return sorted(Notification.objects.values_list("kind", flat=True))


@pytest.mark.django_db
def test_each_request_is_reminded_once_as_its_deadline_nears_and_once_past_it(
    caseworker,
):
    today = timezone.localdate()
    soon = _sar(28)  # a month from 28 days ago: due in 2-5 days
    late = _sar(40, status=St.IDENTITY_CHECKED)
    _sar(3)  # due in about four weeks: nothing yet
    _sar(40, status=St.CLOSED)  # answered: never
    assert today <= sar_due(soon) <= today + timedelta(days=7)
    assert sar_due(late) < today

    assert sars_remind() == {"due_soon_reminded": 1, "overdue_reminded": 1}
    assert sars_remind() == {"due_soon_reminded": 0, "overdue_reminded": 0}

    assert _kinds() == ["subject_access.due_soon", "subject_access.overdue"]
    emails = Notification.objects.all()
    assert {email.to for email in emails} == {caseworker.email}
    for email in emails:
        # The case and a link to it; not the learner, nor who asked.
        assert ULN not in email.body
        assert "Amelia" not in email.body
        assert "amelia@example.com" not in email.body
    overdue = Notification.objects.get(kind="subject_access.overdue")
    assert f"/admin/records/subjectaccessrequest/{late.pk}/change/" in overdue.body


@pytest.mark.django_db
def test_an_extended_deadline_is_reminded_again(caseworker):
    sar = _sar(40)
    assert sars_remind()["overdue_reminded"] == 1
    SubjectAccessRequest.objects.filter(pk=sar.pk).update(
        extended_at=timezone.now(),
        extension_reason="Complex: records held in three systems",
    )
    # Now due two months later: nothing is overdue, and no second overdue email.
    assert sars_remind() == {"due_soon_reminded": 0, "overdue_reminded": 0}
    assert _kinds() == ["subject_access.overdue"]


@pytest.mark.django_db
def test_with_no_caseworker_the_reminder_waits_for_one(django_user_model):
    _sar(40)
    assert sars_remind()["overdue_reminded"] == 0
    assert not Notification.objects.exists()

    from lrs_portal import roles
    from tests.factories import UserFactory

    UserFactory.create(is_staff=True, roles=(roles.CASEWORKER,))
    assert sars_remind()["overdue_reminded"] == 1


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_daily_job_reminds_through_the_worker_redis_and_notify(
    notify,  # noqa: F811
    in_process_worker,
    caseworker,
):
    _sar(40)
    subject_access_reminders_task.delay()  # as the beat sends it
    until(
        lambda: Notification.objects.filter(
            kind="subject_access.overdue", status="sent"
        ).exists(),
        "deliver the overdue reminder through Notify",
    )
    run = JobRun.objects.get(job=REMINDERS_JOB)
    assert run.counts == {"overdue_reminded": 1}
    sent = _notify_requests(notify)
    assert [r["template_id"] for r in sent] == [TEMPLATES["subject_access.overdue"]]
    assert [r["email_address"] for r in sent] == [caseworker.email]

    # Sent again by the beat: nothing more reaches Notify.
    subject_access_reminders_task.delay()
    until(
        lambda: (
            JobRun.objects.filter(job=REMINDERS_JOB).count() == 2
            and not JobRun.objects.filter(job=REMINDERS_JOB, outcome="running").exists()
        ),
        "finish a second run",
    )
    assert len(_notify_requests(notify)) == 1
