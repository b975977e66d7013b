"""The deregistration ladder, run each night (issue 5, architecture rule 7).

Each step is planned first, from what the database says now, as an ``Action``: a
line saying what it does and a function that does it through the one transition
service, as the system user and with a reason. A dry run prints the lines and
does nothing; a real run does each action and counts it in the JobRun.

Every step is keyed so that a second run the same day, or a run after a
caseworker's decision, does nothing new: a housekeeping suspension is opened once
per organisation, cause and day (the day the cause began: the re-sign deadline,
the day the company stopped being active, the day the ICO registration lapsed),
so a reinstated one is never opened again for the same cause (rule 7).
"""

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, Notification, User, system_user
from lrs_portal.services import notification_send, user_end_sessions
from lrs_portal.transitions import TransitionNotAllowed, save_with_history
from registration.companies_house import govuk_date, status_finding
from registration.models import (
    AgreementVersion,
    ApiClient,
    CompaniesHouseSnapshot,
    IcoRegistration,
    Membership,
    Organisation,
    ReverificationCase,
    Suspension,
    YearlyConfirmation,
)
from registration.services.agreements import agreement_current_version
from registration.services.api_clients import (
    api_client_remind,
    api_client_reminders_due,
)
from registration.services.organisations import organisation_transition
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

JOB = "housekeeping"
CAUSE_COMPANY = "company_not_active"
CAUSE_ICO = "ico_lapsed"
ORG = Suspension.Subject.ORGANISATION
S = Organisation.Status


@dataclass(frozen=True)
class Action:
    """One step of the ladder for one organisation or account."""

    key: str  # what it adds to in the JobRun's counts
    description: str  # what it does, in words (a dry run prints only this)
    apply: Callable[[User], bool]  # do it; False when it turned out done already


@dataclass(frozen=True)
class HousekeepingOutcome:
    actions: list[Action]
    run: JobRun | None  # None for a dry run


def _months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _email_super_users(
    organisation: Organisation,
    *,
    subject: str,
    body: str,
    reference: str,
    also: tuple[str, ...] = (),
) -> None:
    """Email the organisation's super users who can act on it (their accounts are
    open: housekeeping never closes an organisation's last one); all of them only
    if a caseworker has closed every one."""
    super_users = organisation.memberships.filter(is_super_user=True)
    active = super_users.filter(user__is_active=True)
    emails = (active if active.exists() else super_users).values_list(
        "user__email", flat=True
    )
    for email in sorted({*emails, *also}):
        notification_send(
            to=email,
            subject=subject,
            body=f"{body}\n\nIf you have questions, email {settings.SUPPORT_EMAIL}.",
            reference=reference,
        )


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


def _lift_actions(version: AgreementVersion | None) -> Iterator[Action]:
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


