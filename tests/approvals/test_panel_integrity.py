"""Issue 20's ways around the panel, each closed (decision 16): on PostgreSQL,
through the services and the pages that call them."""

import threading
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals import services
from approvals.models import (
    ApprovalCondition,
    DataShareRequest,
    PanelMeeting,
    PanelVote,
    RequestedDataset,
    Researcher,
    ResearchOrganisation,
    RiskAppetiteChange,
    RiskSettings,
)
from lrs_portal import roles
from tests.approvals.conftest import Cast, build_cast, on_day, staff
from tests.approvals.factories import (
    AffiliationFactory,
    PanelMeetingFactory,
    RequestedDatasetFactory,
)
from tests.conftest import verified_client

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
S = DataShareRequest.Status


def _wf(name: str, share: DataShareRequest) -> str:
    return reverse(f"admin:approvals_datasharerequest_{name}", args=[share.pk])


def _meeting_post(
    meeting: PanelMeeting, share: DataShareRequest, **changes: object
) -> dict[str, object]:
    data: dict[str, object] = {
        "held_on": meeting.held_on.isoformat(),
        "chair": meeting.chair_id,
        "members": [m.pk for m in meeting.members.all()],
        "requests-TOTAL_FORMS": 1,
        "requests-INITIAL_FORMS": 1,
        "requests-0-id": share.pk,
        "requests-0-panel_meeting": meeting.pk,
    }
    data.update(changes)
    return data


def _meeting_url(meeting: PanelMeeting) -> str:
    return reverse("admin:approvals_panelmeeting_change", args=[meeting.pk])


# --- votes swung by changing the meeting ---


def test_the_meeting_cannot_be_reshaped_once_voting_has_started(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "reject", "reject")
    friends = [staff(roles.DSAP_PANEL_MEMBER) for _ in range(2)]
    members = [cast.members[0], cast.members[3], *friends]

    response = verified_client(cast.caseworker).post(
        _meeting_url(cast.meeting),
        _meeting_post(cast.meeting, cast.request, members=[m.pk for m in members]),
    )

    assert response.status_code == HTTPStatus.OK  # the form again, with the error
    assert "Voting has started at this meeting, so its members cannot change" in (
        response.text
    )
    assert set(cast.meeting.members.all()) == set(cast.members)
    for friend in friends:
        with pytest.raises(PermissionError):
            services.panel_vote_cast(
                request=cast.refresh(), acting_user=friend, vote="approve", comments=""
            )
    with pytest.raises(services.Refused) as refused:
        cast.decide()
    assert "Most votes counted must be to approve." in refused.value.reasons


def test_neither_the_chair_nor_the_date_changes_once_voting_has_started(cast: Cast):
    cast.to_panel()
    cast.votes("approve")
    later = (cast.meeting.held_on + timedelta(days=7)).isoformat()

    for change in ({"chair": cast.members[1].pk}, {"held_on": later}):
        response = verified_client(cast.caseworker).post(
            _meeting_url(cast.meeting),
            _meeting_post(cast.meeting, cast.request, **change),
        )
        assert "Voting has started at this meeting" in response.text

    cast.meeting.refresh_from_db()
    assert cast.meeting.chair == cast.chair
    assert cast.meeting.held_on == timezone.localdate()


def test_before_any_vote_the_meeting_can_still_change(cast: Cast):
    cast.to_panel()
    newcomer = staff(roles.DSAP_PANEL_MEMBER)

    verified_client(cast.caseworker).post(
        _meeting_url(cast.meeting),
        _meeting_post(
            cast.meeting,
            cast.request,
            members=[*(m.pk for m in cast.members), newcomer.pk],
        ),
    )

    assert cast.meeting.members.filter(pk=newcomer.pk).exists()


def test_a_meeting_cannot_be_dated_in_the_past(cast: Cast):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = verified_client(cast.caseworker).post(
        reverse("admin:approvals_panelmeeting_add"),
        {
            "held_on": yesterday,
            "chair": cast.chair.pk,
            "members": [m.pk for m in cast.members],
            "requests-TOTAL_FORMS": 0,
            "requests-INITIAL_FORMS": 0,
        },
    )

    assert "The meeting&#x27;s date must be today or in the future" in response.text
    assert not PanelMeeting.objects.filter(held_on=yesterday).exists()


