"""The daily job: open the quarter's campaigns, then tell those whose answer
came too late (and their super users, or the superusers)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, system_user
from lrs_portal.services import notification_send
from lrs_portal.transitions import save_with_history
from registration.models import Organisation, RecertificationCampaign
from registration.services.recertification.campaigns import (
    PENDING,
    page_link,
    quarter_start,
    recertification_open,
)
from registration.services.recertification.department import (
    department_link,
    department_recertification_open,
    superuser_emails,
)

JOB = "recertification"


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
                for email in superuser_emails():
                    notification_send(
                        to=email,
                        subject="Some department staff cannot use the admin site",
                        body=(
                            f"{len(lapsed)} caseworkers, assessors or panel members "
                            "were not confirmed in time and cannot use the admin "
                            f"site until a superuser confirms them: "
                            f"{department_link()}"
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
                            f"them: {page_link()}"
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
