"""An organisation's quarterly campaign: the quarter, and opening it (its
users asked of its super users, who are emailed)."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lrs_portal.models import system_user
from lrs_portal.services import notification_send
from lrs_portal.transitions import save_with_history
from registration.companies_house import govuk_date
from registration.models import (
    Membership,
    Organisation,
    RecertificationCampaign,
    RecertificationConfirmation,
)

PENDING = RecertificationConfirmation.Status.PENDING


def quarter_start(day: date) -> date:
    """The first day of the calendar quarter holding ``day``."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def page_link() -> str:
    return settings.SERVICE_URL + reverse("registration:recertification")


def recertification_open(
    *, organisation: Organisation, now: datetime | None = None
) -> RecertificationCampaign | None:
    """Open this quarter's campaign for the organisation, or None if it has one
    already or no users to confirm (its super users confirm the others)."""
    now = now or timezone.now()
    start = quarter_start(timezone.localdate(now))
    acting_user = system_user()
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if RecertificationCampaign.objects.filter(
            organisation=locked, quarter_start=start
        ).exists():
            return None
        members = list(
            Membership.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(organisation=locked, is_super_user=False, user__is_active=True)
        )
        if not members:
            return None
        campaign = RecertificationCampaign(
            organisation=locked,
            quarter_start=start,
            opened_at=now,
            due_at=now + timedelta(days=settings.RECERTIFICATION_DAYS),
        )
        save_with_history(campaign, acting_user=acting_user, reason="Quarter opened")
        for membership in members:
            save_with_history(
                RecertificationConfirmation(campaign=campaign, user=membership.user),
                acting_user=acting_user,
                reason="Asked of the super user",
            )
            # An answer still owed from an earlier quarter keeps its earlier time.
            if membership.recertify_by is None:
                membership.recertify_by = campaign.due_at
                save_with_history(
                    membership,
                    acting_user=acting_user,
                    reason="Recertification asked",
                    fields=["recertify_by"],
                )
        for email in locked.super_user_emails():
            notification_send(
                to=email,
                subject="Confirm who at your organisation still needs LRS access",
                body=(
                    f"Each quarter we ask you to confirm that each user at "
                    f"{locked.legal_name} still needs access to the Learning Records "
                    f"Service. {len(members)} users are waiting for your answer.\n\n"
                    f"Confirm or remove each of them by "
                    f"{govuk_date(timezone.localdate(campaign.due_at))}: {page_link()}"
                    f"\n\nUsers you have not confirmed by then cannot look up "
                    "learners until you do. Their accounts stay open."
                ),
                reference=f"recertification.{campaign.pk}.opened",
            )
    return campaign
