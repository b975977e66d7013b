"""What is on record for the yearly confirmation: what the organisation
registered with, and whether Companies House still lists its signing director."""

from typing import Any

from registration.companies_house import current_directors, person_name_matches
from registration.models import Organisation, RegistrationApplication

# What Companies House says of the signing director.
CURRENT = "current"
NOT_CURRENT = "not_current"
UNKNOWN = "unknown"


def _approved_application(organisation: Organisation) -> RegistrationApplication | None:
    return (
        organisation.applications.filter(status=RegistrationApplication.Status.APPROVED)
        .order_by("-decided_at", "-pk")
        .first()
    )


def director_standing(organisation: Organisation) -> str:
    """Whether Companies House lists the signing director among the company's
    current directors (officers read no more than a day ago, else afresh):
    CURRENT, NOT_CURRENT, or UNKNOWN when Companies House cannot answer now."""
    from registration.services.signing import (
        CompaniesHouseNotAnswering,
        SigningRefused,
        company_officers_recent,
    )

    if not organisation.signing_director_name:
        return NOT_CURRENT
    try:
        officers = company_officers_recent(organisation.companies_house_number)
    except CompaniesHouseNotAnswering:
        return UNKNOWN
    except SigningRefused:  # the company is not found
        return NOT_CURRENT
    directors = current_directors(officers)
    appointment = organisation.signing_director_appointment
    if appointment:
        found = any(d.appointment == appointment for d in directors)
    else:
        name = organisation.signing_director_name
        found = any(person_name_matches(name, d.name) for d in directors)
    return CURRENT if found else NOT_CURRENT


def registration_on_record(organisation: Organisation) -> dict[str, Any]:
    """What the organisation registered with, as the super user is asked to
    confirm it: from the organisation and its last approved application."""
    application = _approved_application(organisation)
    purposes = dict(RegistrationApplication.Purpose.choices)
    purpose = str(purposes.get(organisation.purpose, organisation.purpose))
    detail = application.purpose_detail.strip() if application else ""
    awarding = (
        [
            f"{a.awarding_organisation} ({a.reference})"
            for a in application.accreditations.order_by("awarding_organisation")
        ]
        if application
        else []
    )
    return {
        "purpose": purpose,
        "purpose_detail": detail,
        "learners_per_year": organisation.estimated_learners_per_year,
        "awarding_organisations": awarding,
        "director": organisation.signing_director_name,
    }
