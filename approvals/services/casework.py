"""The department's side: triage, independent assessment, the panel, the SIRO."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    FIVE_SAFES,
    Assessment,
    DataShareRequest,
    Decision,
    MeetingMinutes,
    PanelMeeting,
    PanelVote,
    Recommendation,
    RiskSettings,
    SiroEscalation,
)
from approvals.services.conditions import condition_lines, conditions_record
from approvals.services.emails import tell_requester, tell_staff
from approvals.services.panel import (
    meeting_day_refusal,
    meeting_lock,
    vote_set_aside,
    voting_started,
)
from approvals.services.requests import Refused, request_transition
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status
APPROVING_VOTES = (
    PanelVote.Vote.APPROVE,
    PanelVote.Vote.APPROVE_WITH_CONDITIONS,
)
APPROVING_OUTCOMES = (
    Decision.Outcome.APPROVED,
    Decision.Outcome.APPROVED_WITH_CONDITIONS,
)
_OUTCOME_STATUS = {
    Decision.Outcome.APPROVED: S.APPROVED,
    Decision.Outcome.APPROVED_WITH_CONDITIONS: S.APPROVED_WITH_CONDITIONS,
    Decision.Outcome.REJECTED: S.REJECTED,
    Decision.Outcome.DEFERRED: S.DEFERRED,
}


# --- triage ---------------------------------------------------------------------------


def request_return_for_information(
    *, request: DataShareRequest, acting_user: User, request_text: str
) -> DataShareRequest:
    """Send a request back to the requester, saying what is needed."""
    if not permissions.can_triage(acting_user, request):
        raise PermissionError("You cannot triage this request")
    if not request_text.strip():
        raise Refused(["Say what information is needed"])
    with transaction.atomic():
        request = request_transition(
            request=request,
            to=S.RETURNED,
            acting_user=acting_user,
            reason=f"Returned for more information: {request_text}",
            changes={"information_requested": request_text, "information_response": ""},
        )
        tell_requester(request, "more information needed", request_text)
    return request


def request_accept_for_assessment(
    *, request: DataShareRequest, acting_user: User
) -> DataShareRequest:
    """Triage complete: the request goes to independent assessment."""
    if not permissions.can_triage(acting_user, request):
        raise PermissionError("You cannot triage this request")
    return request_transition(
        request=request,
        to=S.ASSESSMENT,
        acting_user=acting_user,
        reason="Triage complete: ready for assessment",
    )


def request_assign_assessor(
    *,
    request: DataShareRequest,
    acting_user: User,
    assessor: User,
    no_conflict_declared: bool,
) -> DataShareRequest:
    """Assign an independent assessor, who has declared no conflict of interest."""
    if not permissions.can_triage(acting_user, request):
        raise PermissionError("You cannot assign an assessor to this request")
    if not permissions.can_be_assessor(assessor, request):
        raise Refused(
            [
                f"{assessor} cannot assess this request: they must be an active "
                "assessor from outside the requesting organisation"
            ]
        )
    if not no_conflict_declared:
        raise Refused(["The assessor must declare that they have no conflict"])
    with transaction.atomic():
        previous = DataShareRequest.objects.select_for_update().get(pk=request.pk)
        if previous.status != S.ASSESSMENT:
            raise Refused(["Only a request being assessed can have an assessor"])
        if previous.assessor is not None:
            permissions.assessor_permissions_revoke(
                user=previous.assessor, request=previous
            )
        previous.assessor = assessor
        previous.assessor_no_conflict_declared_at = timezone.now()
        save_with_history(
            previous,
            acting_user=acting_user,
            reason=f"Assessor assigned: {assessor} (no conflict declared)",
            fields=["assessor", "assessor_no_conflict_declared_at"],
        )
        permissions.assessor_permissions_grant(user=assessor, request=previous)
        tell_staff(
            [assessor],
            previous,
            "you are its assessor",
            "Assess it against the Five Safes in the casework admin.",
        )
    return previous


# --- assessment -----------------------------------------------------------------------


# The risk model's factors, in the order and the words the pages show them.
RISK_FACTORS = {
    "tier": "Most sensitive dataset",
    "volume": "Records expected",
    "linkage": "Linkage",
    "access_route": "Access route",
    "recipient": "Recipient",
}


def risk_score(
    request: DataShareRequest, settings: RiskSettings | None = None
) -> tuple[int, dict[str, int]]:
    """The request's risk score under the configured model, and each factor's points."""
    model = settings or RiskSettings.current()
    tiers = list(request.datasets.values_list("tier", flat=True))
    most_sensitive = min(tiers) if tiers else 1
    records = request.records_expected or 0
    if records >= model.volume_high_from:
        volume = model.volume_high_points
    elif records >= model.volume_medium_from:
        volume = model.volume_medium_points
    else:
        volume = model.volume_low_points
    breakdown = {
        "tier": getattr(model, f"tier_{most_sensitive}_points"),
        "volume": volume,
        "linkage": model.linkage_points if request.linkage else 0,
        "access_route": getattr(model, f"{request.access_route}_points", 0),
        "recipient": getattr(model, f"{request.organisation.kind}_points", 0),
    }
    return sum(breakdown.values()), breakdown


def assessment_record(
    *,
    request: DataShareRequest,
    acting_user: User,
    ratings: dict[str, str],
    reasons: dict[str, str],
    recommendation: str,
    recommended_conditions: str = "",
    no_conflict_declared: bool = False,
) -> Assessment:
    """The assessor's Five Safes ratings with reasons, the risk score and advice;
    the request then waits for the panel. The assessor declares, themselves, that
    they have no conflict of interest; one who has must tell the caseworker, who
    assigns someone else."""
    if not permissions.can_assess(acting_user, request):
        raise PermissionError("You are not this request's assessor")
    if request.status != S.ASSESSMENT:
        raise Refused(["Only a request being assessed can be assessed"])
    problems = [
        f"Give a rating and a reason for {label}"
        for key, label in FIVE_SAFES
        if not ratings.get(key) or not reasons.get(key, "").strip()
    ]
    if recommendation not in Recommendation.values:
        problems.append("Choose a recommendation")
    if not no_conflict_declared:
        problems.append(
            "Declare that you have no conflict of interest with this request. If "
            "you have one, do not assess it: tell the caseworker, who will assign "
            "another assessor"
        )
    conditional = recommendation == Recommendation.APPROVE_WITH_CONDITIONS
    if conditional and not recommended_conditions.strip():
        problems.append("Say which conditions you recommend")
    if problems:
        raise Refused(problems)
    # The appetite in force now is the one that applies to this request, kept on
    # the assessment: a later change applies to later assessments only.
    model = RiskSettings.current()
    score, breakdown = risk_score(request, model)
    fields: dict[str, Any] = {}
    for key, _ in FIVE_SAFES:
        fields[key] = ratings[key]
        fields[f"{key}_reason"] = reasons[key]
    # A request back from a return is assessed again: the row is updated and
    # its history keeps the earlier assessment.
    assessment = Assessment.objects.filter(request=request).first() or Assessment(
        request=request
    )
    values = {
        "assessor": acting_user,
        "risk_score": score,
        "risk_breakdown": breakdown,
        "risk_appetite": model.risk_appetite,
        "recommendation": recommendation,
        "recommended_conditions": recommended_conditions,
        "no_conflict_declared": True,
        "completed_at": timezone.now(),
        **fields,
    }
    for field, value in values.items():
        setattr(assessment, field, value)
    with transaction.atomic():
        save_with_history(
            assessment,
            acting_user=acting_user,
            reason="Assessment recorded" if assessment.pk is None else "Reassessed",
        )
        request_transition(
            request=request,
            to=S.PANEL,
            acting_user=acting_user,
            reason=f"Assessed: risk score {score}, recommends {recommendation}",
        )
    return assessment


# --- the panel ------------------------------------------------------------------------


def request_place_on_meeting(
    *, request: DataShareRequest, acting_user: User, meeting: PanelMeeting
) -> DataShareRequest:
    """Put an assessed (or deferred) request on a panel meeting's agenda."""
    if not permissions.can_triage(acting_user, request):
        raise PermissionError("You cannot place this request on a meeting")
    if request.status not in (S.PANEL, S.DEFERRED):
        raise Refused(["Only an assessed or deferred request goes to a meeting"])
    if meeting.held_on < timezone.localdate():
        raise Refused(["Choose a meeting that has not yet been held"])
    if request.panel_meeting_id == meeting.pk:
        raise Refused(["The request is already on this meeting"])
    if MeetingMinutes.objects.filter(meeting=meeting, signed_at__isnull=False):
        raise Refused(["The meeting's minutes are signed: choose another meeting"])
    if Decision.objects.filter(request=request, meeting=meeting).exists():
        raise Refused(["The panel has already decided on it at this meeting"])
    problems = _placing_refusals(request, meeting)
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        if request.status == S.DEFERRED:
            request = request_transition(
                request=request,
                to=S.PANEL,
                acting_user=acting_user,
                reason="Back to the panel after deferral",
            )
        if request.panel_meeting is not None:
            permissions.panel_permissions_revoke(
                meeting=request.panel_meeting, request=request
            )
        request.panel_meeting = meeting
        save_with_history(
            request,
            acting_user=acting_user,
            reason=f"Placed on the {meeting}",
            fields=["panel_meeting"],
        )
        permissions.panel_permissions_grant(meeting=meeting, request=request)
        tell_staff(
            list(meeting.members.all()),
            request,
            f"is on the agenda of the {meeting}",
            "Read it, then declare any conflict or vote in the casework admin.",
        )
    return request


