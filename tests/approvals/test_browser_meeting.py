"""A panel meeting from agenda to signed minutes, in Debian's chromium
(decision 17).

Two assessed requests are on a meeting held today. The caseworker sees the
agenda; a member downloads the papers pack; one member declares a conflict on
the second request (their papers for it are then withheld); members vote and the
chair records both decisions; the caseworker records attendance, writes the
minutes and adds an action; the chair signs, and the meeting's record is then
read-only. Staff arrive signed in with their second factor, as in the lifecycle
test; the requests reach the panel through the services.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from approvals import services
from approvals.models import FIVE_SAFES, DataShareRequest, MeetingMinutes
from lrs_portal import roles
from tests.approvals.conftest import build_cast
from tests.approvals.factories import (
    DataShareRequestFactory,
    PanelMeetingFactory,
    ResearchOrganisationFactory,
)
from tests.approvals.test_browser_lifecycle import _radio, _staff_page
from tests.browser import CHROMIUM, assert_accessible
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def _to_meeting(request: DataShareRequest, caseworker, assessor, meeting) -> None:
    services.request_submit(request=request, acting_user=request.requester)
    services.request_accept_for_assessment(request=request, acting_user=caseworker)
    request.refresh_from_db()
    services.request_assign_assessor(
        request=request,
        acting_user=caseworker,
        assessor=assessor,
        no_conflict_declared=True,
    )
    request.refresh_from_db()
    services.assessment_record(
        no_conflict_declared=True,
        request=request,
        acting_user=assessor,
        ratings={key: "low" for key, _ in FIVE_SAFES},
        reasons={key: f"{label}: fine." for key, label in FIVE_SAFES},
        recommendation="approve",
    )
    request.refresh_from_db()
    services.request_place_on_meeting(
        request=request, acting_user=caseworker, meeting=meeting
    )


def _on(page: Page, url: str, link: str, button: str, fill=None) -> None:
    page.goto(url)
    page.get_by_role("link", name=link, exact=True).click()
    if fill:
        fill(page)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(url)
    expect(page.locator(".messagelist .error")).to_have_count(0)


def _decide(outcome: str):
    def fill(page: Page) -> None:
        _radio(page, "outcome", outcome)
        page.locator("textarea[name='reasons']").fill(f"The panel's view: {outcome}.")
        page.locator("textarea[name='supports_aims']").fill("Literacy research.")

    return fill


def test_a_meeting_goes_from_agenda_to_signed_minutes(live_server, new_context):
    base = live_server.url

    def staff(role: str):
        return UserFactory.create(roles=(role,), is_staff=True)

    caseworker, assessor = staff(roles.CASEWORKER), staff(roles.DSAP_ASSESSOR)
    members = [staff(roles.DSAP_PANEL_MEMBER) for _ in range(4)]
    chair = members[0]
    meeting = PanelMeetingFactory.create(
        chair=chair, members=members[1:], held_on=timezone.localdate()
    )
    organisation = ResearchOrganisationFactory.create()
    first, second = (
        DataShareRequestFactory.create(
            complete=True, organisation=organisation, project_title=title
        )
        for title in ("Reading at age 11", "Attendance and exclusions")
    )
    for share in (first, second):
        services.requester_add(
            user=share.requester, organisation=organisation, acting_user=caseworker
        )
        _to_meeting(share, caseworker, assessor, meeting)
    meeting_url = f"{base}/admin/approvals/panelmeeting/{meeting.pk}/change/"

    def request_url(share: DataShareRequest) -> str:
        return f"{base}/admin/approvals/datasharerequest/{share.pk}/change/"

    # The agenda, on the meeting's page.
    office = _staff_page(new_context, base, caseworker)
    office.goto(meeting_url)
    agenda = office.locator("#agenda")
    expect(agenda).to_contain_text(first.reference)
    expect(agenda).to_contain_text(second.reference)

    # A member declares a conflict on the second request, then downloads the
    # papers pack, which leaves that request's papers out.
    conflicted = _staff_page(new_context, base, members[3])
    _on(
        conflicted,
        request_url(second),
        "Declare a conflict",
        "Declare the conflict",
        lambda p: p.locator("textarea[name='detail']").fill("I co-supervise it."),
    )
    conflicted.goto(meeting_url)
    expect(conflicted.locator("#agenda")).to_contain_text("papers withheld from you")
    with conflicted.expect_download() as download:
        conflicted.get_by_role("link", name="Download the papers pack (PDF)").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 2  # cover, first

    # Votes and the chair's decisions.
    for member in members:
        desk = _staff_page(new_context, base, member)
        for share in (first, second):
            if member == members[3] and share == second:
                continue
            _on(
                desk,
                request_url(share),
                "Vote",
                "Record my vote",
                lambda p: _radio(p, "vote", "approve"),
            )
    chair_desk = _staff_page(new_context, base, chair)
    _on(
        chair_desk,
        request_url(first),
        "Record the decision",
        "Record the decision",
        _decide("approved"),
    )
    _on(
        chair_desk,
        request_url(second),
        "Record the decision",
        "Record the decision",
        _decide("rejected"),
    )

    # Attendance, the minutes and an action.
    def everyone_attended(page: Page) -> None:
        for member in members:
            _radio(page, f"member_{member.pk}", "attended")

    _on(
        office, meeting_url, "Record attendance", "Record attendance", everyone_attended
    )
    _on(
        office,
        meeting_url,
        "Write the minutes",
        "Save the minutes",
        lambda p: p.locator("textarea[name='discussion']").fill(
            "The panel weighed the benefit of both projects."
        ),
    )
    _on(
        office,
        meeting_url,
        "Add an action",
        "Record the action",
        lambda p: (
            p.locator("textarea[name='description']").fill("Write to the requester."),
            p.locator("input[name='owner']").fill("Secretariat"),
            p.locator("select[name='request']").select_option(str(second.pk)),
        ),
    )
    office.goto(meeting_url)
    minutes = office.locator("#minutes")
    expect(minutes).to_contain_text("Decision: Approved")
    expect(minutes).to_contain_text("Decision: Rejected")
    expect(minutes).to_contain_text("I co-supervise it.")
    expect(minutes).to_contain_text("Write to the requester.")
    expect(office.locator("#sign-off-blockers")).to_have_count(0)

    # The chair signs; the record is then read-only.
    _on(chair_desk, meeting_url, "Sign the minutes", "Sign the minutes")
    chair_desk.goto(meeting_url)
    expect(chair_desk.locator("#minutes")).to_contain_text(f"Signed by {chair}")
    office.goto(meeting_url)
    expect(office.get_by_role("link", name="Write the minutes")).to_have_count(0)
    expect(office.locator("#meeting-record")).to_contain_text(
        "Minutes signed by the chair"
    )
    assert MeetingMinutes.objects.get(meeting=meeting).signed_by == chair


def test_a_requester_asks_to_extend_a_live_share(live_server, new_context):
    base = live_server.url
    cast = build_cast()
    cast.meeting.held_on = timezone.localdate()
    cast.meeting.save()
    share = cast.release()
    page = _staff_page(new_context, base, cast.requester)  # a signed-in session

    page.goto(f"{base}/data-sharing/{share.reference}/")
    page.get_by_role("link", name="Ask for an amendment or extension").click()
    assert_accessible(page)
    page.get_by_role("button", name="Start the change").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select whether you need an amendment or an extension"
    )
    assert_accessible(page)
    _radio(page, "kind", "extension")
    page.get_by_role("button", name="Start the change").click()

    change = share.changes.get()
    page.wait_for_url(f"**/data-sharing/{change.reference}/tasks/")
    expect(page.get_by_text(f"We started {change.reference}")).to_be_visible()
