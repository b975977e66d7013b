"""The panel secretariat's meeting record: agenda, papers pack, attendance,
minutes, actions and the chair's sign-off (decision 17)."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals import services
from approvals.models import (
    DataShareRequest,
    MeetingAttendance,
    MeetingMinutes,
)
from approvals.papers import papers_pack
from approvals.services.meetings import (
    action_add,
    attendance_record,
    meeting_agenda,
    minutes_sign,
    minutes_write,
    sign_off_blockers,
)
from approvals.services.requests import Refused
from lrs_portal import roles
from tests.approvals.conftest import Cast, build_cast, staff
from tests.approvals.factories import AffiliationFactory, PanelMeetingFactory
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status


@pytest.fixture
def held(cast: Cast) -> Cast:
    """The cast's meeting is held today, with its request on the agenda."""
    cast.meeting.held_on = timezone.localdate()
    cast.meeting.save()
    cast.to_panel()
    return cast


def _meeting_url(cast: Cast, name: str = "change") -> str:
    return reverse(f"admin:approvals_panelmeeting_{name}", args=[cast.meeting.pk])


def _decided(cast: Cast) -> None:
    cast.votes("approve", "approve", "approve")
    cast.decide()


def _record_everyone(cast: Cast) -> None:
    for member in cast.members:
        attendance_record(
            meeting=cast.meeting,
            acting_user=cast.caseworker,
            member=member,
            status=MeetingAttendance.Status.ATTENDED,
        )


def _ready_to_sign(cast: Cast) -> None:
    _decided(cast)
    _record_everyone(cast)
    minutes_write(
        meeting=cast.meeting, acting_user=cast.caseworker, discussion="Discussed."
    )


# --- the agenda and the papers ---------------------------------------------------


def test_the_agenda_holds_placed_and_deferred_requests(held: Cast):
    held.votes("defer", "defer", "defer")
    held.decide("deferred")

    assert held.refresh().panel_meeting is None
    assert list(meeting_agenda(held.meeting)) == [held.request]


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_the_papers_pack_has_a_cover_and_each_requests_papers(held: Cast):
    pdf = papers_pack(held.meeting, held.members[1])

    assert pdf.startswith(b"%PDF-")
    assert _pages(pdf) == 2


def test_a_conflicted_member_gets_no_papers_for_that_request(held: Cast):
    services.panel_conflict_declare(
        request=held.request, acting_user=held.members[1], detail="My co-author"
    )

    assert _pages(papers_pack(held.meeting, held.members[1])) == 1
    assert _pages(papers_pack(held.meeting, held.members[2])) == 2


def test_a_member_from_the_requesting_organisation_gets_no_papers_for_it(
    held: Cast,
):
    AffiliationFactory.create(user=held.members[2], organisation=held.organisation)

    assert _pages(papers_pack(held.meeting, held.members[2])) == 1


def test_the_papers_pack_survives_text_outside_latin_1(held: Cast):
    held.request.project_title = "Pupils\u2019 progress \u2014 \u5b66\u6821 \u2713"
    held.request.save()

    assert _pages(papers_pack(held.meeting, held.caseworker)) == 2


def test_a_member_downloads_the_papers_of_their_meeting(held: Cast):
    response = verified_client(held.members[1]).get(_meeting_url(held, "papers"))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_a_member_of_another_meeting_gets_404_for_the_papers(held: Cast):
    other = staff(roles.DSAP_PANEL_MEMBER)
    PanelMeetingFactory.create(chair=other)

    response = verified_client(other).get(_meeting_url(held, "papers"))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_the_meeting_page_shows_the_agenda_and_withheld_papers(held: Cast):
    services.panel_conflict_declare(
        request=held.request, acting_user=held.members[1], detail="My co-author"
    )

    page = verified_client(held.members[1]).get(_meeting_url(held)).text

    assert held.request.reference in page
    assert "papers withheld from you" in page


# --- attendance, minutes, actions --------------------------------------------------


def test_attendance_is_recorded_and_corrected_with_history(held: Cast):
    member = held.members[2]
    attendance_record(
        meeting=held.meeting,
        acting_user=held.caseworker,
        member=member,
        status="apologies",
    )
    row = attendance_record(
        meeting=held.meeting,
        acting_user=held.caseworker,
        member=member,
        status="attended",
    )

    assert row.status == "attended"
    assert MeetingAttendance.objects.filter(meeting=held.meeting).count() == 1
    assert row.history.count() == 2


def test_attendance_of_someone_not_on_the_meeting_is_refused(held: Cast):
    with pytest.raises(Refused):
        attendance_record(
            meeting=held.meeting,
            acting_user=held.caseworker,
            member=held.assessor,
            status="attended",
        )


def test_a_member_cannot_keep_the_minutes(held: Cast):
    with pytest.raises(PermissionError):
        minutes_write(
            meeting=held.meeting, acting_user=held.members[1], discussion="Mine"
        )


def test_a_caseworker_from_the_requesting_organisation_cannot_keep_minutes(
    held: Cast,
):
    AffiliationFactory.create(user=held.caseworker, organisation=held.organisation)

    with pytest.raises(PermissionError):
        minutes_write(meeting=held.meeting, acting_user=held.caseworker, discussion="x")


def test_minutes_cannot_be_written_before_the_meeting(cast: Cast):
    cast.meeting.held_on = timezone.localdate() + timedelta(days=14)
    cast.meeting.save()
    cast.to_panel()

    with pytest.raises(Refused, match="on or after"):
        minutes_write(meeting=cast.meeting, acting_user=cast.caseworker, discussion="x")


