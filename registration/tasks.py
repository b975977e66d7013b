"""Celery tasks for registration: each only calls one service.

They import the services at the top; the services enqueue them by name
(lrs_portal.celery.task_named), so the import goes one way only. A nightly run
that finds another holding the job's lock is recorded as skipped by
lrs_portal.jobs and ends quietly here.
"""

from contextlib import suppress

from celery import shared_task
from django.conf import settings

from lrs_portal.jobs import JobLocked
from lrs_portal.models import User, system_user
from registration.models import RegistrationApplication
from registration.services import application_run_checks
from registration.services.housekeeping import housekeeping_run
from registration.services.recertification import recertification_run
from registration.services.reminders import reminders_run
from registration.services.reverification import reverify_organisations_run
from registration.services.yearly_confirmation import yearly_confirmation_run


@shared_task(acks_late=True)
def application_run_checks_task(application_id: int, acting_user_id: int) -> None:
    # The worker runs the checks: history records the system user, and the
    # cause names who submitted.
    submitter = User.objects.get(pk=acting_user_id)
    application_run_checks(
        application=RegistrationApplication.objects.get(pk=application_id),
        acting_user=system_user(),
        cause=f"Automatic check run after submission by {submitter.email}",
    )


# It waits on Companies House's rate limit, so it runs far longer than the default
# time limits allow: it stops itself after REVERIFY_TIME_BUDGET_MINUTES (default
# 100); its hard limit is the longest run any task may have, from which the
# broker's visibility timeout is set (JOB_LONGEST_RUN_MINUTES in settings).
@shared_task(
    soft_time_limit=(settings.JOB_LONGEST_RUN_MINUTES - 5) * 60,
    time_limit=settings.JOB_LONGEST_RUN_MINUTES * 60,
)
def reverify_organisations_task() -> None:
    with suppress(JobLocked):
        reverify_organisations_run()


@shared_task
def housekeeping_task() -> None:
    with suppress(JobLocked):
        housekeeping_run()


@shared_task
def recertification_task() -> None:
    with suppress(JobLocked):
        recertification_run()


@shared_task
def yearly_confirmation_task() -> None:
    with suppress(JobLocked):
        yearly_confirmation_run()


@shared_task
def reminders_task() -> None:
    with suppress(JobLocked):
        reminders_run()
