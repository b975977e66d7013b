"""The super user's answer to the yearly confirmation: what changed, a
re-verification case for caseworkers when something did, and the suspension for
a missing answer lifted."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lrs_portal import roles
from lrs_portal.models import User
from lrs_portal.services import notification_send_to_role
from lrs_portal.transitions import TransitionNotAllowed, save_with_history
from registration import permissions
from registration.companies_house import govuk_date
from registration.models import (
    Organisation,
    ReverificationCase,
    Suspension,
    YearlyConfirmation,
)
from registration.services.organisations import reverification_open
from registration.services.yearly_confirmation.dates import CAUSE, PENDING
from registration.services.yearly_confirmation.on_record import (
    NOT_CURRENT,
    director_standing,
    registration_on_record,
)

SOURCE = "yearly confirmation"


class YearlyConfirmationRefused(Exception):
    """It cannot be answered (answered already, or not the super user's)."""


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
        raise YearlyConfirmationRefused(_("Learners a year must be 1 or more"))
    # Kept (and compared) in English whatever the page's language: caseworkers
    # read it, and the purpose's label is translated for the provider's pages.
    with translation.override("en"):
        record = registration_on_record(organisation)
    standing = director_standing(organisation)
    changes = answer_changes(record, answers, standing)
    with transaction.atomic():
        locked = YearlyConfirmation.objects.select_for_update().get(pk=confirmation.pk)
        if locked.status != PENDING:
            raise YearlyConfirmationRefused(
                _("This confirmation has been made already")
            )
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
