"""Suspensions of users and organisations: opened by the nightly jobs or a
caseworker, explained by the provider, decided by a caseworker.

Every decision goes through suspension_transition, and every status change
through suspension_move in suspension_moves.py (architecture.md rule 4).
Opening one ends the subject's sessions at once (rule 5). Opening is idempotent:
the same subject, source, cause and day never opens a second case, so a job run
twice, or run again after a caseworker reinstated the subject, changes nothing
(rule 7).
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.models import User
from lrs_portal.services import (
    notification_send,
    notification_send_to_role,
    user_end_sessions,
)
from lrs_portal.transitions import save_with_history
from registration.models import Membership, Organisation, Suspension
from registration.services.organisations import (
    organisation_revoke,
    organisation_transition,
)

# The table of moves lives in suspension_moves; the pages import IN_FORCE from here.
from registration.services.suspension_moves import IN_FORCE as IN_FORCE
from registration.services.suspension_moves import St, suspension_move

# Housekeeping's cause for an organisation that did not re-sign by the deadline.
CAUSE_AGREEMENT = "agreement_not_signed"


def _subject_filter(
    subject_type: str, organisation: Organisation, user: User | None
) -> dict[str, Any]:
    if subject_type == Suspension.Subject.USER:
        return {"subject_type": subject_type, "user": user}
    return {"subject_type": subject_type, "organisation": organisation}


def suspension_open(
    *,
    subject_type: str,
    organisation: Organisation,
    user: User | None = None,
    source: str,
    cause: str,
    day: date,
    reason: str,
    rules: list[dict[str, Any]] | None = None,
    acting_user: User,
) -> tuple[Suspension, bool]:
    """Suspend a user or an organisation; return the case and whether it is new.

    Nothing new happens when this subject already has a case for the same source,
    cause and day (whatever its outcome) or a suspension in force: the existing
    case is returned. A new case ends the subject's sessions and emails the
    organisation's super users and the caseworkers.
    """
    if subject_type == Suspension.Subject.USER and user is None:
        raise ValueError("A user suspension needs the user")
    subject = _subject_filter(subject_type, organisation, user)
    with transaction.atomic():
        # Serialise openings for one organisation (two jobs at once).
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        existing = (
            Suspension.objects.filter(**subject, source=source, cause=cause, day=day)
            .order_by("-opened_at")
            .first()
        ) or (
            Suspension.objects.filter(**subject, status__in=IN_FORCE)
            .order_by("-opened_at")
            .first()
        )
        if existing is not None:
            return existing, False
        suspension = Suspension(
            subject_type=subject_type,
            organisation=organisation,
            user=user if subject_type == Suspension.Subject.USER else None,
            source=source,
            cause=cause,
            day=day,
            reason=reason,
            rules=rules or [],
        )
        try:
            with transaction.atomic():
                save_with_history(suspension, acting_user=acting_user, reason=reason)
        except IntegrityError:  # opened concurrently
            found = Suspension.objects.get(
                **subject, source=source, cause=cause, day=day
            )
            return found, False
        _apply(suspension, acting_user=acting_user)
        _notify_opened(suspension)
    return suspension, True


def _apply(suspension: Suspension, *, acting_user: User) -> None:
    """Take the subject's access away now."""
    reason = f"Suspended: {suspension.reason}"
    if suspension.subject_type == Suspension.Subject.ORGANISATION:
        organisation = suspension.organisation
        organisation.refresh_from_db(fields=["status"])
        if organisation.status == Organisation.Status.REGISTERED:
            organisation_transition(
                organisation=organisation,
                to=Organisation.Status.SUSPENDED,
                acting_user=acting_user,
                reason=reason,
            )
        else:  # already without access: still make sure nobody stays signed in
            for member in organisation.memberships.select_related("user"):
                user_end_sessions(user=member.user)
        return
    user = suspension.user
    if user is None:
        raise ValueError("A user suspension without its user")
    membership = Membership.objects.filter(user=user).first()
    if membership is not None and membership.suspended_at is None:
        membership.suspended_at = timezone.now()
        save_with_history(
            membership, acting_user=acting_user, reason=reason, fields=["suspended_at"]
        )
    user_end_sessions(user=user)


