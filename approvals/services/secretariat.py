"""Time targets and the secretariat's daily job (decision 17): reminders to
assessors past the target and to members who have not voted before a meeting,
warnings of researchers' accreditation ending mid-share and the end of their
access on the day, and the annual review of each live share.

Every reminder is claimed by inserting its CaseReminder row (a unique key), so
a second run, or two at once, sends nothing more.
"""

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    AnnualReview,
    CaseReminder,
    DataShareRequest,
    PanelMeeting,
    PanelVote,
    Release,
    Researcher,
)
from approvals.services.emails import tell_requester, tell_staff
from lrs_portal import roles
from lrs_portal.jobs import JobLocked, JobProgress, job_run
from lrs_portal.models import User, system_user
from lrs_portal.services import notification_send_to_role
from lrs_portal.transitions import save_with_history

logger = logging.getLogger(__name__)
S = DataShareRequest.Status
LIVE = (S.APPROVED, S.APPROVED_WITH_CONDITIONS, S.RELEASED)
JOB = "approvals_secretariat_daily"


# --- time targets -----------------------------------------------------------------


def stage_target_days(status: str) -> int | None:
    """The target for a stage, from settings.DSAP_STAGE_TARGET_DAYS (None: none)."""
    targets: dict[str, int] = settings.DSAP_STAGE_TARGET_DAYS
    return targets.get(status)


def days_in_stage(request: DataShareRequest, today: date | None = None) -> int:
    """Whole days since the request entered its current stage."""
    today = today or timezone.localdate()
    return (today - timezone.localdate(request.stage_entered_at)).days


def is_overdue(request: DataShareRequest, today: date | None = None) -> bool:
    """Whether the request has been in its stage longer than the stage's target."""
    target = stage_target_days(request.status)
    return target is not None and days_in_stage(request, today) > target


def overdue_requests(today: date | None = None) -> QuerySet[DataShareRequest]:
    """Requests in a stage longer than its target (one query, by stage)."""
    today = today or timezone.localdate()
    condition = Q(pk__in=[])
    targets: dict[str, int] = settings.DSAP_STAGE_TARGET_DAYS
    for status, days in targets.items():
        cutoff = _start_of(today - timedelta(days=days))
        condition |= Q(status=status, stage_entered_at__lt=cutoff)
    return DataShareRequest.objects.filter(condition)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


# --- the daily job ------------------------------------------------------------------


def _claim(kind: str, request: DataShareRequest, about: str, due_on: date) -> bool:
    """Insert the reminder's row; False when it was already sent."""
    try:
        with transaction.atomic():
            CaseReminder.objects.create(
                kind=kind, request=request, about=about, due_on=due_on
            )
    except IntegrityError:
        return False
    return True


def _remind_assessors(today: date) -> int:
    target = stage_target_days(S.ASSESSMENT)
    if target is None:
        return 0
    cutoff = _start_of(today - timedelta(days=target))
    late = DataShareRequest.objects.filter(
        status=S.ASSESSMENT, assessor__isnull=False, stage_entered_at__lt=cutoff
    ).select_related("assessor")
    sent = 0
    for request in late:
        if request.assessor is None:
            continue
        due = timezone.localdate(request.stage_entered_at) + timedelta(days=target)
        kind = CaseReminder.Kind.ASSESSMENT_OVERDUE
        with transaction.atomic():
            if not _claim(kind, request, f"user:{request.assessor_id}", due):
                continue
            tell_staff(
                [request.assessor],
                request,
                "your assessment is overdue",
                f"The assessment was due on {due:%d %B %Y} (the target is {target} "
                "days). Record it in the casework admin, or tell the caseworker "
                "if you cannot.",
            )
        sent += 1
    return sent


def members_yet_to_vote(request: DataShareRequest, meeting: PanelMeeting) -> list[User]:
    """Members who may vote on the request at the meeting and have not voted or
    declared a conflict."""
    answered = PanelVote.objects.filter(meeting=meeting, request=request).values(
        "member_id"
    )
    waiting = meeting.members.filter(is_active=True).exclude(pk__in=answered)
    return [m for m in waiting if permissions.can_vote(m, request)]


def _remind_voters(today: date) -> int:
    """Members yet to vote: once before the meeting, to read the papers (votes
    open only on the meeting's day), and once from its day, to vote."""
    ahead = today + timedelta(days=settings.DSAP_VOTE_REMINDER_DAYS)
    open_items = DataShareRequest.objects.filter(
        status=S.PANEL, panel_meeting__held_on__lte=ahead
    ).select_related("panel_meeting")
    sent = 0
    for request in open_items:
        meeting = request.panel_meeting
        if meeting is None:
            continue
        for member in members_yet_to_vote(request, meeting):
            with transaction.atomic():
                if not _claim(
                    CaseReminder.Kind.VOTE_DUE,
                    request,
                    _vote_reminder_key(member.pk, meeting.held_on, today),
                    meeting.held_on,
                ):
                    continue
                tell_staff([member], request, *_vote_reminder(meeting, today))
            sent += 1
    return sent


def _vote_reminder_key(member_id: int, held_on: date, today: date) -> str:
    return f"user:{member_id}" if held_on > today else f"user:{member_id}:open"


def _vote_reminder(meeting: PanelMeeting, today: date) -> tuple[str, str]:
    day = f"{meeting.held_on:%-d %B %Y}"
    if meeting.held_on > today:
        return (
            f"read the papers for the {meeting}",
            f"Voting on this request opens on the meeting's day, {day}. Read the "
            "papers pack in the casework admin before then, and declare any "
            "conflict of interest now.",
        )
    return (
        f"please vote: the {meeting}",
        "You have not yet voted or declared a conflict on this request. Voting "
        "is open: read the papers pack and vote in the casework admin.",
    )


