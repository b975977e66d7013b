from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from approvals import services
from approvals.models import (
    FIVE_SAFES,
    DataShareRequest,
    Decision,
    PanelVote,
    RequestedDataset,
    ResearchOrganisation,
    RiskSettings,
)
from lrs_portal.transitions import TransitionNotAllowed
from tests.approvals.conftest import Cast, make_requester, on_day, staff
from tests.approvals.factories import (
    AffiliationFactory,
    DataShareRequestFactory,
    ResearcherFactory,
)

pytestmark = pytest.mark.django_db
S = DataShareRequest.Status
TERMINAL = {S.REJECTED, S.CLOSED, S.WITHDRAWN}


# --- the table of allowed moves ---


def test_every_status_has_a_row_in_the_table():
    assert set(services.REQUEST_TRANSITIONS) == set(S.values)


@given(st.sampled_from(sorted(TERMINAL)), st.sampled_from(S.values))
def test_no_move_leaves_a_terminal_status(start, to):
    assert to not in services.REQUEST_TRANSITIONS[start]


def test_a_move_outside_the_table_is_refused_and_changes_nothing(cast: Cast):
    with pytest.raises(TransitionNotAllowed):
        services.request_transition(
            request=cast.request, to=S.APPROVED, acting_user=cast.chair, reason="x"
        )

    assert cast.refresh().status == S.DRAFT


def test_every_status_change_is_in_the_history_with_who_and_why(cast: Cast):
    cast.triage()

    changes = [
        (h.status, h.history_user, h.history_change_reason)
        for h in cast.request.history.order_by("history_date")
    ]
    assert (S.SUBMITTED, cast.requester, "Submitted") in changes
    assert (
        S.ASSESSMENT,
        cast.caseworker,
        "Triage complete: ready for assessment",
    ) in changes


# --- the requester's side ---


def test_an_incomplete_request_cannot_be_submitted(cast: Cast):
    draft = DataShareRequestFactory.create(
        organisation=cast.organisation, requester=cast.requester
    )

    with pytest.raises(services.Refused) as refused:
        services.request_submit(request=draft, acting_user=cast.requester)

    assert "Complete the section: project" in refused.value.reasons
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_direct_supply_needs_a_reason(cast: Cast):
    cast.request.access_route = DataShareRequest.AccessRoute.DIRECT_SUPPLY
    cast.request.save()

    assert services.request_missing_sections(cast.request) == ["access"]


def test_special_category_data_needs_an_article_9_condition(cast: Cast):
    cast.request.special_category = True
    cast.request.save()

    assert services.request_missing_sections(cast.request) == ["legal"]


def test_a_colleague_in_the_same_organisation_can_submit(cast: Cast):
    colleague = make_requester(cast.organisation)

    services.request_submit(request=cast.request, acting_user=colleague)

    assert cast.refresh().status == S.SUBMITTED


def test_a_requester_of_another_organisation_cannot_touch_it(cast: Cast):
    other = make_requester(
        ResearchOrganisation.objects.create(name="Other", kind="charity")
    )

    with pytest.raises(PermissionError):
        services.request_submit(request=cast.request, acting_user=other)
    with pytest.raises(PermissionError):
        services.request_withdraw(request=cast.request, acting_user=other)


def test_returned_for_information_then_resubmitted_with_an_answer(cast: Cast):
    cast.submit()
    services.request_return_for_information(
        request=cast.request, acting_user=cast.caseworker, request_text="Which years?"
    )
    assert cast.refresh().status == S.RETURNED

    with pytest.raises(services.Refused):
        services.request_submit(request=cast.request, acting_user=cast.requester)
    services.request_submit(
        request=cast.request, acting_user=cast.requester, response="2019/20 only"
    )

    request = cast.refresh()
    assert request.status == S.SUBMITTED
    assert request.information_requested == "Which years?"
    assert request.information_response == "2019/20 only"
    assert request.history.filter(status=S.RETURNED).exists()


def test_a_submitted_request_can_no_longer_be_edited(cast: Cast):
    cast.submit()

    with pytest.raises(PermissionError):
        services.dataset_add(
            request=cast.request,
            acting_user=cast.requester,
            academic_year="2020/21",
            tier=2,
        )