def _placing_refusals(request: DataShareRequest, meeting: PanelMeeting) -> list[str]:
    """Votes already cast keep the request at its meeting; and its chair must be
    neither its assessor nor the SIRO who answered its escalation."""
    problems = []
    current = request.panel_meeting
    voted = current is not None and voting_started(current, request)
    if request.status == S.PANEL and voted:
        problems.append(
            f"Voting on it has started at the {current}: only the chair's "
            "decision (a deferral) sends it to another meeting"
        )
    if permissions.was_assessor(meeting.chair, request):
        problems.append(
            f"The {meeting} is chaired by this request's assessor: choose a "
            "meeting with another chair"
        )
    escalation = current_escalation(request)
    if escalation is not None and escalation.siro_id == meeting.chair_id:
        problems.append(
            f"The {meeting} is chaired by the senior information risk owner who "
            "answered this request's risk escalation: choose a meeting with "
            "another chair"
        )
    return problems


def _reread_open(request: DataShareRequest, meeting: PanelMeeting) -> DataShareRequest:
    """The request as it is now (the caller holds the meeting's lock), still
    waiting for this meeting's decision."""
    now = DataShareRequest.objects.get(pk=request.pk)
    if now.status != S.PANEL or now.panel_meeting_id != meeting.pk:
        raise Refused(["The request is not waiting for a panel decision"])
    return now


