import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from approvals import services
from approvals.models import (
    MINIMUM_QUORUM,
    DataShareRequest,
    MeetingMinutes,
    PanelMeeting,
)
from approvals.services.meetings import meeting_agenda
from lrs_portal.models import User

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status


def test_the_demo_has_a_request_at_each_main_stage(settings):
    settings.DEBUG = True

    call_command("seed_demo")

    statuses = dict(DataShareRequest.objects.values_list("reference", "status"))
    assert statuses == {
        "DS00101": S.SUBMITTED,
        "DS00102": S.PANEL,
        "DS00103": S.RELEASED,
    }
    rhea = Client()
    rhea.force_login(
        User.objects.get(email="rhea.jones@research-institute.example.com")
    )
    assert "DS00102" in rhea.get(reverse("approvals:requests")).text
    register = Client().get(reverse("approvals:published")).text
    assert "Free school meals and post-16 destinations" in register
    assert "How free school meals eligibility relates" in register


def test_the_demo_shows_a_meeting_with_an_agenda_and_signed_minutes(settings):
    settings.DEBUG = True

    call_command("seed_demo")
    call_command("seed_demo")  # a second run changes nothing

    held = MeetingMinutes.objects.get().meeting
    upcoming = PanelMeeting.objects.exclude(pk=held.pk).get()
    assert [r.reference for r in meeting_agenda(upcoming)] == ["DS00102"]
    assert [r.reference for r in meeting_agenda(held)] == ["DS00103"]
    assert MeetingMinutes.objects.get(meeting=held).signed_at is not None


def test_the_demo_panel_can_vote_on_ds00102_and_its_chair_decide_today(settings):
    # Issue 17: every journey can be finished with the demo sign-ins. A meeting
    # in the future refused every vote ("only on or after the day of the meeting").
    settings.DEBUG = True
    call_command("seed_demo")
    share = DataShareRequest.objects.get(reference="DS00102")
    meeting = share.panel_meeting
    assert meeting is not None
    members = list(meeting.members.all())
    assert len(members) >= MINIMUM_QUORUM
    for member in members:
        assert member.has_usable_password()  # each signs in with the demo password

        services.panel_vote_cast(
            request=share, acting_user=member, vote="approve", comments=""
        )
        share.refresh_from_db()
    services.decision_record(
        request=share,
        acting_user=meeting.chair,
        outcome="approved",
        reasons="Clear public benefit.",
        supports_aims="Post-16 research.",
    )
    share.refresh_from_db()
    assert share.status == S.APPROVED
