"""Deregistering an organisation suspended for too long."""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.urls import reverse

from lrs_portal.models import User
from registration.companies_house import govuk_date
from registration.models import (
    Organisation,
    Suspension,
)
from registration.services.housekeeping.steps import ORG, Action, S, email_super_users
from registration.services.organisations import organisation_transition
from registration.services.suspensions import (
    IN_FORCE,
)

# --- deregistration -----------------------------------------------------------------


def deregister(
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
            email_super_users(
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


def suspended_too_long_actions(now: datetime) -> Iterator[Action]:
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
        yield deregister(
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
