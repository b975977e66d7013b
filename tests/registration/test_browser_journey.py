"""From the start page to a registered organisation, in Debian's chromium.

One journey through every hand it passes: the applicant's pages, the director's
signing link, the caseworker's vetting in the admin, and the applicant again once
registered. Only what a Celery worker would do (running the automatic checks) and
reading the outbox are done outside the browser.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from lrs_portal import roles
from lrs_portal.models import Notification, User
from registration.models import (
    ApplicationCheck,
    CheckKind,
    IcoRegistration,
    Membership,
    Organisation,
    RegistrationApplication,
)
from registration.services import application_run_checks
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import (
    PASSWORD,
    AgreementVersionFactory,
    TOTPDeviceFactory,
    UserFactory,
    add_backup_codes,
    letter_code,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

LEGAL_NAME = "NORTHFIELD COLLEGE LIMITED"
UKPRN = "10034567"
COMPANY_NUMBER = "09876543"
ICO_NUMBER = "Z1234567"
WEBSITE = "https://northfield-college.example.com"
APPLICANT_NAME = "Priya Shah"
APPLICANT_EMAIL = "priya.shah@northfield-college.example.com"
APPLICANT_PASSWORD = "amber-kestrel-lantern-47"
DIRECTOR_EMAIL = "grace.okafor@northfield-college.example.com"
PURPOSE_DETAIL = (
    "We are a further education college in Leeds. When a learner enrols with us we "
    "look up their ULN and prior achievements, after giving them the LRS privacy "
    "notice, so that we can place them on the right course."
)
BACKUP_CODE = "journey0001"


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    # The recorded responses in registration/fixtures/companies_house.
    settings.COMPANIES_HOUSE_API_KEY = ""


def _save_and_continue(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/apply/")


# --- 1. the applicant's account -------------------------------------------------------


def _create_account(page: Page, base: str) -> None:
    page.goto(base + "/")
    page.get_by_role("link", name="Apply to register your organisation").click()
    page.wait_for_url("**/apply/create-account/")
    page.get_by_label("Full name").fill(APPLICANT_NAME)
    page.get_by_label("Work email address").fill(APPLICANT_EMAIL)
    page.get_by_label("Create a password").fill(APPLICANT_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/apply/")
    expect(
        page.get_by_role("heading", name="Register your organisation to use the LRS")
    ).to_be_visible()
    expect(page.get_by_text("You have completed 0 of 6 sections")).to_be_visible()
    assert_accessible(page)


# --- 2. the application, section by section -------------------------------------------


def _organisation_details(page: Page) -> None:
    page.get_by_role("link", name="Organisation details").click()
    page.wait_for_url("**/apply/organisation-details/")

    # Empty first: the GOV.UK error summary, and still no axe violations.
    page.get_by_role("button", name="Save and continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Organisation details"))
    expect(
        summary.get_by_role("link", name="Enter your organisation's legal name")
    ).to_be_visible()
    expect(
        summary.get_by_role(
            "link",
            name="Confirm that you will be your organisation's LRS super user",
        )
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Legal name", exact=True).fill(LEGAL_NAME)
    page.get_by_label("UK Provider Reference Number (UKPRN)").fill(UKPRN)
    page.get_by_label("Companies House number").fill(COMPANY_NUMBER)
    page.get_by_label("ICO registration number").fill(ICO_NUMBER)
    page.get_by_label("Registered address").fill("1 College Road\nLeeds\nLS2 9JT")
    page.get_by_label("Website").fill(WEBSITE)
    page.get_by_label("I will be my organisation's LRS super user").check()
    _save_and_continue(page)
    expect(page.get_by_text("You have completed 1 of 6 sections")).to_be_visible()


def _accreditation(page: Page) -> None:
    page.get_by_role("link", name="Accreditation and learners").click()
    page.wait_for_url("**/apply/accreditation/")
    page.get_by_label("Awarding organisation", exact=True).fill("Pearson")
    page.get_by_label("Your centre number or reference with them").fill("PEA-1234")
    page.get_by_role("button", name="Add awarding organisation").click()
    # Added, back on the same page.
    expect(page.get_by_text("You added Pearson")).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("PEA-1234")
    page.get_by_label("How many learners do you expect to enrol each year?").fill(
        "1500"
    )
    _save_and_continue(page)


def _going_concern(page: Page) -> None:
    page.get_by_role("link", name="Going concern").click()
    page.wait_for_url("**/apply/going-concern/")
    company = page.locator(".govuk-summary-list")
    expect(company).to_contain_text(LEGAL_NAME)
    expect(company).to_contain_text(COMPANY_NUMBER)
    expect(company).to_contain_text("Active")
    expect(page.locator(".govuk-warning-text")).to_have_count(0)
    _save_and_continue(page)  # the accounts upload is optional


def _purpose(page: Page) -> None:
    page.get_by_role("link", name="Purpose").click()
    page.wait_for_url("**/apply/purpose/")
    page.get_by_label("Enrol our own students").check()
    page.get_by_label("Describe in detail how you will use the LRS").fill(
        PURPOSE_DETAIL
    )
    _save_and_continue(page)


def _learners_served(page: Page) -> None:
    page.get_by_role("link", name="Learners you serve").click()
    page.wait_for_url("**/apply/learners-served/")
    page.get_by_label("14 to 16").check()
    page.get_by_label("17 to 19").check()
    page.get_by_label("Mostly within a distance of our registered address").check()
    page.get_by_label("Distance in kilometres").fill("40")
    _save_and_continue(page)


def _signing_director(page: Page) -> None:
    page.get_by_role("link", name="Signing director").click()
    page.wait_for_url("**/apply/signing-director/")
    page.get_by_label("OKAFOR, Grace Adaeze").check()
    page.get_by_label("The director's work email address").fill(DIRECTOR_EMAIL)
    _save_and_continue(page)


def _check_answers_and_submit(page: Page) -> str:
    expect(page.get_by_text("You have completed 6 of 6 sections")).to_be_visible()
    page.get_by_role("link", name="Check answers and submit").click()
    page.wait_for_url("**/apply/check-answers/")
    expect(page.get_by_text("You need to complete these sections")).to_have_count(0)
    answers = page.locator("main")
    for answer in (LEGAL_NAME, UKPRN, ICO_NUMBER, "Pearson (PEA-1234)", "1500"):
        expect(answers).to_contain_text(answer)
    expect(answers).to_contain_text("OKAFOR, Grace Adaeze")
    page.get_by_label("I confirm the declaration").check()
    page.get_by_role("button", name="Submit application").click()
    page.wait_for_url("**/submitted/")

    application = RegistrationApplication.objects.get(applicant__email=APPLICANT_EMAIL)
    assert application.status == RegistrationApplication.Status.SUBMITTED
    panel = page.locator(".govuk-panel--confirmation")
    expect(panel.get_by_role("heading", name="Application submitted")).to_be_visible()
    expect(panel).to_contain_text(application.reference)
    expect(page.get_by_text(f"We have emailed {DIRECTOR_EMAIL} a link")).to_be_visible()
    return application.reference


# --- 3. the director signs through the emailed link ----------------------------------


def _director_signs(page: Page, base: str) -> None:
    email = Notification.objects.get(
        reference="agreement.signing_link", to=DIRECTOR_EMAIL
    )
    link = re.search(r"/agreement/sign/[^/\s]+/", email.body)
    assert link is not None, email.body
    page.goto(base + link.group(0))
    expect(
        page.get_by_role("heading", name="Sign the Learning Records Service agreement")
    ).to_be_visible()
    expect(page.get_by_text(LEGAL_NAME).first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Your full name").fill("Grace Okafor")
    page.get_by_label("The code from your letter").fill(letter_code())
    page.get_by_label("I have read the agreement and I agree to it").check()
    page.get_by_role("button", name="Sign the agreement").click()
    expect(
        page.get_by_role("heading", name="You have signed the agreement")
    ).to_be_visible()
    expect(page.get_by_text("as Grace Okafor")).to_be_visible()


# --- 4. the caseworker vets and approves ---------------------------------------------


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Continue").click()


def _caseworker_approves(page: Page, base: str, application_pk: int) -> None:
    caseworker = UserFactory.create(
        email="sam.okoro@education.gov.uk",
        full_name="Sam Okoro",
        roles=(roles.CASEWORKER,),
        is_staff=True,
    )
    TOTPDeviceFactory.create(user=caseworker)
    add_backup_codes(caseworker, BACKUP_CODE)

    _sign_in(page, base, caseworker.email, PASSWORD)
    page.get_by_role("button", name="Use a backup code").click()
    page.get_by_label("Backup code").fill(BACKUP_CODE)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")

    change_url = (
        f"{base}/admin/registration/registrationapplication/{application_pk}/change/"
    )
    page.goto(change_url)
    expect(page.locator("#approval-blockers")).to_contain_text("Not ready to approve")
    outcomes = page.get_by_label("Outcome")
    notes = page.get_by_label("Notes")
    expect(outcomes).to_have_count(len(CheckKind))
    expect(notes).to_have_count(len(CheckKind))
    for i in range(len(CheckKind)):
        outcomes.nth(i).select_option(label="Pass")
        notes.nth(i).fill("Checked against the source by Sam Okoro.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/registration/registrationapplication/")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert set(
        ApplicationCheck.objects.filter(application_id=application_pk).values_list(
            "outcome", flat=True
        )
    ) == {ApplicationCheck.Outcome.PASS}

    page.goto(change_url)
    expect(page.locator("#approval-blockers")).to_contain_text(
        "Nothing blocks approval"
    )
    page.get_by_role("link", name="Approve", exact=True).click()
    page.wait_for_url("**/approve/")
    expect(
        page.get_by_text(f"{APPLICANT_EMAIL} will be its super user")
    ).to_be_visible()
    page.get_by_role("button", name="Approve the application").click()
    page.wait_for_url(change_url)
    expect(page.locator(".messagelist")).to_contain_text(f"Approved: {LEGAL_NAME}")


# --- the journey ----------------------------------------------------------------------


def test_an_organisation_applies_is_vetted_and_is_registered(
    live_server, page, new_context
):
    base = live_server.url
    AgreementVersionFactory.create()
    IcoRegistration.objects.create(
        registration_number=ICO_NUMBER,
        organisation_name=LEGAL_NAME,
        start_date=timezone.localdate() - timedelta(days=365),
        end_date=timezone.localdate() + timedelta(days=365),
    )

    # 1 and 2: the applicant creates an account and applies.
    _create_account(page, base)
    _organisation_details(page)
    _accreditation(page)
    _going_concern(page)
    _purpose(page)
    _learners_served(page)
    _signing_director(page)
    reference = _check_answers_and_submit(page)
    application = RegistrationApplication.objects.get(reference=reference)
    applicant = User.objects.get(email=APPLICANT_EMAIL)
    assert application.applicant == applicant

    # 3: what the worker does after the commit, then the director, not signed in.
    application_run_checks(application=application, acting_user=applicant)
    _director_signs(new_context().new_page(), base)

    # 4: the caseworker, in a browser of their own.
    _caseworker_approves(new_context().new_page(), base, application.pk)
    application.refresh_from_db()
    assert application.status == RegistrationApplication.Status.APPROVED
    organisation = Organisation.objects.get(ukprn=UKPRN)
    assert application.organisation == organisation
    assert organisation.status == Organisation.Status.REGISTERED
    assert organisation.legal_name == LEGAL_NAME
    assert organisation.signing_director_name == "OKAFOR, Grace Adaeze"
    assert organisation.last_signed_version is not None
    membership = Membership.objects.get(user=applicant)
    assert membership.organisation == organisation
    assert membership.is_super_user

    # 5: the applicant again, signed out and back in.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/account/signed-out/")
    _sign_in(page, base, APPLICANT_EMAIL, APPLICANT_PASSWORD)
    page.wait_for_url("**/account/")
    page.goto(f"{base}/apply/{reference}/")
    expect(
        page.locator(".govuk-summary-list__row").filter(has_text="Status")
    ).to_contain_text("Approved")
    expect(
        page.get_by_role("heading", name="Your organisation is registered")
    ).to_be_visible()
    page.get_by_role("link", name="Add your organisation's users").click()
    page.wait_for_url("**/organisation/terms/**")
    page.get_by_role("button", name="I accept").click()
    page.wait_for_url("**/organisation/users/")
    expect(
        page.get_by_role("heading", name="Your organisation's users")
    ).to_be_visible()
    me = page.get_by_role("row").filter(has_text=APPLICANT_EMAIL)
    expect(me).to_contain_text(APPLICANT_NAME)
    expect(me).to_contain_text("Super user")
