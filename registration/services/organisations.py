"""Organisation status, identity changes and re-verification cases."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.services import user_end_sessions
from lrs_portal.transitions import TransitionNotAllowed, save_with_history, transition
from registration.companies_house import govuk_date
from registration.models import Organisation, ReverificationCase
from registration.services.signing import signing_requests_cancel
from registration.services.suspension_moves import suspensions_close

S = Organisation.Status
ORGANISATION_TRANSITIONS: dict[str, set[str]] = {
    S.REGISTERED: {S.SUSPENDED, S.REVOKED, S.DEREGISTERED},
    S.SUSPENDED: {S.REGISTERED, S.REVOKED, S.DEREGISTERED},
    # A revoked or deregistered organisation returns only through an approved
    # re-registration application.
    S.REVOKED: {S.REGISTERED},
    S.DEREGISTERED: {S.REGISTERED},
}
_LOSES_ACCESS = {S.SUSPENDED, S.REVOKED, S.DEREGISTERED}
# Leaving the register: a return is a new, vetted registration.
_RETURNS_FROM = {S.REVOKED, S.DEREGISTERED}


def organisation_transition(
    *, organisation: Organisation, to: str, acting_user: User, reason: str
) -> Organisation:
    """Change an organisation's status; losing access ends its users' sessions now."""
    with transaction.atomic():
        previous = (
            Organisation.objects.select_for_update()
            .values_list("status", flat=True)
            .get(pk=organisation.pk)
        )
        organisation = transition(
            instance=organisation,
            to=to,
            allowed=ORGANISATION_TRANSITIONS,
            acting_user=acting_user,
            reason=reason,
        )
        if to in _LOSES_ACCESS:
            for membership in organisation.memberships.select_related("user"):
                user_end_sessions(user=membership.user)
        if to in _RETURNS_FROM and previous not in _RETURNS_FROM:
            # Its cases are about a registration that has ended: out of the queue,
            # and none left in force to stop a future registration's suspension.
            suspensions_close(
                organisation=organisation,
                acting_user=acting_user,
                reason=f"The organisation left the register: {reason}",
            )
            signing_requests_cancel(
                organisation=organisation,
                acting_user=acting_user,
                reason=f"The organisation left the register: {reason}",
            )
    return organisation


def organisation_revoke(
    *, organisation: Organisation, acting_user: User, reason: str
) -> Organisation:
    """Revoke an organisation's LRS access: its users are signed out at once."""
    return organisation_transition(
        organisation=organisation, to=S.REVOKED, acting_user=acting_user, reason=reason
    )


def organisation_reinstate(
    *, organisation: Organisation, acting_user: User, reason: str
) -> Organisation:
    """Lift a suspension. A revoked or deregistered organisation returns only
    through an approved re-registration, never by reinstatement."""
    if organisation.status != S.SUSPENDED:
        raise TransitionNotAllowed("Only a suspended organisation can be reinstated")
    return organisation_transition(
        organisation=organisation,
        to=S.REGISTERED,
        acting_user=acting_user,
        reason=reason,
    )


def reverification_open(
    *,
    organisation: Organisation,
    reason: str,
    details: str,
    source: str,
    acting_user: User,
    new_value: str = "",
) -> ReverificationCase:
    """Open a re-verification case (one open per reason) and flag the organisation;
    a further change while it is open is added to the open case."""
    with transaction.atomic():
        case = ReverificationCase.objects.filter(
            organisation=organisation,
            reason=reason,
            status=ReverificationCase.Status.OPEN,
        ).first()
        if case is None:
            try:
                with transaction.atomic():
                    case = ReverificationCase(
                        organisation=organisation,
                        reason=reason,
                        details=details,
                        source=source,
                        new_value=new_value,
                    )
                    save_with_history(case, acting_user=acting_user, reason=details)
            except IntegrityError:  # opened concurrently: use that one
                case = ReverificationCase.objects.get(
                    organisation=organisation,
                    reason=reason,
                    status=ReverificationCase.Status.OPEN,
                )
        if details not in case.details or new_value != case.new_value:
            case = _reverification_add(
                case, details=details, new_value=new_value, acting_user=acting_user
            )
        if not organisation.flagged_for_review:
            organisation.flagged_for_review = True
            save_with_history(
                organisation,
                acting_user=acting_user,
                reason=f"Flagged for review: {case.get_reason_display()}",
                fields=["flagged_for_review"],
            )
    return case