def test_the_same_academic_year_cannot_be_added_twice(cast: Cast):
    with pytest.raises(services.Refused):
        services.dataset_add(
            request=cast.request,
            acting_user=cast.requester,
            academic_year="2019/20",
            tier=3,
        )


def test_withdrawing_is_possible_until_the_panel_decides(cast: Cast):
    cast.to_panel()

    services.request_withdraw(request=cast.request, acting_user=cast.requester)

    assert cast.refresh().status == S.WITHDRAWN


def test_an_approved_request_cannot_be_withdrawn(cast: Cast):
    cast.approve()

    with pytest.raises(services.Refused):
        services.request_withdraw(request=cast.request, acting_user=cast.requester)


# --- triage and assessment ---


def test_nobody_triages_a_request_from_their_own_organisation(cast: Cast):
    cast.submit()
    AffiliationFactory.create(user=cast.caseworker, organisation=cast.organisation)

    with pytest.raises(PermissionError):
        services.request_accept_for_assessment(
            request=cast.request, acting_user=cast.caseworker
        )


def test_an_assessor_from_the_requesting_organisation_cannot_be_assigned(cast: Cast):
    cast.submit()
    services.request_accept_for_assessment(
        request=cast.request, acting_user=cast.caseworker
    )
    AffiliationFactory.create(user=cast.assessor, organisation=cast.organisation)

    with pytest.raises(services.Refused):
        services.request_assign_assessor(
            request=cast.refresh(),
            acting_user=cast.caseworker,
            assessor=cast.assessor,
            no_conflict_declared=True,
        )


def test_an_assessor_must_declare_no_conflict(cast: Cast):
    cast.submit()
    services.request_accept_for_assessment(
        request=cast.request, acting_user=cast.caseworker
    )

    with pytest.raises(services.Refused):
        services.request_assign_assessor(
            request=cast.refresh(),
            acting_user=cast.caseworker,
            assessor=cast.assessor,
            no_conflict_declared=False,
        )
    assert cast.refresh().assessor is None


def test_only_the_assigned_assessor_assesses(cast: Cast):
    cast.triage()
    other_assessor = staff("DSAP assessor")

    with pytest.raises(PermissionError):
        services.assessment_record(
            no_conflict_declared=True,
            request=cast.request,
            acting_user=other_assessor,
            ratings={},
            reasons={},
            recommendation="approve",
        )


def test_an_assessment_needs_a_reason_for_each_safe(cast: Cast):
    cast.triage()

    with pytest.raises(services.Refused) as refused:
        services.assessment_record(
            no_conflict_declared=True,
            request=cast.request,
            acting_user=cast.assessor,
            ratings={"safe_people": "low"},
            reasons={"safe_people": "Accredited"},
            recommendation="approve_with_conditions",
        )

    assert "Give a rating and a reason for Safe outputs" in refused.value.reasons
    assert "Say which conditions you recommend" in refused.value.reasons
    assert cast.refresh().status == S.ASSESSMENT


def test_the_risk_score_follows_the_configured_model(cast: Cast):
    # Default model: tier 2 = 3, 50,000 records = 1, no linkage = 0,
    # safe room = 0, university = 1.
    assert services.risk_score(cast.request) == (
        5,
        {"tier": 3, "volume": 1, "linkage": 0, "access_route": 0, "recipient": 1},
    )
    settings = RiskSettings.current()
    settings.university_points = 6
    settings.save()
    RequestedDataset.objects.create(
        request=cast.request, academic_year="2020/21", tier=1
    )

    score, breakdown = services.risk_score(cast.request)

    assert breakdown["tier"] == 4
    assert breakdown["recipient"] == 6
    assert score == 11


def test_assessing_records_the_score_and_sends_the_request_to_the_panel(cast: Cast):
    cast.assess()

    assert cast.request.status == S.PANEL
    assert cast.request.assessment.risk_score == 5


# --- the panel ---


def test_nobody_votes_twice(cast: Cast):
    cast.to_panel()
    cast.votes("approve")

    with pytest.raises(services.Refused):
        cast.votes("reject")
    assert PanelVote.objects.filter(member=cast.members[0]).count() == 1


