"""A data share request's whole life, in Debian's chromium.

The requester fills in and submits the request on the GOV.UK pages; a caseworker
triages it and assigns an assessor, the assessor assesses it, the caseworker puts
it on a panel meeting, three members vote, the chair records the decision, the
caseworker releases the extract; the nightly job ends the share; the requester
sends the destruction certificate and the caseworker accepts it.

The requester signs in through the browser. Department staff arrive already
signed in with their second factor (a session cookie made as verified_client
makes it): their sign-in is tested in tests/lrs_portal. Only the nightly job,
which beat would run, is called directly.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from approvals import services
from approvals.models import FIVE_SAFES, DataShareRequest
from lrs_portal import roles
from lrs_portal.models import User
from tests.approvals.factories import PanelMeetingFactory, ResearchOrganisationFactory
from tests.browser import CHROMIUM, assert_accessible
from tests.conftest import verified_client
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
S = DataShareRequest.Status
TITLE = "Reading for pleasure and key stage 2 attainment"


def _staff_page(new_context, base: str, user: User) -> Page:
    session = verified_client(user).cookies[settings.SESSION_COOKIE_NAME].value
    context = new_context()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
    )
    new: Page = context.new_page()
    return new


def _fill_date(page: Page, name: str, when) -> None:
    page.locator(f"input[name='{name}_day']").fill(str(when.day))
    page.locator(f"input[name='{name}_month']").fill(str(when.month))
    page.locator(f"input[name='{name}_year']").fill(str(when.year))


def _radio(page: Page, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check()


def _status_tag(page: Page) -> Any:
    return page.locator("#main-content .govuk-tag").first


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/tasks/")


# --- the requester ---


def _requester_fills_in_and_submits(page: Page, base: str, email: str) -> str:
    page.goto(base + "/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/")
    page.get_by_role("link", name="Data share requests").click()
    expect(page.get_by_text("has not made any requests yet")).to_be_visible()
    page.get_by_role("button", name="Start a new request").click()
    page.wait_for_url("**/tasks/")
    assert_accessible(page)

    page.get_by_role("link", name="The project and its public benefit").click()
    page.get_by_label("Project title").fill(TITLE)
    page.get_by_label("Summary and public benefit").fill("Evidence for schools.")
    page.get_by_label("How the project supports").fill("Literacy and attainment.")
    _save(page)

    page.get_by_role("link", name="Legal gateway and lawful basis").click()
    _radio(page, "legal_gateway", "dea")
    _radio(page, "lawful_basis", "e")
    _radio(page, "special_category", "no")
    _save(page)

    page.get_by_role("link", name="Datasets and academic years").click()
    page.get_by_label("Academic year").fill("2019/20")
    _radio(page, "tier", "2")
    page.get_by_role("button", name="Add this year").click()
    expect(page.get_by_text("You added 2019/20")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Continue").click()

    page.get_by_role("link", name="Volume and linkage").click()
    page.get_by_label("How many pupil records do you expect?").fill("60000")
    _radio(page, "linkage", "no")
    _save(page)

    page.get_by_role("link", name="How researchers will access the data").click()
    _radio(page, "access_route", "safe_room")
    _save(page)

    page.get_by_role("link", name="Named researchers").click()
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email address").fill("ada@uni.example.ac.uk")
    _radio(page, "accreditation", "full")
    page.get_by_label("Accreditation number").fill("AR-000123")
    _fill_date(
        page,
        "accreditation_expires_on",
        timezone.localdate().replace(year=timezone.localdate().year + 4),
    )
    page.get_by_role("button", name="Add this researcher").click()
    expect(page.get_by_text("You added Ada Lovelace")).to_be_visible()
    page.get_by_role("link", name="Continue").click()

    page.get_by_role("link", name="Dates, retention and destruction").click()
    # A date that is not real first: the error summary, then the fix.
    page.locator("input[name='start_date_day']").fill("31")
    page.locator("input[name='start_date_month']").fill("2")
    page.locator("input[name='start_date_year']").fill("2027")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Start date must be a real date"
    )
    assert_accessible(page)
    _fill_date(page, "start_date", timezone.localdate() + timedelta(days=7))
    _fill_date(page, "end_date", timezone.localdate() + timedelta(days=365))
    page.get_by_label("Retention and destruction plan").fill("Deleted in the SRS.")
    _save(page)

    page.get_by_role("link", name="Check answers and submit").click()
    expect(page.get_by_text(TITLE)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("I confirm the information is true").check()
    page.get_by_role("button", name="Submit request").click()
    expect(_status_tag(page)).to_have_text("Submitted: checking it is complete")
    return DataShareRequest.objects.get(project_title=TITLE).reference


# --- the department ---


def _step(page: Page, change_url: str, link: str, button: str, fill=None) -> None:
    page.goto(change_url)
    page.get_by_role("link", name=link, exact=True).click()
    if fill:
        fill(page)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(change_url)
    expect(page.locator(".messagelist .error")).to_have_count(0)


def _assessment(page: Page) -> None:
    for key, label in FIVE_SAFES:
        _radio(page, key, "low")
        page.locator(f"textarea[name='{key}_reason']").fill(f"{label}: fine.")
    page.locator("select[name='recommendation']").select_option("approve")
    page.locator("input[name='no_conflict']").check()


def _decision(page: Page) -> None:
    _radio(page, "outcome", "approved")
    page.locator("textarea[name='reasons']").fill("Clear public benefit.")
    page.locator("textarea[name='supports_aims']").fill("Literacy research.")


def test_a_request_goes_from_draft_to_a_closed_case(live_server, page, new_context):
    base = live_server.url
    organisation = ResearchOrganisationFactory.create(name="University of Leeds")
    requester = UserFactory.create(email="ola@leeds.example.ac.uk")
    services.requester_add(
        user=requester, organisation=organisation, acting_user=requester
    )

    def staff(role: str) -> User:
        return UserFactory.create(roles=(role,), is_staff=True)

    caseworker, assessor = staff(roles.CASEWORKER), staff(roles.DSAP_ASSESSOR)
    members = [staff(roles.DSAP_PANEL_MEMBER) for _ in range(3)]
    meeting = PanelMeetingFactory.create(
        held_on=timezone.localdate(), chair=members[0], members=members[1:]
    )

    # The requester.
    reference = _requester_fills_in_and_submits(page, base, requester.email)
    share = DataShareRequest.objects.get(reference=reference)
    change_url = f"{base}/admin/approvals/datasharerequest/{share.pk}/change/"

    # Triage, an assessor, the assessment, the meeting.
    office = _staff_page(new_context, base, caseworker)
    _step(
        office, change_url, "Triage complete: send to assessment", "Send to assessment"
    )
    _step(
        office,
        change_url,
        "Assign an assessor",
        "Assign",
        lambda p: (
            p.locator("select[name='assessor']").select_option(str(assessor.pk)),
            p.locator("input[name='no_conflict_declared']").check(),
        ),
    )
    _step(
        _staff_page(new_context, base, assessor),
        change_url,
        "Record the assessment",
        "Record the assessment",
        _assessment,
    )
    _step(
        office,
        change_url,
        "Place on a panel meeting",
        "Place on the meeting",
        lambda p: p.locator("select[name='meeting']").select_option(str(meeting.pk)),
    )

    # The panel: three votes, then the chair's decision.
    for member in members:
        _step(
            _staff_page(new_context, base, member),
            change_url,
            "Vote",
            "Record my vote",
            lambda p: _radio(p, "vote", "approve"),
        )
    _step(
        _staff_page(new_context, base, members[0]),
        change_url,
        "Record the decision",
        "Record the decision",
        _decision,
    )
    share.refresh_from_db()
    assert share.status == S.APPROVED

    # The release, with the SRS project reference.
    _step(
        office,
        change_url,
        "Release a dataset",
        "Record the release",
        lambda p: (
            p.locator("select[name='dataset']").select_option(index=1),
            p.locator("input[name='srs_project_reference']").fill("SRS-2026-777"),
            p.locator("input[name='researchers']").first.check(),
        ),
    )
    share.refresh_from_db()
    assert share.status == S.RELEASED
    assert share.releases.get().srs_project_reference == "SRS-2026-777"

    # The end date passes: what beat runs each night.
    assert share.end_date is not None
    services.shares_nightly(today=share.end_date)

    # The requester sends the destruction certificate.
    page.goto(f"{base}/data-sharing/{reference}/")
    expect(_status_tag(page)).to_have_text("Share ended: destruction certificate due")
    page.get_by_role("link", name="Send the destruction certificate").click()
    page.get_by_label("Who destroyed the data").fill("Ola Nordmann")
    _fill_date(page, "destroyed_on", timezone.localdate())
    page.get_by_label("What was destroyed").fill("The extract and derived tables.")
    page.get_by_label("How it was destroyed").fill("Deleted inside the SRS.")
    page.get_by_role("button", name="Send the certificate").click()
    expect(page.get_by_text("You sent the destruction certificate")).to_be_visible()

    # The caseworker accepts it; the case is closed.
    _step(
        office,
        change_url,
        "Accept the destruction certificate",
        "Accept and close the case",
    )
    page.reload()
    expect(_status_tag(page)).to_have_text("Closed")
    share.refresh_from_db()
    assert share.status == S.CLOSED
    assert [h.status for h in share.history.order_by("history_date")][-1] == S.CLOSED