def test_an_action_on_a_request_not_on_the_agenda_is_refused(held: Cast):
    stranger = build_cast().request

    with pytest.raises(Refused, match="not on this meeting"):
        action_add(
            meeting=held.meeting,
            acting_user=held.caseworker,
            description="Check it",
            owner="Secretariat",
            request=stranger,
        )


# --- sign-off ---------------------------------------------------------------------


def test_sign_off_lists_what_is_missing(held: Cast):
    blockers = sign_off_blockers(held.meeting)

    assert "The secretariat has not written the minutes." in blockers
    assert f"{held.request.reference} has no decision yet." in blockers
    assert any("attended" in b for b in blockers)


def test_only_the_chair_signs(held: Cast):
    _ready_to_sign(held)

    with pytest.raises(PermissionError):
        minutes_sign(meeting=held.meeting, acting_user=held.caseworker)
    with pytest.raises(PermissionError):
        minutes_sign(meeting=held.meeting, acting_user=held.members[1])


def test_the_chair_cannot_sign_with_a_request_undecided(held: Cast):
    _record_everyone(held)
    minutes_write(meeting=held.meeting, acting_user=held.caseworker, discussion="x")

    with pytest.raises(Refused, match="no decision yet"):
        minutes_sign(meeting=held.meeting, acting_user=held.chair)


def test_signed_minutes_close_the_record(held: Cast):
    _ready_to_sign(held)
    minutes = minutes_sign(meeting=held.meeting, acting_user=held.chair)

    assert minutes.signed_by == held.chair
    with pytest.raises(Refused, match="signed"):
        minutes_write(meeting=held.meeting, acting_user=held.caseworker, discussion="y")
    with pytest.raises(Refused, match="signed"):
        attendance_record(
            meeting=held.meeting,
            acting_user=held.caseworker,
            member=held.members[1],
            status="apologies",
        )
    with pytest.raises(Refused, match="already signed"):
        minutes_sign(meeting=held.meeting, acting_user=held.chair)
    assert MeetingMinutes.objects.get().discussion == "Discussed."


def test_a_signed_meeting_takes_no_new_request(held: Cast):
    _ready_to_sign(held)
    minutes_sign(meeting=held.meeting, acting_user=held.chair)
    other = build_cast()
    other.meeting = held.meeting
    other.assess()

    with pytest.raises(Refused, match="signed"):
        services.request_place_on_meeting(
            request=other.request, acting_user=held.caseworker, meeting=held.meeting
        )


def test_a_signed_meeting_page_is_read_only(held: Cast):
    _ready_to_sign(held)
    minutes_sign(meeting=held.meeting, acting_user=held.chair)
    client = verified_client(held.caseworker)

    page = client.get(_meeting_url(held)).text
    posted = client.post(
        _meeting_url(held, "minutes"), {"discussion": "Rewritten afterwards"}
    )

    assert "Signed by" in page
    assert "Write the minutes" not in page
    assert posted.status_code == HTTPStatus.FOUND
    assert MeetingMinutes.objects.get().discussion == "Discussed."


def test_the_meeting_record_shows_in_its_timeline(held: Cast):
    _ready_to_sign(held)
    minutes_sign(meeting=held.meeting, acting_user=held.chair)

    page = verified_client(held.caseworker).get(_meeting_url(held)).text

    assert "Minutes signed by the chair" in page
    assert "Minutes written" in page


# --- the admin pages --------------------------------------------------------------


def test_the_meeting_page_has_history_and_object_permission_buttons(
    held: Cast, admin_verified_client
):
    page = admin_verified_client.get(_meeting_url(held)).text

    assert "History" in page
    assert "Object permissions" in page
    assert 'id="agenda"' in page


def test_the_meeting_list_shows_the_minutes_status(held: Cast):
    _ready_to_sign(held)
    url = reverse("admin:approvals_panelmeeting_changelist")
    client = verified_client(held.caseworker)

    before = client.get(url).text
    minutes_sign(meeting=held.meeting, acting_user=held.chair)
    after = client.get(url).text

    assert "Written, not signed" in before
    assert "Signed " in after


def test_a_member_of_another_meeting_gets_404_for_the_meeting_page(held: Cast):
    other = staff(roles.DSAP_PANEL_MEMBER)
    PanelMeetingFactory.create(chair=other)

    response = verified_client(other).get(_meeting_url(held))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_member_sees_no_secretariat_tools(held: Cast):
    page = verified_client(held.members[1]).get(_meeting_url(held)).text

    assert "Download the papers pack (PDF)" in page
    assert "Record attendance" not in page
    assert "Sign the minutes" not in page


def test_the_chair_signs_through_the_page_once_ready(held: Cast):
    client = verified_client(held.chair)
    refused = client.get(_meeting_url(held, "sign")).text
    _ready_to_sign(held)

    response = client.post(_meeting_url(held, "sign"))

    assert "The minutes cannot be signed yet" in refused
    assert response.status_code == HTTPStatus.FOUND
    assert MeetingMinutes.objects.get().signed_by == held.chair


def test_the_request_page_shows_its_case_file_to_a_caseworker(held: Cast):
    page = (
        verified_client(held.caseworker)
        .get(reverse("admin:approvals_datasharerequest_change", args=[held.request.pk]))
        .text
    )

    assert "internal notes (never shown to the requester)" in page.lower()
    assert "Add an internal note" in page
    assert "Attach a document" in page
