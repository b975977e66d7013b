"""Registration applications: apply, vet check by check, decide."""

import logging
import secrets
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history, transition
from registration import permissions
from registration.models import (
    AgreementSignature,
    ApplicationCheck,
    AwardingOrganisationAccreditation,
    CheckKind,
    FollowUpDiscussion,
    LearnerReach,
    Membership,
    Organisation,
    RegistrationApplication,
)
from registration.services.agreements import agreement_current_version
from registration.services.organisations import organisation_transition

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from registration.companies_house import CompanyFacts

A = RegistrationApplication.Status
APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    A.DRAFT: {A.SUBMITTED, A.WITHDRAWN},
    A.SUBMITTED: {A.MORE_INFO_REQUESTED, A.APPROVED, A.REJECTED, A.WITHDRAWN},
    A.MORE_INFO_REQUESTED: {A.SUBMITTED, A.REJECTED, A.WITHDRAWN},
    A.APPROVED: set(),
    A.REJECTED: set(),
    A.WITHDRAWN: set(),
}
PURPOSE_MIN_LENGTH = 100
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I


class ApprovalBlocked(Exception):
    """Approval refused; ``reasons`` says what is still missing."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def application_transition(
    *,
    application: RegistrationApplication,
    to: str,
    acting_user: User,
    reason: str,
    changes: dict[str, Any] | None = None,
) -> RegistrationApplication:
    """The one function that changes an application's status."""
    return transition(
        instance=application,
        to=to,
        allowed=APPLICATION_TRANSITIONS,
        acting_user=acting_user,
        reason=reason,
        changes=changes,
    )


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
    from registration.tasks import application_run_checks_task

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


@dataclass(frozen=True)
class _Automatic:
    result: str
    summary: str
    evidence: dict[str, Any]


def _check_companies_house(
    application: RegistrationApplication, facts: "CompanyFacts | None"
) -> list[tuple[str, _Automatic]]:
    from registration.companies_house import name_matches, status_finding

    R = ApplicationCheck.Result
    if facts is None:
        unavailable = _Automatic(R.NOT_RUN, "Companies House was unavailable.", {})
        return [
            (CheckKind.COMPANIES_HOUSE, unavailable),
            (CheckKind.GOING_CONCERN, unavailable),
        ]
    evidence = {
        "company_number": facts.company_number,
        "company_name": facts.company_name,
        "company_status": facts.company_status,
        "company_status_detail": facts.company_status_detail,
        "fetched_at": facts.fetched_at.isoformat(),
    }
    if not facts.found:
        ch = _Automatic(
            R.FAIL, "Companies House has no company with this number.", evidence
        )
    else:
        status = status_finding(facts.profile)
        if status is not None:
            ch = _Automatic(R.FAIL, status.message, evidence)
        elif not name_matches(facts.company_name, application.legal_name):
            ch = _Automatic(
                R.NEEDS_REVIEW,
                f"Registered and active, but Companies House's name "
                f"({facts.company_name}) differs from the name given "
                f"({application.legal_name}).",
                evidence,
            )
        else:
            ch = _Automatic(
                R.PASS, "Registered and active, and the name matches.", evidence
            )
    findings = facts.findings if facts.found else []
    going = [
        {"code": f.code, "severity": f.severity, "message": f.message} for f in findings
    ]
    going_evidence = {
        **evidence,
        "findings": going,
        "accounts_uploaded": bool(application.accounts_document),
    }
    if any(f.severity == "fail" for f in findings):
        gc = _Automatic(R.FAIL, " ".join(f.message for f in findings), going_evidence)
    elif findings:
        gc = _Automatic(
            R.NEEDS_REVIEW, " ".join(f.message for f in findings), going_evidence
        )
    elif facts.found:
        gc = _Automatic(
            R.PASS, "No going-concern concerns at Companies House.", going_evidence
        )
    else:
        gc = _Automatic(
            R.FAIL, "No company found, so no going-concern evidence.", going_evidence
        )
    return [(CheckKind.COMPANIES_HOUSE, ch), (CheckKind.GOING_CONCERN, gc)]


