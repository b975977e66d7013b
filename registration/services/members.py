"""An organisation's users: invitations, terms, removal."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.models import User
from lrs_portal.services import notification_send, user_end_sessions
from lrs_portal.transitions import save_with_history
from registration import permissions
from registration.models import Invitation, Membership, Organisation
from registration.services.tokens import token_hash, token_new

INVITATION_LIFETIME = timedelta(days=7)


class InvitationRefused(Exception):
    """The invitation cannot be sent or used."""


def invitation_send(
    *, organisation: Organisation, acting_user: User, email: str, full_name: str
) -> Invitation:
    """The super user invites a named person; the link works once, for 7 days."""
    from registration.validators import (
        validate_email_on_organisation_domain,
        validate_personal_mailbox,
    )

    if not permissions.can_manage_users(acting_user, organisation):
        raise PermissionError("Only the organisation's super user can invite users")
    if not organisation.can_use_lrs:
        raise InvitationRefused(
            _("The organisation cannot add users while it has no access")
        )
    email = email.strip().lower()
    validate_personal_mailbox(email)
    validate_email_on_organisation_domain(email, organisation.website)
    if User.objects.filter(email__iexact=email, membership__isnull=False).exists():
        raise InvitationRefused(_("That person already has an LRS Portal account"))
    token, hashed = token_new()
    with transaction.atomic():
        invitation = Invitation(
            organisation=organisation,
            email=email,
            full_name=full_name.strip(),
            invited_by=acting_user,
            token_hash=hashed,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        save_with_history(invitation, acting_user=acting_user, reason="Invited")
        link = settings.SERVICE_URL + reverse(
            "registration:accept-invitation", args=[token]
        )
        notification_send(
            to=email,
            subject=f"Your invitation to use the LRS for {organisation.legal_name}",
            body=(
                f"{acting_user.full_name} has invited you to look up learner records "
                f"for {organisation.legal_name} in the Learning Records Service.\n\n"
                f"Create your account:\n{link}\n\n"
                f"The link works once and expires on "
                f"{timezone.localtime(invitation.expires_at):%d %B %Y}."
            ),
            reference="members.invitation",
        )
    return invitation


def invitation_find(*, token: str) -> Invitation | None:
    """The invitation for a link's token, whether or not it is still usable."""
    return (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=token_hash(token))
        .first()
    )


def invitation_accept(*, token: str, password: str) -> User:
    """Create the invited person's account and membership; the link is then spent."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organisation")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if invitation is None or not invitation.is_usable:
            raise InvitationRefused(_("This invitation has expired or has been used"))
        if not invitation.organisation.can_use_lrs:
            raise InvitationRefused(_("The organisation no longer has LRS access"))
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            user = User.objects.create_user(
                invitation.email, password, full_name=invitation.full_name
            )
        elif user.is_active or Membership.objects.filter(user=user).exists():
            raise InvitationRefused(
                _("An account with this email address already exists")
            )
        else:
            # Someone removed earlier and invited back: their old account returns.
            user.is_active = True
            user.full_name = invitation.full_name
            user.set_password(password)
            save_with_history(user, acting_user=user, reason="Invited back")
        membership = Membership(
            user=user, organisation=invitation.organisation, is_super_user=False
        )
        save_with_history(membership, acting_user=user, reason="Accepted invitation")
        permissions.member_permissions_grant(
            user=user, organisation=invitation.organisation, super_user=False
        )
        invitation.accepted_at = timezone.now()
        save_with_history(
            invitation, acting_user=user, reason="Accepted", fields=["accepted_at"]
        )
    return user


def membership_accept_terms(*, membership: Membership) -> Membership:
    """A user accepts the LRS user terms at their first sign-in."""
    if membership.terms_accepted_at is None:
        membership.terms_accepted_at = timezone.now()
        save_with_history(
            membership,
            acting_user=membership.user,
            reason="Accepted the user terms",
            fields=["terms_accepted_at"],
        )
    return membership


def membership_remove(*, membership: Membership, acting_user: User) -> User:
    """Remove a user: their account is deactivated and their sessions end now."""
    organisation = membership.organisation
    if not permissions.can_manage_users(acting_user, organisation):
        raise PermissionError("Only the organisation's super user can remove users")
    if membership.user_id == acting_user.pk:
        raise InvitationRefused(_("You cannot remove yourself"))
    user = membership.user
    with transaction.atomic():
        permissions.member_permissions_revoke(user=user, organisation=organisation)
        membership._history_user = acting_user  # type: ignore[attr-defined]
        membership._change_reason = "Removed by the super user"  # type: ignore[attr-defined]
        membership.delete()
        user.is_active = False
        save_with_history(
            user,
            acting_user=acting_user,
            reason=f"Removed from {organisation.legal_name}",
            fields=["is_active"],
        )
        user_end_sessions(user=user)
    return user


def membership_record_lookup(
    *, membership: Membership, when: datetime | None = None
) -> bool:
    """Note the day (UTC) of a member's search, which keeps their organisation and
    account from counting as unused (housekeeping); return whether it wrote.

    records calls it on each lookup. It writes at most once a member a day and keeps
    no history row, so the lookup path gains no more than one small UPDATE a day.
    """
    day = (when or timezone.now()).astimezone(UTC).date()
    if membership.last_lookup_on is not None and membership.last_lookup_on >= day:
        return False
    membership.last_lookup_on = day
    # A usage timestamp, not a change of state: like User.last_login, not history.
    membership.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        membership.save(update_fields=["last_lookup_on"])
    finally:
        del membership.skip_history_when_saving  # type: ignore[attr-defined]
    return True