def test_a_request_with_votes_is_not_moved_to_another_meeting(cast: Cast):
    cast.to_panel()
    cast.votes("reject", "reject")
    friendly = PanelMeetingFactory.create(
        held_on=timezone.localdate(),
        chair=cast.members[3],
        members=[staff(roles.DSAP_PANEL_MEMBER) for _ in range(3)],
    )

    with pytest.raises(services.Refused) as refused:
        services.request_place_on_meeting(
            request=cast.request, acting_user=cast.caseworker, meeting=friendly
        )

    assert "only the chair's decision (a deferral)" in refused.value.reasons[0]
    assert cast.refresh().panel_meeting == cast.meeting


# --- appetite raised after assessment ---


def _scores_19(cast: Cast) -> None:
    """A linked, two-million-record, tier 1, direct-supply request from a company:
    4 + 3 + 3 + 5 + 4 = 19 points under the default model."""
    cast.organisation.kind = ResearchOrganisation.Kind.COMMERCIAL
    cast.organisation.save()
    share = cast.request
    share.linkage, share.linkage_detail = True, "Linked to our customer records"
    share.records_expected = 2_000_000
    share.access_route = DataShareRequest.AccessRoute.DIRECT_SUPPLY
    share.direct_supply_reason = "We need it on our own servers"
    share.save()
    share.datasets.update(tier=RequestedDataset.Tier.TIER_1)


def test_raising_the_appetite_after_assessment_does_not_avoid_the_siro(cast: Cast):
    _scores_19(cast)
    cast.to_panel()
    assert cast.request.assessment.risk_score == 19
    services.risk_appetite_change(
        acting_user=cast.siro, risk_appetite=25, reason="Appetite review"
    )
    cast.votes("approve", "approve", "approve")

    with pytest.raises(services.Refused) as refused:
        cast.decide()

    assert "above the risk appetite 10 in force when it was assessed" in " ".join(
        refused.value.reasons
    )
    assert cast.refresh().status == S.PANEL
    assert cast.request.assessment.risk_appetite == 10


def test_a_new_appetite_applies_to_later_assessments(cast: Cast):
    services.risk_appetite_change(
        acting_user=cast.siro, risk_appetite=4, reason="Tighter after an incident"
    )
    cast.to_panel()
    cast.votes("approve", "approve", "approve")

    with pytest.raises(services.Refused) as refused:
        cast.decide()

    assert cast.request.assessment.risk_appetite == 4
    assert "above the risk appetite 4" in " ".join(refused.value.reasons)


def test_changing_the_appetite_is_a_recorded_decision(cast: Cast):
    change = services.risk_appetite_change(
        acting_user=cast.siro, risk_appetite=12, reason="Annual review of appetite"
    )

    assert (change.risk_appetite_before, change.risk_appetite) == (10, 12)
    assert (change.decided_by, change.reason) == (
        cast.siro,
        "Annual review of appetite",
    )
    record = RiskSettings.current().history.first()
    assert record.history_user == cast.siro
    assert record.history_change_reason == (
        "Risk appetite 10 to 12: Annual review of appetite"
    )


@pytest.mark.parametrize(
    ("who", "value", "reason", "error"),
    [
        ("caseworker", 12, "Because", PermissionError),
        ("siro", 12, "  ", services.Refused),
        ("siro", 10, "No change", services.Refused),
        ("siro", 101, "Too high", services.Refused),
    ],
)
def test_a_bad_appetite_change_is_refused_and_changes_nothing(
    cast: Cast, who, value, reason, error
):
    with pytest.raises(error):
        services.risk_appetite_change(
            acting_user=getattr(cast, who), risk_appetite=value, reason=reason
        )

    assert RiskSettings.current().risk_appetite == 10
    assert not RiskAppetiteChange.objects.exists()


def test_the_settings_form_no_longer_changes_the_appetite(cast: Cast, admin_user):
    settings = RiskSettings.current()
    client = verified_client(admin_user)
    url = reverse("admin:approvals_risksettings_change", args=[settings.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}

    client.post(url, {**data, "risk_appetite": 25})

    assert RiskSettings.current().risk_appetite == 10
    page = client.get(url)
    assert "Change the risk appetite" in page.text


def test_the_siro_changes_the_appetite_on_its_own_page(cast: Cast):
    settings = RiskSettings.current()
    url = reverse("admin:approvals_risksettings_appetite", args=[settings.pk])

    verified_client(cast.siro).post(url, {"risk_appetite": 8, "reason": "Review"})
    forbidden = verified_client(cast.caseworker).post(
        url, {"risk_appetite": 30, "reason": "Mine"}
    )

    assert forbidden.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)
    assert RiskSettings.current().risk_appetite == 8
    assert RiskAppetiteChange.objects.get().decided_by == cast.siro