def _check_ico(application: RegistrationApplication) -> _Automatic:
    from registration.ico import ico_verify

    found = ico_verify(
        ico_number=application.ico_number,
        organisation_name=application.legal_name,
        on=timezone.localdate(),
    )
    return _Automatic(found.result, found.message, found.evidence)


# An organisation off the register keeps its UKPRN; a new application for that
# UKPRN is its return, approved onto the same organisation (and history).
_RETURNABLE = (Organisation.Status.REVOKED, Organisation.Status.DEREGISTERED)


def _returning_organisation(
    application: RegistrationApplication,
) -> Organisation | None:
    """The revoked or deregistered organisation a new application's UKPRN is
    held by, if any."""
    if application.organisation_id or not application.ukprn:
        return None
    return Organisation.objects.filter(
        ukprn=application.ukprn, status__in=_RETURNABLE
    ).first()


def _check_ukprn(application: RegistrationApplication) -> _Automatic:
    R = ApplicationCheck.Result
    returning = _returning_organisation(application)
    if returning is not None:
        return _Automatic(
            R.NEEDS_REVIEW,
            f"The UKPRN belongs to {returning.legal_name}, whose registration has "
            f"ended ({returning.get_status_display().lower()}). Approving this "
            "application registers that organisation again, with these details: "
            "check on the UKRLP that the UKPRN is active and that the applicant "
            "acts for it, and read its history first.",
            {"ukprn": application.ukprn, "returning_organisation": returning.pk},
        )
    taken = Organisation.objects.filter(ukprn=application.ukprn)
    if application.organisation_id:
        taken = taken.exclude(pk=application.organisation_id)
    if taken.exists():
        return _Automatic(
            R.FAIL, "Another registered organisation already has this UKPRN.", {}
        )
    return _Automatic(
        R.NEEDS_REVIEW,
        "The UKPRN is in the right format and no other organisation here uses it. "
        "Confirm on the UKRLP that it is active and belongs to this organisation.",
        {"ukprn": application.ukprn},
    )


def _check_signing_director(
    application: RegistrationApplication, facts: "CompanyFacts | None"
) -> _Automatic:
    R = ApplicationCheck.Result
    evidence: dict[str, Any] = {
        "director": application.signing_director_name,
        "appointment": application.signing_director_appointment,
    }
    if facts is None:
        return _Automatic(R.NOT_RUN, "Companies House was unavailable.", evidence)
    current = {d.appointment for d in facts.directors}
    if application.signing_director_appointment not in current:
        return _Automatic(
            R.FAIL,
            "The nominated director is not a current director at Companies House.",
            evidence,
        )
    version = agreement_current_version()
    signed = AgreementSignature.objects.filter(
        application=application, agreement_version=version
    ).first()
    if signed is None:
        return _Automatic(
            R.NEEDS_REVIEW,
            "A current director is nominated but has not yet signed the current "
            "agreement.",
            evidence,
        )
    evidence["signed_at"] = signed.signed_at.isoformat()
    evidence["agreement_version"] = signed.agreement_version.number
    return _Automatic(
        R.PASS,
        f"{signed.director_name_at_companies_house} signed version "
        f"{signed.agreement_version.number} on {signed.signed_at:%d %B %Y}.",
        evidence,
    )