def _open_for_votes(request: DataShareRequest) -> PanelMeeting:
    if request.status != S.PANEL or request.panel_meeting is None:
        raise Refused(["The request is not waiting for a panel decision"])
    return request.panel_meeting


def _already(meeting: PanelMeeting, request: DataShareRequest, member: User) -> bool:
    return PanelVote.objects.filter(
        meeting=meeting, request=request, member=member
    ).exists()


def panel_conflict_declare(
    *, request: DataShareRequest, acting_user: User, detail: str
) -> PanelVote:
    """A member declares a conflict of interest; they then cannot vote on it. One
    who realises it after voting declares it too, and their vote is set aside
    (kept, with the reason in its history)."""
    meeting = _open_for_votes(request)
    if not permissions.can_declare_conflict(acting_user, request):
        raise PermissionError("Only the meeting's members declare conflicts")
    if not detail.strip():
        raise Refused(["Describe the conflict of interest"])
    with transaction.atomic():
        meeting = meeting_lock(meeting)
        request = _reread_open(request, meeting)
        row = (
            PanelVote.objects.select_for_update()
            .filter(meeting=meeting, request=request, member=acting_user)
            .first()
        )
        if row is None:
            return save_with_history(
                PanelVote(
                    meeting=meeting,
                    request=request,
                    member=acting_user,
                    conflict_declared=True,
                    conflict_detail=detail,
                ),
                acting_user=acting_user,
                reason="Conflict declared",
            )
        if row.conflict_declared:
            raise Refused(["You have already declared a conflict on this request"])
        row.conflict_declared = True
        row.conflict_detail = detail
        return vote_set_aside(
            vote=row,
            acting_user=acting_user,
            reason=f"conflict of interest declared after voting: {detail}",
        )


def panel_vote_cast(
    *, request: DataShareRequest, acting_user: User, vote: str, comments: str
) -> PanelVote:
    """One vote per member without a conflict; never the assessor's."""
    meeting = _open_for_votes(request)
    if not permissions.can_vote(acting_user, request):
        raise PermissionError("You cannot vote on this request")
    if vote not in PanelVote.Vote.values:
        raise Refused(["Choose how you vote"])
    try:
        with transaction.atomic():
            # The meeting's lock: its panel cannot change between these checks
            # and the vote (approvals.services.panel.meeting_change_refusals).
            meeting = meeting_lock(meeting)
            refusal = meeting_day_refusal(meeting, "Votes")
            if refusal:
                raise Refused([refusal])
            request = _reread_open(request, meeting)
            if not meeting.members.filter(pk=acting_user.pk).exists():
                raise PermissionError("You are not a member of this meeting")
            if _already(meeting, request, acting_user):
                raise Refused(
                    ["You have already voted or declared a conflict on this request"]
                )
            row = PanelVote(
                meeting=meeting,
                request=request,
                member=acting_user,
                vote=vote,
                comments=comments,
            )
            return save_with_history(
                row, acting_user=acting_user, reason=f"Voted: {vote}"
            )
    except IntegrityError:  # the same vote sent twice at once
        raise Refused(["You have already voted on this request"]) from None


