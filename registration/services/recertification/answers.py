"""The super user's (or, for the department, a superuser's) answer for each
user: confirmed, or removed."""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration import permissions
from registration.models import (
    Membership,
    Organisation,
    RecertificationConfirmation,
)
from registration.services.members import membership_remove
from registration.services.recertification.campaigns import PENDING
from registration.services.recertification.department import staff_access_remove


class RecertificationRefused(Exception):
    """The answer cannot be given (already answered, or the campaign is not theirs)."""


def _pending_for(
    acting_user: User, organisation: Organisation | None
) -> QuerySet[RecertificationConfirmation]:
    return RecertificationConfirmation.objects.filter(
        campaign__organisation=organisation, status=PENDING
    ).exclude(user=acting_user)


def recertification_pending(
    *, organisation: Organisation
) -> QuerySet[RecertificationConfirmation]:
    """The users the organisation's super users have still to answer for."""
    return (
        RecertificationConfirmation.objects.filter(
            campaign__organisation=organisation, status=PENDING
        )
        .select_related("campaign", "user", "user__membership")
        .order_by("user__email", "campaign__quarter_start")
    )


def _decide(
    confirmation: RecertificationConfirmation,
    *,
    acting_user: User,
    status: str,
    reason: str,
) -> RecertificationConfirmation:
    """Record the answer for this user in every open campaign of the organisation
    (an answer owed from an earlier quarter is answered by the same one)."""
    organisation = confirmation.campaign.organisation
    now = timezone.now()
    answered = list(
        _pending_for(acting_user, organisation)
        .select_for_update(of=("self",))
        .filter(user_id=confirmation.user_id)
    )
    if not answered:
        raise RecertificationRefused(_("This user has been answered for already"))
    for row in answered:
        row.status = status
        row.decided_at = now
        row.decided_by = acting_user
        save_with_history(
            row,
            acting_user=acting_user,
            reason=reason,
            fields=["status", "decided_at", "decided_by"],
        )
    confirmation.refresh_from_db()
    return confirmation


def _check(confirmation: RecertificationConfirmation, acting_user: User) -> None:
    organisation = confirmation.campaign.organisation
    if organisation is None:
        if not permissions.can_recertify_department(acting_user):
            raise PermissionError("Only a superuser can confirm department staff")
    elif not permissions.can_manage_users(acting_user, organisation):
        raise PermissionError("Only the organisation's super user can confirm users")
    if confirmation.user_id == acting_user.pk:
        raise RecertificationRefused(_("You cannot confirm yourself"))


def recertification_confirm(
    *, confirmation: RecertificationConfirmation, acting_user: User
) -> RecertificationConfirmation:
    """The super user confirms the user still needs access: lookups work again."""
    _check(confirmation, acting_user)
    with transaction.atomic():
        confirmation = _decide(
            confirmation,
            acting_user=acting_user,
            status=RecertificationConfirmation.Status.CONFIRMED,
            reason="Confirmed by the super user",
        )
        if confirmation.campaign.is_department:
            return confirmation  # the gate reads the answer itself
        membership = Membership.objects.select_for_update().get(
            user_id=confirmation.user_id
        )
        if membership.recertify_by is not None:
            membership.recertify_by = None
            save_with_history(
                membership,
                acting_user=acting_user,
                reason="Recertified by the super user",
                fields=["recertify_by"],
            )
    return confirmation


def recertification_remove(
    *, confirmation: RecertificationConfirmation, acting_user: User
) -> RecertificationConfirmation:
    """The super user says the user no longer needs access: they are removed from
    the organisation (membership_remove: account closed, sessions ended)."""
    _check(confirmation, acting_user)
    with transaction.atomic():
        confirmation = _decide(
            confirmation,
            acting_user=acting_user,
            status=RecertificationConfirmation.Status.REMOVED,
            reason="Removed by the super user at recertification",
        )
        if confirmation.campaign.is_department:
            staff_access_remove(confirmation.user, acting_user=acting_user)
            return confirmation
        membership = Membership.objects.get(user_id=confirmation.user_id)
        membership_remove(membership=membership, acting_user=acting_user)
    return confirmation