# --- deciding before the meeting ---


@pytest.mark.parametrize("days_ahead", [7, 60])
def test_nobody_votes_or_decides_before_the_meeting(cast: Cast, days_ahead):
    cast.meeting.held_on = timezone.localdate() + timedelta(days=days_ahead)
    cast.meeting.save()
    cast.to_panel()

    with pytest.raises(services.Refused) as refused:
        cast.votes("approve")
    assert "only on or after the day of the meeting" in refused.value.reasons[0]
    with pytest.raises(services.Refused) as refused:
        cast.decide("rejected")
    assert any("on or after the day of the meeting" in r for r in refused.value.reasons)

    assert not PanelVote.objects.exists()
    assert cast.refresh().status == S.PANEL


def test_on_the_meetings_day_the_votes_and_decision_are_recorded(cast: Cast):
    cast.meeting.held_on = timezone.localdate() + timedelta(days=7)
    cast.meeting.save()
    cast.to_panel()
    # A conflict can be declared as soon as the papers are read.
    services.panel_conflict_declare(
        request=cast.request, acting_user=cast.members[3], detail="A co-author"
    )

    with on_day(cast.meeting.held_on):
        cast.votes("approve", "approve", "approve")
        decision = cast.decide()

    assert decision.decided_at.date() == cast.meeting.held_on


def test_the_vote_page_before_the_meeting_says_when_and_has_no_button(cast: Cast):
    cast.meeting.held_on = timezone.localdate() + timedelta(days=7)
    cast.meeting.save()
    cast.to_panel()

    page = verified_client(cast.members[1]).get(_wf("vote", cast.request))

    assert "only on or after the day of the meeting" in page.text
    assert 'value="Record my vote"' not in page.text


# --- one person in several roles ---


def _above_appetite(cast: Cast) -> None:
    services.risk_appetite_change(acting_user=cast.siro, risk_appetite=4, reason="R")


def test_the_assessor_cannot_accept_the_risk_on_their_own_assessment(cast: Cast):
    _above_appetite(cast)
    cast.assessor.groups.add(*staff(roles.SIRO).groups.all())
    cast.to_panel()

    with pytest.raises(services.Refused) as refused:
        services.risk_escalation_record(
            request=cast.request,
            acting_user=cast.assessor,
            risk_accepted=True,
            comments="Fine by me",
        )

    assert "You assessed this request" in refused.value.reasons[0]
    assert not cast.request.escalations.exists()


def test_the_chair_cannot_accept_the_risk_then_approve(cast: Cast):
    _above_appetite(cast)
    cast.chair.groups.add(*staff(roles.SIRO).groups.all())
    cast.to_panel()

    with pytest.raises(services.Refused) as refused:
        services.risk_escalation_record(
            request=cast.request,
            acting_user=cast.chair,
            risk_accepted=True,
            comments="Accepted",
        )

    assert "You chair the" in refused.value.reasons[0]
    page = verified_client(cast.chair).get(_wf("escalation", cast.request))
    assert "You cannot answer this escalation" in page.text
    assert 'value="Record my answer"' not in page.text


def test_a_siro_who_answered_cannot_become_the_deciding_chair(cast: Cast):
    _above_appetite(cast)
    cast.to_panel()
    services.risk_escalation_record(
        request=cast.request, acting_user=cast.siro, risk_accepted=True, comments="OK"
    )
    # Before any vote the chair may still change: to the SIRO who answered.
    cast.meeting.members.add(cast.siro)
    cast.siro.groups.add(*staff(roles.DSAP_PANEL_MEMBER).groups.all())
    cast.meeting.chair = cast.siro
    cast.meeting.save()
    from approvals import permissions

    permissions.panel_permissions_sync(meeting=cast.meeting)
    cast.chair = cast.siro
    cast.refresh()
    cast.votes(None, "approve", "approve", "approve")

    with pytest.raises(services.Refused) as refused:
        cast.decide()
    assert "cannot also decide it" in " ".join(refused.value.reasons)

    cast.decide("deferred")
    assert cast.refresh().status == S.DEFERRED


