"""Sign in through the GOV.UK pages in Debian's chromium; no axe violations."""

import pytest
from playwright.sync_api import expect

from lrs_portal.demo import DEMO_BACKUP_CODES
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import PASSWORD, TOTPDeviceFactory, add_backup_codes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def test_a_provider_signs_in_and_out_through_the_govuk_pages(
    live_server, page, provider_user
):
    page.goto(live_server.url + "/")
    assert_accessible(page)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_label("Email address").fill(provider_user.email)
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Continue").click()
    # expect() waits for the new page; is_visible() asked the old one at once,
    # which on a busy machine was still showing (decision 0018).
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/account/signed-out/")
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()


def test_staff_sign_in_with_a_backup_code_and_reach_the_admin(
    live_server, page, superuser
):
    TOTPDeviceFactory.create(user=superuser)
    add_backup_codes(superuser, DEMO_BACKUP_CODES[0])

    page.goto(live_server.url + "/account/login/")
    page.get_by_label("Email address").fill(superuser.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Use a backup code").click()
    assert_accessible(page)
    page.get_by_label("Backup code").fill(DEMO_BACKUP_CODES[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")

    page.goto(live_server.url + "/admin/")
    expect(page.get_by_text("LRS Portal administration").first).to_be_visible()