def test_the_database_also_refuses_a_second_vote(cast: Cast):
    cast.to_panel()
    cast.votes("approve")

    with pytest.raises(IntegrityError):
        PanelVote.objects.create(
            meeting=cast.meeting,
            request=cast.request,
            member=cast.members[0],
            vote="reject",
        )


def test_the_assessor_does_not_vote_even_as_a_member(cast: Cast):
    cast.meeting.members.add(cast.assessor)
    cast.to_panel()

    with pytest.raises(PermissionError):
        services.panel_vote_cast(
            request=cast.request, acting_user=cast.assessor, vote="approve", comments=""
        )


def test_a_member_cannot_vote_on_a_request_from_their_own_organisation(cast: Cast):
    cast.to_panel()
    AffiliationFactory.create(user=cast.members[1], organisation=cast.organisation)

    with pytest.raises(PermissionError):
        services.panel_vote_cast(
            request=cast.request,
            acting_user=cast.members[1],
            vote="approve",
            comments="",
        )


def test_someone_not_on_the_meeting_cannot_vote(cast: Cast):
    cast.to_panel()
    stranger = staff("DSAP panel member")

    with pytest.raises(PermissionError):
        services.panel_vote_cast(
            request=cast.request, acting_user=stranger, vote="approve", comments=""
        )


def test_a_conflicted_member_cannot_then_vote(cast: Cast):
    cast.to_panel()
    services.panel_conflict_declare(
        request=cast.request, acting_user=cast.members[1], detail="I supervise them"
    )

    with pytest.raises(PermissionError):
        services.panel_vote_cast(
            request=cast.request,
            acting_user=cast.members[1],
            vote="approve",
            comments="",
        )


