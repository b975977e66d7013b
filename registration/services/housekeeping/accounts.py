"""Users' accounts not used for a long time: warned, then deactivated (never an
organisation's last super user).
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lrs_portal.models import Notification, User
from lrs_portal.services import notification_send, user_end_sessions
from lrs_portal.transitions import save_with_history
from registration.companies_house import govuk_date
from registration.models import (
    Membership,
)
from registration.services.housekeeping.steps import Action, email_super_users

# --- accounts ---------------------------------------------------------------------


def unused_account_actions(now: datetime) -> Iterator[Action]:
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
            email_super_users(
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