def _warn_accreditation(today: date) -> int:
    ahead = today + timedelta(days=settings.DSAP_ACCREDITATION_WARNING_DAYS)
    expiring = Researcher.objects.filter(
        request__status__in=LIVE,
        accreditation_expires_on__gt=today,
        accreditation_expires_on__lte=ahead,
        accreditation_expires_on__lt=F("request__end_date"),
    ).select_related("request", "request__requester")
    sent = 0
    for researcher in expiring:
        request = researcher.request
        expires = researcher.accreditation_expires_on
        if expires is None:
            continue
        kind = CaseReminder.Kind.ACCREDITATION_EXPIRING
        with transaction.atomic():
            if not _claim(kind, request, f"researcher:{researcher.pk}", expires):
                continue
            body = (
                f"{researcher.full_name}'s researcher accreditation expires on "
                f"{expires:%d %B %Y}, before the share ends. On that day their "
                "access to the data ends unless the accreditation is renewed and "
                "the new expiry date sent to us."
            )
            tell_requester(request, "a researcher's accreditation is expiring", body)
            notification_send_to_role(
                role=roles.CASEWORKER,
                subject=f"{request.reference}: a researcher's accreditation expires",
                body=body,
                reference=f"approvals.{request.reference}.accreditation",
            )
        sent += 1
    return sent


def _end_access(today: date, job: User) -> int:
    """On the day a researcher's accreditation expires, their access ends: they
    are taken off every release of the share (history keeps who and why)."""
    lapsed = Researcher.objects.filter(
        request__status=S.RELEASED,
        accreditation_expires_on__lte=today,
        releases__isnull=False,
    ).distinct()
    ended = 0
    for researcher in lapsed.select_related("request"):
        request = researcher.request
        expires = researcher.accreditation_expires_on
        if expires is None:
            continue
        with transaction.atomic():
            kind = CaseReminder.Kind.ACCESS_ENDED
            if not _claim(kind, request, f"researcher:{researcher.pk}", expires):
                continue
            for release in Release.objects.filter(researchers=researcher):
                release._history_user = job  # type: ignore[attr-defined]
                release._change_reason = (  # type: ignore[attr-defined]
                    f"Access ended: {researcher.full_name}'s accreditation expired"
                )
                release.researchers.remove(researcher)
            body = (
                f"{researcher.full_name}'s researcher accreditation expired on "
                f"{expires:%d %B %Y}, so their access to the data has ended."
            )
            tell_requester(request, "a researcher's access has ended", body)
            notification_send_to_role(
                role=roles.CASEWORKER,
                subject=f"{request.reference}: a researcher's access ended",
                body=body,
                reference=f"approvals.{request.reference}.accreditation",
            )
        ended += 1
    return ended


def annual_review_due_on(request: DataShareRequest, today: date) -> date | None:
    """The latest anniversary of the first release on or before today."""
    if request.released_at is None:
        return None
    first = timezone.localdate(request.released_at)
    years = today.year - first.year
    for back in (0, 1):
        candidate = _anniversary(first, years - back)
        if candidate is not None and first < candidate <= today:
            return candidate
    return None


def _anniversary(first: date, years: int) -> date | None:
    if years < 1:
        return None
    try:
        return first.replace(year=first.year + years)
    except ValueError:  # 29 February
        return first.replace(year=first.year + years, day=28)


def _open_reviews(today: date, job: User) -> int:
    opened = 0
    for request in DataShareRequest.objects.filter(status=S.RELEASED):
        due = annual_review_due_on(request, today)
        if due is None:
            continue
        with transaction.atomic():
            if not _claim(CaseReminder.Kind.ANNUAL_REVIEW_DUE, request, "share", due):
                continue
            save_with_history(
                AnnualReview(request=request, due_on=due),
                acting_user=job,
                reason="Annual review due",
            )
            notification_send_to_role(
                role=roles.CASEWORKER,
                subject=f"{request.reference}: annual review due",
                body=f"The share's annual review was due on {due:%d %B %Y}. "
                "Record it on the request's page in the casework admin.",
                reference=f"approvals.{request.reference}.review",
            )
            tell_requester(
                request,
                "annual review of your data share",
                "We are reviewing your live data share, as we do every year. Tell "
                "us of any change to the project, its researchers or its security.",
            )
        opened += 1
    return opened


def secretariat_daily(*, today: date | None = None) -> dict[str, Any]:
    """The secretariat's daily reminders, warnings, access ends and reviews,
    under the job's advisory lock with a JobRun. Idempotent: each is claimed by
    its CaseReminder row, so a second run sends nothing."""
    today = today or timezone.localdate()
    counts: dict[str, int] = {}

    def work(progress: JobProgress) -> None:
        job = system_user()
        counts["assessors_reminded"] = _remind_assessors(today)
        counts["voters_reminded"] = _remind_voters(today)
        counts["accreditation_warnings"] = _warn_accreditation(today)
        counts["access_ended"] = _end_access(today, job)
        counts["annual_reviews_opened"] = _open_reviews(today, job)
        for key, number in counts.items():
            progress.add(key, number)
        progress.day_done(today)

    try:
        job_run(JOB, work)
    except JobLocked:
        return {"skipped": True}
    logger.info("secretariat_daily", extra={"counts": counts})
    return counts