def test_three_votes_are_needed_for_a_decision(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve")

    with pytest.raises(services.Refused) as refused:
        cast.decide()

    assert "not quorate: 2 of 3" in refused.value.reasons[0]
    assert cast.refresh().status == S.PANEL


def test_conflicted_members_do_not_count_towards_the_quorum(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve")
    services.panel_conflict_declare(
        request=cast.request, acting_user=cast.members[2], detail="Co-author"
    )

    with pytest.raises(services.Refused):
        cast.decide()


def test_the_quorum_is_configurable_upwards(cast: Cast):
    settings = RiskSettings.current()
    settings.quorum = 4
    settings.save()
    cast.to_panel()
    cast.votes("approve", "approve", "approve")

    with pytest.raises(services.Refused):
        cast.decide()
    cast.votes(*[None] * 3, "approve")  # the fourth member
    cast.decide()

    assert cast.refresh().status == S.APPROVED


def test_the_quorum_can_never_be_set_below_three():
    settings = RiskSettings.current()
    settings.quorum = 2

    with pytest.raises(IntegrityError):
        settings.save()


def test_approval_needs_most_counted_votes_to_approve(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "reject", "defer")

    with pytest.raises(services.Refused) as refused:
        cast.decide()

    assert "Most votes counted must be to approve." in refused.value.reasons


def test_only_the_chair_records_the_decision(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve", "approve")

    with pytest.raises(PermissionError):
        services.decision_record(
            request=cast.request,
            acting_user=cast.members[1],
            outcome="approved",
            reasons="r",
            supports_aims="a",
        )


def test_every_decision_states_how_it_supports_the_aims(cast: Cast):
    cast.to_panel()
    cast.votes("reject", "reject", "reject")

    with pytest.raises(services.Refused) as refused:
        cast.decide("rejected", supports_aims="  ")

    assert "Say how the request supports the department's aims" in (
        refused.value.reasons
    )


def test_approval_with_conditions_lists_them(cast: Cast):
    cast.to_panel()
    cast.votes("approve_with_conditions", "approve", "approve")

    with pytest.raises(services.Refused):
        cast.decide("approved_with_conditions")
    decision = cast.decide("approved_with_conditions", conditions="Outputs checked")

    assert decision.conditions == "Outputs checked"
    assert cast.refresh().status == S.APPROVED_WITH_CONDITIONS


def test_a_deferred_request_goes_to_a_later_meeting_and_members_vote_again(cast: Cast):
    cast.to_panel()
    cast.votes("defer", "defer", "approve")
    cast.decide("deferred")
    assert cast.refresh().status == S.DEFERRED
    later = type(cast.meeting).objects.create(
        held_on=cast.meeting.held_on + timedelta(days=30), chair=cast.chair
    )
    later.members.set(cast.members)

    services.request_place_on_meeting(
        request=cast.request, acting_user=cast.caseworker, meeting=later
    )
    cast.meeting = later
    cast.refresh()
    with on_day(later.held_on):
        cast.votes("approve", "approve", "approve")
        cast.decide()

    assert cast.refresh().status == S.APPROVED
    assert cast.request.decisions.count() == 2


# --- risk appetite ---


def _above_appetite(cast: Cast) -> None:
    settings = RiskSettings.current()
    settings.risk_appetite = 4
    settings.save()
    cast.to_panel()
    cast.votes("approve", "approve", "approve")


def test_above_appetite_cannot_be_approved_without_the_siro(cast: Cast):
    _above_appetite(cast)

    with pytest.raises(services.Refused) as refused:
        cast.decide()

    assert "above the risk appetite 4" in " ".join(refused.value.reasons)
    assert cast.refresh().status == S.PANEL


def test_above_appetite_can_still_be_rejected_without_the_siro(cast: Cast):
    settings = RiskSettings.current()
    settings.risk_appetite = 4
    settings.save()
    cast.to_panel()
    cast.votes("reject", "reject", "reject")

    decision = cast.decide("rejected")

    assert decision.above_risk_appetite
    assert decision.escalation is None


def test_a_siro_refusal_still_blocks_approval(cast: Cast):
    _above_appetite(cast)
    services.risk_escalation_record(
        request=cast.request,
        acting_user=cast.siro,
        risk_accepted=False,
        comments="Too much linkage",
    )

    with pytest.raises(services.Refused):
        cast.decide()


def test_with_the_siro_accepting_the_decision_says_so(cast: Cast):
    _above_appetite(cast)
    escalation = services.risk_escalation_record(
        request=cast.request,
        acting_user=cast.siro,
        risk_accepted=True,
        comments="Benefit outweighs the risk",
    )

    decision = cast.decide()

    assert decision.above_risk_appetite
    assert decision.escalation == escalation
    assert (decision.risk_score, decision.risk_appetite) == (5, 4)


def test_only_the_siro_answers_an_escalation(cast: Cast):
    _above_appetite(cast)

    with pytest.raises(PermissionError):
        services.risk_escalation_record(
            request=cast.request,
            acting_user=cast.caseworker,
            risk_accepted=True,
            comments="Fine",
        )


def test_a_request_within_appetite_is_not_escalated(cast: Cast):
    cast.to_panel()

    with pytest.raises(services.Refused):
        services.risk_escalation_record(
            request=cast.request,
            acting_user=cast.siro,
            risk_accepted=True,
            comments="x",
        )


# --- releases and destruction ---


def test_releasing_the_first_extract_marks_the_request_released(cast: Cast):
    cast.release()

    assert cast.request.status == S.RELEASED
    release = cast.request.releases.get()
    assert release.srs_project_reference == "SRS-2026-001"
    assert list(release.researchers.all()) == list(cast.request.researchers.all())


def test_an_extract_is_released_once(cast: Cast):
    cast.release()

    with pytest.raises(services.Refused):
        services.release_record(
            request=cast.request,
            acting_user=cast.caseworker,
            dataset=cast.request.datasets.get(),
            srs_project_reference="SRS-2",
            researchers=list(cast.request.researchers.all()),
            end_date=cast.request.end_date,
        )


def test_researchers_whose_accreditation_ends_too_soon_are_flagged(cast: Cast):
    end_date = cast.request.end_date
    assert end_date is not None
    short = ResearcherFactory.create(
        request=cast.request,
        accreditation_expires_on=end_date - timedelta(days=1),
    )
    unaccredited = ResearcherFactory.create(
        request=cast.request, accreditation="none", accreditation_expires_on=None
    )

    flagged = services.researchers_to_flag(
        list(cast.request.researchers.all()), cast.request.end_date
    )

    assert set(flagged) == {short, unaccredited}


def test_a_rejected_request_is_never_released(cast: Cast):
    cast.to_panel()
    cast.votes("reject", "reject", "reject")
    cast.decide("rejected")

    with pytest.raises(services.Refused):
        services.release_record(
            request=cast.refresh(),
            acting_user=cast.caseworker,
            dataset=cast.request.datasets.get(),
            srs_project_reference="SRS-1",
            researchers=list(cast.request.researchers.all()),
            end_date=cast.request.end_date,
        )


def test_the_certificate_is_accepted_and_the_case_closes(cast: Cast):
    cast.release()
    services.certificate_submit(
        request=cast.request,
        acting_user=cast.requester,
        destroyed_by="A. Researcher",
        destroyed_on=timezone.localdate(),
        what_was_destroyed="All extracts and derived files",
        method="Secure deletion in the SRS",
    )

    services.certificate_accept(request=cast.refresh(), acting_user=cast.caseworker)

    request = cast.refresh()
    assert request.status == S.CLOSED
    assert request.certificate.accepted_by == cast.caseworker
    assert request.history.filter(status=S.CLOSING).exists()


def test_a_certificate_cannot_be_dated_in_the_future(cast: Cast):
    cast.release()

    with pytest.raises(services.Refused):
        services.certificate_submit(
            request=cast.request,
            acting_user=cast.requester,
            destroyed_by="A",
            destroyed_on=timezone.localdate() + timedelta(days=1),
            what_was_destroyed="x",
            method="y",
        )


def test_the_decision_row_is_one_per_meeting(cast: Cast):
    cast.approve()

    assert Decision.objects.filter(request=cast.request).count() == 1


def test_a_deferral_takes_the_request_off_the_meeting(cast: Cast):
    cast.to_panel()
    cast.votes("defer", "defer", "defer")
    cast.decide("deferred")

    request = cast.refresh()
    assert request.panel_meeting is None
    assert not cast.members[1].has_perm("approvals.vote_datasharerequest", request)
    with pytest.raises(services.Refused, match="already decided"):
        services.request_place_on_meeting(
            request=request, acting_user=cast.caseworker, meeting=cast.meeting
        )


def test_a_deferred_request_returned_for_information_is_assessed_again(cast: Cast):
    cast.to_panel()
    cast.votes("defer", "defer", "defer")
    cast.decide("deferred")
    services.request_return_for_information(
        request=cast.refresh(), acting_user=cast.caseworker, request_text="Outputs?"
    )
    services.request_submit(
        request=cast.refresh(), acting_user=cast.requester, response="Checked by ONS"
    )
    services.request_accept_for_assessment(
        request=cast.refresh(), acting_user=cast.caseworker
    )
    services.assessment_record(
        no_conflict_declared=True,
        request=cast.refresh(),
        acting_user=cast.assessor,
        ratings={key: "medium" for key, _ in FIVE_SAFES},
        reasons={key: "Looked again" for key, _ in FIVE_SAFES},
        recommendation="approve",
    )

    request = cast.refresh()
    assert request.status == S.PANEL
    assert request.panel_meeting is None
    assert request.assessment.safe_data == "medium"
    assert request.assessment.history.count() == 2
    with pytest.raises(services.Refused):  # no meeting yet: nobody votes
        cast.votes("approve")


def test_the_assessor_and_the_members_are_told_by_email(cast: Cast):
    from lrs_portal.models import Notification

    cast.to_panel()

    told = set(
        Notification.objects.filter(
            reference=f"approvals.{cast.request.reference}.staff"
        ).values_list("to", flat=True)
    )
    assert told == {cast.assessor.email, *(m.email for m in cast.members)}


def test_a_decision_sent_twice_is_refused_on_the_request_as_it_is_now(cast: Cast):
    cast.to_panel()
    cast.votes("approve", "approve", "approve")
    stale = cast.refresh()
    cast.decide()

    with pytest.raises(services.Refused):
        services.decision_record(
            request=stale,
            acting_user=cast.chair,
            outcome="approved",
            reasons="Again",
            supports_aims="Again",
        )
    assert cast.request.decisions.count() == 1


def test_an_assessor_cannot_be_assigned_once_the_request_has_moved_on(cast: Cast):
    cast.triage()
    stale = cast.refresh()
    services.assessment_record(
        no_conflict_declared=True,
        request=cast.request,
        acting_user=cast.assessor,
        ratings={key: "low" for key, _ in FIVE_SAFES},
        reasons={key: "Fine" for key, _ in FIVE_SAFES},
        recommendation="approve",
    )

    with pytest.raises(services.Refused):
        services.request_assign_assessor(
            request=stale,
            acting_user=cast.caseworker,
            assessor=staff("DSAP assessor"),
            no_conflict_declared=True,
        )
    assert cast.refresh().assessor == cast.assessor


def test_a_vote_sent_twice_at_once_is_refused_not_an_error(cast: Cast, monkeypatch):
    from approvals.services import voting

    cast.to_panel()
    cast.votes("approve")
    # The second request passed the "already voted" check before the first saved.
    monkeypatch.setattr(voting, "_already", lambda *args: False)

    with pytest.raises(services.Refused):
        cast.votes("approve")
    assert PanelVote.objects.filter(member=cast.members[0]).count() == 1


def test_the_vote_of_a_member_taken_off_the_meeting_still_counts(cast: Cast):
    # The admin refuses the change once voting has started (test_panel_integrity);
    # even if a member is removed some other way, their vote is not lost.
    cast.to_panel()
    cast.votes(None, "approve", "reject", "reject")
    cast.meeting.members.remove(cast.members[3])

    decision = cast.decide("rejected")

    assert (decision.votes_for, decision.votes_cast) == (1, 3)


def test_a_chair_who_declared_a_conflict_cannot_record_the_decision(cast: Cast):
    cast.meeting.members.add(cast.chair)
    cast.to_panel()
    cast.votes(None, "approve", "approve", "approve")
    services.panel_conflict_declare(
        request=cast.request, acting_user=cast.chair, detail="My former student"
    )

    with pytest.raises(PermissionError):
        cast.decide()

    assert cast.refresh().status == S.PANEL


def test_an_assessor_replaced_later_still_cannot_vote(cast: Cast):
    from approvals.permissions import can_vote, panel_permissions_grant

    first = cast.assessor
    cast.meeting.members.add(first)  # on the panel when the request is placed
    cast.to_panel()
    request = cast.refresh()
    request.assessor = cast.members[3]  # as if reassigned after a return
    request.save()
    # ...and placed on a meeting again, which gives its members the vote
    panel_permissions_grant(meeting=cast.meeting, request=request)

    assert not can_vote(first, request)


@pytest.mark.parametrize(
    ("accreditation", "expires_in_days", "says"),
    [
        ("none", None, "is not an accredited researcher"),
        ("full", -1, "accreditation expired on"),
    ],
)
def test_data_is_never_released_to_a_researcher_without_accreditation(
    cast: Cast, accreditation, expires_in_days, says
):
    cast.approve()
    expires = (
        None
        if expires_in_days is None
        else timezone.localdate() + timedelta(days=expires_in_days)
    )
    researcher = ResearcherFactory.create(
        request=cast.request,
        accreditation=accreditation,
        accreditation_expires_on=expires,
    )

    with pytest.raises(services.Refused) as refused:
        services.release_record(
            request=cast.request,
            acting_user=cast.caseworker,
            dataset=cast.request.datasets.get(),
            srs_project_reference="SRS-2026-009",
            researchers=[researcher],
            end_date=cast.request.end_date,
        )

    assert says in " ".join(refused.value.reasons)
    assert not cast.request.releases.exists()


def test_the_assessor_must_declare_no_conflict_themselves(cast: Cast):
    cast.triage()

    with pytest.raises(services.Refused) as refused:
        services.assessment_record(
            request=cast.request,
            acting_user=cast.assessor,
            ratings={key: "low" for key, _ in FIVE_SAFES},
            reasons={key: "fine" for key, _ in FIVE_SAFES},
            recommendation="approve",
        )

    assert "no conflict of interest" in " ".join(refused.value.reasons)
    assert cast.refresh().status == S.ASSESSMENT