def test_a_request_is_not_placed_on_a_meeting_its_assessor_or_siro_chairs(cast: Cast):
    _above_appetite(cast)
    cast.assess()
    services.risk_escalation_record(
        request=cast.request, acting_user=cast.siro, risk_accepted=True, comments="OK"
    )
    for chair in (cast.assessor, cast.siro):
        meeting = PanelMeetingFactory.create(
            held_on=timezone.localdate(), chair=chair, members=cast.members[1:]
        )
        with pytest.raises(services.Refused):
            services.request_place_on_meeting(
                request=cast.request, acting_user=cast.caseworker, meeting=meeting
            )
    assert cast.refresh().panel_meeting is None


def test_a_member_affiliated_with_the_requester_after_voting_is_set_aside(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve", "approve")
    AffiliationFactory.create(user=cast.members[2], organisation=cast.organisation)
    services.votes_set_aside_for_affiliation(
        user=cast.members[2], organisation=cast.organisation, acting_user=cast.siro
    )

    with pytest.raises(services.Refused) as refused:
        cast.decide()

    assert "not quorate: 2 of 3" in refused.value.reasons[0]
    vote = PanelVote.objects.get(member=cast.members[2])
    assert vote.set_aside_at is not None
    assert "now affiliated with" in vote.history.first().history_change_reason


def test_an_affiliation_made_in_the_admin_sets_the_vote_aside(cast: Cast, admin_user):
    cast.to_panel()
    cast.votes("approve", "approve", "approve")

    verified_client(admin_user).post(
        reverse("admin:approvals_affiliation_add"),
        {"user": cast.members[2].pk, "organisation": cast.organisation.pk},
    )

    vote = PanelVote.objects.get(member=cast.members[2])
    assert vote.set_aside_at is not None
    assert vote.history.first().history_user == admin_user


def test_an_affiliation_even_made_another_way_stops_the_vote_counting(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve", "approve", "approve")
    AffiliationFactory.create(user=cast.members[3], organisation=cast.organisation)

    decision = cast.decide()

    assert (decision.votes_cast, decision.votes_set_aside) == (3, 1)


# --- a conflict realised after voting ---


def test_a_conflict_declared_after_voting_sets_the_vote_aside(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve", "approve", "reject")

    services.panel_conflict_declare(
        request=cast.request, acting_user=cast.members[1], detail="My former student"
    )

    vote = PanelVote.objects.get(member=cast.members[1])
    assert (vote.vote, vote.conflict_declared) == ("approve", True)
    assert vote.history.first().history_change_reason.startswith(
        "Vote set aside: conflict of interest declared after voting"
    )
    decision = cast.decide()
    assert (decision.votes_for, decision.votes_cast, decision.votes_set_aside) == (
        2,
        3,
        1,
    )


def test_a_conflict_is_declared_once(cast: Cast):
    cast.to_panel()
    services.panel_conflict_declare(
        request=cast.request, acting_user=cast.members[1], detail="Co-author"
    )

    with pytest.raises(PermissionError):
        services.panel_conflict_declare(
            request=cast.request, acting_user=cast.members[1], detail="Again"
        )


def test_after_declaring_a_conflict_the_member_sees_no_vote_buttons(cast: Cast):
    cast.to_panel()
    client = verified_client(cast.members[1])
    before = client.get(_wf("change", cast.request)).text
    assert _wf("vote", cast.request) in before

    client.post(_wf("declare_conflict", cast.request), {"detail": "My co-author"})

    after = client.get(_wf("change", cast.request)).text
    assert _wf("vote", cast.request) not in after
    assert _wf("declare_conflict", cast.request) not in after
    response = client.post(_wf("vote", cast.request), {"vote": "approve"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not PanelVote.objects.exclude(vote="").exists()


def test_after_voting_the_member_can_still_declare_a_conflict(cast: Cast):
    cast.to_panel()
    client = verified_client(cast.members[1])
    client.post(_wf("vote", cast.request), {"vote": "approve", "comments": ""})

    page = client.get(_wf("change", cast.request)).text

    assert _wf("vote", cast.request) not in page
    assert _wf("declare_conflict", cast.request) in page


# --- conditions tracked to met ---


def _approved_with_conditions(cast: Cast) -> list[ApprovalCondition]:
    cast.to_panel()
    cast.votes("approve_with_conditions", "approve", "approve")
    cast.decide(
        "approved_with_conditions",
        conditions="- Data sharing agreement signed\n\n- Outputs checked by ONS\n",
    )
    return list(cast.request.approval_conditions.all())


def _release(cast: Cast, **kwargs):
    return services.release_record(
        request=cast.refresh(),
        acting_user=cast.caseworker,
        dataset=kwargs.pop("dataset", None) or cast.request.datasets.first(),
        srs_project_reference="SRS-1",
        researchers=list(cast.request.researchers.all()),
        end_date=kwargs.pop("end_date", cast.request.end_date),
    )


def test_each_condition_is_a_row_and_must_be_met_before_release(cast: Cast):
    conditions = _approved_with_conditions(cast)
    assert [c.text for c in conditions] == [
        "Data sharing agreement signed",
        "Outputs checked by ONS",
    ]
    services.condition_mark_met(
        condition=conditions[0], acting_user=cast.caseworker, evidence="DSA-2026-7"
    )

    with pytest.raises(services.Refused) as refused:
        _release(cast)
    assert refused.value.reasons == [
        "The condition of approval is not yet met: Outputs checked by ONS"
    ]

    services.condition_mark_met(
        condition=conditions[1], acting_user=cast.caseworker, evidence="ONS letter"
    )
    _release(cast)
    assert cast.refresh().status == S.RELEASED
    met = ApprovalCondition.objects.get(pk=conditions[0].pk)
    assert (met.met_by, met.evidence) == (cast.caseworker, "DSA-2026-7")
    assert met.history.first().history_change_reason == "Condition met: DSA-2026-7"


@pytest.mark.parametrize(
    ("who", "evidence", "error"),
    [
        ("caseworker", " ", services.Refused),
        ("requester", "I say so", PermissionError),
        ("chair", "Minuted", PermissionError),
    ],
)
def test_a_condition_is_met_only_by_a_caseworker_with_evidence(
    cast: Cast, who, evidence, error
):
    condition = _approved_with_conditions(cast)[0]

    with pytest.raises(error):
        services.condition_mark_met(
            condition=condition, acting_user=getattr(cast, who), evidence=evidence
        )

    condition.refresh_from_db()
    assert condition.met_at is None


def test_a_condition_is_marked_met_once(cast: Cast):
    condition = _approved_with_conditions(cast)[0]
    services.condition_mark_met(
        condition=condition, acting_user=cast.caseworker, evidence="DSA"
    )

    with pytest.raises(services.Refused):
        services.condition_mark_met(
            condition=condition, acting_user=cast.caseworker, evidence="Again"
        )


def test_conditions_are_met_through_the_admin_and_shown_to_the_requester(cast: Cast):
    conditions = _approved_with_conditions(cast)
    caseworker = verified_client(cast.caseworker)
    page = caseworker.get(_wf("change", cast.request)).text
    assert _wf("condition_met", cast.request) in page
    assert "Conditions of approval" in page  # the inline, for caseworkers
    release_page = caseworker.get(_wf("release", cast.request)).text
    assert "Condition not yet met: Outputs checked by ONS" in release_page

    caseworker.post(
        _wf("condition_met", cast.request),
        {"condition": conditions[0].pk, "evidence": "DSA-2026-7"},
    )

    requester = Client()
    requester.force_login(cast.requester)
    status = requester.get(reverse("approvals:request", args=[cast.request.reference]))
    assert "Conditions of approval" in status.text
    assert "Data sharing agreement signed" in status.text
    assert "Not yet met" in status.text
    assert status.text.count(">Met</strong>") == 1


# --- releases judged on the request as it is ---


@pytest.mark.django_db(transaction=True)
def test_a_release_waits_for_a_concurrent_close_and_is_then_refused():
    cast = build_cast()
    RequestedDatasetFactory.create(request=cast.request, academic_year="2020/21")
    cast.approve()
    first, second = cast.request.datasets.order_by("academic_year")
    _release(cast, dataset=first)
    stale = cast.refresh()  # released, as the caseworker's page read it
    moved, done = threading.Event(), threading.Event()

    def close_the_share() -> None:  # the nightly job, on its own connection
        try:
            with transaction.atomic():
                services.request_transition(
                    request=stale,
                    to=S.CLOSING,
                    acting_user=cast.caseworker,
                    reason="Share ended",
                )
                moved.set()
                done.wait(timeout=5)
        finally:
            connection.close()

    closer = threading.Thread(target=close_the_share)
    closer.start()
    assert moved.wait(timeout=5)
    threading.Timer(0.3, done.set).start()

    with pytest.raises(services.Refused) as refused:
        services.release_record(
            request=stale,
            acting_user=cast.caseworker,
            dataset=second,
            srs_project_reference="SRS-1",
            researchers=list(stale.researchers.all()),
            end_date=stale.end_date,
        )
    closer.join()

    assert "Only an approved request has data released" in refused.value.reasons
    assert not second.__class__.objects.filter(pk=second.pk, release__isnull=False)


def test_a_release_ending_in_the_past_is_refused(cast: Cast):
    cast.approve()

    with pytest.raises(services.Refused) as refused:
        _release(cast, end_date=timezone.localdate() - timedelta(days=1))

    assert "The release's end date has passed" in refused.value.reasons
    assert cast.refresh().status == S.APPROVED


def test_nothing_is_released_once_the_approved_share_has_ended(cast: Cast):
    cast.approve()
    assert cast.request.end_date is not None
    ended = cast.request.end_date + timedelta(days=1)
    with on_day(ended), pytest.raises(services.Refused) as refused:
        _release(cast, end_date=cast.request.end_date)

    assert "nothing more is released" in refused.value.reasons[0]


# --- accreditation ---


def _researcher_form(cast: Cast, accreditation: str, expires) -> str:
    client = Client()
    client.force_login(cast.requester)
    return client.post(
        reverse("approvals:researchers", args=[cast.request.reference]),
        {
            "full_name": "Pat Smith",
            "email": "pat@uni.example.ac.uk",
            "accreditation": accreditation,
            "accreditation_number": "AR1",
            "accreditation_expires_on_day": expires.day,
            "accreditation_expires_on_month": expires.month,
            "accreditation_expires_on_year": expires.year,
        },
    ).text


def test_an_expired_accreditation_is_refused_on_the_form(cast: Cast):
    page = _researcher_form(cast, "full", timezone.localdate() - timedelta(days=1))

    assert "govuk-error-summary" in page
    assert "The accreditation has expired" in page
    assert not cast.request.researchers.filter(email="pat@uni.example.ac.uk")


def test_a_full_accreditation_lasts_five_years_at_most(cast: Cast):
    page = _researcher_form(
        cast, "full", timezone.localdate() + timedelta(days=6 * 365)
    )

    assert "must be within 5 years of today" in page
    assert not cast.request.researchers.filter(email="pat@uni.example.ac.uk")


def test_an_accreditation_expiring_today_is_accepted(cast: Cast):
    _researcher_form(cast, "provisional", timezone.localdate())

    assert cast.request.researchers.filter(email="pat@uni.example.ac.uk").exists()


def test_a_full_accreditation_needs_an_expiry_date(cast: Cast):
    with pytest.raises(services.Refused):
        services.researcher_add(
            request=cast.request,
            acting_user=cast.requester,
            full_name="Pat",
            email="pat@uni.example.ac.uk",
            accreditation=Researcher.Accreditation.FULL,
            accreditation_number="AR1",
            accreditation_expires_on=None,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Researcher.objects.create(
            request=cast.request,
            full_name="Pat",
            email="pat@uni.example.ac.uk",
            accreditation=Researcher.Accreditation.FULL,
        )


# --- the assessment page's wording ---


def test_the_assessment_page_names_tiers_and_points_apart(cast: Cast):
    cast.triage()

    page = verified_client(cast.assessor).get(_wf("assess", cast.request)).text

    assert "The risk model scores this request 5 points" in page
    assert "Most sensitive dataset: Tier 2: identifiable and sensitive: 3 points" in (
        page
    )
    assert "Records expected: 50,000: 1 point<br>" in page
    assert "The risk appetite is 10 points" in page
    assert "tier 3" not in page


def test_the_assessment_keeps_its_factors_and_appetite(cast: Cast):
    cast.assess()

    assessment = cast.request.assessment
    assert assessment.risk_breakdown["tier"] == 3
    assert assessment.risk_appetite == 10
