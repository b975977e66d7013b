"""The director's signature in Debian's chromium (issue 19): an applicant cannot sign
in their director's name, and a director who has resigned is refused at the moment
of signing. Only reading the outbox and changing what Companies House says are done
outside the browser."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from lrs_portal.models import Notification
from registration.models import AgreementSignature, SigningRequest
from registration.services import signing_request_send
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import (
    AgreementVersionFactory,
    RegistrationApplicationFactory,
    UserFactory,
    letter_code,
    officer_item,
    officers_snapshot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

APPLICANT_EMAIL = "priya.shah@northfield-college.example.com"
JANE = "/company/09876543/appointments/jane-smith"


@pytest.fixture(autouse=True)
def _offline_companies_house(settings):
    settings.COMPANIES_HOUSE_API_KEY = ""


def _signed_in_as(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}]
    )


def _link() -> str:
    email = Notification.objects.filter(reference="agreement.signing_link").latest("pk")
    found = re.search(r"/agreement/sign/[^/\s]+/", email.body)
    assert found is not None
    return found.group(0)


def _fill_signature(page: Page, name: str, code: str) -> None:
    page.get_by_label("Your full name").fill(name)
    page.get_by_label("The code from your letter").fill(code)
    page.get_by_label("I have read the agreement and I agree to it").check()
    page.get_by_role("button", name="Sign the agreement").click()


def test_an_applicant_cannot_sign_in_their_directors_name(live_server, page):
    base = live_server.url
    AgreementVersionFactory.create()
    applicant = UserFactory.create(email=APPLICANT_EMAIL, full_name="Priya Shah")
    application = RegistrationApplicationFactory.create(
        applicant=applicant,
        signing_director_name="",
        signing_director_appointment="",
        signing_director_email="",
    )
    _signed_in_as(page, base, applicant)

    # Jane Smith chosen from Companies House, with the applicant's own address.
    page.goto(base + "/apply/signing-director/")
    page.get_by_label("SMITH, Jane Alice").check()
    page.get_by_label("The director's work email address").fill(APPLICANT_EMAIL)
    page.get_by_role("button", name="Save and continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the director's own email address")
    expect(page).to_have_title(re.compile(r"^Error: Signing director"))
    assert_accessible(page)
    application.refresh_from_db()
    assert application.signing_director_email == ""

    # Even holding a link (a colleague's mailbox they can read), the applicant has
    # no letter: it went to Jane Smith's correspondence address.
    application.signing_director_name = "SMITH, Jane Alice"
    application.signing_director_appointment = JANE
    application.signing_director_email = "jane.smith@northfield-college.example.com"
    application.save()
    signing_request_send(acting_user=applicant, application=application)
    page.goto(base + _link())
    _fill_signature(page, "Jane Smith", "ABCD-2345")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The code does not match the one in the letter we posted to you"
    )
    assert_accessible(page)
    assert not AgreementSignature.objects.exists()


def test_a_resigned_director_is_refused_at_the_moment_of_signing(live_server, page):
    base = live_server.url
    AgreementVersionFactory.create()
    application = RegistrationApplicationFactory.create(submitted=True)
    signing_request_send(acting_user=application.applicant, application=application)
    link, code = _link(), letter_code()

    page.goto(base + link)
    expect(
        page.get_by_role("heading", name="Sign the Learning Records Service agreement")
    ).to_be_visible()
    # Jane Smith resigns at Companies House while the page is open.
    officers_snapshot(
        "09876543",
        officer_item("SMITH, Jane Alice", JANE, resigned_on="2026-12-01"),
    )
    _fill_signature(page, "Jane Smith", code)

    expect(
        page.get_by_role("heading", name="You cannot sign the agreement")
    ).to_be_visible()
    expect(
        page.get_by_text("Companies House does not list this person as a current")
    ).to_be_visible()
    assert_accessible(page)
    assert not AgreementSignature.objects.exists()
    assert SigningRequest.objects.get().cancelled_at is not None
    page.goto(base + link)
    expired = "This link has expired or has already been used"
    expect(page.get_by_role("heading", name=expired)).to_be_visible()
