"""The secretariat's daily job (decision 17): reminders to assessors and to
members who have not voted, accreditation warnings and the end of access,
annual reviews; each sent once however often the job runs."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from approvals import services
from approvals.models import AnnualReview, CaseReminder, DataShareRequest, Release
from approvals.services.casefile import annual_review_complete
from approvals.services.secretariat import annual_review_due_on, secretariat_daily
from approvals.tasks import secretariat_daily_task
from lrs_portal.models import JobRun, Notification
from tests.approvals.conftest import Cast

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status


def _today():
    return timezone.localdate()


def _mail_to(user_or_email) -> list[str]:
    email = getattr(user_or_email, "email", user_or_email)
    return list(Notification.objects.filter(to=email).values_list("subject", flat=True))


def _age_stage(request: DataShareRequest, days: int) -> None:
    request.stage_entered_at = timezone.now() - timedelta(days=days)
    request.save(update_fields=["stage_entered_at"])


# --- assessors ------------------------------------------------------------------------


def test_an_assessor_past_the_target_is_reminded_once(cast: Cast, settings):
    settings.DSAP_STAGE_TARGET_DAYS = {"assessment": 15}
    cast.triage()
    _age_stage(cast.request, 16)

    first = secretariat_daily(today=_today())
    second = secretariat_daily(today=_today())

    assert first["assessors_reminded"] == 1
    assert second["assessors_reminded"] == 0
    overdue = [s for s in _mail_to(cast.assessor) if "assessment is overdue" in s]
    assert len(overdue) == 1


def test_an_assessor_within_the_target_is_not_reminded(cast: Cast, settings):
    settings.DSAP_STAGE_TARGET_DAYS = {"assessment": 15}
    cast.triage()
    _age_stage(cast.request, 15)

    assert secretariat_daily(today=_today())["assessors_reminded"] == 0


# --- members who have not voted -----------------------------------------------------


def test_members_who_have_not_voted_are_reminded_once_before_the_meeting(
    cast: Cast, settings
):
    settings.DSAP_VOTE_REMINDER_DAYS = 3
    # On the meeting's day: votes are open, and reminders still go out.
    cast.meeting.held_on = _today()
    cast.meeting.save()
    cast.to_panel()
    cast.votes("approve")  # the chair votes; the other three have not
    services.panel_conflict_declare(
        request=cast.request, acting_user=cast.members[1], detail="Co-author"
    )

    first = secretariat_daily(today=_today())
    again = secretariat_daily(today=_today())

    assert first["voters_reminded"] == 2
    assert again["voters_reminded"] == 0
    assert not [s for s in _mail_to(cast.chair) if "please vote" in s]
    assert not [s for s in _mail_to(cast.members[1]) if "please vote" in s]
    assert len([s for s in _mail_to(cast.members[2]) if "please vote" in s]) == 1


def test_before_the_meeting_members_are_asked_to_read_and_on_its_day_to_vote(
    cast: Cast, settings
):
    # Found by review: the reminder asked for a vote the panel rules refuse
    # before the meeting's day.
    settings.DSAP_VOTE_REMINDER_DAYS = 3
    cast.meeting.held_on = _today() + timedelta(days=2)
    cast.meeting.save()
    cast.to_panel()
    member = cast.members[2]

    before = secretariat_daily(today=_today())
    with pytest.raises(services.Refused):
        cast.votes("approve")
    cast.meeting.held_on = _today()
    cast.meeting.save()
    on_the_day = secretariat_daily(today=_today())
    again = secretariat_daily(today=_today())
    cast.votes("approve", "approve", "approve")

    subjects = _mail_to(member)
    assert before["voters_reminded"] == on_the_day["voters_reminded"] > 0
    assert again["voters_reminded"] == 0
    assert len([s for s in subjects if "read the papers" in s]) == 1
    assert len([s for s in subjects if "please vote" in s]) == 1
    papers = Notification.objects.filter(to=member.email, subject__contains="read")
    assert "opens on the meeting's day" in papers.get().body


def test_no_vote_reminder_long_before_the_meeting(cast: Cast, settings):
    settings.DSAP_VOTE_REMINDER_DAYS = 3
    cast.meeting.held_on = _today() + timedelta(days=14)
    cast.meeting.save()
    cast.to_panel()

    assert secretariat_daily(today=_today())["voters_reminded"] == 0


def test_the_job_records_a_run_and_the_task_calls_it(cast: Cast):
    secretariat_daily_task()

    run = JobRun.objects.get(job="approvals_secretariat_daily")
    assert run.last_day == _today()


# --- accreditation -------------------------------------------------------------------


def _expiring(cast: Cast, in_days: int):
    researcher = cast.request.researchers.get()
    researcher.accreditation_expires_on = _today() + timedelta(days=in_days)
    researcher.save()
    return researcher


def test_accreditation_ending_mid_share_is_warned_30_days_ahead_once(cast: Cast):
    cast.release()
    _expiring(cast, 30)

    first = secretariat_daily(today=_today())
    second = secretariat_daily(today=_today())

    assert first["accreditation_warnings"] == 1
    assert second["accreditation_warnings"] == 0
    warned = [s for s in _mail_to(cast.requester) if "accreditation is expiring" in s]
    assert len(warned) == 1
    assert [s for s in _mail_to(cast.caseworker) if "accreditation expires" in s]


def test_accreditation_further_ahead_is_not_warned_yet(cast: Cast):
    cast.release()
    _expiring(cast, 31)

    assert secretariat_daily(today=_today())["accreditation_warnings"] == 0


def test_access_ends_on_the_day_the_accreditation_expires(cast: Cast):
    cast.release()
    researcher = _expiring(cast, 1)
    release = Release.objects.get()

    secretariat_daily(today=_today())
    before = list(release.researchers.all())
    researcher.accreditation_expires_on = _today()
    researcher.save()
    ended = secretariat_daily(today=_today())
    again = secretariat_daily(today=_today())

    assert before == [researcher]
    assert ended["access_ended"] == 1
    assert again["access_ended"] == 0
    assert list(release.researchers.all()) == []
    assert "Access ended" in release.history.first().history_change_reason
    assert [s for s in _mail_to(cast.requester) if "access has ended" in s]


# --- annual reviews ------------------------------------------------------------------


def test_an_annual_review_opens_on_the_anniversary_once(cast: Cast):
    cast.release()
    released = timezone.localdate(cast.refresh().released_at)
    anniversary = released.replace(year=released.year + 1)

    early = secretariat_daily(today=anniversary - timedelta(days=1))
    due = secretariat_daily(today=anniversary)
    again = secretariat_daily(today=anniversary + timedelta(days=3))

    assert early["annual_reviews_opened"] == 0
    assert due["annual_reviews_opened"] == 1
    assert again["annual_reviews_opened"] == 0
    assert AnnualReview.objects.get().due_on == anniversary


def test_a_share_released_on_29_february_is_reviewed_on_28_february(cast: Cast):
    cast.release()
    request = cast.refresh()
    request.released_at = timezone.make_aware(timezone.datetime(2028, 2, 29, 12, 0))

    assert annual_review_due_on(request, timezone.datetime(2029, 3, 1).date()) == (
        timezone.datetime(2029, 2, 28).date()
    )


def test_a_caseworker_records_the_review(cast: Cast):
    cast.release()
    released = timezone.localdate(cast.refresh().released_at)
    secretariat_daily(today=released.replace(year=released.year + 1))
    review = AnnualReview.objects.get()

    annual_review_complete(
        review=review,
        acting_user=cast.caseworker,
        outcome="continues",
        findings="Still within the agreement.",
    )

    review.refresh_from_db()
    assert review.completed_by == cast.caseworker
    assert CaseReminder.objects.filter(kind="annual_review_due").count() == 1


def test_the_command_runs_the_job_and_refuses_a_bad_date(cast: Cast):
    out = StringIO()

    call_command("run_dsap_secretariat_daily", "--date", "2026-12-01", stdout=out)

    assert "DSAP secretariat job: assessors_reminded 0" in out.getvalue()
    with pytest.raises(CommandError, match="--date"):
        call_command("run_dsap_secretariat_daily", "--date", "1 December")
