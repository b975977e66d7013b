"""The daily reminders (issue 14, decision 0032).

- An applicant whose draft has not changed for APPLICATION_DRAFT_REMINDER_DAYS
  (7, then 21): "finish your application".
- An applicant who has not answered a caseworker's request for information for
  APPLICATION_INFORMATION_REMINDER_DAYS (14).
- The director, and the applicant, when an application's signing link expires
  within SIGNING_LINK_REMINDER_DAYS (3) and nobody has signed.
- A registered (or suspended) organisation's signing director and super users
  AGREEMENT_RESIGN_REMINDER_DAYS (14, then 3) before the current agreement
  version's re-sign deadline, while it has not signed that version.

Each reminder is an email in the outbox (lrs_portal.services.notification_send),
of a kind listed in lrs_portal.email_kinds with its Notify template. Its
reference names the case and the moment it counts from (the draft's last change,
the request's time), and a Reminder row with that reference is written in the
same transaction: the reference is unique, so a job run twice (or two runs at
once) sends each reminder once, while a draft left alone again after a change is
reminded again.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun
from lrs_portal.services import notification_send
from registration.companies_house import govuk_date
from registration.models import (
    RegistrationApplication,
    Reminder,
    SigningRequest,
)
from registration.services.agreements import (
    agreement_current_version,
    agreement_signers,
)

JOB = "reminders"
A = RegistrationApplication.Status


def _stamp(moment: datetime) -> str:
    """The moment a reminder counts from, in its reference (UTC, to the second)."""
    return f"{moment.astimezone(UTC):%Y%m%d%H%M%S}"


def _when(moment: datetime) -> str:
    return govuk_date(timezone.localdate(moment))


def reminder_send(
    *, reference: str, to: Iterable[str], subject: str, body: str
) -> bool:
    """Queue the reminder to each address unless one with this reference was sent
    before; return whether it was sent now."""
    addresses = sorted({address for address in to if address})
    if not addresses:
        return False
    try:
        with transaction.atomic():
            Reminder.objects.create(reference=reference)
            for address in addresses:
                notification_send(
                    to=address, subject=subject, body=body, reference=reference
                )
    except IntegrityError:
        return False
    return True


def _last_change() -> Subquery:
    history = RegistrationApplication.history.model
    return Subquery(
        history.objects.filter(id=OuterRef("pk"))
        .order_by("-history_date")
        .values("history_date")[:1]
    )


def drafts_remind(*, now: datetime) -> int:
    """Remind applicants of drafts unchanged for the first or the last period;
    a draft past the last is sent only the last reminder."""
    first, last = settings.APPLICATION_DRAFT_REMINDER_DAYS
    drafts = (
        RegistrationApplication.objects.filter(
            status=A.DRAFT, applicant__is_active=True
        )
        .annotate(idle_since=Coalesce(_last_change(), F("created_at")))
        .filter(idle_since__lte=now - timedelta(days=first))
        .select_related("applicant")
        .order_by("pk")
    )
    link = settings.SERVICE_URL + reverse("registration:task-list")
    sent = 0
    for draft in drafts:
        idle_since: datetime = draft.idle_since
        final = now - idle_since >= timedelta(days=last)
        kind = "draft_last_reminder" if final else "draft_reminder"
        days = last if final else first
        what = draft.legal_name or "your organisation"
        body = (
            f"You started an application for {what} to use the Learning Records "
            f"Service, and it has not changed for {days} days (since "
            f"{_when(idle_since)}). Your answers are saved.\n\n"
            f"Finish and submit it: {link}\n\n"
            "If you no longer need LRS access, you can withdraw the application "
            "from the same page."
        )
        if final:
            body += "\n\nThis is the last reminder we will send about it."
        sent += reminder_send(
            reference=f"application.{draft.pk}.{kind}.{_stamp(idle_since)}",
            to=[draft.applicant.email],
            subject=f"Your application {draft.reference} is not finished",
            body=body,
        )
    return sent


def _information_requested_at(
    applications: list[RegistrationApplication],
) -> dict[int, datetime]:
    """When each application was last sent back for more information: the
    oldest of its newest history rows that are all 'more information needed'."""
    history = RegistrationApplication.history.model
    rows = (
        history.objects.filter(id__in=[a.pk for a in applications])
        .order_by("id", "-history_date", "-history_id")
        .values_list("id", "status", "history_date")
    )
    requested: dict[int, datetime] = {}
    settled: set[int] = set()
    for pk, status, moment in rows:
        if pk in settled:
            continue
        if status == A.MORE_INFO_REQUESTED:
            requested[pk] = moment
        else:
            settled.add(pk)
    return requested


def information_requests_remind(*, now: datetime) -> int:
    """Remind applicants who have not answered a request for information."""
    days = settings.APPLICATION_INFORMATION_REMINDER_DAYS
    waiting = list(
        RegistrationApplication.objects.filter(
            status=A.MORE_INFO_REQUESTED, applicant__is_active=True
        )
        .select_related("applicant")
        .order_by("pk")
    )
    requested = _information_requested_at(waiting)
    sent = 0
    for application in waiting:
        asked_at = requested.get(application.pk)
        if asked_at is None or now - asked_at < timedelta(days=days):
            continue
        link = settings.SERVICE_URL + application.get_absolute_url()
        sent += reminder_send(
            reference=(
                f"application.{application.pk}.information_reminder.{_stamp(asked_at)}"
            ),
            to=[application.applicant.email],
            subject=f"We are waiting for your answer about {application.reference}",
            body=(
                f"On {_when(asked_at)} we asked for more information about your "
                f"application {application.reference} to use the Learning Records "
                "Service. We cannot go on with it until you answer.\n\n"
                f"Read what we asked, change your answers and submit it again: "
                f"{link}"
            ),
        )
    return sent


def signing_links_remind(*, now: datetime) -> int:
    """Remind the director, and the applicant, of an application's signing link
    that expires soon unused. (An organisation's link for a new version is
    covered by the re-sign deadline's reminder.)"""
    soon = now + timedelta(days=settings.SIGNING_LINK_REMINDER_DAYS)
    expiring = (
        SigningRequest.objects.filter(
            application__isnull=False,
            application__status__in=[A.SUBMITTED, A.MORE_INFO_REQUESTED],
            used_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=soon,
        )
        .select_related("application__applicant", "agreement_version")
        .order_by("pk")
    )
    sent = 0
    for request in expiring:
        application = request.application
        if application is None:  # filtered out above
            continue
        expires = (
            f"{govuk_date(timezone.localdate(request.expires_at))} at "
            f"{timezone.localtime(request.expires_at):%H:%M}"
        )
        name = application.legal_name
        sent += reminder_send(
            reference=f"agreement.{request.pk}.signing_link_reminder",
            to=[request.email],
            subject=f"Your link to sign the LRS agreement for {name} expires soon",
            body=(
                f"On {_when(request.created_at)} we emailed you a link to sign "
                f"version {request.agreement_version.number} of the Learning "
                f"Records Service agreement for {name}. It expires on {expires}.\n\n"
                "Use the link in that email, with the code in the letter we "
                "posted to your correspondence address at Companies House. If "
                f"you cannot find the email, ask {application.applicant.full_name} "
                "to send you a new link."
            ),
        )
        if application.applicant.is_active:
            link = settings.SERVICE_URL + application.get_absolute_url()
            sent += reminder_send(
                reference=(
                    f"application.{application.pk}.{request.pk}.signing_link_expiring"
                ),
                to=[application.applicant.email],
                subject=f"Your director has not signed the agreement for {name}",
                body=(
                    f"{request.director_name} has not yet signed the Learning "
                    f"Records Service agreement for {name}, and the link we "
                    f"emailed them expires on {expires}. We cannot approve your "
                    "application until they sign.\n\n"
                    f"If they need a new link, send one from your application's "
                    f"page: {link}"
                ),
            )
    return sent


def resign_deadlines_remind(*, now: datetime) -> int:
    """Remind organisations that must sign the current version and have not,
    as its re-sign deadline nears: once at each of the reminder periods (only
    the nearest when the job first finds them inside several)."""
    version = agreement_current_version()
    if version is None or version.resign_deadline is None:
        return 0
    left = (version.resign_deadline - timezone.localdate(now)).days
    periods = sorted(d for d in settings.AGREEMENT_RESIGN_REMINDER_DAYS if left <= d)
    if left < 0 or not periods:
        return 0
    period = periods[0]
    organisations = (
        agreement_signers()
        .exclude(last_signed_version=version)
        .prefetch_related("memberships__user")
        .order_by("pk")
    )
    deadline = govuk_date(version.resign_deadline)
    sent = 0
    for organisation in organisations:
        name = organisation.legal_name
        sent += reminder_send(
            reference=(
                f"agreement.{organisation.pk}.{version.number}.{period}.resign_reminder"
            ),
            to=[organisation.signing_director_email, *organisation.super_user_emails()],
            subject=(
                f"{name} must sign version {version.number} of the LRS agreement "
                f"by {deadline}"
            ),
            body=(
                f"Version {version.number} of the Learning Records Service "
                f"agreement has not yet been signed for {name}. Your signing "
                f"director must sign it by {deadline}, or your organisation's "
                "users will not be able to look up learners after that day.\n\n"
                "We emailed the director a link to sign it. If they cannot find "
                f"it, or the director has changed, contact {settings.SUPPORT_EMAIL}."
            ),
        )
    return sent


def reminders_send(*, now: datetime | None = None) -> dict[str, int]:
    """Every reminder due at ``now``, each sent once; how many of each kind."""
    now = now or timezone.now()
    return {
        "drafts_reminded": drafts_remind(now=now),
        "information_requests_reminded": information_requests_remind(now=now),
        "signing_links_reminded": signing_links_remind(now=now),
        "resign_deadlines_reminded": resign_deadlines_remind(now=now),
    }


def reminders_run(*, now: datetime | None = None) -> JobRun | None:
    """The daily job: send the reminders due, under the job's lock, recorded as a
    JobRun (reminders)."""

    def work(progress: JobProgress) -> None:
        moment = now or timezone.now()
        for key, number in reminders_send(now=moment).items():
            if number:
                progress.add(key, number)
        progress.day_done(timezone.localdate(moment))

    return job_run(JOB, work)
