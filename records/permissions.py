"""The one gate every path to learner data goes through (architecture.md rule 1).

lookup_refusal answers, in this order: is the user active; are they a member of
an organisation; is their own access suspended; is it registered (not
suspended, revoked or deregistered); has it signed the current agreement
version (or an earlier one while the current version's re-sign deadline has
not passed); is its purpose approved; has the
user accepted the user terms. Between the user's suspension and the
organisation's checks: has their super user confirmed them in the quarter's
recertification in time (decision 0029). The real-time caps come last, checked
by records.services inside the transaction that logs the lookup. A refusal names
the reason and nothing more.
"""

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_noop

from lrs_portal.models import User
from registration.models import AgreementVersion, Membership, Organisation
from registration.services import agreement_current_version

if TYPE_CHECKING:
    from records.models import Batch, LearnerView


@dataclass(frozen=True)
class Refusal:
    """``message`` is English (the web service's problem documents say it as it
    is); a page shows it in its own language with gettext(message)
    (records.views), the words being marked here."""

    code: str
    message: str


REFUSALS = {
    "inactive": Refusal("inactive", gettext_noop("Your account cannot be used.")),
    "not_a_member": Refusal(
        "not_a_member",
        gettext_noop("Your account is not linked to a registered organisation."),
    ),
    "user_suspended": Refusal(
        "user_suspended",
        gettext_noop(
            "Your access to the LRS is suspended. Your organisation's super user has "
            "been told why."
        ),
    ),
    "not_recertified": Refusal(
        "not_recertified",
        gettext_noop(
            "You cannot look up learners until your organisation's super user confirms "
            "you still need access to the LRS. Ask them to confirm you on their "
            "'Confirm your users' page."
        ),
    ),
    "terms": Refusal(
        "terms", gettext_noop("Accept the LRS user terms before looking up learners.")
    ),
    "organisation_suspended": Refusal(
        "organisation_suspended",
        gettext_noop("Your organisation's access to the LRS is suspended."),
    ),
    "organisation_revoked": Refusal(
        "organisation_revoked",
        gettext_noop("Your organisation's access to the LRS has been revoked."),
    ),
    "organisation_deregistered": Refusal(
        "organisation_deregistered",
        gettext_noop("Your organisation is no longer registered to use the LRS."),
    ),
    "agreement_not_signed": Refusal(
        "agreement_not_signed",
        gettext_noop(
            "Your organisation has not signed the current LRS agreement. A director "
            "must sign it before you can look up learners."
        ),
    ),
    "purpose_not_approved": Refusal(
        "purpose_not_approved",
        gettext_noop(
            "Your organisation's purpose for using the LRS has not been approved."
        ),
    ),
    "user_cap": Refusal(
        "user_cap",
        gettext_noop(
            "You have reached the number of lookups allowed in an hour. "
            "Try again later."
        ),
    ),
    "organisation_cap": Refusal(
        "organisation_cap",
        gettext_noop(
            "Your organisation has reached its number of lookups for today. Try again "
            "tomorrow."
        ),
    ),
}

_STATUS_REFUSAL: dict[str, str] = {
    Organisation.Status.SUSPENDED: "organisation_suspended",
    Organisation.Status.REVOKED: "organisation_revoked",
    Organisation.Status.DEREGISTERED: "organisation_deregistered",
}


def _current_agreement() -> QuerySet[AgreementVersion]:
    # The same version as registration.services.agreement_current_version().
    return AgreementVersion.objects.filter(published_at__isnull=False).order_by(
        "-number"
    )[:1]


def lookup_membership(user: User, *, lock: bool = False) -> Membership | None:
    """The user's membership, if they have one, with everything the gate reads
    in the same single query: the organisation, and the current agreement
    version's id and re-sign deadline.

    With ``lock`` (inside a transaction) the membership row alone is locked.
    """
    if not user.is_authenticated:
        return None
    current = _current_agreement()
    memberships = (
        Membership.objects.select_related("organisation")
        .annotate(
            current_agreement_id=Subquery(current.values("pk")),
            current_agreement_resign_deadline=Subquery(
                current.values("resign_deadline")
            ),
        )
        .filter(user=user)
        .order_by()
    )
    if lock:
        memberships = memberships.select_for_update(of=("self",))
    membership = next(iter(memberships[:1]), None)
    if membership is not None:
        membership.user = user  # the same row: no second query for it
    return membership


