"""A super user makes the yearly confirmation of their organisation's
registration in Debian's chromium (decision 31): from their account, what is on
record, the questions (with the error summary first), check answers and the
confirmation page, every page free of axe violations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from registration.models import ReverificationCase, YearlyConfirmation
from registration.services.yearly_confirmation import yearly_confirmation_open
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import (
    PASSWORD,
    AgreementVersionFactory,
    OrganisationFactory,
    member_of,
    organisation_officers,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def test_a_super_user_reports_a_change_at_the_yearly_confirmation(
    live_server, page: Page
):
    organisation = OrganisationFactory.create(
        legal_name="NORTHFIELD COLLEGE LIMITED",
        last_signed_version=AgreementVersionFactory(),
        registered_at=timezone.now() - timedelta(days=345),
    )
    organisation_officers(organisation)
    super_user = member_of(organisation, super_user=True, full_name="Priya Shah")
    confirmation = yearly_confirmation_open(organisation=organisation)
    assert confirmation is not None

    page.goto(live_server.url + "/account/login/")
    page.get_by_label("Email address").fill(super_user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")
    page.get_by_role("link", name="Confirm your organisation's registration").click()
    page.wait_for_url("**/organisation/confirmation/")

    expect(
        page.get_by_role("heading", name="Confirm your organisation's registration")
    ).to_be_visible()
    expect(page.get_by_text("In office")).to_be_visible()  # Companies House agrees
    assert_accessible(page)

    page.get_by_role("link", name="Something has changed").click()
    page.wait_for_url("**/organisation/confirmation/change/")
    page.get_by_role("button", name="Continue").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Select yes if your organisation still uses")
    assert_accessible(page)

    page.get_by_role(
        "group", name="Is this still what your organisation uses"
    ).get_by_label("Yes").check()
    page.get_by_label("How many learners do you enrol each year?").fill("3,000")
    page.get_by_role(
        "group", name="Are these still your awarding organisations?"
    ).get_by_label("Yes").check()
    page.get_by_role("group", name="Is the director who signed").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/organisation/confirmation/check/")
    expect(
        page.get_by_role("heading", name="Check your answers before confirming")
    ).to_be_visible()
    expect(
        page.get_by_text("Learners a year: 1,200 on record, now 3,000.")
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Confirm and send the changes").click()
    page.wait_for_url("**/organisation/confirmation/done/")
    expect(page.get_by_role("heading", name="Registration confirmed")).to_be_visible()
    assert_accessible(page)

    confirmation.refresh_from_db()
    assert confirmation.status == YearlyConfirmation.Status.CHANGED
    assert confirmation.answered_by == super_user
    assert ReverificationCase.objects.get().reason == "yearly_changed"
