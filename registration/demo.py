"""Demo records for `manage.py seed_demo` (after lrs_portal's accounts): an agreement,
a registered college with its users, and applications waiting for a caseworker."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from lrs_portal.models import User, system_user
from lrs_portal.transitions import save_with_history
from registration.agreement import AGREEMENT_TEXT, AGREEMENT_TITLE
from registration.models import (
    AgreementVersion,
    AwardingOrganisationAccreditation,
    Membership,
    Organisation,
    RegistrationApplication,
)
from registration.permissions import member_permissions_grant

NORTHFIELD = {
    "ukprn": "10034567",
    "legal_name": "NORTHFIELD COLLEGE LIMITED",
    "trading_names": "Northfield College",
    "companies_house_number": "09876543",
    "ico_number": "Z1234567",
    "registered_address": "1 College Road\nLeeds\nLS2 9JT",
    "website": "https://northfield-college.example.com",
    "estimated_learners_per_year": 2400,
    "purpose": "own_students",
    "signing_director_name": "OKAFOR, Grace Adaeze",
    "signing_director_appointment": "/company/09876543/appointments/grace-okafor",
    "signing_director_email": "grace.okafor@northfield-college.example.com",
}


SWIFTCHECK = {
    "ukprn": "10098765",
    "legal_name": "SWIFTCHECK SCREENING LIMITED",
    "trading_names": "Swiftcheck",
    "companies_house_number": "11223344",
    "ico_number": "ZC334455",
    "registered_address": "2 Market Street\nManchester\nM1 1AE",
    "website": "https://swiftcheck-screening.example.com",
    "estimated_learners_per_year": 1000,
    "purpose": "own_students",
    "signing_director_name": "MORGAN, Alexandra Jane",
    "signing_director_appointment": "/company/11223344/appointments/alexandra-morgan",
    "signing_director_email": "alex.morgan@swiftcheck-screening.example.com",
}


def _agreement(by: User) -> AgreementVersion:
    version = AgreementVersion.objects.filter(number=1).first()
    if version is None:
        version = AgreementVersion(
            number=1,
            title=AGREEMENT_TITLE,
            text=AGREEMENT_TEXT,
            published_at=timezone.now(),
            published_by=by,
        )
        save_with_history(version, acting_user=by, reason="Demo: published")
    return version


def _registered(
    by: User,
    version: AgreementVersion,
    details: dict[str, Any],
    members: tuple[tuple[str, bool], ...],
    registered_at: datetime | None = None,
) -> Organisation:
    organisation = Organisation.objects.filter(ukprn=details["ukprn"]).first()
    if organisation is None:
        organisation = Organisation(
            **details,
            last_signed_version=version,
            purpose_approved_at=timezone.now(),
            registered_at=registered_at or timezone.now(),
        )
        save_with_history(organisation, acting_user=by, reason="Demo: registered")
    for email, super_user in members:
        user = User.objects.get(email=email)
        if not Membership.objects.filter(user=user).exists():
            membership = Membership(
                user=user,
                organisation=organisation,
                is_super_user=super_user,
                terms_accepted_at=timezone.now(),
            )
            save_with_history(membership, acting_user=by, reason="Demo: member")
        member_permissions_grant(
            user=user, organisation=organisation, super_user=super_user
        )
    return organisation


def _waiting_application(by: User) -> None:
    """A submitted application from another provider, for caseworkers to vet."""
    applicant_email = "sam.patel@riverside-training.example.com"
    applicant = User.objects.filter(email=applicant_email).first()
    if applicant is None:
        from lrs_portal.demo import DEMO_PASSWORD

        applicant = User.objects.create_user(
            applicant_email, DEMO_PASSWORD, full_name="Sam Patel"
        )
    if RegistrationApplication.objects.filter(applicant=applicant).exists():
        return
    application = RegistrationApplication(
        applicant=applicant,
        reference="LRS-DEMO01",
        legal_name="RIVERSIDE TRAINING LTD",
        trading_names="Riverside Skills",
        ukprn="10045678",
        companies_house_number="07654321",
        ico_number="ZA123456",
        registered_address="Unit 4, Riverside Park\nBristol\nBS1 6AA",
        website="https://riverside-training.example.com",
        super_user_name=applicant.full_name,
        super_user_email=applicant.email,
        estimated_learners_per_year=350,
        purpose=RegistrationApplication.Purpose.OTHER,
        purpose_detail=(
            "We train apprentices for local employers and also want to confirm the "
            "prior qualifications of employer staff who are not our learners before "
            "they start workplace assessments."
        ),
        learner_ages=["17_19", "20_24", "25_over"],
        learner_reach="local",
        learner_reach_km=40,
        signing_director_name="HUGHES, Daniel",
        signing_director_appointment="/company/07654321/appointments/daniel-hughes",
        signing_director_email="daniel.hughes@riverside-training.example.com",
        declaration_accepted_at=timezone.now(),
    )
    save_with_history(application, acting_user=applicant, reason="Demo: started")
    AwardingOrganisationAccreditation.objects.create(
        application=application, awarding_organisation="Pearson", reference="PEA-88231"
    )
    from registration.companies_house import company_fetch
    from registration.services import application_submit

    # Reading the company (from the offline fixtures) is the "going concern" step.
    company_fetch(company_number=application.companies_house_number)
    # Submitting queues the automatic checks; without a broker (the demo) they
    # run in-process once seed_demo's transaction commits.
    application_submit(application=application, acting_user=applicant)
    _signing_link_and_letter(application, applicant)


def _signing_link_and_letter(
    application: RegistrationApplication, applicant: User
) -> None:
    """The director's link (emailed) and code (by letter): with no Notify key the
    letter is a PDF in var/letters/ and, like the email, written to the demo
    outbox file."""
    from registration.services import signing_request_send

    if not application.signing_requests.exists():
        signing_request_send(acting_user=applicant, application=application)


def seed() -> list[str]:
    """Create the demo registration records (if missing) and describe them."""
    from registration.ico import ico_register_import

    ico_register_import(
        path=Path(__file__).parent / "fixtures" / "ico_register_demo.csv"
    )
    by = system_user()
    version = _agreement(by)
    organisation = _registered(
        by,
        version,
        NORTHFIELD,
        (
            ("priya.shah@northfield-college.example.com", True),
            ("tom.reed@northfield-college.example.com", False),
        ),
        # Registered 345 days ago: its yearly confirmation is open, due in 20 days.
        registered_at=timezone.now() - timedelta(days=345),
    )
    swiftcheck = _registered(
        by,
        version,
        SWIFTCHECK,
        (("alex.morgan@swiftcheck-screening.example.com", True),),
    )
    _waiting_application(by)
    # This quarter's recertification (decision 0029): priya.shah@ is asked to
    # confirm tom.reed@ on 'Confirm your users'; nothing new if it is open already.
    from registration.services.recertification import recertification_open

    recertification_open(organisation=organisation)
    # Its yearly confirmation of registration (decision 0031): priya.shah@ sees it
    # on 'Confirm your organisation's registration'; nothing new if it is open.
    from registration.services.yearly_confirmation import yearly_confirmation_open

    yearly_confirmation_open(organisation=organisation)
    return [
        f"Registered organisation: {organisation} (super user priya.shah@…, "
        "user tom.reed@…; this quarter's recertification asks priya.shah@ to "
        "confirm tom.reed@ on 'Confirm your users', and its yearly confirmation of "
        "registration, due in 20 days, is on 'Confirm your organisation's "
        "registration')",
        f"Registered organisation: {swiftcheck} (super user alex.morgan@…; its "
        "usage two days ago is far above its declared volume)",
        "Application waiting for vetting: LRS-DEMO01 Riverside Training "
        "(an exception purpose; applicant sam.patel@riverside-training.example.com)",
        "Its director, Daniel Hughes, was emailed a signing link and posted a code "
        "(both in var/demo-outbox.txt; the letter is also a PDF in var/letters/). "
        "Sign with the name Daniel Hughes and that code.",
    ]