def _reverification_add(
    case: ReverificationCase, *, details: str, new_value: str, acting_user: User
) -> ReverificationCase:
    """A further change while the case is open: the caseworker reads every step,
    not only the first (a name changed from A to B, then to C)."""
    case = ReverificationCase.objects.select_for_update().get(pk=case.pk)
    if details not in case.details:
        on = govuk_date(timezone.localdate())
        case.details = f"{case.details}\nThen, on {on}: {details}"
    case.new_value = new_value
    save_with_history(
        case, acting_user=acting_user, reason=details, fields=["details", "new_value"]
    )
    return case


def reverification_resolve(
    *, case: ReverificationCase, acting_user: User, resolution: str
) -> ReverificationCase:
    """Close a case; the flag clears when the organisation has no open case left."""
    with transaction.atomic():
        case.status = ReverificationCase.Status.RESOLVED
        case.resolved_at = timezone.now()
        case.resolved_by = acting_user
        case.resolution = resolution
        save_with_history(case, acting_user=acting_user, reason=resolution)
        # Read afresh: the caller's copy may predate the flag being set.
        organisation = Organisation.objects.select_for_update().get(
            pk=case.organisation_id
        )
        _record_resolved_name(case, organisation, acting_user)
        _record_resolved_learners(case, organisation, acting_user)
        still_open = organisation.reverification_cases.filter(
            status=ReverificationCase.Status.OPEN
        ).exists()
        if not still_open and organisation.flagged_for_review:
            organisation.flagged_for_review = False
            save_with_history(
                organisation,
                acting_user=acting_user,
                reason="Re-verification complete",
                fields=["flagged_for_review"],
            )
    return case


def _record_resolved_name(
    case: ReverificationCase, organisation: Organisation, acting_user: User
) -> None:
    """A rename at Companies House, once vetted, becomes the organisation's name:
    otherwise the next night finds the same difference and opens the case again."""
    name = case.new_value.strip()
    if (
        case.reason != ReverificationCase.Reason.LEGAL_NAME_CHANGED
        or not name
        or organisation.legal_name == name
    ):
        return
    old = organisation.legal_name
    organisation.legal_name = name
    save_with_history(
        organisation,
        acting_user=acting_user,
        reason=f"Name changed from {old!r} to {name!r} on resolving re-verification",
        fields=["legal_name"],
    )


def _record_resolved_learners(
    case: ReverificationCase, organisation: Organisation, acting_user: User
) -> None:
    """A change of learners a year, once a caseworker resolves its case, becomes
    the organisation's figure (its lookup caps follow it)."""
    if (
        case.reason != ReverificationCase.Reason.YEARLY_CONFIRMATION_CHANGED
        or not case.new_value.strip().isdigit()
    ):
        return
    learners = int(case.new_value.strip())
    if learners < 1 or learners == organisation.estimated_learners_per_year:
        return
    old = organisation.estimated_learners_per_year
    organisation.estimated_learners_per_year = learners
    save_with_history(
        organisation,
        acting_user=acting_user,
        reason=(
            f"Learners a year changed from {old:,} to {learners:,} on resolving the "
            "yearly confirmation's re-verification"
        ),
        fields=["estimated_learners_per_year"],
    )


_IDENTITY_FIELDS = {
    "legal_name": ReverificationCase.Reason.LEGAL_NAME_CHANGED,
    "trading_names": ReverificationCase.Reason.TRADING_NAME_CHANGED,
    "companies_house_number": ReverificationCase.Reason.COMPANY_NUMBER_CHANGED,
}


def organisation_change_details(
    *,
    organisation: Organisation,
    acting_user: User,
    source: str,
    legal_name: str | None = None,
    trading_names: str | None = None,
    companies_house_number: str | None = None,
) -> list[ReverificationCase]:
    """Record a change of name or company number; each opens a re-verification case.

    A new name on an old registration is how the 2020 misuse went unnoticed.
    """
    new_values = {
        "legal_name": legal_name,
        "trading_names": trading_names,
        "companies_house_number": companies_house_number,
    }
    cases: list[ReverificationCase] = []
    with transaction.atomic():
        changed = [
            field
            for field, value in new_values.items()
            if value is not None and value.strip() != getattr(organisation, field)
        ]
        if not changed:
            return cases
        old = {field: getattr(organisation, field) for field in changed}
        for field in changed:
            setattr(organisation, field, str(new_values[field]).strip())
        save_with_history(
            organisation,
            acting_user=acting_user,
            reason=f"Details changed ({source})",
            fields=changed,
        )
        for field in changed:
            before = old[field] or "(none)"
            after = getattr(organisation, field) or "(none)"
            cases.append(
                reverification_open(
                    organisation=organisation,
                    reason=_IDENTITY_FIELDS[field],
                    details=f"Changed from {before!r} to {after!r}.",
                    source=source,
                    acting_user=acting_user,
                    new_value=after if field == "legal_name" else "",
                )
            )
    return cases