def _agreement_actions(
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


def _company_actions(suspending: set[int]) -> Iterator[Action]:
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


def _ico_actions(today: date, suspending: set[int]) -> Iterator[Action]:
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


def _yearly_confirmation_actions(today: date, suspending: set[int]) -> Iterator[Action]:
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


def _yearly_lift_actions() -> Iterator[Action]:
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


# --- deregistration -----------------------------------------------------------------


def _deregister(
    organisation: Organisation,
    *,
    reason: str,
    key: str,
    still_due: Callable[[Organisation], bool],
) -> Action:
    """Deregister, if the reason still holds when the step is done: an earlier
    step of the same run (a lifted suspension) or a caseworker (a reinstatement)
    may have resolved it since the plan was made."""

    def apply(acting_user: User) -> bool:
        with transaction.atomic():
            locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
            if locked.status == S.DEREGISTERED or not still_due(locked):
                return False
            organisation.status = locked.status
            organisation_transition(
                organisation=organisation,
                to=S.DEREGISTERED,
                acting_user=acting_user,
                reason=reason,
            )
            again = settings.SERVICE_URL + reverse("registration:reregister")
            _email_super_users(
                organisation,
                subject="Your organisation is deregistered from the LRS",
                body=(
                    f"We have deregistered {organisation.legal_name} from the "
                    f"Learning Records Service.\n\nWhy: {reason}\n\nTo use the LRS "
                    "again, register again: sign in to the LRS Portal with your "
                    f"account, which stays open for this, and go to {again}. The "
                    "form starts with your organisation's details; a caseworker "
                    "checks it and a director must sign the current agreement."
                ),
                reference=f"housekeeping.{organisation.pk}.deregistered",
            )
        return True

    return Action(key, f"Deregister {organisation}: {reason}", apply)


def _suspended_too_long_actions(now: datetime) -> Iterator[Action]:
    """Organisations whose oldest suspension in force is older than the setting."""
    days = settings.HOUSEKEEPING_SUSPENDED_DAYS
    due = (
        Suspension.objects.filter(
            subject_type=ORG, status__in=IN_FORCE, organisation__status=S.SUSPENDED
        )
        .values("organisation")
        .annotate(since=Min("opened_at"))
        .filter(since__lte=now - timedelta(days=days))
    )
    since_by_id = {row["organisation"]: row["since"] for row in due}
    for organisation in Organisation.objects.filter(pk__in=since_by_id).order_by("pk"):
        since = since_by_id[organisation.pk]
        yield _deregister(
            organisation,
            reason=(
                f"Suspended since {govuk_date(since.date())} with no resolution for "
                f"{days} days."
            ),
            key="deregistered_suspended",
            still_due=lambda locked: (
                locked.status == S.SUSPENDED
                and Suspension.objects.filter(
                    subject_type=ORG,
                    organisation=locked,
                    status__in=IN_FORCE,
                    opened_at__lte=now - timedelta(days=days),
                ).exists()
            ),
        )


# --- dormancy ------------------------------------------------------------------------


def _used_since(organisation: Any, moment: datetime) -> bool:
    """Whether any member signed in or searched since the moment (organisation is
    annotated with last_sign_in and last_lookup)."""
    sign_in, lookup = organisation.last_sign_in, organisation.last_lookup
    return (sign_in is not None and sign_in >= moment) or (
        lookup is not None and lookup >= moment.date()
    )


def _used_since_by_members(organisation: Organisation, moment: datetime) -> bool:
    """The same question as _used_since, asked of the database now."""
    usage = organisation.memberships.aggregate(
        last_sign_in=Max("user__last_login"), last_lookup=Max("last_lookup_on")
    )
    sign_in, lookup = usage["last_sign_in"], usage["last_lookup"]
    return (sign_in is not None and sign_in >= moment) or (
        lookup is not None and lookup >= moment.date()
    )


def _dormancy_actions(now: datetime) -> Iterator[Action]:
    months = settings.HOUSEKEEPING_DORMANT_MONTHS
    grace = settings.HOUSEKEEPING_DORMANT_GRACE_DAYS
    cutoff = _months_before(now, months)
    organisations = (
        Organisation.objects.filter(status=S.REGISTERED)
        .annotate(
            last_sign_in=Max("memberships__user__last_login"),
            last_lookup=Max("memberships__last_lookup_on"),
        )
        .order_by("pk")
    )
    for organisation in organisations:
        warned_at = organisation.dormancy_warned_at
        if warned_at is not None and _used_since(organisation, warned_at):
            yield _dormancy_clear(organisation)
        elif warned_at is not None and now >= warned_at + timedelta(days=grace):
            yield _deregister(
                organisation,
                reason=(
                    f"Nobody signed in or searched the LRS for {months} months, nor "
                    f"in the {grace} days after the warning of "
                    f"{govuk_date(warned_at.date())}."
                ),
                key="deregistered_dormant",
                still_due=lambda locked: (
                    locked.status == S.REGISTERED
                    and locked.dormancy_warned_at is not None
                    and not _used_since_by_members(locked, locked.dormancy_warned_at)
                ),
            )
        elif (
            warned_at is None
            and organisation.registered_at < cutoff
            and not _used_since(organisation, cutoff)
        ):
            yield _dormancy_warn(organisation, months=months, grace=grace)


def _dormancy_warn(organisation: Organisation, *, months: int, grace: int) -> Action:
    def apply(acting_user: User) -> bool:
        with transaction.atomic():
            locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
            if locked.dormancy_warned_at is not None:
                return False
            locked.dormancy_warned_at = timezone.now()
            save_with_history(
                locked,
                acting_user=acting_user,
                reason=f"Warned: not used for {months} months",
                fields=["dormancy_warned_at"],
            )
            deadline = locked.dormancy_warned_at + timedelta(days=grace)
            _email_super_users(
                locked,
                subject="Your organisation's LRS access will end unless it is used",
                body=(
                    f"Nobody at {locked.legal_name} has signed in to the LRS Portal "
                    f"or searched the Learning Records Service for {months} months."
                    f"\n\nIf you still need access, sign in before "
                    f"{govuk_date(deadline.date())}: your account stays open until "
                    "then. Otherwise we will deregister your organisation on that "
                    "day, and you can register again later."
                ),
                reference=f"housekeeping.{locked.pk}.dormancy_warning",
            )
        return True

    return Action(
        "dormancy_warnings",
        f"Warn {organisation}: not used for {months} months; deregistered in "
        f"{grace} days unless used",
        apply,
    )


def _dormancy_clear(organisation: Organisation) -> Action:
    def apply(acting_user: User) -> bool:
        organisation.dormancy_warned_at = None
        save_with_history(
            organisation,
            acting_user=acting_user,
            reason="Used again after the dormancy warning",
            fields=["dormancy_warned_at"],
        )
        return True

    return Action(
        "dormancy_warnings_cleared",
        f"Clear the dormancy warning of {organisation}: used again since",
        apply,
    )


# --- accounts ---------------------------------------------------------------------


def _unused_account_actions(now: datetime) -> Iterator[Action]:
    """Members' accounts nobody has used for the set days are closed, each warned
    HOUSEKEEPING_UNUSED_ACCOUNT_WARNING_DAYS before (decision 0030); never staff,
    superusers or the system user (who have no membership in any case), nor an
    organisation's last open super user account."""
    days = settings.HOUSEKEEPING_UNUSED_ACCOUNT_DAYS
    warning_days = min(settings.HOUSEKEEPING_UNUSED_ACCOUNT_WARNING_DAYS, days - 1)
    warn_cutoff = now - timedelta(days=days - warning_days)
    quiet = (
        User.objects.filter(is_active=True, is_staff=False, is_superuser=False)
        .exclude(email=User.SYSTEM_EMAIL)
        .filter(membership__isnull=False)
        .filter(
            Q(last_login__lt=warn_cutoff)
            | Q(last_login__isnull=True, date_joined__lt=warn_cutoff)
        )
        .filter(
            Q(membership__last_lookup_on__isnull=True)
            | Q(membership__last_lookup_on__lt=warn_cutoff.date())
        )
        .select_related("membership__organisation")
        .order_by("pk")
    )
    for user in quiet:
        if _last_super_user(user):
            continue
        reference = _unused_warning_reference(user)
        warning = (
            Notification.objects.filter(reference=reference)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if warning_days and warning is None:
            yield _unused_warn(user, days=days, warning_days=warning_days, now=now)
            continue
        warned_long_enough = warning is None or warning <= now - timedelta(
            days=warning_days
        )
        if warned_long_enough and _last_used(user) < now - timedelta(days=days):
            yield _deactivate(user, days=days)


def _last_used(user: User) -> datetime:
    """When the account was last signed in to or used to search (its creation if
    never)."""
    moments = [user.last_login or user.date_joined]
    lookup = user.membership.last_lookup_on
    if lookup is not None:
        moments.append(
            datetime.combine(
                lookup, datetime.min.time(), tzinfo=timezone.get_current_timezone()
            )
        )
    return max(moments)


def _unused_warning_reference(user: User) -> str:
    # One warning for each spell of disuse: the spell is named by its first day,
    # so an account used again and then left is warned again (the date's digits
    # keep it out of the email's kind).
    return f"housekeeping.user.{user.pk}.unused_warning.{_last_used(user):%Y%m%d}"


def _unused_warn(user: User, *, days: int, warning_days: int, now: datetime) -> Action:
    def apply(acting_user: User) -> bool:
        with transaction.atomic():
            locked = (
                User.objects.select_for_update(of=("self",))
                .select_related("membership__organisation")
                .get(pk=user.pk)
            )
            reference = _unused_warning_reference(locked)
            if (
                not locked.is_active
                or Notification.objects.filter(reference=reference).exists()
            ):
                return False
            # Closed once both have passed: the days of disuse and the warning's.
            closing = max(
                _last_used(locked) + timedelta(days=days),
                now + timedelta(days=warning_days),
            )
            organisation = locked.membership.organisation
            notification_send(
                to=locked.email,
                subject="Your LRS Portal account will be closed if you do not sign in",
                body=(
                    f"Your LRS Portal account at {organisation.legal_name} has not "
                    f"been used for {days - warning_days} days or more. Unused "
                    "accounts are closed (LRS agreement, section 4).\n\n"
                    f"If you still need it, sign in before {govuk_date(closing.date())}"
                    ". Otherwise we will close it on that day; your organisation's "
                    "super user can open it again later."
                    f"\n\nIf you have questions, email {settings.SUPPORT_EMAIL}."
                ),
                reference=reference,
            )
        return True

    return Action(
        "accounts_warned_unused",
        f"Warn user {user.pk} ({user.membership.organisation}): not used for "
        f"{days - warning_days} days; closed in {warning_days} days unless used",
        apply,
    )


def _last_super_user(user: User) -> bool:
    """Whether the user is their organisation's only open super user account: it
    is kept, so someone can answer a dormancy warning (the organisation's own
    ladder step) and register the organisation again after deregistration."""
    membership = user.membership
    if not membership.is_super_user:
        return False
    return not (
        Membership.objects.filter(
            organisation_id=membership.organisation_id,
            is_super_user=True,
            user__is_active=True,
        )
        .exclude(user=user)
        .exists()
    )


def _deactivate(user: User, *, days: int) -> Action:
    reason = f"Account not used for {days} days"

    def apply(acting_user: User) -> bool:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            if not locked.is_active or _last_super_user(locked):
                return False
            locked.is_active = False
            save_with_history(
                locked, acting_user=acting_user, reason=reason, fields=["is_active"]
            )
            user_end_sessions(user=locked)
            organisation = user.membership.organisation
            _email_super_users(
                organisation,
                subject="An unused LRS Portal account was closed",
                body=(
                    f"We have closed the LRS Portal account of {locked.full_name} "
                    f"({locked.email}) at {organisation.legal_name}: it was not "
                    f"used for {days} days. Each account that is no longer needed "
                    "must be removed (LRS agreement, section 4).\n\n"
                    "To get the account back, ask a super user at "
                    f"{organisation.legal_name} to open it again, or a caseworker "
                    f"at {settings.SUPPORT_EMAIL}. Its history is kept."
                ),
                reference=f"housekeeping.user.{locked.pk}.deactivated",
                also=(locked.email,),
            )
        return True

    return Action(
        "accounts_deactivated",
        f"Close the account of user {user.pk} ({user.membership.organisation}): "
        f"not used for {days} days",
        apply,
    )


# --- the job -------------------------------------------------------------------


# --- API clients: reminders before they expire ----------------------------------


def _api_client_reminder_actions(today: date) -> Iterator[Action]:
    """Each API client's reminder 30 and 7 days before its expiry, once each
    (claimed on the client, so a second run sends nothing)."""
    for client, days in api_client_reminders_due(today=today):

        def remind(user: User, client: ApiClient = client, days: int = days) -> bool:
            return api_client_remind(api_client=client, days=days)

        yield Action(
            key="api_client_expiry_reminded",
            description=(
                f"Remind {client.organisation.legal_name} that API client "
                f"“{client.name}” expires on {client.expires_on:%d %B %Y} "
                f"({days}-day reminder)"
            ),
            apply=remind,
        )


def housekeeping_plan(*, now: datetime | None = None) -> list[Action]:
    """Every ladder step due now, in the order they are done. Changes nothing."""
    now = now or timezone.now()
    today = now.date()
    version = agreement_current_version()
    suspending: set[int] = set()
    return [
        *_lift_actions(version),
        *_yearly_lift_actions(),
        *_agreement_actions(version, today, suspending),
        *_company_actions(suspending),
        *_ico_actions(today, suspending),
        *_yearly_confirmation_actions(today, suspending),
        *_suspended_too_long_actions(now),
        *_dormancy_actions(now),
        *_unused_account_actions(now),
        *_api_client_reminder_actions(today),
        *_other_apps_actions(now),
    ]


def _other_apps_actions(now: datetime) -> Iterator[Action]:
    """The steps other apps add to the night's housekeeping (their data's
    retention, say), named in settings.HOUSEKEEPING_PLANS: registration imports
    no app above it, so those apps hand their plans in by name."""
    for path in settings.HOUSEKEEPING_PLANS:
        yield from import_string(path)(now=now)


def housekeeping_run(*, dry_run: bool = False) -> HousekeepingOutcome:
    """Run the deregistration ladder under the job's lock; a dry run only plans."""
    actions: list[Action] = []

    def work(progress: JobProgress) -> None:
        actions.extend(housekeeping_plan())
        if dry_run:
            return
        acting_user = system_user()
        for action in actions:
            if action.apply(acting_user):
                progress.add(action.key)
        progress.day_done(timezone.now().date())

    run = job_run(JOB, work, record=not dry_run)
    return HousekeepingOutcome(actions=actions, run=run)
