"""In Debian's chromium, with axe: the timeout warning and the possible matches
at 320 px wide (issue 17)."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from records.models import Learner
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import (
    PASSWORD,
    AgreementVersionFactory,
    OrganisationFactory,
    member_of,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def _sign_in(page: Page, live_server, user) -> None:
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")


def test_the_timeout_warning_offers_to_stay_and_then_signs_out(
    live_server, page: Page, provider_user, settings
):
    # A 12-second session, warned 10 seconds before its end.
    settings.SESSION_COOKIE_AGE = 12
    settings.SESSION_TIMEOUT_WARNING_SECONDS = 10
    _sign_in(page, live_server, provider_user)
    dialog = page.get_by_role("dialog", name="about to be signed out")

    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    assert_accessible(page)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()

    # Warned again, and this time left to run out.
    expect(dialog).to_be_visible()
    page.wait_for_url("**/account/timed-out/")
    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible()
    assert_accessible(page)
    page.goto(live_server.url + "/account/")
    page.wait_for_url("**/account/login/**")


def test_the_timeout_warning_counts_down_in_welsh(
    live_server, page: Page, provider_user, settings
):
    """The script's words come from the page (base.html's data-* attributes), so a
    Welsh page counts down in Welsh (decision 34)."""
    settings.SESSION_COOKIE_AGE = 30
    settings.SESSION_TIMEOUT_WARNING_SECONDS = 28
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "cy", "url": live_server.url}]
    )
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("Cyfeiriad e-bost").fill(provider_user.email)
    page.get_by_label("Cyfrinair", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Parhau").click()
    page.wait_for_url("**/account/")
    dialog = page.get_by_role("dialog", name="Rydych ar fin cael eich allgofnodi")

    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-countdown]")).to_have_text(re.compile(r"^\d+ eiliad$"))
    expect(dialog.locator("[data-countdown-announce]")).to_have_text(
        re.compile(r"^Byddwn yn eich allgofnodi ymhen \d+ eiliad\.$")
    )
    expect(dialog.get_by_role("button", name="Aros wedi mewngofnodi")).to_be_focused()
    assert_accessible(page)


@pytest.mark.usefixtures("log_truncate_allowed")  # the search writes the log
def test_possible_matches_reflow_at_320_pixels(live_server, page: Page):
    organisation = OrganisationFactory.create(
        last_signed_version=AgreementVersionFactory.create()
    )
    searcher = member_of(organisation)
    for uln, middle in (("9276308686", ""), ("1964986809", "Jane")):
        Learner.objects.create(
            uln=uln,
            given_name="Amelia",
            middle_names=middle,
            family_name="Hughes",
            date_of_birth=date(2007, 5, 14),
            gender=Learner.Gender.FEMALE,
            postcode="LS2 9JT",
        )
    page.set_viewport_size({"width": 320, "height": 800})
    _sign_in(page, live_server, searcher)
    page.goto(live_server.url + "/learners/find-by-details/")
    page.get_by_label("Given name", exact=True).fill("Amelia")
    page.get_by_label("Family name", exact=True).fill("Hughes")
    page.get_by_label("Day", exact=True).fill("14")
    page.get_by_label("Month", exact=True).fill("May")  # a month name (GOV.UK)
    page.get_by_label("Year", exact=True).fill("2007")
    page.get_by_label("Female", exact=True).check()
    page.get_by_label("Postcode", exact=True).fill("BD1 1AA")
    page.get_by_label("I have given this learner the LRS privacy notice").check()
    page.get_by_label(
        "I am looking up this learner to enrol them as our own student"
    ).check()
    page.get_by_role("button", name="Search").click()

    expect(page.get_by_role("heading", name="2 possible matches")).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert "None" not in page.locator("main").inner_text()
    assert_accessible(page)
