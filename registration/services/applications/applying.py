"""The provider's side of an application: start one (or a re-registration),
see what is still missing, submit it (which queues the automatic checks), withdraw
it."""

import logging
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.celery import task_named
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration.models import (
    AwardingOrganisationAccreditation,
    LearnerReach,
    Membership,
    Organisation,
    RegistrationApplication,
)
from registration.services.applications.moves import (
    A,
    ApprovalBlocked,
    application_transition,
)

# The name it logged under before the split, which log searches use.
logger = logging.getLogger("registration.services.applications")

PURPOSE_MIN_LENGTH = 100
# Enqueued by name (lrs_portal.celery.task_named): the task imports this service.
RUN_CHECKS_TASK = "registration.tasks.application_run_checks_task"
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I


def _new_reference() -> str:
    while True:
        code = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
        reference = f"LRS-{code}"
        if not RegistrationApplication.objects.filter(reference=reference).exists():
            return reference


def application_start(*, applicant: User) -> RegistrationApplication:
    """Start (or return the open) application of a signed-in applicant."""
    open_application = RegistrationApplication.objects.filter(
        applicant=applicant, status__in=[A.DRAFT, A.SUBMITTED, A.MORE_INFO_REQUESTED]
    ).first()
    if open_application is not None:
        return open_application
    application = RegistrationApplication(
        applicant=applicant,
        reference=_new_reference(),
        super_user_name=applicant.full_name,
        super_user_email=applicant.email,
    )
    return save_with_history(application, acting_user=applicant, reason="Started")


def reregistration_start(
    *, organisation: Organisation, applicant: User
) -> RegistrationApplication:
    """A re-registration after revocation, pre-filled from the last approved one,
    or (none approved, as for an organisation registered before the portal) from
    the organisation itself."""
    last = (
        organisation.applications.filter(status=A.APPROVED)
        .order_by("-decided_at")
        .first()
    )
    source: Organisation | RegistrationApplication = last or organisation
    copied = [
        "legal_name",
        "trading_names",
        "ukprn",
        "companies_house_number",
        "ico_number",
        "registered_address",
        "website",
        "estimated_learners_per_year",
        "purpose",
        "learner_ages",
        "learner_reach",
        "learner_reach_km",
        # Only an application holds the purpose in detail.
        *(["purpose_detail"] if last else []),
    ]
    with transaction.atomic():
        application = RegistrationApplication(
            applicant=applicant,
            organisation=organisation,
            kind=RegistrationApplication.Kind.REREGISTRATION,
            reference=_new_reference(),
            super_user_name=applicant.full_name,
            super_user_email=applicant.email,
            **{field: getattr(source, field) for field in copied},
        )
        save_with_history(application, acting_user=applicant, reason="Re-registration")
        if last is not None:
            for accreditation in last.accreditations.all():
                save_with_history(
                    AwardingOrganisationAccreditation(
                        application=application,
                        awarding_organisation=accreditation.awarding_organisation,
                        reference=accreditation.reference,
                    ),
                    acting_user=applicant,
                    reason=f"Copied from application {last.reference} at "
                    "re-registration",
                )
    return application


def application_missing_sections(application: RegistrationApplication) -> list[str]:
    """Sections the provider has still to complete before submitting."""
    missing = []
    details = (
        application.legal_name,
        application.ukprn,
        application.companies_house_number,
        application.ico_number,
        application.registered_address,
        application.website,
        application.super_user_email,
    )
    if not all(details):
        missing.append("organisation_details")
    if (
        not application.estimated_learners_per_year
        or not application.accreditations.exists()
    ):
        missing.append("accreditation")
    if not application.companies_house_number or not _company_found(application):
        missing.append("going_concern")
    if (
        not application.purpose
        or len(application.purpose_detail.strip()) < PURPOSE_MIN_LENGTH
    ):
        missing.append("purpose")
    if not application.learner_ages or not (
        application.learner_reach == LearnerReach.ENGLAND
        or (
            application.learner_reach == LearnerReach.LOCAL
            and application.learner_reach_km
        )
    ):
        missing.append("learners_served")
    if not (application.signing_director_name and application.signing_director_email):
        missing.append("signing_director")
    return missing


def _company_found(application: RegistrationApplication) -> bool:
    from registration.models import CompaniesHouseSnapshot

    latest = (
        CompaniesHouseSnapshot.objects.filter(
            company_number=application.companies_house_number,
            kind=CompaniesHouseSnapshot.Kind.PROFILE,
        )
        .order_by("-fetched_at")
        .first()
    )
    return bool(latest and latest.found)


def application_submit(
    *, application: RegistrationApplication, acting_user: User
) -> RegistrationApplication:
    """Submit a complete application with its declaration; run the automatic checks."""
    membership = Membership.objects.filter(user=application.applicant).first()
    if (
        membership is not None
        and membership.organisation_id != application.organisation_id
    ):
        # Approval would move them: a member applies only to re-register their own.
        raise ApprovalBlocked(
            [_("You are already a user of a registered organisation")]
        )
    missing = application_missing_sections(application)
    if missing:
        raise ApprovalBlocked(
            [_("Complete the section: %(name)s") % {"name": name} for name in missing]
        )
    if application.declaration_accepted_at is None:
        raise ApprovalBlocked([_("Confirm the declaration")])
    application_run_checks_task = task_named(RUN_CHECKS_TASK)
    with transaction.atomic():
        application = application_transition(
            application=application,
            to=A.SUBMITTED,
            acting_user=acting_user,
            reason="Submitted by the provider",
            changes={"submitted_at": timezone.now()},
        )
        # Companies House is called after commit, by a worker: never inside a
        # transaction or a web request (style.md 6.11).
        pk, user_pk = application.pk, acting_user.pk

        def enqueue() -> None:
            try:
                application_run_checks_task.delay(pk, user_pk)
            except Exception:  # broker down: a caseworker re-runs the checks
                logger.warning("application_checks_enqueue_failed", extra={"id": pk})

        transaction.on_commit(enqueue)
    return application


def application_withdraw(
    *, application: RegistrationApplication, acting_user: User
) -> RegistrationApplication:
    """The applicant withdraws their own application."""
    if application.applicant_id != acting_user.pk:
        raise PermissionError("Only the applicant can withdraw an application")
    return application_transition(
        application=application,
        to=A.WITHDRAWN,
        acting_user=acting_user,
        reason="Withdrawn by the applicant",
    )
