"""Vetting an application: the automatic checks (Companies House, going
concern, the ICO, the UKPRN, awarding organisations, the signing director, the
purpose), a caseworker's outcome for each, a request for more information and
the follow-up discussion an exception purpose needs."""

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from lrs_portal.models import User
from lrs_portal.transitions import save_with_history
from registration import permissions
from registration.models import (
    AgreementSignature,
    ApplicationCheck,
    CheckKind,
    FollowUpDiscussion,
    Organisation,
    RegistrationApplication,
)
from registration.services.agreements import agreement_current_version
from registration.services.applications.moves import (
    A,
    ApprovalBlocked,
    application_transition,
)

if TYPE_CHECKING:
    from registration.companies_house import CompanyFacts


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


def returning_organisation(
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
    returning = returning_organisation(application)
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