def _cast_at_meeting(request: DataShareRequest) -> list[PanelVote]:
    meeting = request.panel_meeting
    if meeting is None:
        return []
    return list(
        PanelVote.objects.filter(meeting=meeting, request=request)
        .exclude(vote="")
        .select_related("member__affiliation")
    )


def _affiliated(vote: PanelVote, request: DataShareRequest) -> bool:
    affiliation = getattr(vote.member, "affiliation", None)
    return affiliation is not None and (
        affiliation.organisation_id == request.organisation_id
    )


def votes_counted(request: DataShareRequest) -> list[PanelVote]:
    """The votes cast at the request's current meeting that count: not set aside
    (a conflict declared after voting), and not of a member now affiliated with
    the requesting organisation. The meeting's panel is fixed once voting starts,
    so every vote cast there still counts otherwise."""
    return [
        vote
        for vote in _cast_at_meeting(request)
        if vote.counts and not _affiliated(vote, request)
    ]


def votes_set_aside(request: DataShareRequest) -> list[PanelVote]:
    """The votes cast at the request's current meeting that do not count."""
    return [
        vote
        for vote in _cast_at_meeting(request)
        if not vote.counts or _affiliated(vote, request)
    ]


def current_escalation(request: DataShareRequest) -> SiroEscalation | None:
    """The SIRO's latest answer since the request was assessed, if any."""
    assessment = Assessment.objects.filter(request=request).first()
    escalations = SiroEscalation.objects.filter(request=request)
    if assessment is not None:
        escalations = escalations.filter(recorded_at__gte=assessment.completed_at)
    return escalations.order_by("-recorded_at").first()


def decision_blockers(request: DataShareRequest, outcome: str) -> list[str]:
    """Everything that stops the chair recording ``outcome``, in plain words."""
    settings = RiskSettings.current()
    blockers = []
    meeting = request.panel_meeting
    refusal = meeting and meeting_day_refusal(meeting, "The decision")
    if refusal:
        blockers.append(f"{refusal}.")
    counted = votes_counted(request)
    quorum = max(settings.quorum, 3)
    if len(counted) < quorum:
        blockers.append(
            f"The panel is not quorate: {len(counted)} of {quorum} votes from "
            "members without a conflict."
        )
    if outcome in APPROVING_OUTCOMES:
        for_it = sum(v.vote in APPROVING_VOTES for v in counted)
        if for_it * 2 <= len(counted):
            blockers.append("Most votes counted must be to approve.")
        assessment = Assessment.objects.filter(request=request).first()
        score = assessment.risk_score if assessment else 0
        appetite = assessment.risk_appetite if assessment else 0
        escalation = current_escalation(request)
        if score > appetite and not (escalation and escalation.risk_accepted):
            blockers.append(
                f"The risk score {score} is above the risk appetite {appetite} in "
                "force when it was assessed: the senior information risk owner "
                "must accept the risk first."
            )
    if outcome != Decision.Outcome.DEFERRED and _chair_answered_escalation(request):
        blockers.append(
            "The chair answered this request's risk escalation as senior "
            "information risk owner, and cannot also decide it: the chair can "
            "only defer it, to a meeting with another chair."
        )
    return blockers


def _chair_answered_escalation(request: DataShareRequest) -> bool:
    escalation = current_escalation(request)
    meeting = request.panel_meeting
    return bool(escalation and meeting and escalation.siro_id == meeting.chair_id)


def escalation_refusals(user: User, request: DataShareRequest) -> list[str]:
    """The SIRO who answers an escalation is neither the request's assessor nor
    the chair who decides it."""
    problems = []
    if permissions.was_assessor(user, request):
        problems.append(
            "You assessed this request: another senior information risk owner "
            "must answer its escalation"
        )
    meeting = request.panel_meeting
    if meeting is not None and meeting.chair_id == user.pk:
        problems.append(
            f"You chair the {meeting}, which decides this request: another senior "
            "information risk owner must answer its escalation"
        )
    return problems


