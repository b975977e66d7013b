"""Opening each organisation's yearly confirmation, the reminders, and the
daily job that does both."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, Notification, system_user
from lrs_portal.services import notification_send
from lrs_portal.transitions import save_with_history
from registration.companies_house import govuk_date
from registration.models import Organisation, YearlyConfirmation
from registration.services.yearly_confirmation.dates import (
    PENDING,
    REMINDER_DAYS,
    anniversary_next,
    reminder_days,
    suspension_day,
)

JOB = "yearly_confirmation"


def _page_link() -> str:
    return settings.SERVICE_URL + reverse("registration:yearly-confirmation")


def yearly_confirmation_open(
    *, organisation: Organisation, now: datetime | None = None
) -> YearlyConfirmation | None:
    """Open the confirmation for the organisation's next anniversary once it is
    YEARLY_CONFIRMATION_NOTICE_DAYS away or nearer, and email its super users;
    None when it is not yet time, or it is open already."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    registered_on = timezone.localdate(organisation.registered_at)
    anniversary = anniversary_next(registered_on, today)
    if today < anniversary - timedelta(days=settings.YEARLY_CONFIRMATION_NOTICE_DAYS):
        return None
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if locked.status != Organisation.Status.REGISTERED:
            return None
        if locked.yearly_confirmations.filter(anniversary=anniversary).exists():
            return None
        confirmation = YearlyConfirmation(
            organisation=locked,
            anniversary=anniversary,
            opened_at=now,
            due_on=anniversary,
        )
        save_with_history(
            confirmation, acting_user=system_user(), reason="Year's confirmation opened"
        )
        due = govuk_date(confirmation.due_on)
        for email in locked.super_user_emails():
            notification_send(
                to=email,
                subject="Confirm your organisation's registration for the LRS",
                body=(
                    f"Each year we ask you to confirm the registration of "
                    f"{locked.legal_name} for the Learning Records Service: why you "
                    "use it, how many learners you serve a year, your awarding "
                    "organisations, and that the director who signed the LRS "
                    "agreement is still in office.\n\n"
                    f"Confirm it, or tell us what has changed, by {due}: "
                    f"{_page_link()}\n\nIf you have not answered "
                    f"{settings.YEARLY_CONFIRMATION_GRACE_DAYS} days after that, "
                    f"on {govuk_date(suspension_day(confirmation))}, we will "
                    "suspend your organisation's access to the LRS until you do."
                ),
                reference=f"yearly_confirmation.{confirmation.pk}.opened",
            )
    return confirmation


def _reminder_reference(confirmation: YearlyConfirmation, day: date) -> str:
    # The day's digits keep it out of the kind (yearly_confirmation.reminder).
    return f"yearly_confirmation.{confirmation.pk}.reminder.{day:%Y%m%d}"


def _reminder_body(confirmation: YearlyConfirmation, today: date) -> tuple[str, str]:
    name = confirmation.organisation.legal_name
    due, suspended = confirmation.due_on, suspension_day(confirmation)
    if today < due:
        subject = "Reminder: confirm your organisation's LRS registration"
        when = f"It is due on {govuk_date(due)}."
    elif today < suspended - timedelta(days=REMINDER_DAYS):
        subject = "Your organisation's LRS registration is due for confirmation"
        when = f"It was due on {govuk_date(due)}."
    else:
        on = govuk_date(suspended)
        subject = f"Your organisation's LRS access will be suspended on {on}"
        when = f"It was due on {govuk_date(due)}."
    body = (
        f"You have not yet confirmed the registration of {name} for the Learning "
        f"Records Service. {when}\n\nConfirm it, or tell us what has changed: "
        f"{_page_link()}\n\nIf you have not answered by {govuk_date(suspended)}, "
        "we will suspend your organisation's access to the LRS until you do."
        f"\n\nIf you have questions, email {settings.SUPPORT_EMAIL}."
    )
    return subject, body


def yearly_confirmation_remind(*, now: datetime | None = None) -> int:
    """Send each open confirmation's latest reminder due by today, if not sent
    yet (a run missed for a day sends the one it missed, never two at once);
    return how many confirmations were reminded."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reminded = 0
    pending = YearlyConfirmation.objects.filter(
        status=PENDING,
        due_on__lte=today + timedelta(days=REMINDER_DAYS),
        organisation__status=Organisation.Status.REGISTERED,
    ).select_related("organisation")
    for confirmation in pending.order_by("due_on", "pk"):
        # From the day of the suspension, its own email says what to do.
        due_days = [day for day in reminder_days(confirmation) if day <= today]
        if not due_days or today >= suspension_day(confirmation):
            continue
        reference = _reminder_reference(confirmation, due_days[-1])
        with transaction.atomic():
            locked = YearlyConfirmation.objects.select_for_update().get(
                pk=confirmation.pk
            )
            if (
                locked.status != PENDING
                or Notification.objects.filter(reference=reference).exists()
            ):
                continue
            subject, body = _reminder_body(confirmation, today)
            for email in confirmation.organisation.super_user_emails():
                notification_send(
                    to=email, subject=subject, body=body, reference=reference
                )
            reminded += 1
    return reminded


@dataclass
class YearlyConfirmationOutcome:
    run: JobRun | None
    opened: int


def yearly_confirmation_run(
    *, now: datetime | None = None
) -> YearlyConfirmationOutcome:
    """The daily job: open the confirmations whose anniversary is near, then
    send the reminders due. Under the job's lock, recorded as a JobRun."""
    opened: list[YearlyConfirmation] = []

    def work(progress: JobProgress) -> None:
        moment = now or timezone.now()
        organisations = Organisation.objects.filter(
            status=Organisation.Status.REGISTERED
        ).order_by("pk")
        for organisation in organisations:
            confirmation = yearly_confirmation_open(
                organisation=organisation, now=moment
            )
            if confirmation is not None:
                opened.append(confirmation)
                progress.add("confirmations_opened")
        reminded = yearly_confirmation_remind(now=moment)
        if reminded:
            progress.add("confirmations_reminded", reminded)
        progress.day_done(timezone.localdate(moment))

    run = job_run(JOB, work)
    return YearlyConfirmationOutcome(run=run, opened=len(opened))
