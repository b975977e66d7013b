"""The ladder's suspensions, and their lifting: the agreement not re-signed by its
deadline, the company no longer active, the ICO registration lapsed, the yearly
confirmation not made.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.transitions import TransitionNotAllowed
from registration.companies_house import govuk_date, status_finding
from registration.models import (
    AgreementVersion,
    CompaniesHouseSnapshot,
    IcoRegistration,
    Organisation,
    ReverificationCase,
    Suspension,
    YearlyConfirmation,
)
from registration.services.housekeeping.steps import (
    CAUSE_COMPANY,
    CAUSE_ICO,
    ORG,
    Action,
    S,
)
from registration.services.suspensions import (
    CAUSE_AGREEMENT,
    IN_FORCE,
    agreement_version_needed,
    suspension_open,
    suspension_transition,
)
from registration.services.yearly_confirmation import CAUSE as CAUSE_YEARLY
from registration.services.yearly_confirmation import suspension_day
from registration.validators import normalise_ico_number

# --- suspensions: agreement, company, ICO -----------------------------------------


def _would_open(organisation: Organisation, cause: str, day: date) -> bool:
    """Whether suspension_open would open a new case (it opens none while another
    is in force, nor again for a cause and day already decided)."""
    cases = Suspension.objects.filter(subject_type=ORG, organisation=organisation)
    return not (
        cases.filter(status__in=IN_FORCE).exists()
        or cases.filter(
            source=Suspension.Source.HOUSEKEEPING, cause=cause, day=day
        ).exists()
    )


def _suspend(
    organisation: Organisation,
    *,
    cause: str,
    day: date,
    reason: str,
    key: str,
    rule: dict[str, Any] | None = None,
) -> Action:
    rules = [{"code": cause, "label": reason, "since": day.isoformat(), **(rule or {})}]

    def apply(acting_user: User) -> bool:
        _, created = suspension_open(
            subject_type=ORG,
            organisation=organisation,
            source=Suspension.Source.HOUSEKEEPING,
            cause=cause,
            day=day,
            reason=reason,
            rules=rules,
            acting_user=acting_user,
        )
        return created

    return Action(key, f"Suspend {organisation}: {reason}", apply)


def lift_actions(version: AgreementVersion | None) -> Iterator[Action]:
    """Give access back to organisations suspended for not signing that have now."""
    suspensions = Suspension.objects.filter(
        subject_type=ORG,
        source=Suspension.Source.HOUSEKEEPING,
        cause=CAUSE_AGREEMENT,
        status__in=IN_FORCE,
    ).select_related("organisation__last_signed_version")
    for suspension in suspensions:
        needed = agreement_version_needed(suspension, version.number if version else 0)
        signed = suspension.organisation.last_signed_version
        if signed is None or signed.number < needed:
            continue
        yield _lift(
            suspension,
            reason=f"The organisation has signed version {signed.number} of the "
            "agreement",
        )


def _lift(suspension: Suspension, *, reason: str) -> Action:
    def apply(acting_user: User) -> bool:
        try:
            suspension_transition(
                suspension=suspension,
                to=Suspension.Status.LIFTED,
                acting_user=acting_user,
                reason=reason,
            )
        except TransitionNotAllowed:  # decided by a caseworker since the plan
            return False
        return True

    return Action(
        "suspensions_lifted",
        f"Lift the suspension of {suspension.organisation}: {reason.lower()}",
        apply,
    )


def agreement_actions(
    version: AgreementVersion | None, today: date, suspending: set[int]
) -> Iterator[Action]:
    if version is None:
        return
    if version.resign_immediately_reason and version.published_at is not None:
        # Published to be signed at once: from the day it was published.
        deadline = timezone.localtime(version.published_at).date()
        reason = (
            f"Version {version.number} of the LRS agreement had to be signed "
            f"immediately: {version.resign_immediately_reason} Access returns as "
            "soon as a director signs it."
        )
    elif version.resign_deadline is not None and today > version.resign_deadline:
        deadline = version.resign_deadline
        reason = (
            f"Version {version.number} of the LRS agreement was not signed by its "
            f"deadline, {govuk_date(deadline)}. Access returns as soon as a director "
            "signs it."
        )
    else:
        return
    unsigned = Organisation.objects.filter(status=S.REGISTERED).filter(
        Q(last_signed_version__isnull=True)
        | Q(last_signed_version__number__lt=version.number)
    )
    for organisation in unsigned.order_by("pk"):
        if organisation.pk in suspending or not _would_open(
            organisation, CAUSE_AGREEMENT, deadline
        ):
            continue
        suspending.add(organisation.pk)
        yield _suspend(
            organisation,
            cause=CAUSE_AGREEMENT,
            day=deadline,
            reason=reason,
            key="suspended_agreement_not_signed",
            # The version it waits for: signing it (or a later one) lifts it.
            rule={"version": version.number},
        )


def _not_active_since(organisation: Organisation) -> tuple[date, str] | None:
    """When the company stopped being active, and what Companies House said: from
    an open re-verification case, else from the snapshots."""
    case = (
        ReverificationCase.objects.filter(
            organisation=organisation,
            reason=ReverificationCase.Reason.COMPANY_NOT_ACTIVE,
            status=ReverificationCase.Status.OPEN,
        )
        .order_by("opened_at")
        .first()
    )
    if case is not None:
        return case.opened_at.date(), case.details
    profiles = CompaniesHouseSnapshot.objects.filter(
        company_number=organisation.companies_house_number,
        kind=CompaniesHouseSnapshot.Kind.PROFILE,
    )
    latest = profiles.order_by("-fetched_at").first()
    if latest is None or _active(latest):
        return None
    # The first snapshot since the company was last seen active: a stable day.
    last_active = next(
        (s.fetched_at for s in profiles.order_by("-fetched_at") if _active(s)), None
    )
    since = profiles.filter(fetched_at__gt=last_active) if last_active else profiles
    first = since.order_by("fetched_at").first() or latest
    finding = status_finding(latest.data) if latest.found else None
    details = finding.message if finding else "Companies House has no such company."
    return first.fetched_at.date(), details


def _active(snapshot: CompaniesHouseSnapshot) -> bool:
    return snapshot.found and status_finding(snapshot.data) is None


def company_actions(suspending: set[int]) -> Iterator[Action]:
    for organisation in Organisation.objects.filter(status=S.REGISTERED).order_by("pk"):
        found = _not_active_since(organisation)
        if found is None or organisation.pk in suspending:
            continue
        since, details = found
        if not _would_open(organisation, CAUSE_COMPANY, since):
            continue
        suspending.add(organisation.pk)
        yield _suspend(
            organisation,
            cause=CAUSE_COMPANY,
            day=since,
            reason=f"The company is no longer active. {details}",
            key="suspended_company_not_active",
        )


def _ico_lapsed_on(
    organisation: Organisation, registers: dict[str, IcoRegistration]
) -> date | None:
    registration = registers.get(normalise_ico_number(organisation.ico_number))
    if registration is not None and registration.removed_at is not None:
        return registration.removed_at.date()  # gone from a complete register file
    if registration is not None:
        return registration.end_date
    # Gone from the register: from when re-verification noticed.
    case = (
        ReverificationCase.objects.filter(
            organisation=organisation,
            reason=ReverificationCase.Reason.ICO_LAPSED,
            status=ReverificationCase.Status.OPEN,
        )
        .order_by("opened_at")
        .first()
    )
    return case.opened_at.date() if case else None


def ico_actions(today: date, suspending: set[int]) -> Iterator[Action]:
    if not IcoRegistration.objects.exists():
        return  # not imported: every number would look lapsed
    grace = settings.HOUSEKEEPING_ICO_GRACE_DAYS
    organisations = list(Organisation.objects.filter(status=S.REGISTERED))
    registers = IcoRegistration.objects.in_bulk(
        [normalise_ico_number(o.ico_number) for o in organisations],
        field_name="registration_number",
    )
    for organisation in sorted(organisations, key=lambda o: o.pk):
        lapsed_on = _ico_lapsed_on(organisation, registers)
        if lapsed_on is None or today <= lapsed_on + timedelta(days=grace):
            continue
        if organisation.pk in suspending or not _would_open(
            organisation, CAUSE_ICO, lapsed_on
        ):
            continue
        suspending.add(organisation.pk)
        yield _suspend(
            organisation,
            cause=CAUSE_ICO,
            day=lapsed_on,
            reason=(
                f"The ICO registration {organisation.ico_number} lapsed on "
                f"{govuk_date(lapsed_on)} and was not renewed within {grace} days."
            ),
            key="suspended_ico_lapsed",
        )


def yearly_confirmation_actions(today: date, suspending: set[int]) -> Iterator[Action]:
    """Organisations that have not made their yearly confirmation
    YEARLY_CONFIRMATION_GRACE_DAYS after it was due (decision 0031): suspended
    once per confirmation (the day is the day it was due)."""
    grace = settings.YEARLY_CONFIRMATION_GRACE_DAYS
    overdue = (
        YearlyConfirmation.objects.filter(
            status=YearlyConfirmation.Status.PENDING,
            due_on__lte=today - timedelta(days=grace),
            organisation__status=S.REGISTERED,
        )
        .select_related("organisation")
        .order_by("organisation_id", "due_on")
    )
    for confirmation in overdue:
        organisation = confirmation.organisation
        if organisation.pk in suspending or not _would_open(
            organisation, CAUSE_YEARLY, confirmation.due_on
        ):
            continue
        suspending.add(organisation.pk)
        yield _suspend(
            organisation,
            cause=CAUSE_YEARLY,
            day=confirmation.due_on,
            reason=(
                f"The yearly confirmation of the registration, due on "
                f"{govuk_date(confirmation.due_on)}, was not made by "
                f"{govuk_date(suspension_day(confirmation))}. Access returns as soon "
                "as a super user makes it."
            ),
            key="suspended_yearly_confirmation",
            rule={"confirmation": confirmation.pk},
        )


def yearly_lift_actions() -> Iterator[Action]:
    """Give access back to organisations suspended for a missing yearly
    confirmation that have made it since (answering lifts it at once; this
    catches one answered while the suspension could not be lifted)."""
    suspensions = Suspension.objects.filter(
        subject_type=ORG,
        source=Suspension.Source.HOUSEKEEPING,
        cause=CAUSE_YEARLY,
        status__in=IN_FORCE,
    ).select_related("organisation")
    for suspension in suspensions:
        if YearlyConfirmation.objects.filter(
            organisation=suspension.organisation,
            status=YearlyConfirmation.Status.PENDING,
            due_on__lte=suspension.day,
        ).exists():
            continue
        yield _lift(
            suspension,
            reason="The organisation has made its yearly confirmation",
        )
