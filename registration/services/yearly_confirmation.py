"""The yearly confirmation of an organisation's registration (issue 14,
decision 0031).

Each year, as the anniversary of its registration nears, every registered
organisation's super users are asked to confirm what it registered with: its
purpose, the learners it serves a year, its awarding organisations and that the
director who signed the agreement is still in office (checked against Companies
House's officers). Nothing changed: it is confirmed. A change opens a
re-verification case for caseworkers, like a change of identity, and nothing on
the organisation changes until a caseworker resolves it. Not answered
YEARLY_CONFIRMATION_GRACE_DAYS after it was due, housekeeping suspends the
organisation (registration.services.housekeeping); answering lifts it.

The daily job opens the confirmations and sends the reminders; run twice, it
creates and sends nothing twice (a unique anniversary per organisation, a row
lock, and each reminder's reference naming its day).
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from lrs_portal import roles
from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, Notification, User, system_user
from lrs_portal.services import notification_send, notification_send_to_role
from lrs_portal.transitions import TransitionNotAllowed, save_with_history
from registration import permissions
from registration.companies_house import (
    current_directors,
    govuk_date,
    person_name_matches,
)
from registration.models import (
    Organisation,
    RegistrationApplication,
    ReverificationCase,
    Suspension,
    YearlyConfirmation,
)
from registration.services.organisations import reverification_open

JOB = "yearly_confirmation"
# The housekeeping suspension's cause (registration.services.housekeeping).
CAUSE = "yearly_confirmation_overdue"
SOURCE = "yearly confirmation"
PENDING = YearlyConfirmation.Status.PENDING
REMINDER_DAYS = 7

# What Companies House says of the signing director.
CURRENT = "current"
NOT_CURRENT = "not_current"
UNKNOWN = "unknown"


class YearlyConfirmationRefused(Exception):
    """It cannot be answered (answered already, or not the super user's)."""


# --- dates --------------------------------------------------------------------


def _anniversary_in(year: int, registered_on: date) -> date:
    """The anniversary in ``year`` (29 February is the 28th in other years)."""
    last_day = calendar.monthrange(year, registered_on.month)[1]
    return date(year, registered_on.month, min(registered_on.day, last_day))


def anniversary_next(registered_on: date, today: date) -> date:
    """The first anniversary of registration on or after ``today`` (never the
    day of registration itself)."""
    year = max(today.year, registered_on.year + 1)
    anniversary = _anniversary_in(year, registered_on)
    if anniversary < today:
        anniversary = _anniversary_in(year + 1, registered_on)
    return anniversary


def suspension_day(confirmation: YearlyConfirmation) -> date:
    """The day housekeeping suspends the organisation if it is still not answered."""
    return confirmation.due_on + timedelta(days=settings.YEARLY_CONFIRMATION_GRACE_DAYS)


def reminder_days(confirmation: YearlyConfirmation) -> list[date]:
    """The days a reminder is due: a week before it is due, the day it is due,
    and a week before the suspension; none on or before the day it opened (the
    opening email is the first word)."""
    opened_on = timezone.localdate(confirmation.opened_at)
    days = [
        confirmation.due_on - timedelta(days=REMINDER_DAYS),
        confirmation.due_on,
        suspension_day(confirmation) - timedelta(days=REMINDER_DAYS),
    ]
    return sorted({day for day in days if day > opened_on})


# --- what is on record -----------------------------------------------------------


def _approved_application(organisation: Organisation) -> RegistrationApplication | None:
    return (
        organisation.applications.filter(status=RegistrationApplication.Status.APPROVED)
        .order_by("-decided_at", "-pk")
        .first()
    )


def director_standing(organisation: Organisation) -> str:
    """Whether Companies House lists the signing director among the company's
    current directors (officers read no more than a day ago, else afresh):
    CURRENT, NOT_CURRENT, or UNKNOWN when Companies House cannot answer now."""
    from registration.services.signing import (
        CompaniesHouseNotAnswering,
        SigningRefused,
        company_officers_recent,
    )

    if not organisation.signing_director_name:
        return NOT_CURRENT
    try:
        officers = company_officers_recent(organisation.companies_house_number)
    except CompaniesHouseNotAnswering:
        return UNKNOWN
    except SigningRefused:  # the company is not found
        return NOT_CURRENT
    directors = current_directors(officers)
    appointment = organisation.signing_director_appointment
    if appointment:
        found = any(d.appointment == appointment for d in directors)
    else:
        name = organisation.signing_director_name
        found = any(person_name_matches(name, d.name) for d in directors)
    return CURRENT if found else NOT_CURRENT


def registration_on_record(organisation: Organisation) -> dict[str, Any]:
    """What the organisation registered with, as the super user is asked to
    confirm it: from the organisation and its last approved application."""
    application = _approved_application(organisation)
    purposes = dict(RegistrationApplication.Purpose.choices)
    purpose = str(purposes.get(organisation.purpose, organisation.purpose))
    detail = application.purpose_detail.strip() if application else ""
    awarding = (
        [
            f"{a.awarding_organisation} ({a.reference})"
            for a in application.accreditations.order_by("awarding_organisation")
        ]
        if application
        else []
    )
    return {
        "purpose": purpose,
        "purpose_detail": detail,
        "learners_per_year": organisation.estimated_learners_per_year,
        "awarding_organisations": awarding,
        "director": organisation.signing_director_name,
    }


# --- opening and reminding -------------------------------------------------------


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


# --- the super user's answer -----------------------------------------------------


def yearly_confirmation_pending(
    organisation: Organisation,
) -> YearlyConfirmation | None:
    """The organisation's confirmation still to answer (the oldest), or None."""
    return (
        organisation.yearly_confirmations.filter(status=PENDING)
        .order_by("due_on")
        .first()
    )


@dataclass(frozen=True)
class Answers:
    """The super user's answers. ``None`` in a *_change means "unchanged"."""

    purpose_change: str | None
    learners_per_year: int
    awarding_organisations_change: str | None
    director_in_office: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose_change": self.purpose_change,
            "learners_per_year": self.learners_per_year,
            "awarding_organisations_change": self.awarding_organisations_change,
            "director_in_office": self.director_in_office,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Answers":
        return cls(
            purpose_change=data.get("purpose_change"),
            learners_per_year=int(data["learners_per_year"]),
            awarding_organisations_change=data.get("awarding_organisations_change"),
            director_in_office=bool(data["director_in_office"]),
        )

    @classmethod
    def nothing_changed(cls, record: dict[str, Any]) -> "Answers":
        return cls(
            purpose_change=None,
            learners_per_year=int(record["learners_per_year"]),
            awarding_organisations_change=None,
            director_in_office=True,
        )


def answer_changes(
    record: dict[str, Any], answers: Answers, standing: str
) -> list[str]:
    """What changed, one line each, as the caseworker reads it ([] for none)."""
    changes = []
    director = record["director"] or "the director who signed"
    if answers.purpose_change:
        changes.append(
            f"Purpose: on record “{record['purpose']}”. The super user says: "
            f"{answers.purpose_change}"
        )
    if answers.learners_per_year != record["learners_per_year"]:
        changes.append(
            f"Learners a year: {record['learners_per_year']:,} on record, now "
            f"{answers.learners_per_year:,}."
        )
    if answers.awarding_organisations_change:
        listed = ", ".join(record["awarding_organisations"]) or "none"
        changes.append(
            f"Awarding organisations: on record {listed}. The super user says: "
            f"{answers.awarding_organisations_change}"
        )
    if not answers.director_in_office:
        changes.append(
            f"Signing director: the super user says {director} is no longer in office."
        )
    elif standing == NOT_CURRENT:
        changes.append(
            f"Signing director: Companies House no longer lists {director} among "
            "the company's current directors."
        )
    return changes


def _lift_suspension(organisation: Organisation, *, acting_user: User) -> None:
    """The answer gives access back that the missing answer took away."""
    from registration.services.suspensions import IN_FORCE, suspension_transition

    suspensions = Suspension.objects.filter(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=organisation,
        source=Suspension.Source.HOUSEKEEPING,
        cause=CAUSE,
        status__in=IN_FORCE,
    )
    for suspension in suspensions:
        if organisation.yearly_confirmations.filter(
            status=PENDING, due_on__lte=suspension.day
        ).exists():
            continue
        try:
            suspension_transition(
                suspension=suspension,
                to=Suspension.Status.LIFTED,
                acting_user=acting_user,
                reason="The organisation's super user made its yearly confirmation",
            )
        except TransitionNotAllowed:  # decided by a caseworker meanwhile
            continue


def yearly_confirmation_answer(
    *,
    confirmation: YearlyConfirmation,
    acting_user: User,
    answers: Answers,
) -> YearlyConfirmation:
    """Record the super user's answer. Nothing changed: confirmed. A change (or
    Companies House no longer listing the signing director): a re-verification
    case for caseworkers, who are emailed; the organisation's own details change
    only when a caseworker resolves the case. Either way a suspension for the
    missing answer is lifted."""
    organisation = confirmation.organisation
    if not permissions.can_manage_users(acting_user, organisation):
        raise PermissionError("Only the organisation's super user can confirm it")
    if answers.learners_per_year < 1:
        raise YearlyConfirmationRefused("Learners a year must be 1 or more")
    # Kept (and compared) in English whatever the page's language: caseworkers
    # read it, and the purpose's label is translated for the provider's pages.
    with translation.override("en"):
        record = registration_on_record(organisation)
    standing = director_standing(organisation)
    changes = answer_changes(record, answers, standing)
    with transaction.atomic():
        locked = YearlyConfirmation.objects.select_for_update().get(pk=confirmation.pk)
        if locked.status != PENDING:
            raise YearlyConfirmationRefused("This confirmation has been made already")
        locked.on_record = {**record, "director_at_companies_house": standing}
        locked.answers = answers.as_dict()
        locked.answered_at = timezone.now()
        locked.answered_by = acting_user
        locked.changes = "\n".join(changes)
        if changes:
            locked.status = YearlyConfirmation.Status.CHANGED
            locked.reverification_case = reverification_open(
                organisation=organisation,
                reason=ReverificationCase.Reason.YEARLY_CONFIRMATION_CHANGED,
                details=(
                    f"At the yearly confirmation due on {govuk_date(locked.due_on)}: "
                    + " ".join(changes)
                ),
                source=SOURCE,
                acting_user=acting_user,
                new_value=(
                    str(answers.learners_per_year)
                    if answers.learners_per_year != record["learners_per_year"]
                    else ""
                ),
            )
            reason = "Answered with changes, sent to a caseworker"
        else:
            locked.status = YearlyConfirmation.Status.CONFIRMED
            reason = "Confirmed by the super user: nothing changed"
        save_with_history(locked, acting_user=acting_user, reason=reason)
        if not answers.director_in_office or standing == NOT_CURRENT:
            reverification_open(
                organisation=organisation,
                reason=ReverificationCase.Reason.DIRECTOR_LEFT,
                details=(
                    f"{record['director'] or 'The signing director'}, who signed the "
                    "agreement, is no longer in office (yearly confirmation)."
                ),
                source=SOURCE,
                acting_user=acting_user,
            )
        if changes:
            _tell_caseworkers(locked, changes)
        _lift_suspension(organisation, acting_user=acting_user)
    return locked


def _tell_caseworkers(confirmation: YearlyConfirmation, changes: list[str]) -> None:
    organisation = confirmation.organisation
    case = confirmation.reverification_case
    link = settings.SERVICE_URL + (
        reverse("admin:registration_reverificationcase_change", args=[case.pk])
        if case is not None
        else reverse("admin:registration_reverificationcase_changelist")
    )
    lines = "\n".join(f"- {change}" for change in changes)
    notification_send_to_role(
        role=roles.CASEWORKER,
        subject=f"Changes at the yearly confirmation: {organisation.legal_name}",
        body=(
            f"The super user of {organisation} made the organisation's yearly "
            f"confirmation and reported changes:\n\n{lines}\n\nA re-verification "
            f"case is open: {link}"
        ),
        reference=f"yearly_confirmation.{confirmation.pk}.changed",
    )
