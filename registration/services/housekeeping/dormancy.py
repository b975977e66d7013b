"""Organisations that no longer use the LRS: warned, then cleared when used again."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration.companies_house import govuk_date
from registration.models import (
    Organisation,
)
from registration.services.housekeeping.deregistration import deregister
from registration.services.housekeeping.steps import (
    Action,
    S,
    email_super_users,
    months_before,
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


def dormancy_actions(now: datetime) -> Iterator[Action]:
    months = settings.HOUSEKEEPING_DORMANT_MONTHS
    grace = settings.HOUSEKEEPING_DORMANT_GRACE_DAYS
    cutoff = months_before(now, months)
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
            yield deregister(
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
            email_super_users(
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