def application_run_checks(
    *,
    application: RegistrationApplication,
    acting_user: User,
    cause: str = "Automatic check run",
) -> list[ApplicationCheck]:
    """(Re)run every automatic check; a caseworker's outcome is never overwritten.

    Calls Companies House once: run it outside any transaction (a worker task).
    Every history row, the first included, records who ran it and the cause.
    """
    from registration.companies_house import CompaniesHouseUnavailable, company_fetch

    R = ApplicationCheck.Result
    try:
        facts = company_fetch(company_number=application.companies_house_number)
    except (CompaniesHouseUnavailable, ValidationError):
        facts = None
    results: list[tuple[str, _Automatic]] = [
        *_check_companies_house(application, facts),
        (CheckKind.ICO, _check_ico(application)),
        (CheckKind.UKPRN, _check_ukprn(application)),
        (
            CheckKind.AWARDING_ORGANISATIONS,
            _Automatic(
                R.NEEDS_REVIEW,
                "ESFA confirms accreditation with each awarding organisation "
                "independently.",
                {
                    "accreditations": [
                        str(a) for a in application.accreditations.all()
                    ],
                    "learners_per_year": application.estimated_learners_per_year,
                    "learner_ages": application.learner_ages_display,
                    "learner_reach": application.learner_reach_display,
                },
            ),
        ),
        (CheckKind.SIGNING_DIRECTOR, _check_signing_director(application, facts)),
        (
            CheckKind.PURPOSE,
            _Automatic(R.PASS, "To enrol their own students.", {})
            if not application.is_exception
            else _Automatic(
                R.NEEDS_REVIEW,
                "Another purpose: an exception that needs a recorded follow-up "
                "discussion before approval.",
                {"purpose_detail": application.purpose_detail},
            ),
        ),
    ]
    checks = []
    now = timezone.now()
    for kind, automatic in results:
        check = ApplicationCheck.objects.filter(
            application=application, kind=kind
        ).first() or ApplicationCheck(application=application, kind=kind)
        check.automatic_result = automatic.result
        check.automatic_summary = automatic.summary
        check.evidence = automatic.evidence
        check.checked_at = now
        fields = ["automatic_result", "automatic_summary", "evidence", "checked_at"]
        save_with_history(
            check,
            acting_user=acting_user,
            reason=cause,
            fields=fields if check.pk else None,
        )
        checks.append(check)
    return checks


def check_record_outcome(
    *, check: ApplicationCheck, acting_user: User, outcome: str, notes: str
) -> ApplicationCheck:
    """A caseworker's outcome for one check, with notes."""
    if not permissions.can_vet(acting_user):
        raise PermissionError("Only caseworkers record check outcomes")
    if check.application.status not in (A.SUBMITTED, A.MORE_INFO_REQUESTED):
        raise ApprovalBlocked(["Only a submitted application's checks can be decided"])
    if outcome not in ApplicationCheck.Outcome.values:
        raise ApprovalBlocked([f"Unknown outcome {outcome!r}"])
    check.outcome = outcome
    check.notes = notes
    check.decided_by = acting_user
    check.decided_at = timezone.now()
    return save_with_history(
        check,
        acting_user=acting_user,
        reason=f"Outcome: {check.get_outcome_display()}",
        fields=["outcome", "notes", "decided_by", "decided_at"],
    )


def application_request_information(
    *, application: RegistrationApplication, acting_user: User, request_text: str
) -> RegistrationApplication:
    """Send an application back to the provider, saying what is needed."""
    if not permissions.can_vet(acting_user):
        raise PermissionError("Only caseworkers request information")
    if not request_text.strip():
        raise ApprovalBlocked(["Say what information is needed"])
    return application_transition(
        application=application,
        to=A.MORE_INFO_REQUESTED,
        acting_user=acting_user,
        reason=request_text,
        changes={"information_requested": request_text},
    )


def application_record_follow_up(
    *,
    application: RegistrationApplication,
    acting_user: User,
    held_on: date,
    attendees: str,
    summary: str,
    purpose_acceptable: bool,
) -> FollowUpDiscussion:
    """Record the follow-up discussion an exception purpose needs."""
    if not permissions.can_vet(acting_user):
        raise PermissionError("Only caseworkers record follow-up discussions")
    if application.status not in (A.SUBMITTED, A.MORE_INFO_REQUESTED):
        raise ApprovalBlocked(["The application has already been decided"])
    discussion = FollowUpDiscussion(
        application=application,
        held_on=held_on,
        attendees=attendees,
        summary=summary,
        purpose_acceptable=purpose_acceptable,
        recorded_by=acting_user,
    )
    return save_with_history(
        discussion, acting_user=acting_user, reason="Follow-up discussion recorded"
    )


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
    organisation = application.organisation or _returning_organisation(application)
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
