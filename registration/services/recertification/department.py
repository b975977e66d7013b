"""The department's own staff: caseworkers, assessors and panel members,
recertified each quarter by a superuser; whose access has lapsed, and taking it
away."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from lrs_portal import roles
from lrs_portal.models import User, system_user
from lrs_portal.services import notification_send, user_end_sessions
from lrs_portal.transitions import save_with_history
from registration.companies_house import govuk_date
from registration.models import RecertificationCampaign, RecertificationConfirmation
from registration.services.recertification.campaigns import PENDING, quarter_start

# The department's accounts a superuser recertifies each quarter.
DEPARTMENT_ROLES = (roles.CASEWORKER, roles.DSAP_ASSESSOR, roles.DSAP_PANEL_MEMBER)


def department_staff() -> QuerySet[User]:
    """Active caseworkers, assessors and panel members (superusers answer; they
    are not asked about)."""
    return (
        User.objects.filter(
            is_active=True,
            is_staff=True,
            is_superuser=False,
            groups__name__in=DEPARTMENT_ROLES,
        )
        .distinct()
        .order_by("email")
    )


def superuser_emails() -> list[str]:
    return sorted(
        User.objects.filter(is_active=True, is_staff=True, is_superuser=True)
        .exclude(email=User.SYSTEM_EMAIL)
        .values_list("email", flat=True)
    )


def department_link() -> str:
    return settings.SERVICE_URL + reverse(
        "admin:registration_recertificationconfirmation_changelist"
    )


def department_recertification_open(
    *, now: datetime | None = None
) -> RecertificationCampaign | None:
    """Open this quarter's campaign for the department's staff, or None if it is
    open already or there is nobody to ask. The superusers are emailed."""
    now = now or timezone.now()
    start = quarter_start(timezone.localdate(now))
    acting_user = system_user()
    department = RecertificationCampaign.objects.filter(organisation__isnull=True)
    with transaction.atomic():
        if department.filter(quarter_start=start).exists():
            return None
        staff = list(department_staff())
        if not staff:
            return None
        campaign = RecertificationCampaign(
            organisation=None,
            quarter_start=start,
            opened_at=now,
            due_at=now + timedelta(days=settings.RECERTIFICATION_DAYS),
        )
        try:
            with transaction.atomic():  # two runs at once: the second opens nothing
                save_with_history(
                    campaign, acting_user=acting_user, reason="Quarter opened"
                )
        except IntegrityError:
            return None
        for user in staff:
            save_with_history(
                RecertificationConfirmation(campaign=campaign, user=user),
                acting_user=acting_user,
                reason="Asked of the superusers",
            )
        for email in superuser_emails():
            notification_send(
                to=email,
                subject="Confirm which department staff still need LRS Portal access",
                body=(
                    "Each quarter a superuser confirms that each caseworker, DSAP "
                    f"assessor and panel member still needs their access. {len(staff)} "
                    "people are waiting for an answer.\n\nConfirm or remove each of "
                    f"them by {govuk_date(timezone.localdate(campaign.due_at))}: "
                    f"{department_link()}\n\nAnyone not confirmed by then cannot "
                    "use the admin site until a superuser confirms them."
                ),
                reference=f"recertification.{campaign.pk}.department.opened",
            )
    return campaign


def staff_recertification_lapsed(user: User, now: datetime | None = None) -> bool:
    """Whether the user's department access is stopped: a superuser has not
    confirmed them by the department campaign's deadline. One query."""
    return RecertificationConfirmation.objects.filter(
        user=user,
        status=PENDING,
        campaign__organisation__isnull=True,
        campaign__due_at__lte=now or timezone.now(),
    ).exists()


def department_recertification_pending() -> QuerySet[RecertificationConfirmation]:
    """The staff the superusers have still to answer for."""
    return RecertificationConfirmation.objects.filter(
        campaign__organisation__isnull=True, status=PENDING
    )


def staff_access_remove(user: User, *, acting_user: User) -> None:
    """The department no longer needs them: their staff status and department
    roles go, and their sessions end. The account stays (it may hold history)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.is_staff = False
    save_with_history(
        locked,
        acting_user=acting_user,
        reason="Removed at the department's recertification",
        fields=["is_staff"],
    )
    locked.groups.remove(*locked.groups.filter(name__in=DEPARTMENT_ROLES))
    user_end_sessions(user=locked)
