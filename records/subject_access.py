"""Subject access requests: the statutory deadline and each step of the case, one
function a step, through lrs_portal.transitions so history records who and why
(decision 0028).

The deadline (UK GDPR Article 12(3), as the ICO reads it): one calendar month from
the day of receipt, to the same date in the next month, or that month's last day
when it has no such date (received 31 January: 28 or 29 February); extended by two
further months for a complex request, counted the same way from receipt. When the
date falls on a Saturday or Sunday the answer is due on the next Monday. Bank
holidays are not known to the service and are not counted.
"""

import calendar
from datetime import date, timedelta

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, User
from lrs_portal.services import role_emails
from lrs_portal.transitions import save_with_history, transition
from records.models import SubjectAccessRequest
from registration.companies_house import govuk_date
from registration.services.reminders import reminder_send

St = SubjectAccessRequest.Status
ALLOWED: dict[str, set[str]] = {
    St.RECEIVED: {St.IDENTITY_CHECKED, St.CLOSED},
    St.IDENTITY_CHECKED: {St.REPORT_SENT, St.CLOSED},
    St.REPORT_SENT: {St.CLOSED},
    St.CLOSED: set(),
}
OPEN = (St.RECEIVED, St.IDENTITY_CHECKED)
EXTENSION_MONTHS = 2


def months_after(day: date, months: int) -> date:
    """The same date ``months`` calendar months on, or that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def sar_deadline(*, received_on: date, extended: bool) -> date:
    """The day the answer is due."""
    due = months_after(received_on, 1 + (EXTENSION_MONTHS if extended else 0))
    while due.weekday() >= 5:  # Saturday, Sunday
        due += timedelta(days=1)
    return due


def sar_due(sar: SubjectAccessRequest) -> date:
    return sar_deadline(received_on=sar.received_on, extended=bool(sar.extended_at))


def sar_overdue(sar: SubjectAccessRequest, today: date | None = None) -> bool:
    """Still open and past its deadline."""
    return sar.status in OPEN and sar_due(sar) < (today or timezone.localdate())


def sars_overdue(today: date | None = None) -> QuerySet[SubjectAccessRequest]:
    """Open requests past their deadline. A request can be at most three months
    and a weekend old before it is overdue, so the open ones received since then
    are read and filtered here (the open queue is small)."""
    today = today or timezone.localdate()
    open_requests = SubjectAccessRequest.objects.filter(status__in=OPEN)
    late = [sar.pk for sar in open_requests if sar_overdue(sar, today)]
    return SubjectAccessRequest.objects.filter(pk__in=late)


def sars_due_soon(
    days: int = 7, today: date | None = None
) -> QuerySet[SubjectAccessRequest]:
    today = today or timezone.localdate()
    open_requests = SubjectAccessRequest.objects.filter(status__in=OPEN)
    soon = [
        sar.pk
        for sar in open_requests
        if today <= sar_due(sar) <= today + timedelta(days=days)
    ]
    return SubjectAccessRequest.objects.filter(pk__in=soon)


def sar_identity_checked(
    *, sar: SubjectAccessRequest, how: str, notes: str, acting_user: User
) -> SubjectAccessRequest:
    return transition(
        instance=sar,
        to=St.IDENTITY_CHECKED,
        allowed=ALLOWED,
        acting_user=acting_user,
        reason=f"Identity checked: {SubjectAccessRequest.IdentityCheck(how).label}",
        changes={
            "identity_check": how,
            "identity_notes": notes,
            "identity_checked_by": acting_user,
            "identity_checked_at": timezone.now(),
        },
    )


def sar_extend(
    *, sar: SubjectAccessRequest, reason: str, acting_user: User
) -> SubjectAccessRequest:
    """Extend the deadline by two months, once, while the request is open."""
    if sar.status not in OPEN or sar.extended_at is not None:
        raise ValueError("Only an open request not yet extended can be extended")
    sar.extension_reason = reason
    sar.extended_at = timezone.now()
    return save_with_history(
        sar,
        acting_user=acting_user,
        reason=f"Deadline extended by two months: {reason}"[:100],
        fields=["extension_reason", "extended_at"],
    )


def sar_report_downloaded(
    *, sar: SubjectAccessRequest, file_format: str, acting_user: User
) -> None:
    """Record that a caseworker downloaded the request's report: in its history
    (its first generation) and, every time, in the admin log, which the
    application's database role can only add to (lrs_portal.pg)."""
    if sar.report_generated_at is None:
        sar.report_generated_at = timezone.now()
        save_with_history(
            sar,
            acting_user=acting_user,
            reason=f"Access report generated ({file_format.upper()})",
            fields=["report_generated_at"],
        )
    report_download_log(user=acting_user, obj=sar, file_format=file_format)


