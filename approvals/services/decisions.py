"""The decision on a request: the SIRO's answer above the risk appetite, what
still blocks a decision, and the chair's record of it.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    Assessment,
    DataShareRequest,
    Decision,
    PanelMeeting,
    RiskSettings,
    SiroEscalation,
)
from approvals.services.conditions import condition_lines, conditions_record
from approvals.services.emails import tell_requester
from approvals.services.panel import (
    current_escalation,
    meeting_day_refusal,
    meeting_lock,
)
from approvals.services.requests import Refused, request_transition
from approvals.services.voting import (
    APPROVING_VOTES,
    open_for_votes,
    reread_open,
    votes_counted,
    votes_set_aside,
)
from lrs_portal.models import User
from lrs_portal.transitions import save_with_history

S = DataShareRequest.Status

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
    meeting = open_for_votes(request)
    with transaction.atomic():
        # The meeting's lock: no vote or conflict lands between the count and
        # the decision.
        meeting = meeting_lock(meeting)
        request = reread_open(request, meeting)
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
