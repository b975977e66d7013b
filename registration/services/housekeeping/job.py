"""The night's housekeeping job: every rung's actions in order (with API clients'
expiry reminders and the steps other apps hand in), run under the job's lock.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from lrs_portal.jobs import JobProgress, job_run
from lrs_portal.models import JobRun, User, system_user
from registration.models import (
    ApiClient,
)
from registration.services.agreements import agreement_current_version
from registration.services.api_clients import (
    api_client_remind,
    api_client_reminders_due,
)
from registration.services.housekeeping.accounts import unused_account_actions
from registration.services.housekeeping.deregistration import (
    suspended_too_long_actions,
)
from registration.services.housekeeping.dormancy import dormancy_actions
from registration.services.housekeeping.steps import Action
from registration.services.housekeeping.suspending import (
    agreement_actions,
    company_actions,
    ico_actions,
    lift_actions,
    yearly_confirmation_actions,
    yearly_lift_actions,
)

JOB = "housekeeping"


@dataclass(frozen=True)
class HousekeepingOutcome:
    actions: list[Action]
    run: JobRun | None  # None for a dry run


# --- the job -------------------------------------------------------------------


# --- API clients: reminders before they expire ----------------------------------


def _api_client_reminder_actions(today: date) -> Iterator[Action]:
    """Each API client's reminder 30 and 7 days before its expiry, once each
    (claimed on the client, so a second run sends nothing)."""
    for client, days in api_client_reminders_due(today=today):

        def remind(user: User, client: ApiClient = client, days: int = days) -> bool:
            return api_client_remind(api_client=client, days=days)

        yield Action(
            key="api_client_expiry_reminded",
            description=(
                f"Remind {client.organisation.legal_name} that API client "
                f"“{client.name}” expires on {client.expires_on:%d %B %Y} "
                f"({days}-day reminder)"
            ),
            apply=remind,
        )


def housekeeping_plan(*, now: datetime | None = None) -> list[Action]:
    """Every ladder step due now, in the order they are done. Changes nothing."""
    now = now or timezone.now()
    today = now.date()
    version = agreement_current_version()
    suspending: set[int] = set()
    return [
        *lift_actions(version),
        *yearly_lift_actions(),
        *agreement_actions(version, today, suspending),
        *company_actions(suspending),
        *ico_actions(today, suspending),
        *yearly_confirmation_actions(today, suspending),
        *suspended_too_long_actions(now),
        *dormancy_actions(now),
        *unused_account_actions(now),
        *_api_client_reminder_actions(today),
        *_other_apps_actions(now),
    ]


def _other_apps_actions(now: datetime) -> Iterator[Action]:
    """The steps other apps add to the night's housekeeping (their data's
    retention, say), named in settings.HOUSEKEEPING_PLANS: registration imports
    no app above it, so those apps hand their plans in by name."""
    for path in settings.HOUSEKEEPING_PLANS:
        yield from import_string(path)(now=now)


def housekeeping_run(*, dry_run: bool = False) -> HousekeepingOutcome:
    """Run the deregistration ladder under the job's lock; a dry run only plans."""
    actions: list[Action] = []

    def work(progress: JobProgress) -> None:
        actions.extend(housekeeping_plan())
        if dry_run:
            return
        acting_user = system_user()
        for action in actions:
            if action.apply(acting_user):
                progress.add(action.key)
        progress.day_done(timezone.now().date())

    run = job_run(JOB, work, record=not dry_run)
    return HousekeepingOutcome(actions=actions, run=run)