def _release(suspension: Suspension, *, acting_user: User, reason: str) -> None:
    """Give the access back, unless another suspension of the subject is in force."""
    subject = _subject_filter(
        suspension.subject_type, suspension.organisation, suspension.user
    )
    others = Suspension.objects.filter(**subject, status__in=IN_FORCE).exclude(
        pk=suspension.pk
    )
    if others.exists():
        return
    if suspension.subject_type == Suspension.Subject.ORGANISATION:
        organisation = suspension.organisation
        organisation.refresh_from_db(fields=["status"])
        if organisation.status == Organisation.Status.SUSPENDED:
            organisation_transition(
                organisation=organisation,
                to=Organisation.Status.REGISTERED,
                acting_user=acting_user,
                reason=reason,
            )
        return
    membership = Membership.objects.filter(user=suspension.user).first()
    if membership is not None and membership.suspended_at is not None:
        membership.suspended_at = None
        save_with_history(
            membership, acting_user=acting_user, reason=reason, fields=["suspended_at"]
        )


def suspension_transition(
    *, suspension: Suspension, to: str, acting_user: User, reason: str
) -> Suspension:
    """Decide a suspension: the move (suspension_move, with who and why), then
    what the decision does to the subject's access, and the provider told."""
    with transaction.atomic():
        suspension = suspension_move(
            suspension=suspension, to=to, acting_user=acting_user, reason=reason
        )
        if to in (St.REINSTATED, St.LIFTED):
            _release(suspension, acting_user=acting_user, reason=reason)
        elif to == St.ESCALATED:
            _escalate(suspension, acting_user=acting_user, reason=reason)
        elif to == St.CLOSED:
            return suspension  # the revocation or deregistration told the provider
        _notify_decided(suspension)
    return suspension


def agreement_version_needed(suspension: Suspension, current_number: int) -> int:
    """The agreement version whose signature lifts a not-signed suspension (its
    rule records it; else the current one)."""
    for rule in suspension.rules:
        if isinstance(rule, dict) and isinstance(rule.get("version"), int):
            return int(rule["version"])
    return current_number


def suspensions_lift_signed(
    *, organisation: Organisation, acting_user: User, reason: str
) -> int:
    """Lift the organisation's not-signed suspensions that its signature answers,
    at once (not at the next nightly run); return how many were lifted."""
    signed = organisation.last_signed_version
    if signed is None:
        return 0
    cases = Suspension.objects.filter(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=organisation,
        source=Suspension.Source.HOUSEKEEPING,
        cause=CAUSE_AGREEMENT,
        status__in=IN_FORCE,
    )
    lifted = 0
    for case in cases:
        if agreement_version_needed(case, signed.number) <= signed.number:
            suspension_transition(
                suspension=case, to=St.LIFTED, acting_user=acting_user, reason=reason
            )
            lifted += 1
    return lifted


def _escalate(suspension: Suspension, *, acting_user: User, reason: str) -> None:
    if suspension.subject_type == Suspension.Subject.ORGANISATION:
        organisation = suspension.organisation
        organisation.refresh_from_db(fields=["status"])
        if organisation.status != Organisation.Status.REVOKED:
            organisation_revoke(
                organisation=organisation, acting_user=acting_user, reason=reason
            )
        return
    user = suspension.user
    if user is None:
        raise ValueError("A user suspension without its user")
    if user.is_active:  # a user's access is revoked by closing their account
        user.is_active = False
        save_with_history(
            user,
            acting_user=acting_user,
            reason=f"Access revoked: {reason}",
            fields=["is_active"],
        )
    user_end_sessions(user=user)


def suspension_reinstate(
    *, suspension: Suspension, acting_user: User, reason: str
) -> Suspension:
    """A false positive: access back now, and never suspended again for that day."""
    return suspension_transition(
        suspension=suspension, to=St.REINSTATED, acting_user=acting_user, reason=reason
    )


def suspension_uphold(
    *, suspension: Suspension, acting_user: User, reason: str
) -> Suspension:
    return suspension_transition(
        suspension=suspension, to=St.UPHELD, acting_user=acting_user, reason=reason
    )


def suspension_escalate(
    *, suspension: Suspension, acting_user: User, reason: str
) -> Suspension:
    """Revoke the organisation's access (or close the user's account)."""
    return suspension_transition(
        suspension=suspension, to=St.ESCALATED, acting_user=acting_user, reason=reason
    )


class ExplanationRefused(Exception):
    """The explanation cannot be accepted (not the super user, or decided)."""


