"""Deciding an application: what still blocks approval, approval (the
organisation registered, or registered again, and the applicant its super user),
rejection."""

from django.db import transaction
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration import permissions
from registration.models import (
    AgreementSignature,
    ApplicationCheck,
    CheckKind,
    Membership,
    Organisation,
    RegistrationApplication,
)
from registration.services.agreements import agreement_current_version
from registration.services.applications.moves import (
    A,
    ApprovalBlocked,
    application_transition,
)
from registration.services.applications.vetting import returning_organisation
from registration.services.organisations import organisation_transition


def approval_blockers(application: RegistrationApplication) -> list[str]:
    """Everything that stops an application being approved, in plain words."""
    blockers = []
    if application.status != A.SUBMITTED:
        blockers.append("Only a submitted application can be approved.")
    outcomes = dict(application.checks.values_list("kind", "outcome"))
    for kind in CheckKind:
        if outcomes.get(kind) != ApplicationCheck.Outcome.PASS:
            blockers.append(f"The {kind.label} check has not passed.")
    if (
        application.is_exception
        and not application.follow_up_discussions.filter(
            purpose_acceptable=True
        ).exists()
    ):
        blockers.append(
            "The purpose is an exception: record a follow-up discussion that "
            "found it acceptable."
        )
    version = agreement_current_version()
    if version is None:
        blockers.append("No agreement version has been published.")
    elif not AgreementSignature.objects.filter(
        application=application, agreement_version=version
    ).exists():
        blockers.append(
            "The director has not signed the current agreement "
            f"(version {version.number})."
        )
    return blockers


def application_approve(
    *, application: RegistrationApplication, acting_user: User, reason: str = ""
) -> Organisation:
    """Approve: the organisation is registered and the applicant its super user."""
    if not permissions.can_decide(acting_user, application):
        raise PermissionError("You cannot decide this application")
    blockers = approval_blockers(application)
    if blockers:
        raise ApprovalBlocked(blockers)
    with transaction.atomic():
        application = application_transition(
            application=application,
            to=A.APPROVED,
            acting_user=acting_user,
            reason=reason or "Approved: every check passed",
            changes={"decided_at": timezone.now(), "decision_reason": reason},
        )
        organisation = _register_organisation(application, acting_user)
        application.organisation = organisation
        save_with_history(
            application,
            acting_user=acting_user,
            reason="Linked to its organisation",
            fields=["organisation"],
        )
        _make_super_user(application.applicant, organisation, acting_user)
    return organisation


_COPIED_TO_ORGANISATION = [
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
    "signing_director_name",
    "signing_director_appointment",
    "signing_director_email",
]


def _register_organisation(
    application: RegistrationApplication, acting_user: User
) -> Organisation:
    version = agreement_current_version()
    values = {field: getattr(application, field) for field in _COPIED_TO_ORGANISATION}
    values["purpose_approved_at"] = timezone.now()
    organisation = application.organisation or returning_organisation(application)
    if organisation is None:
        organisation = Organisation(**values, last_signed_version=version)
        save_with_history(organisation, acting_user=acting_user, reason="Registered")
    else:
        for field, value in values.items():
            setattr(organisation, field, value)
        organisation.last_signed_version = version
        save_with_history(
            organisation, acting_user=acting_user, reason="Re-registration approved"
        )
        organisation = organisation_transition(
            organisation=organisation,
            to=Organisation.Status.REGISTERED,
            acting_user=acting_user,
            reason=f"Re-registration {application.reference} approved",
        )
    for signature in AgreementSignature.objects.filter(
        application=application, organisation=None
    ):
        signature.organisation = organisation
        save_with_history(
            signature,
            acting_user=acting_user,
            reason="Signature attached to the registered organisation",
            fields=["organisation"],
        )
    return organisation


def _make_super_user(user: User, organisation: Organisation, acting_user: User) -> None:
    membership = Membership.objects.filter(user=user).first() or Membership(user=user)
    membership.organisation = organisation
    membership.is_super_user = True
    save_with_history(membership, acting_user=acting_user, reason="Super user")
    permissions.member_permissions_grant(
        user=user, organisation=organisation, super_user=True
    )


def application_reject(
    *, application: RegistrationApplication, acting_user: User, reason: str
) -> RegistrationApplication:
    """Reject with a reason the provider will see."""
    if not permissions.can_decide(acting_user, application):
        raise PermissionError("You cannot decide this application")
    if not reason.strip():
        raise ApprovalBlocked(["Give the reason for rejecting the application"])
    return application_transition(
        application=application,
        to=A.REJECTED,
        acting_user=acting_user,
        reason=reason,
        changes={"decided_at": timezone.now(), "decision_reason": reason},
    )