def _agreement_in_force(
    organisation: Organisation, current_id: int | None, deadline: date | None
) -> bool:
    """The current version is signed, or an earlier one is and the current
    version's re-sign deadline has not passed yet."""
    signed_id = organisation.last_signed_version_id
    if current_id is None or signed_id is None:
        return False
    if signed_id == current_id:
        return True
    return deadline is not None and timezone.localdate() <= deadline


def _current_of(membership: Membership) -> tuple[int | None, date | None]:
    if hasattr(membership, "current_agreement_id"):  # read by lookup_membership
        return (
            getattr(membership, "current_agreement_id", None),
            getattr(membership, "current_agreement_resign_deadline", None),
        )
    current = agreement_current_version()
    return (current.pk, current.resign_deadline) if current else (None, None)


def organisation_refusal(
    organisation: Organisation, *, current_id: int | None, deadline: date | None
) -> Refusal | None:
    """Why no member of this organisation may look up learners now, if none may:
    the gate's organisation checks, in its order (current_id and deadline are the
    current agreement version's)."""
    if organisation.status in _STATUS_REFUSAL:
        return REFUSALS[_STATUS_REFUSAL[organisation.status]]
    if not _agreement_in_force(organisation, current_id, deadline):
        return REFUSALS["agreement_not_signed"]
    if organisation.purpose_approved_at is None:
        return REFUSALS["purpose_not_approved"]
    return None


def organisations_with_access() -> list[Organisation]:
    """Every organisation the gate lets through today, by name: the gate's own
    organisation checks (organisation_refusal), applied to each organisation not
    already refused by its status (the access register, decision 0028)."""
    current = agreement_current_version()
    current_id, deadline = (
        (current.pk, current.resign_deadline) if current else (None, None)
    )
    candidates = Organisation.objects.exclude(
        status__in=list(_STATUS_REFUSAL)
    ).order_by("legal_name", "ukprn")
    return [
        organisation
        for organisation in candidates.iterator(chunk_size=2000)
        if organisation_refusal(organisation, current_id=current_id, deadline=deadline)
        is None
    ]


def lookup_refusal(user: User, membership: Membership | None) -> Refusal | None:
    """Why this user may not look up learners now, or None if they may.

    Caps are checked separately, inside the transaction that logs the lookup
    (records.services), so that the count and the new row agree.
    """
    if not user.is_active:
        return REFUSALS["inactive"]
    if membership is None:
        return REFUSALS["not_a_member"]
    if membership.suspended_at is not None:
        return REFUSALS["user_suspended"]
    if (
        membership.recertify_by is not None
        and membership.recertify_by <= timezone.now()
    ):
        return REFUSALS["not_recertified"]
    current_id, deadline = _current_of(membership)
    refusal = organisation_refusal(
        membership.organisation, current_id=current_id, deadline=deadline
    )
    if refusal is not None:
        return refusal
    if membership.terms_accepted_at is None:
        return REFUSALS["terms"]
    return None


def can_read_log(membership: Membership | None) -> bool:
    """Only a super user reads their organisation's log, and not while their own
    access is suspended (the log lists the ULNs searched)."""
    return (
        membership is not None
        and membership.is_super_user
        and membership.suspended_at is None
    )


def can_read_log_ulns(membership: Membership) -> bool:
    """The log's ULNs are learner data: while the organisation's access is taken
    away (suspended, revoked, deregistered) its super user sees the counts and
    the rows without the learner (docs/decisions/0018)."""
    return membership.organisation.status not in _STATUS_REFUSAL


def log_visible_to(
    user: User, membership: Membership | None
) -> QuerySet["LearnerView"]:
    """The super user sees their own organisation's log; nobody else's."""
    from records.models import LearnerView

    if membership is None or not can_read_log(membership):
        return LearnerView.objects.none()
    return LearnerView.objects.filter(organisation=membership.organisation)


def batches_visible_to(user: User, membership: Membership | None) -> QuerySet["Batch"]:
    """A member sees the batches they sent; their organisation's super user sees
    every batch of the organisation; nobody sees another organisation's."""
    from records.models import Batch

    if membership is None:
        return Batch.objects.none()
    ours = Batch.objects.filter(organisation_id=membership.organisation_id)
    if membership.is_super_user:
        return ours
    return ours.filter(submitted_by_id=user.pk)