def suspension_explain(
    *, suspension: Suspension, acting_user: User, explanation: str
) -> Suspension:
    """The organisation's super user explains; it reaches the caseworkers' queue."""
    from registration import permissions

    explanation = explanation.strip()
    if not permissions.can_explain_suspension(acting_user, suspension.organisation):
        raise PermissionError("Only the organisation's super user can explain")
    if not explanation:
        raise ExplanationRefused("Enter your explanation")
    with transaction.atomic():
        locked = Suspension.objects.select_for_update().get(pk=suspension.pk)
        if not locked.in_force:
            raise ExplanationRefused("This suspension has already been decided")
        if locked.explained_at is not None:
            raise ExplanationRefused(
                "Your organisation has already sent its explanation of this suspension"
            )
        locked.explanation = explanation
        locked.explained_at = timezone.now()
        locked.explained_by = acting_user
        save_with_history(
            locked,
            acting_user=acting_user,
            reason="Explanation submitted by the organisation",
            fields=["explanation", "explained_at", "explained_by"],
        )
        _email_caseworkers(
            subject=f"Explanation received: suspension of {locked.subject_label}",
            body=(
                f"{locked.organisation.legal_name} has explained the suspension "
                f"opened on {locked.opened_at:%d %B %Y}.\n\nReview it in the "
                f"admin: {_admin_link(locked)}"
            ),
            reference=f"suspension.{locked.pk}.explained",
        )
    return locked


# --- emails ------------------------------------------------------------------


def _admin_link(suspension: Suspension) -> str:
    return settings.SERVICE_URL + reverse(
        "admin:registration_suspension_change", args=[suspension.pk]
    )


def _email_caseworkers(*, subject: str, body: str, reference: str) -> None:
    notification_send_to_role(
        role=roles.CASEWORKER, subject=subject, body=body, reference=reference
    )


def _notify_opened(suspension: Suspension) -> None:
    organisation = suspension.organisation
    page = settings.SERVICE_URL + reverse("registration:suspension")
    who = (
        f"the LRS access of {suspension.user.full_name}"
        if suspension.user is not None
        else f"{organisation.legal_name}'s access to the LRS"
    )
    for email in organisation.super_user_emails():
        notification_send(
            to=email,
            subject="Your access to the Learning Records Service is suspended",
            body=(
                f"We have suspended {who}.\n\nWhy: {suspension.reason}\n\n"
                f"You can read the reason and explain at {page}. A caseworker will "
                f"review the suspension and tell you the outcome.\n\n"
                f"If you have questions, email {settings.SUPPORT_EMAIL}."
            ),
            reference=f"suspension.{suspension.pk}.opened",
        )
    _email_caseworkers(
        subject=f"Suspension opened: {suspension.subject_label}",
        body=(
            f"{suspension.get_source_display()} suspended "
            f"{suspension.subject_label} of {organisation.legal_name}.\n\n"
            f"Why: {suspension.reason}\n\nReview it: {_admin_link(suspension)}"
        ),
        reference=f"suspension.{suspension.pk}.opened",
    )


def _notify_decided(suspension: Suspension) -> None:
    outcomes: dict[str, str] = {
        St.UPHELD: "The suspension stays in force.",
        St.REINSTATED: "Access is back now: your users can sign in and search again.",
        St.LIFTED: "Access is back now: your users can sign in and search again.",
        St.ESCALATED: "Access has been revoked.",
    }
    outcome = outcomes[suspension.status]
    for email in suspension.organisation.super_user_emails():
        notification_send(
            to=email,
            subject="Decision on your Learning Records Service suspension",
            body=(
                f"{_decided_by(suspension)} the suspension of "
                f"{suspension.subject_label} opened on "
                f"{suspension.opened_at:%d %B %Y}.\n\n{outcome}\n\n"
                f"Reason: {suspension.decision_reason}\n\n"
                f"If you have questions, email {settings.SUPPORT_EMAIL}."
            ),
            reference=f"suspension.{suspension.pk}.{suspension.status}",
        )


def _decided_by(suspension: Suspension) -> str:
    # No decider is recorded for the (inactive) system user: housekeeping lifts a
    # suspension once its cause is resolved, and no caseworker decided that.
    if suspension.decided_by is not None:
        return "A caseworker has decided"
    return "We have lifted" if suspension.status == St.LIFTED else "We have decided"
