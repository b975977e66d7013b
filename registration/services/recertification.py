"""Quarterly recertification of providers' users (issue 14, decision 0029).

Each quarter every registered organisation's super users are asked to confirm
that each of their other users still needs LRS access. A user not confirmed
within RECERTIFICATION_DAYS cannot look up learners (records.permissions reads
Membership.recertify_by, set here) until a super user confirms them; removing a
user goes through membership_remove. The daily job opens the quarter's campaigns
and tells those who lost access; run twice, it creates and sends nothing twice.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal import roles
from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, User, system_user
from lrs_portal.services import notification_send, user_end_sessions
from lrs_portal.transitions import save_with_history
from registration import permissions
from registration.companies_house import govuk_date
from registration.models import (
    Membership,
    Organisation,
    RecertificationCampaign,
    RecertificationConfirmation,
)
from registration.services.members import membership_remove

JOB = "recertification"
PENDING = RecertificationConfirmation.Status.PENDING
# The department's accounts a superuser recertifies each quarter.
DEPARTMENT_ROLES = (roles.CASEWORKER, roles.DSAP_ASSESSOR, roles.DSAP_PANEL_MEMBER)


class RecertificationRefused(Exception):
    """The answer cannot be given (already answered, or the campaign is not theirs)."""


def quarter_start(day: date) -> date:
    """The first day of the calendar quarter holding ``day``."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _page_link() -> str:
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
                    f"{govuk_date(timezone.localdate(campaign.due_at))}: {_page_link()}"
                    f"\n\nUsers you have not confirmed by then cannot look up "
                    "learners until you do. Their accounts stay open."
                ),
                reference=f"recertification.{campaign.pk}.opened",
            )
    return campaign


# --- the department's own staff -------------------------------------------------


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


def _superuser_emails() -> list[str]:
    return sorted(
        User.objects.filter(is_active=True, is_staff=True, is_superuser=True)
        .exclude(email=User.SYSTEM_EMAIL)
        .values_list("email", flat=True)
    )


def _department_link() -> str:
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
        for email in _superuser_emails():
            notification_send(
                to=email,
                subject="Confirm which department staff still need LRS Portal access",
                body=(
                    "Each quarter a superuser confirms that each caseworker, DSAP "
                    f"assessor and panel member still needs their access. {len(staff)} "
                    "people are waiting for an answer.\n\nConfirm or remove each of "
                    f"them by {govuk_date(timezone.localdate(campaign.due_at))}: "
                    f"{_department_link()}\n\nAnyone not confirmed by then cannot "
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


def _staff_access_remove(user: User, *, acting_user: User) -> None:
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
            _staff_access_remove(confirmation.user, acting_user=acting_user)
            return confirmation
        membership = Membership.objects.get(user_id=confirmation.user_id)
        membership_remove(membership=membership, acting_user=acting_user)
    return confirmation


def recertification_notify_lapsed(*, now: datetime | None = None) -> dict[str, int]:
    """Tell each user whose answer came too late, and their super users once a
    campaign; each is marked so that a second run sends nothing."""
    now = now or timezone.now()
    counts = {"users_told": 0, "campaigns_lapsed": 0}
    due = RecertificationCampaign.objects.filter(
        due_at__lte=now, lapse_notified_at__isnull=True
    ).select_related("organisation")
    acting_user = system_user()
    for campaign in due:
        with transaction.atomic():
            locked = RecertificationCampaign.objects.select_for_update().get(
                pk=campaign.pk
            )
            if locked.lapse_notified_at is not None:
                continue
            lapsed = list(
                locked.confirmations.select_for_update(of=("self",))
                .select_related("user")
                .filter(
                    status=PENDING,
                    lapse_notified_at__isnull=True,
                    user__is_active=True,
                )
            )
            for confirmation in lapsed:
                if locked.is_department:
                    notification_send(
                        to=confirmation.user.email,
                        subject="You cannot use the LRS Portal admin until confirmed",
                        body=(
                            "A superuser has not confirmed that you still need your "
                            "department access to LRS Portal. Until one does, you "
                            "cannot use the admin site. Your account stays open. "
                            "Ask a superuser to confirm you."
                        ),
                        reference=f"recertification.{confirmation.pk}.staff.lapsed",
                    )
                else:
                    notification_send(
                        to=confirmation.user.email,
                        subject="You cannot look up learners until you are confirmed",
                        body=(
                            f"Your super user at {campaign.subject_name} has "
                            "not confirmed that you still need access to the Learning "
                            "Records Service. Until they do, you cannot look up "
                            "learners. Your account stays open. Ask your super user "
                            "to confirm you on their 'Confirm your users' page."
                        ),
                        reference=f"recertification.{confirmation.pk}.user.lapsed",
                    )
                confirmation.lapse_notified_at = now
                save_with_history(
                    confirmation,
                    acting_user=acting_user,
                    reason="Told that lookups stopped",
                    fields=["lapse_notified_at"],
                )
                counts["users_told"] += 1
            if lapsed and locked.is_department:
                for email in _superuser_emails():
                    notification_send(
                        to=email,
                        subject="Some department staff cannot use the admin site",
                        body=(
                            f"{len(lapsed)} caseworkers, assessors or panel members "
                            "were not confirmed in time and cannot use the admin "
                            f"site until a superuser confirms them: "
                            f"{_department_link()}"
                        ),
                        reference=f"recertification.{campaign.pk}.department.lapsed",
                    )
                counts["campaigns_lapsed"] += 1
            elif lapsed and campaign.organisation is not None:
                for email in campaign.organisation.super_user_emails():
                    notification_send(
                        to=email,
                        subject="Some of your users cannot look up learners",
                        body=(
                            f"{len(lapsed)} users at "
                            f"{campaign.organisation.legal_name} were not confirmed "
                            "in time and cannot look up learners until you confirm "
                            f"them: {_page_link()}"
                        ),
                        reference=f"recertification.{campaign.pk}.lapsed",
                    )
                counts["campaigns_lapsed"] += 1
            locked.lapse_notified_at = now
            save_with_history(
                locked,
                acting_user=acting_user,
                reason="Lapsed answers told",
                fields=["lapse_notified_at"],
            )
    return counts


@dataclass
class RecertificationOutcome:
    run: JobRun | None
    opened: int


def recertification_run(*, now: datetime | None = None) -> RecertificationOutcome:
    """The daily job: open the quarter's campaigns not yet open, then tell those
    whose answer is late. Under the job's lock, recorded as a JobRun."""
    opened: list[RecertificationCampaign] = []

    def work(progress: JobProgress) -> None:
        moment = now or timezone.now()
        start = quarter_start(timezone.localdate(moment))
        organisations = Organisation.objects.filter(
            status=Organisation.Status.REGISTERED
        ).exclude(recertifications__quarter_start=start)
        for organisation in organisations:
            campaign = recertification_open(organisation=organisation, now=moment)
            if campaign is not None:
                opened.append(campaign)
                progress.add("campaigns_opened")
        department = department_recertification_open(now=moment)
        if department is not None:
            opened.append(department)
            progress.add("department_campaigns_opened")
        for key, number in recertification_notify_lapsed(now=moment).items():
            if number:
                progress.add(key, number)
        progress.day_done(timezone.localdate(moment))

    run = job_run(JOB, work)
    return RecertificationOutcome(run=run, opened=len(opened))