def risk_escalation_record(
    *, request: DataShareRequest, acting_user: User, risk_accepted: bool, comments: str
) -> SiroEscalation:
    """The senior information risk owner's answer on a request above appetite."""
    if not permissions.can_accept_risk(acting_user, request):
        raise PermissionError("Only the senior information risk owner can answer")
    assessment = Assessment.objects.filter(request=request).first()
    if request.status != S.PANEL or assessment is None:
        raise Refused(["Only an assessed request waiting for the panel is escalated"])
    if assessment.risk_score <= assessment.risk_appetite:
        raise Refused(["The request is within the risk appetite"])
    problems = escalation_refusals(acting_user, request)
    if not comments.strip():
        problems.append("Give the reasons for your answer")
    if problems:
        raise Refused(problems)
    escalation = SiroEscalation(
        request=request,
        siro=acting_user,
        risk_score=assessment.risk_score,
        risk_appetite=assessment.risk_appetite,
        risk_accepted=risk_accepted,
        comments=comments,
    )
    verdict = "accepted" if risk_accepted else "not accepted"
    return save_with_history(
        escalation, acting_user=acting_user, reason=f"SIRO: risk {verdict}"
    )


def decision_record(
    *,
    request: DataShareRequest,
    acting_user: User,
    outcome: str,
    reasons: str,
    supports_aims: str,
    conditions: str = "",
) -> Decision:
    """The chair records the panel's decision, which says how the request supports
    the department's aims and whether it was above the risk appetite."""
    if not permissions.can_decide(acting_user, request):
        raise PermissionError("Only the meeting's chair records the decision")
    meeting = _open_for_votes(request)
    with transaction.atomic():
        # The meeting's lock: no vote or conflict lands between the count and
        # the decision.
        meeting = meeting_lock(meeting)
        request = _reread_open(request, meeting)
        return _decide(
            request=request,
            meeting=meeting,
            acting_user=acting_user,
            outcome=outcome,
            reasons=reasons,
            supports_aims=supports_aims,
            conditions=conditions,
        )


def _decide(
    *,
    request: DataShareRequest,
    meeting: PanelMeeting,
    acting_user: User,
    outcome: str,
    reasons: str,
    supports_aims: str,
    conditions: str,
) -> Decision:
    problems = decision_blockers(request, outcome)
    if outcome not in Decision.Outcome.values:
        problems.append("Choose the decision")
    if not reasons.strip():
        problems.append("Give the reasons for the decision")
    if not supports_aims.strip():
        problems.append("Say how the request supports the department's aims")
    conditional = outcome == Decision.Outcome.APPROVED_WITH_CONDITIONS
    if conditional and not condition_lines(conditions):
        problems.append("List the conditions of approval, one a line")
    if problems:
        raise Refused(problems)
    counted, set_aside = votes_counted(request), votes_set_aside(request)
    assessment = request.assessment
    score, appetite = assessment.risk_score, assessment.risk_appetite
    above = score > appetite
    decided_at = timezone.now()
    label = Decision.Outcome(outcome).label
    changes: dict[str, Any] = {"decided_at": decided_at}
    # The move first: it locks the row, so a decision sent twice is refused
    # by the table of moves rather than by the one-per-meeting constraint.
    if outcome == Decision.Outcome.DEFERRED:
        # Off this meeting's agenda: its votes are spent, and a later meeting
        # votes afresh.
        permissions.panel_permissions_revoke(meeting=meeting, request=request)
        changes["panel_meeting"] = None
    request = request_transition(
        request=request,
        to=_OUTCOME_STATUS[Decision.Outcome(outcome)],
        acting_user=acting_user,
        reason=f"Panel decision: {label}",
        changes=changes,
    )
    decision = save_with_history(
        Decision(
            request=request,
            meeting=meeting,
            outcome=outcome,
            reasons=reasons,
            conditions=conditions,
            supports_aims=supports_aims,
            votes_for=sum(v.vote in APPROVING_VOTES for v in counted),
            votes_cast=len(counted),
            votes_set_aside=len(set_aside),
            risk_score=score,
            risk_appetite=appetite,
            above_risk_appetite=above,
            escalation=current_escalation(request) if above else None,
            chair=acting_user,
            decided_at=decided_at,
        ),
        acting_user=acting_user,
        reason=f"Decision: {outcome}",
    )
    if conditional:
        conditions_record(decision=decision, acting_user=acting_user)
    tell_requester(
        request,
        f"panel decision: {decision.get_outcome_display().lower()}",
        reasons + (f"\n\nConditions:\n{conditions}" if conditions else ""),
    )
    return decision