def report_download_log(
    *, user: User, obj: models.Model, file_format: str, label: str = ""
) -> None:
    """One admin log row for one download of a learner access report: who, when,
    and the request or learner (``obj``; an unsaved learner for a ULN not in the
    LRS, then ``label`` says so)."""
    LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk) if obj.pk else None,
        object_repr=(label or str(obj))[:200],
        action_flag=CHANGE,
        change_message=f"Downloaded the learner access report ({file_format.upper()})",
    )


def sar_report_sent(
    *, sar: SubjectAccessRequest, sent_by: str, sent_on: date, acting_user: User
) -> SubjectAccessRequest:
    if sar.report_generated_at is None:
        raise ValueError("Generate the report (download it) before recording it sent")
    return transition(
        instance=sar,
        to=St.REPORT_SENT,
        allowed=ALLOWED,
        acting_user=acting_user,
        reason=f"Report sent by {SubjectAccessRequest.SentBy(sent_by).label}",
        changes={"report_sent_by": sent_by, "report_sent_on": sent_on},
    )


def sar_close(
    *, sar: SubjectAccessRequest, note: str, acting_user: User
) -> SubjectAccessRequest:
    return transition(
        instance=sar,
        to=St.CLOSED,
        allowed=ALLOWED,
        acting_user=acting_user,
        reason=f"Closed: {note}"[:100],
        changes={"closing_note": note, "closed_at": timezone.now()},
    )


# --- Reminders to caseworkers ------------------------------------------------------

REMINDERS_JOB = "subject_access_reminders"


def _remind(sar: SubjectAccessRequest, stage: str, subject: str, lead: str) -> bool:
    """Email the caseworkers about one request at one stage of its deadline,
    unless that was done before (registration's reminder_send: the reference,
    naming the request, the stage and the deadline, is sent once, so a run twice
    sends once and an extended request is reminded of its new deadline; with no
    caseworker nothing is recorded, and tomorrow's run tries again). Neither the
    learner's ULN nor who asked is in the email: the case number and a link."""
    due = sar_due(sar)
    link = settings.SERVICE_URL + reverse(
        "admin:records_subjectaccessrequest_change", args=[sar.pk]
    )
    return reminder_send(
        reference=f"subject_access.{sar.pk}.{stage}.{due:%Y%m%d}",
        to=role_emails(roles.CASEWORKER),
        subject=subject,
        body=(
            f"{lead}\n\nSubject access request {sar.pk}, received on "
            f"{govuk_date(sar.received_on)}: the answer is due by {govuk_date(due)} "
            f"(UK GDPR Article 12(3)).\n\nOpen the case: {link}"
        ),
    )


def sars_remind(*, today: date | None = None) -> dict[str, int]:
    """Tell the caseworkers of each open request whose deadline is within
    SUBJECT_ACCESS_REMINDER_DAYS, and of each one past it: each once a deadline."""
    today = today or timezone.localdate()
    soon = sars_due_soon(settings.SUBJECT_ACCESS_REMINDER_DAYS, today)
    reminded = sum(
        _remind(
            sar,
            "due_soon",
            "A subject access request is due soon",
            "A learner's subject access request is still open and its deadline "
            "is near.",
        )
        for sar in soon.order_by("pk")
    )
    overdue = sum(
        _remind(
            sar,
            "overdue",
            "A subject access request is overdue",
            "A learner's subject access request is past its statutory deadline "
            "and still open.",
        )
        for sar in sars_overdue(today).order_by("pk")
    )
    return {"due_soon_reminded": reminded, "overdue_reminded": overdue}


def sars_remind_run(*, today: date | None = None) -> JobRun | None:
    """The daily job (subject-access-daily): the reminders due, under the job's
    lock, recorded as a JobRun."""

    def work(progress: JobProgress) -> None:
        day = today or timezone.localdate()
        for key, number in sars_remind(today=day).items():
            if number:
                progress.add(key, number)
        progress.day_done(day)

    return job_run(REMINDERS_JOB, work)
