"""The panel's votes on a request: placing it on a meeting, conflict
declarations, votes cast, and which of them count.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    DataShareRequest,
    Decision,
    MeetingMinutes,
    PanelMeeting,
    PanelVote,
)
from approvals.services.emails import tell_staff
from approvals.services.panel import (
    current_escalation,
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


def reread_open(request: DataShareRequest, meeting: PanelMeeting) -> DataShareRequest:
    """The request as it is now (the caller holds the meeting's lock), still
    waiting for this meeting's decision."""
    now = DataShareRequest.objects.get(pk=request.pk)
    if now.status != S.PANEL or now.panel_meeting_id != meeting.pk:
        raise Refused(["The request is not waiting for a panel decision"])
    return now


def open_for_votes(request: DataShareRequest) -> PanelMeeting:
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
    meeting = open_for_votes(request)
    if not permissions.can_declare_conflict(acting_user, request):
        raise PermissionError("Only the meeting's members declare conflicts")
    if not detail.strip():
        raise Refused(["Describe the conflict of interest"])
    with transaction.atomic():
        meeting = meeting_lock(meeting)
        request = reread_open(request, meeting)
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
    meeting = open_for_votes(request)
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
            request = reread_open(request, meeting)
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
