"""The nightly data share job: reminders, closing, overdue certificates; and
running it twice changes nothing more."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from approvals import services
from approvals.models import DataShareRequest
from approvals.tasks import shares_nightly_task
from lrs_portal.models import JobRun, Notification
from tests.approvals.conftest import Cast

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status


def _emails(cast: Cast, subject_part: str) -> int:
    return Notification.objects.filter(
        to=cast.requester.email, subject__contains=subject_part
    ).count()


def _end(cast: Cast):
    end = cast.request.end_date
    assert end is not None
    return end


def test_one_reminder_30_days_before_the_end_even_when_run_twice(cast: Cast):
    cast.release()
    day = _end(cast) - timedelta(days=30)

    first = services.shares_nightly(today=day)
    second = services.shares_nightly(today=day)

    assert first["reminded_30"] == 1
    assert second["reminded_30"] == 0
    assert _emails(cast, "your data share ends on") == 1
    assert cast.refresh().reminded_30_days_at is not None


def test_then_one_reminder_7_days_before(cast: Cast):
    cast.release()
    end = _end(cast)
    services.shares_nightly(today=end - timedelta(days=30))
    services.shares_nightly(today=end - timedelta(days=20))  # nothing due
    services.shares_nightly(today=end - timedelta(days=7))
    services.shares_nightly(today=end - timedelta(days=6))

    assert _emails(cast, "your data share ends on") == 2
    assert "ends in 7 days" in Notification.objects.latest("pk").body


def test_a_missed_30_day_reminder_is_not_sent_after_the_7_day_one(cast: Cast):
    cast.release()

    services.shares_nightly(today=_end(cast) - timedelta(days=5))
    services.shares_nightly(today=_end(cast) - timedelta(days=4))

    assert _emails(cast, "your data share ends on") == 1


def test_at_the_end_date_the_share_closes_and_the_certificate_falls_due(cast: Cast):
    cast.release()
    end = _end(cast)

    counts = services.shares_nightly(today=end)
    again = services.shares_nightly(today=end)

    request = cast.refresh()
    assert (counts["closed"], again["closed"]) == (1, 0)
    assert request.status == S.CLOSING
    assert request.certificate_due_on == end + timedelta(days=30)
    assert _emails(cast, "your data share has ended") == 1
    closing = request.history.get(status=S.CLOSING)
    assert closing.history_user.email == "system@lrs-portal.invalid"


def test_a_missed_night_is_caught_up(cast: Cast):
    cast.release()

    services.shares_nightly(today=_end(cast) + timedelta(days=3))

    request = cast.refresh()
    assert request.status == S.CLOSING
    assert request.certificate_due_on == _end(cast) + timedelta(days=30)


def test_an_overdue_certificate_alerts_caseworkers_once(cast: Cast):
    cast.release()
    services.shares_nightly(today=_end(cast))
    late = _end(cast) + timedelta(days=31)

    first = services.shares_nightly(today=late)
    second = services.shares_nightly(today=late + timedelta(days=1))

    assert (first["overdue_alerts"], second["overdue_alerts"]) == (1, 0)
    alerts = Notification.objects.filter(subject__contains="certificate overdue")
    assert list(alerts.values_list("to", flat=True)) == [cast.caseworker.email]


def test_no_alert_once_the_certificate_is_in(cast: Cast):
    cast.release()
    services.shares_nightly(today=_end(cast))
    services.certificate_submit(
        request=cast.refresh(),
        acting_user=cast.requester,
        destroyed_by="A",
        destroyed_on=timezone.localdate(),
        what_was_destroyed="All",
        method="Deleted",
    )

    counts = services.shares_nightly(today=_end(cast) + timedelta(days=60))

    assert counts["overdue_alerts"] == 0


def test_a_caseworker_s_acceptance_is_not_undone_by_a_later_run(cast: Cast):
    cast.release()
    services.shares_nightly(today=_end(cast))
    services.certificate_submit(
        request=cast.refresh(),
        acting_user=cast.requester,
        destroyed_by="A",
        destroyed_on=timezone.localdate(),
        what_was_destroyed="All",
        method="Deleted",
    )
    services.certificate_accept(request=cast.refresh(), acting_user=cast.caseworker)

    services.shares_nightly(today=_end(cast) + timedelta(days=60))

    assert cast.refresh().status == S.CLOSED


def test_each_run_is_recorded(cast: Cast):
    cast.release()

    services.shares_nightly(today=_end(cast))

    run = JobRun.objects.get(job="data_shares_nightly")
    assert run.counts["closed"] == 1
    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert run.last_day == _end(cast)


def test_the_command_runs_the_job_for_a_given_date(cast: Cast):
    cast.release()
    out = StringIO()

    call_command("run_data_share_nightly", date=_end(cast).isoformat(), stdout=out)

    assert "closed 1" in out.getvalue()
    assert cast.refresh().status == S.CLOSING


def test_the_command_refuses_a_bad_date():
    with pytest.raises(CommandError, match="--date"):
        call_command("run_data_share_nightly", date="31/12/2026")


def test_the_task_runs_the_job(cast: Cast, monkeypatch):
    cast.release()
    monkeypatch.setattr(timezone, "localdate", lambda *a: _end(cast))

    shares_nightly_task()

    assert cast.refresh().status == S.CLOSING


def test_the_job_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["approvals-shares-nightly"]

    assert entry["task"] == "approvals.tasks.shares_nightly_task"


@pytest.mark.postgres
def test_a_second_concurrent_run_is_skipped_and_recorded(cast: Cast):
    from lrs_portal.jobs import advisory_lock

    cast.release()
    with advisory_lock("lrs.job.data_shares_nightly"):
        outcome = services.shares_nightly(today=_end(cast))

    assert outcome == {"skipped": True}
    assert JobRun.objects.get().outcome == JobRun.Outcome.SKIPPED
    assert DataShareRequest.objects.get().status == S.RELEASED


def test_an_approved_share_never_released_closes_at_its_end_date(cast: Cast):
    cast.approve()
    end = _end(cast)

    before = services.shares_nightly(today=end - timedelta(days=1))
    counts = services.shares_nightly(today=end)
    again = services.shares_nightly(today=end)

    request = cast.refresh()
    assert before["closed_unreleased"] == 0
    assert (counts["closed_unreleased"], again["closed_unreleased"]) == (1, 0)
    assert request.status == S.CLOSED
    assert request.certificate_due_on is None  # nothing was released to destroy
    assert _emails(cast, "your approved data share has ended") == 1
